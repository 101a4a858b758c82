/** Vector storage shared by embedders and memory adapters (the arithmetic is in src/domain/vectors.ts). */

/**
 * Vectors carved from large blocks: one ArrayBuffer per block of `perBlock` vectors rather than
 * one per vector (each ArrayBuffer is an off-heap allocation the garbage collector tracks, and
 * that was ~9% of a simulation). A vector's `.buffer` is its whole block: copy a vector
 * (`Float32Array.from`) before transferring its buffer or keeping it beside unrelated data.
 * Released vectors are handed out again.
 */
export class VectorBlocks {
  private block: Float32Array | null = null;
  private used = 0;
  private readonly free: Float32Array[] = [];

  constructor(private readonly perBlock: number) {}

  /** A zero-filled vector of `dims` values. */
  alloc(dims: number): Float32Array {
    const reused = this.reuse(dims);
    return reused ? reused.fill(0) : this.carve(dims);
  }

  /** A copy of `v` in a block. */
  copy(v: Float32Array): Float32Array {
    const out = this.reuse(v.length) ?? this.carve(v.length);
    out.set(v);
    return out;
  }

  /** Gives `v` (from this allocator) back for reuse; the caller no longer reads it. */
  release(v: Float32Array): void {
    this.free.push(v);
  }

  private reuse(dims: number): Float32Array | undefined {
    const last = this.free[this.free.length - 1];
    return last && last.length === dims ? this.free.pop() : undefined;
  }

  private carve(dims: number): Float32Array {
    if (!this.block || this.used + dims > this.block.length) {
      this.block = new Float32Array(dims * this.perBlock);
      this.used = 0;
    }
    const v = this.block.subarray(this.used, this.used + dims);
    this.used += dims;
    return v;
  }
}
