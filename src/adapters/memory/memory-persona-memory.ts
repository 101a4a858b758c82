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
  private readonly parts = new Map<string, { persona_id: string; category: MemoryRecord['category']; items: Map<string, Stored> }>();

  private partKey(persona_id: string, category: string): string {
    return `${persona_id}\u0000${category}`;
  }

  async upsert(records: readonly MemoryRecord[]): Promise<void> {
    for (const r of records) {
      const old = this.m.get(r.id);
      if (old) this.parts.get(this.partKey(old.record.persona_id, old.record.category))?.items.delete(r.id);
      const stored = { record: { ...r, vector: Float32Array.from(r.vector) }, norm: Math.sqrt(dot(r.vector, r.vector)) };
      this.m.set(r.id, stored);
      const key = this.partKey(r.persona_id, r.category);
      let part = this.parts.get(key);
      if (!part) this.parts.set(key, (part = { persona_id: r.persona_id, category: r.category, items: new Map() }));
      part.items.set(r.id, stored);
    }
  }

  async search(q: MemoryQuery): Promise<MemoryHit[]> {
    const top = new TopK<MemoryRecord>(q.k);
    const qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
    for (const part of this.parts.values()) {
      if (q.persona_id !== undefined && part.persona_id !== q.persona_id) continue;
      if (q.categories !== undefined && !q.categories.includes(part.category)) continue;
      for (const s of part.items.values()) {
        const score = s.norm === 0 ? 0 : dot(q.vector, s.record.vector) / (qn * s.norm);
        top.offer(s.record, score);
      }
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
    for (const id of ids) {
      const old = this.m.get(id);
      if (!old) continue;
      this.m.delete(id);
      this.parts.get(this.partKey(old.record.persona_id, old.record.category))?.items.delete(id);
      n += 1;
    }
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
    this.parts.clear();
  }
}


