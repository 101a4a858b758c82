/**
 * The zero-download embedder: feature hashing of words and character trigrams into a fixed
 * number of signed buckets, L2-normalised. Texts that share words and word pieces land near
 * each other; it needs no model file, so the engine works on a fresh machine.
 */
import type { Embedder } from '../../ports/embedder.ts';
import { normalize } from '../shared/vector.ts';

/** fnv1a of s[start, start+len) without making the substring (same value as fnv1a(s.slice(...))). */
function fnv1aAt(s: string, start: number, len: number, seed: number): number {
  let h = 2166136261 ^ seed;
  for (let i = start; i < start + len; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const fnv1a = (s: string, seed: number): number => fnv1aAt(s, 0, s.length, seed);

export class HashingEmbedder implements Embedder {
  readonly model_id: string;

  constructor(
    readonly dimensions = 256,
    private readonly word_weight = 1,
    private readonly trigram_weight = 0.35,
  ) {
    if (!Number.isInteger(dimensions) || dimensions < 8 || dimensions > 4096) {
      throw new RangeError(`hashing embedder dimensions must be 8..4096, got ${dimensions}`);
    }
    this.model_id = `hashing-v1-${dimensions}`;
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    const words = text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
    for (const w of words) {
      const h = fnv1a(w, 0);
      v[h % this.dimensions] = (v[h % this.dimensions] as number) + (h & 0x80000000 ? -1 : 1) * this.word_weight;
      const padded = ` ${w} `;
      for (let i = 0; i + 3 <= padded.length; i++) {
        const g = fnv1aAt(padded, i, 3, 0x9e3779b9);
        v[g % this.dimensions] = (v[g % this.dimensions] as number) + (g & 0x80000000 ? -1 : 1) * this.trigram_weight;
      }
    }
    return normalize(v);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  async close(): Promise<void> {}
}
