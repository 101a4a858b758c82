/**
 * Exact (brute-force) persona memory over one flat Float32Array: every search scores every
 * memory that passes the filter, so it is the recall reference for the approximate adapters
 * and the right choice for small sets (a few thousand memories search in well under a
 * millisecond). Deletes move the last row into the hole, so the slab stays dense.
 *
 * With a row store (`ExactPersonaMemory.open({ rows })`) every change is also written there and
 * the slab is loaded from it on open, which makes it durable; without one it lives in memory.
 */
import type { MemoryCategory, PersonaMemory } from '../../domain/schemas.ts';
import { MEMORY_CATEGORIES } from '../../domain/schemas.ts';
import type { MemoryFilter, MemoryHit, MemoryQuery, MemoryRecord, MemoryScanPage, PersonaMemoryStore } from '../../ports/persona-memory.ts';
import { byTimestampThenId, matchesMemoryFilter, TopK } from '../shared/memory-helpers.ts';
import { dot } from '../../domain/vectors.ts';

const INITIAL_CAPACITY = 64;

/**
 * What this adapter needs of a durable row store. The persona-memory rows file that the HNSW
 * adapter keeps (src/adapters/hnsw/hnsw-row-store.ts) serves it, so switching between exact and
 * HNSW keeps the memories; the composition root (src/config) opens it and hands it over, so
 * this folder never imports another technology's.
 */
export interface ExactRowStore {
  /** How many rows are kept. */
  count(): number;
  /** Every row with its vector, `batch` rows at a time. */
  scan(batch: number): Iterable<readonly { readonly record: MemoryRecord }[]>;
  /** Inserts or replaces the records by id. */
  upsert(records: readonly MemoryRecord[]): unknown;
  /** Removes the rows with these ids (absent ids are ignored). */
  delete(ids: readonly string[]): unknown;
  /** Closes the store; it is unusable afterwards. */
  close(): void;
}

/** Codes a filter into what the scan compares: persona code (-1 any, -2 none) and a category bit mask. */
function compileFilter(f: MemoryFilter, personaCodes: Map<string, number>): { persona: number; mask: number } {
  const persona = f.persona_id === undefined ? -1 : (personaCodes.get(f.persona_id) ?? -2);
  const mask = f.categories === undefined ? 0b111 : f.categories.reduce((m, c) => m | (1 << MEMORY_CATEGORIES.indexOf(c)), 0);
  return { persona, mask };
}

export class ExactPersonaMemory implements PersonaMemoryStore {
  readonly kind: string = 'exact';
  readonly capabilities: { exact: boolean; durable: boolean };
  private dims = 0;
  private modelId: string | null = null;
  private size = 0;
  private vectors = new Float32Array(0);
  private norms = new Float64Array(0);
  private personaOf = new Int32Array(0);
  private categoryOf = new Uint8Array(0);
  private rows: PersonaMemory[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly personaCodes = new Map<string, number>();

  constructor(private readonly store: ExactRowStore | null = null) {
    this.capabilities = Object.freeze({ exact: true, durable: store !== null });
  }

  /** An exact memory over a durable row store, loaded from it. */
  static async open(opts: { rows: ExactRowStore; onProgress?: (done: number, total: number) => void }): Promise<ExactPersonaMemory> {
    const m = new ExactPersonaMemory(opts.rows);
    const total = opts.rows.count();
    let done = 0;
    for (const batch of opts.rows.scan(2048)) {
      m.put(batch.map((r) => r.record));
      done += batch.length;
      opts.onProgress?.(done, total);
    }
    return m;
  }

  async upsert(records: readonly MemoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.store?.upsert(records);
    this.put(records);
  }

  async search(q: MemoryQuery): Promise<MemoryHit[]> {
    if (this.size === 0) return [];
    const { persona, mask } = compileFilter(q, this.personaCodes);
    if (persona === -2 || mask === 0) return [];
    const top = new TopK<{ id: string; slot: number }>(q.k);
    const d = this.dims;
    const v = this.vectors;
    const qv = q.vector;
    const qn = Math.sqrt(dot(qv, qv)) || 1;
    for (let i = 0; i < this.size; i++) {
      if (persona >= 0 && this.personaOf[i] !== persona) continue;
      if (!(mask & (1 << (this.categoryOf[i] as number)))) continue;
      const n = this.norms[i] as number;
      let s = 0;
      if (n !== 0) {
        // domain/vectors.ts dot(), inlined over the flat array: the same four accumulators and
        // the same final sum, so every adapter's scores agree to the last bit
        const o = i * d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let j = 0;
        for (; j + 4 <= d; j += 4) {
          s0 += (qv[j] as number) * (v[o + j] as number);
          s1 += (qv[j + 1] as number) * (v[o + j + 1] as number);
          s2 += (qv[j + 2] as number) * (v[o + j + 2] as number);
          s3 += (qv[j + 3] as number) * (v[o + j + 3] as number);
        }
        for (; j < d; j++) s0 += (qv[j] as number) * (v[o + j] as number);
        s = (s0 + s1 + (s2 + s3)) / (qn * n);
      }
      top.offer({ id: (this.rows[i] as PersonaMemory).id, slot: i }, s);
    }
    return top.result().map(([h, score]) => ({ memory: { ...(this.rows[h.slot] as PersonaMemory) }, score }));
  }

  async get(id: string): Promise<PersonaMemory | null> {
    const slot = this.slotOf.get(id);
    return slot === undefined ? null : { ...(this.rows[slot] as PersonaMemory) };
  }

  async list(filter: MemoryFilter = {}, limit = Infinity, offset = 0): Promise<PersonaMemory[]> {
    const all = this.rows.slice(0, this.size).filter((r) => matchesMemoryFilter(r, filter)).sort(byTimestampThenId);
    return all.slice(offset, offset + limit).map((r) => ({ ...r }));
  }

  /** Every memory with its vector, by id (the slots move on a delete), a page at a time. */
  async scan(cursor: string | null, limit: number): Promise<MemoryScanPage> {
    const ids = [...this.slotOf.keys()].filter((id) => cursor === null || id > cursor).sort();
    const page = ids.slice(0, Math.max(1, limit));
    const d = this.dims;
    const records = page.map((id) => {
      const slot = this.slotOf.get(id) as number;
      return { ...(this.rows[slot] as PersonaMemory), vector: this.vectors.slice(slot * d, (slot + 1) * d), model_id: this.modelId as string };
    });
    return { records, next_cursor: ids.length > page.length ? (page.at(-1) as string) : null };
  }

  async delete(ids: readonly string[]): Promise<number> {
    const present = [...new Set(ids)].filter((id) => this.slotOf.has(id));
    if (present.length === 0) return 0;
    this.store?.delete(present);
    for (const id of present) this.remove(id);
    if (this.size === 0) this.modelId = null;
    return present.length;
  }

  async count(filter: MemoryFilter = {}): Promise<number> {
    if (filter.persona_id === undefined && filter.categories === undefined) return this.size;
    const { persona, mask } = compileFilter(filter, this.personaCodes);
    if (persona === -2) return 0;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if ((persona < 0 || this.personaOf[i] === persona) && mask & (1 << (this.categoryOf[i] as number))) n += 1;
    }
    return n;
  }

  async model(): Promise<{ model_id: string; dimensions: number } | null> {
    return this.size === 0 || this.modelId === null ? null : { model_id: this.modelId, dimensions: this.dims };
  }

  async close(): Promise<void> {
    this.store?.close();
    this.size = 0;
    this.rows = [];
    this.slotOf.clear();
    this.vectors = new Float32Array(0);
  }

  /** Bytes held by the slab and its side arrays (for the benchmark). */
  memoryBytes(): number {
    return this.vectors.byteLength + this.norms.byteLength + this.personaOf.byteLength + this.categoryOf.byteLength;
  }

  private put(records: readonly MemoryRecord[]): void {
    for (const r of records) {
      if (this.size === 0) {
        if (r.vector.length !== this.dims) this.vectors = new Float32Array(this.norms.length * r.vector.length);
        this.dims = r.vector.length;
        this.modelId = r.model_id;
      }
      let slot = this.slotOf.get(r.id);
      if (slot === undefined) {
        this.ensureCapacity(this.size + 1);
        slot = this.size++;
        this.slotOf.set(r.id, slot);
      }
      this.vectors.set(r.vector, slot * this.dims);
      this.norms[slot] = Math.sqrt(dot(r.vector, r.vector));
      let code = this.personaCodes.get(r.persona_id);
      if (code === undefined) {
        code = this.personaCodes.size;
        this.personaCodes.set(r.persona_id, code);
      }
      this.personaOf[slot] = code;
      this.categoryOf[slot] = MEMORY_CATEGORIES.indexOf(r.category as MemoryCategory);
      this.rows[slot] = { id: r.id, persona_id: r.persona_id, content: r.content, category: r.category, timestamp: r.timestamp };
    }
  }

  private remove(id: string): void {
    const slot = this.slotOf.get(id) as number;
    const last = this.size - 1;
    if (slot !== last) {
      const d = this.dims;
      this.vectors.copyWithin(slot * d, last * d, (last + 1) * d);
      this.norms[slot] = this.norms[last] as number;
      this.personaOf[slot] = this.personaOf[last] as number;
      this.categoryOf[slot] = this.categoryOf[last] as number;
      const moved = this.rows[last] as PersonaMemory;
      this.rows[slot] = moved;
      this.slotOf.set(moved.id, slot);
    }
    this.rows.length = last;
    this.slotOf.delete(id);
    this.size = last;
  }

  private ensureCapacity(n: number): void {
    const cap = this.norms.length;
    if (n <= cap) return;
    const next = Math.max(n, cap * 2, INITIAL_CAPACITY);
    const grow = <T extends Float32Array | Float64Array | Int32Array | Uint8Array>(a: T, len: number, make: (l: number) => T): T => {
      const b = make(len);
      b.set(a);
      return b;
    };
    this.vectors = grow(this.vectors, next * this.dims, (l) => new Float32Array(l));
    this.norms = grow(this.norms, next, (l) => new Float64Array(l));
    this.personaOf = grow(this.personaOf, next, (l) => new Int32Array(l));
    this.categoryOf = grow(this.categoryOf, next, (l) => new Uint8Array(l));
  }
}
