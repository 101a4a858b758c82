/** A benchmark suite: measures our code beside its baseline in the same run and reports ratios. */
export interface BenchContext {
  /** Smaller sizes, for a smoke run (`--quick`). */
  readonly quick: boolean;
  /** Progress lines (stderr; silent with --json). */
  readonly log: (line: string) => void;
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  /** Runs only when named (`--suite NAME`), never in a run of every suite (it takes long). */
  readonly onDemand?: boolean;
  /** Every figure, flat or nested, units last in the names (`tasks_per_s`, `p99_ms`). */
  run(ctx: BenchContext): Promise<Record<string, unknown>>;
}

/** Runs fn repeatedly for at least min_ms and returns operations per second (ops counted by fn). */
export async function opsPerSecond(fn: () => Promise<number> | number, min_ms = 1000): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < min_ms) {
    ops += await fn();
    t = performance.now();
  }
  return ops / ((t - t0) / 1000);
}

export interface Series {
  /** The first run in the process: what a user's first simulation after start-up sees. */
  readonly cold: number;
  /** The measured runs after warm-up, in order. */
  readonly runs: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Runs `once` (which returns a rate) `warmup` times, then `runs` times, and reports the first
 * (cold) rate and the spread of the warm ones. V8 keeps optimising for several full-size runs
 * (the first is typically half the steady rate), so a single best-of-two after a small warm-up
 * measures the JIT as much as the code.
 */
export async function series(once: () => Promise<number>, opts: { warmup: number; runs: number }): Promise<Series> {
  const cold = await once();
  for (let i = 1; i < opts.warmup; i++) await once();
  const runs: number[] = [];
  for (let i = 0; i < opts.runs; i++) runs.push(await once());
  const sorted = [...runs].sort((a, b) => a - b);
  return { cold, runs, median: percentile(sorted, 50), min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;
