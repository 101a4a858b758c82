/**
 * The zero-download embedder: feature hashing of words and character trigrams into a fixed
 * number of signed buckets, L2-normalised. Texts that share words and word pieces land near
 * each other; it needs no model file, so the engine works on a fresh machine.
 */
import type { Embedder } from '../../ports/embedder.ts';
import { normalize } from '../../domain/vectors.ts';
import { VectorBlocks } from '../shared/vector-blocks.ts';
import { wordEnd, wordStart } from '../../domain/words.ts';

/** fnv1a of s[start, start+len) without making the substring (same value as fnv1a(s.slice(...))). */
function fnv1aAt(s: string, start: number, len: number, seed: number): number {
  let h = 2166136261 ^ seed;
  for (let i = start; i < start + len; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}


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

  // views into blocks of 64 vectors, not an ArrayBuffer each (see VectorBlocks)
  private readonly blocks = new VectorBlocks(64);

  embedOne(text: string): Float32Array {
    const dims = this.dimensions;
    const v = this.blocks.alloc(dims);
    // words are the runs of [a-z0-9'] in the lower-cased text, read in place (no substrings);
    // each adds its own hash and those of the trigrams of " word " (padded with spaces)
    const s = text.toLowerCase();
    for (let i = wordStart(s, 0); i < s.length; ) {
      const end = wordEnd(s, i);
      const len = end - i;
      const h = fnv1aAt(s, i, len, 0);
      v[h % dims] = (v[h % dims] as number) + (h & 0x80000000 ? -1 : 1) * this.word_weight;
      // trigram j covers padded characters j..j+2, where padded = " " + word + " "
      for (let j = 0; j < len; j++) {
        let g = 2166136261 ^ 0x9e3779b9;
        for (let p = j; p < j + 3; p++) {
          g ^= p === 0 || p === len + 1 ? 32 : s.charCodeAt(i + p - 1);
          g = Math.imul(g, 16777619);
        }
        g >>>= 0;
        v[g % dims] = (v[g % dims] as number) + (g & 0x80000000 ? -1 : 1) * this.trigram_weight;
      }
      i = wordStart(s, end);
    }
    return normalize(v);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t));
  }

  async close(): Promise<void> {}
}
