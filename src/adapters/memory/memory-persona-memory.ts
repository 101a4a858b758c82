/**
 * In-memory persona memory with exact (brute-force) cosine search: the reference model for
 * the approximate adapters. Records are partitioned by (persona, category), so a filtered
 * search scans only the partitions it can match.
 */
import type { PersonaMemory } from '../../domain/schemas.ts';
import type {
  MemoryFilter,
  MemoryHit,
  MemoryQuery,
  MemoryRecord,
  MemoryScanPage,
  PersonaMemoryStore,
} from '../../ports/persona-memory.ts';
import { dot } from '../../domain/vectors.ts';
import { VectorBlocks } from '../shared/vector-blocks.ts';
import { matchesMemoryFilter, stripVector, byTimestampThenId, TopK } from '../shared/memory-helpers.ts';

interface Stored {
  record: MemoryRecord;
  norm: number;
}

/**
 * One (persona, category) partition, laid out for scanning: records in a dense array (a
 * delete moves the last one into the hole) beside a map from id to position.
 */
class Partition {
  readonly items: Stored[] = [];
  readonly at = new Map<string, number>();
  constructor(
    readonly persona_id: string,
    readonly category: MemoryRecord['category'],
  ) {}

  set(id: string, s: Stored): void {
    const i = this.at.get(id);
    if (i !== undefined) this.items[i] = s;
    else {
      this.at.set(id, this.items.length);
      this.items.push(s);
    }
  }

  delete(id: string): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    const last = this.items.pop() as Stored;
    this.at.delete(id);
    if (i < this.items.length) {
      this.items[i] = last;
      this.at.set(last.record.id, i);
    }
  }
}

export class MemoryPersonaMemory implements PersonaMemoryStore {
  readonly kind: string = 'memory';
  readonly capabilities = Object.freeze({ exact: true, durable: false });
  private readonly m = new Map<string, Stored>();
  private readonly parts = new Map<string, Partition>();
  /** Stored vectors are copies in blocks of 256 (slots of deleted memories are reused). */
  private slab = new VectorBlocks(256);

  private partKey(persona_id: string, category: string): string {
    return `${persona_id}\u0000${category}`;
  }

  async upsert(records: readonly MemoryRecord[]): Promise<void> {
    for (const r of records) {
      const old = this.m.get(r.id);
      if (old) this.parts.get(this.partKey(old.record.persona_id, old.record.category))?.delete(r.id);
      if (old) this.slab.release(old.record.vector);
      const stored = { record: { ...r, vector: this.slab.copy(r.vector) }, norm: Math.sqrt(dot(r.vector, r.vector)) };
      this.m.set(r.id, stored);
      const key = this.partKey(r.persona_id, r.category);
      let part = this.parts.get(key);
      if (!part) this.parts.set(key, (part = new Partition(r.persona_id, r.category)));
      part.set(r.id, stored);
    }
  }

  async search(q: MemoryQuery): Promise<MemoryHit[]> {
    const top = new TopK<MemoryRecord>(q.k);
    const qv = q.vector;
    const qn = Math.sqrt(dot(qv, qv)) || 1;
    for (const part of this.parts.values()) {
      if (q.persona_id !== undefined && part.persona_id !== q.persona_id) continue;
      if (q.categories !== undefined && !q.categories.includes(part.category)) continue;
      const items = part.items;
      for (let i = 0; i < items.length; i++) {
        const s = items[i] as Stored;
        const score = s.norm === 0 ? 0 : dot(qv, s.record.vector) / (qn * s.norm);
        top.offer(s.record, score);
      }
    }
    const hits: MemoryHit[] = new Array(top.items.length);
    for (let i = 0; i < hits.length; i++) hits[i] = { memory: stripVector(top.items[i] as MemoryRecord), score: top.scores[i] as number };
    return hits;
  }

  async get(id: string): Promise<PersonaMemory | null> {
    const s = this.m.get(id);
    return s ? stripVector(s.record) : null;
  }

  async list(filter: MemoryFilter = {}, limit = Infinity, offset = 0): Promise<PersonaMemory[]> {
    const all = [...this.m.values()]
      .map((s) => s.record)
      .filter((r) => matchesMemoryFilter(r, filter))
      .sort(byTimestampThenId);
    return all.slice(offset, offset + limit).map(stripVector);
  }

  async delete(ids: readonly string[]): Promise<number> {
    let n = 0;
    for (const id of ids) {
      const old = this.m.get(id);
      if (!old) continue;
      this.m.delete(id);
      this.slab.release(old.record.vector);
      this.parts.get(this.partKey(old.record.persona_id, old.record.category))?.delete(id);
      n += 1;
    }
    return n;
  }

  async count(filter: MemoryFilter = {}): Promise<number> {
    let n = 0;
    for (const s of this.m.values()) if (matchesMemoryFilter(s.record, filter)) n += 1;
    return n;
  }

  /** Pages by id: the cursor is the last id handed out. Vectors are copies (a stored slot may be reused). */
  async scan(cursor: string | null, limit: number): Promise<MemoryScanPage> {
    const ids = [...this.m.keys()].filter((id) => cursor === null || id > cursor).sort();
    const page = ids.slice(0, Math.max(1, limit));
    const records = page.map((id) => {
      const r = (this.m.get(id) as Stored).record;
      return { ...r, vector: r.vector.slice() };
    });
    return { records, next_cursor: ids.length > page.length ? (page.at(-1) as string) : null };
  }

  async model(): Promise<{ model_id: string; dimensions: number } | null> {
    const first = this.m.values().next();
    return first.done ? null : { model_id: first.value.record.model_id, dimensions: first.value.record.vector.length };
  }

  async close(): Promise<void> {
    this.m.clear();
    this.slab = new VectorBlocks(256);
    this.parts.clear();
  }
}


