/**
 * In-memory persona memory with exact (brute-force) cosine search: the reference model for
 * the approximate adapters.
 */
import type { PersonaMemory } from '../../domain/schemas.ts';
import type {
  MemoryFilter,
  MemoryHit,
  MemoryQuery,
  MemoryRecord,
  PersonaMemoryStore,
} from '../../ports/persona-memory.ts';
import { dot } from '../shared/vector.ts';
import { matchesMemoryFilter, stripVector, byTimestampThenId, TopK } from '../shared/memory-helpers.ts';

interface Stored {
  record: MemoryRecord;
  norm: number;
}

export class MemoryPersonaMemory implements PersonaMemoryStore {
  readonly kind: string = 'memory';
  readonly capabilities = Object.freeze({ exact: true, durable: false });
  private readonly m = new Map<string, Stored>();

  async upsert(records: readonly MemoryRecord[]): Promise<void> {
    for (const r of records) {
      this.m.set(r.id, { record: { ...r, vector: Float32Array.from(r.vector) }, norm: Math.sqrt(dot(r.vector, r.vector)) });
    }
  }

  async search(q: MemoryQuery): Promise<MemoryHit[]> {
    const top = new TopK<MemoryRecord>(q.k);
    const qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
    for (const s of this.m.values()) {
      if (!matchesMemoryFilter(s.record, q)) continue;
      const score = s.norm === 0 ? 0 : dot(q.vector, s.record.vector) / (qn * s.norm);
      top.offer(s.record, score);
    }
    return top.result().map(([r, score]) => ({ memory: stripVector(r), score }));
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
    for (const id of ids) if (this.m.delete(id)) n += 1;
    return n;
  }

  async count(filter: MemoryFilter = {}): Promise<number> {
    let n = 0;
    for (const s of this.m.values()) if (matchesMemoryFilter(s.record, filter)) n += 1;
    return n;
  }

  async model(): Promise<{ model_id: string; dimensions: number } | null> {
    const first = this.m.values().next();
    if (first.done) return null;
    return { model_id: first.value.record.model_id, dimensions: first.value.record.vector.length };
  }

  async close(): Promise<void> {
    this.m.clear();
  }
}


