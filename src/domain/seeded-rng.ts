/**
 * Seeded randomness. One root seed derives every sub-stream by label (`fork('worker-3')`), so
 * adding a consumer never shifts the numbers another consumer sees. sfc32 for the stream,
 * cyrb128-style string hashing for deriving seeds. Nothing here reads Math.random.
 *
 * Pure arithmetic, so it lives in the domain: the engine derives its streams and the ids that
 * must survive a restart (audit events) from here. `SeededRng` satisfies the `Rng` port
 * (src/ports/rng.ts) structurally; the domain does not import ports.
 */

// hashString leaves its four words here (no array per call: ids and forks hash thousands of keys)
let H1 = 0,
  H2 = 0,
  H3 = 0,
  H4 = 0;
function hashString(s: string): void {
  hashBegin();
  hashFeed(s);
  hashEnd();
}

// cyrb128 in three calls, so a key made of several pieces is hashed without joining them
// (the words equal those of hashing the joined string)
let S1 = 0,
  S2 = 0,
  S3 = 0,
  S4 = 0;
function hashBegin(): void {
  S1 = 1779033703;
  S2 = 3144134277;
  S3 = 1013904242;
  S4 = 2773480762;
}
function hashFeed(s: string): void {
  let h1 = S1,
    h2 = S2,
    h3 = S3,
    h4 = S4;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  S1 = h1;
  S2 = h2;
  S3 = h3;
  S4 = h4;
}
function hashEnd(): void {
  let h1 = S1,
    h2 = S2,
    h3 = S3,
    h4 = S4;
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  H1 = (h1 ^ h2 ^ h3 ^ h4) >>> 0;
  H2 = (h2 ^ h1) >>> 0;
  H3 = (h3 ^ h1) >>> 0;
  H4 = (h4 ^ h1) >>> 0;
}

// two hex digits per byte, one digit per nibble: uuids are built by lookup, not toString(16)
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX1 = Array.from({ length: 16 }, (_, i) => i.toString(16));
const hex8 = (x: number): string => (HEX2[x >>> 24] as string) + HEX2[(x >>> 16) & 255] + HEX2[(x >>> 8) & 255] + HEX2[x & 255];
const hex4 = (x: number): string => (HEX2[(x >>> 8) & 255] as string) + HEX2[x & 255];

/**
 * A version-4-shaped UUID derived from (seed, key) alone: the same key always gives the same
 * id, different keys different ids (128-bit hash). For ids that must survive a restart.
 */
export function uuidFromKey(seed: number, key: string): string {
  hashString(`${seed}/${key}`);
  return uuidFromWords();
}

/**
 * uuidFromKey(seed, `audit/${campaign}/${version}/${action}/${entity}`), without building the key:
 * the id of an audit event (one per campaign version, action and entity).
 */
export function auditIdFor(seed: number, campaign: string, version: string, action: string, entity: string): string {
  hashBegin();
  hashFeed(String(seed));
  hashFeed('/audit/');
  hashFeed(campaign);
  hashFeed('/');
  hashFeed(version);
  hashFeed('/');
  hashFeed(action);
  hashFeed('/');
  hashFeed(entity);
  hashEnd();
  return uuidFromWords();
}

/** The uuid of the last hash's four words. */
function uuidFromWords(): string {
  const a = H1,
    b = H2,
    c = H3,
    d = H4;
  // hex digits of a | b | c | d, with digit 12 set to "4" and digit 16 to the variant (8, 9, a, b)
  return (
    hex8(a) +
    '-' +
    hex4(b >>> 16) +
    '-4' +
    HEX1[(b >>> 8) & 15] +
    HEX2[b & 255] +
    '-' +
    HEX1[((c >>> 28) & 0x3) | 0x8] +
    HEX1[(c >>> 24) & 15] +
    HEX2[(c >>> 16) & 255] +
    '-' +
    hex4(c) +
    hex8(d)
  );
}

export class SeededRng {
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
    hashString(`${seed}/${label}`);
    this.a = H1;
    this.b = H2;
    this.c = H3;
    this.d = H4;
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
    // version nibble 4, variant bits 10
    return `${hex8(a)}-${hex4(b >>> 16)}-${hex4(((b & 0x0fff) | 0x4000) >>> 0)}-${hex4(((c >>> 16) & 0x3fff) | 0x8000)}-${hex4(c & 0xffff)}${hex8(d)}`;
  }
}
