/** Min/max downsampling per pixel bucket (renderer/src/lib/downsample.ts). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { downsampleMinMax } from '../../renderer/src/lib/downsample.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('downsampleMinMax', () => {
  it('returns short series unchanged', () => {
    const d = downsampleMinMax({ x: [0, 1, 2], ys: [[5, 1, 3]] }, 10);
    expect(d).toEqual({ x: [0, 1, 2], ys: [[5, 1, 3]] });
  });

  it('keeps at most 4 points per bucket, the ends, and every bucket\'s min and max', () => {
    const n = 100_000;
    const y = range(n).map((i) => Math.sin(i / 300) * 100 + (i % 97));
    y[54_321] = 10_000; // a one-tick spike
    y[77_777] = -10_000; // and a one-tick trough
    const d = downsampleMinMax({ x: range(n), ys: [y] }, 500);
    expect(d.x.length).toBeLessThanOrEqual(4 * 500);
    expect(d.x[0]).toBe(0);
    expect(d.x.at(-1)).toBe(n - 1);
    expect(d.x).toContain(54_321);
    expect(d.x).toContain(77_777);
    expect(Math.max(...(d.ys[0] as number[]))).toBe(10_000);
    expect(Math.min(...(d.ys[0] as number[]))).toBe(-10_000);
    // x stays ascending and each kept y is the input's y at that x
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]!).toBeGreaterThan(d.x[i - 1]!);
    d.x.forEach((x, i) => expect(d.ys[0]![i]).toBe(y[x]));
  });

  it('for every series keeps each bucket\'s extremes (property, any series)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 9 })), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 30 }), (pts, buckets) => {
        const n = pts.length;
        const x = range(n);
        const a = pts.map((p) => p[0]);
        const b = pts.map((p) => p[1]);
        const d = downsampleMinMax({ x, ys: [a, b] }, buckets);
        if (n <= 4 * buckets) {
          expect(d.x).toEqual(x);
          return;
        }
        expect(d.x.length).toBeLessThanOrEqual(4 * buckets * 2);
        const bucketOf = (i: number) => Math.min(buckets - 1, Math.floor((i / (n - 1)) * buckets));
        for (const ys of [a, b]) {
          const kept = new Set(d.x);
          const lo = new Map<number, number>();
          const hi = new Map<number, number>();
          x.forEach((i) => {
            const k = bucketOf(i);
            lo.set(k, Math.min(lo.get(k) ?? Infinity, ys[i]!));
            hi.set(k, Math.max(hi.get(k) ?? -Infinity, ys[i]!));
          });
          for (const [k, v] of lo) expect(d.x.some((i) => kept.has(i) && bucketOf(i) === k && ys[i] === v)).toBe(true);
          for (const [k, v] of hi) expect(d.x.some((i) => bucketOf(i) === k && ys[i] === v)).toBe(true);
        }
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('skips null values (a gap) without losing the points around them', () => {
    const y: (number | null)[] = range(1000).map((i) => (i >= 400 && i < 600 ? null : i % 10));
    const d = downsampleMinMax({ x: range(1000), ys: [y] }, 10);
    expect(d.ys[0]!.filter((v) => v !== null).length).toBeGreaterThan(0);
    expect(d.x.length).toBeLessThanOrEqual(40);
  });
});
