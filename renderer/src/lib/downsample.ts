/**
 * Min/max downsampling for time series drawn into a few hundred pixels: the x range is cut
 * into `buckets` equal pixel buckets, and each bucket keeps its first point, its lowest and
 * its highest (in x order), and its last. Every peak and trough survives (a spike one tick
 * wide still shows), lines between buckets join as drawn, and at most 4 points per bucket
 * remain, so 100,000 ticks become ~2,400 points for a 600-pixel chart. O(points), one pass,
 * no allocation per point. Series share the x column (uPlot's aligned data): a point is kept
 * when any series needs it, so every series keeps its extremes.
 */

/** x values (ascending) and one or more y columns of the same length. */
export interface Columns {
  readonly x: ArrayLike<number>;
  readonly ys: readonly ArrayLike<number | null>[];
}

export interface Downsampled {
  readonly x: number[];
  readonly ys: (number | null)[][];
}

/**
 * Keeps, per bucket of the x range and per series, the first, min, max and last points (the
 * union over series, in x order). Returns the input copied when it already fits (`n <= 4 * buckets`).
 */
export function downsampleMinMax(data: Columns, buckets: number): Downsampled {
  const n = data.x.length;
  const b = Math.max(1, Math.floor(buckets));
  if (n <= 4 * b) return { x: Array.from(data.x), ys: data.ys.map((y) => Array.from(y)) };
  const x0 = data.x[0] as number;
  const x1 = data.x[n - 1] as number;
  const span = x1 - x0 || 1;
  const keep = new Uint8Array(n);
  keep[0] = 1;
  keep[n - 1] = 1;
  let start = 0;
  while (start < n) {
    const bucket = Math.min(b - 1, Math.floor(((data.x[start] as number) - x0) / span * b));
    let end = start + 1;
    while (end < n && Math.min(b - 1, Math.floor(((data.x[end] as number) - x0) / span * b)) === bucket) end++;
    keep[start] = 1;
    keep[end - 1] = 1;
    for (const y of data.ys) {
      let lo = -1;
      let hi = -1;
      let loV = Infinity;
      let hiV = -Infinity;
      for (let i = start; i < end; i++) {
        const v = y[i];
        if (v === null || v === undefined) continue;
        if (v < loV) {
          loV = v;
          lo = i;
        }
        if (v > hiV) {
          hiV = v;
          hi = i;
        }
      }
      if (lo >= 0) keep[lo] = 1;
      if (hi >= 0) keep[hi] = 1;
    }
    start = end;
  }
  const x: number[] = [];
  const ys: (number | null)[][] = data.ys.map(() => []);
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    x.push(data.x[i] as number);
    data.ys.forEach((y, s) => ys[s]!.push(y[i] ?? null));
  }
  return { x, ys };
}
