/**
 * Seeded randomness. One root seed derives every sub-stream by label (`fork('worker-3')`), so
 * adding a consumer never shifts the numbers another consumer sees. sfc32 for the stream,
 * cyrb128-style string hashing for deriving seeds. Nothing here reads Math.random.
 */
import type { Rng } from '../ports/rng.ts';

function hashString(s: string): [number, number, number, number] {
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

const hex8 = (x: number) => (x >>> 0).toString(16).padStart(8, '0');

/**
 * A version-4-shaped UUID derived from (seed, key) alone: the same key always gives the same
 * id, different keys different ids (128-bit hash). For ids that must survive a restart.
 */
export function uuidFromKey(seed: number, key: string): string {
  const [a, b, c, d] = hashString(`${seed}/${key}`);
  const h = hex8(a) + hex8(b) + hex8(c) + hex8(d);
  const variant = ((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class SeededRng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  readonly label: string;

  constructor(
    readonly seed: number,
    label = 'root',
  ) {
    this.label = label;
    [this.a, this.b, this.c, this.d] = hashString(`${seed}/${label}`);
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Normal variate (Box–Muller) with the given mean and standard deviation. */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  fork(label: string): SeededRng {
    return new SeededRng(this.seed, `${this.label}/${label}`);
  }

  /** A version-4 UUID drawn from this stream (deterministic for a seed). */
  uuid(): string {
    const a = this.nextU32();
    const b = this.nextU32();
    const c = this.nextU32();
    const d = this.nextU32();
    const h = (x: number, bytes: number) => (x >>> 0).toString(16).padStart(bytes * 2, '0');
    // version nibble 4, variant bits 10
    return `${h(a, 4)}-${h(b >>> 16, 2)}-${h(((b & 0x0fff) | 0x4000) >>> 0, 2)}-${h(((c >>> 16) & 0x3fff) | 0x8000, 2)}-${h(c & 0xffff, 2)}${h(d, 4)}`;
  }
}
