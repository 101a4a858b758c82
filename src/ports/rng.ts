/** A seeded random stream. `fork(label)` derives an independent sub-stream. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Normal variate. */
  normal(mean: number, sd: number): number;
  /** An independent stream derived from this one's seed and the label. */
  fork(label: string): Rng;
  /** A deterministic version-4 UUID. */
  uuid(): string;
}
