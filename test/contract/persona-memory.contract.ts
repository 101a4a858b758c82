/**
 * The persona-memory contract. Vectors are built by hand so the expected neighbours are known;
 * approximate adapters (capabilities.exact false) must still return the exact answer on these
 * small sets. The store is wrapped by guardPersonaMemory as the composition root wraps it.
 */
import { beforeEach, expect, it } from 'vitest';
import type { ChimeraError } from '../../src/domain/errors.ts';
import type { MemoryCategory } from '../../src/domain/schemas.ts';
import type { MemoryRecord, PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import { guardPersonaMemory } from '../../src/ports/guards/guarded-persona-memory.ts';
import { normalize } from '../../src/domain/vectors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { Harness } from './run.ts';

const DIM = 16;
function vec(...xs: number[]): Float32Array {
  const v = new Float32Array(DIM);
  xs.forEach((x, i) => (v[i] = x));
  return normalize(v);
}
function rec(id: string, v: Float32Array, over: Partial<MemoryRecord> = {}): MemoryRecord {
  return {
    id,
    persona_id: 'aria',
    content: `memory ${id}`,
    category: 'Semantic',
    timestamp: '2026-01-01T00:00:00.000Z',
    vector: v,
    model_id: 'test-model',
    ...over,
  };
}

export function personaMemoryContract(h: Harness): void {
  {
    let m: PersonaMemoryStore;
    beforeEach(async () => {
      m = guardPersonaMemory(await h.memory(await h.namespace()));
      expect(await m.count()).toBe(0);
    });

    it('upserts, gets and counts; search orders by cosine similarity', async () => {
      await m.upsert([rec('a', vec(1, 0)), rec('b', vec(0.9, 0.1)), rec('c', vec(0, 1)), rec('d', vec(-1, 0))]);
      expect(await m.count()).toBe(4);
      expect(await m.get('a')).toEqual({
        id: 'a',
        persona_id: 'aria',
        content: 'memory a',
        category: 'Semantic',
        timestamp: '2026-01-01T00:00:00.000Z',
      });
      const hits = await m.search({ vector: vec(1, 0), k: 3 });
      expect(hits.map((h) => h.memory.id)).toEqual(['a', 'b', 'c']);
      expect(hits[0]?.score).toBeCloseTo(1, 5);
      expect(hits[2]?.score).toBeCloseTo(0, 5);
      expect(await m.model()).toEqual({ model_id: 'test-model', dimensions: DIM });
    });

    it('filters by persona and category', async () => {
      const cats: MemoryCategory[] = ['Episodic', 'Semantic', 'SOUL'];
      const recs: MemoryRecord[] = [];
      for (let i = 0; i < 12; i++) {
        recs.push(rec(`m${i}`, vec(1, i / 12), { persona_id: i % 2 ? 'aria' : 'bo', category: cats[i % 3]! }));
      }
      await m.upsert(recs);
      const hits = await m.search({ vector: vec(1, 0), k: 10, persona_id: 'aria', categories: ['Episodic', 'SOUL'] });
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) {
        expect(h.memory.persona_id).toBe('aria');
        expect(['Episodic', 'SOUL']).toContain(h.memory.category);
      }
      expect(hits.map((h) => h.memory.id)).toEqual(['m1', 'm3', 'm5', 'm7', 'm9', 'm11'].filter((id) => {
        const i = Number(id.slice(1));
        return cats[i % 3] !== 'Semantic';
      }));
      expect(await m.count({ persona_id: 'bo' })).toBe(6);
      expect(await m.count({ persona_id: 'aria', categories: ['SOUL'] })).toBe(2);
      expect((await m.list({ persona_id: 'bo' }, 2, 1)).length).toBe(2);
    });

    it('upsert replaces by id; delete removes from search', async () => {
      await m.upsert([rec('a', vec(1, 0)), rec('b', vec(0, 1))]);
      await m.upsert([rec('a', vec(0, 1), { content: 'changed' })]);
      expect(await m.count()).toBe(2);
      expect((await m.get('a'))?.content).toBe('changed');
      expect(await m.delete(['a', 'zzz'])).toBe(1);
      const hits = await m.search({ vector: vec(0, 1), k: 5 });
      expect(hits.map((h) => h.memory.id)).toEqual(['b']);
      expect(await m.get('a')).toBeNull();
    });

    it('scan hands back every memory with its vector and model, page by page, once each', async () => {
      // every adapter of ours can (the port keeps it optional for stores that cannot)
      if (!m.scan) throw new Error(`${h.entry.name} has no scan: a copy of a whole state could not read its memories`);
      const rng = new SeededRng(7, 'scan-contract');
      const all = Array.from({ length: 23 }, (_, i) => rec(`m${String(i).padStart(2, '0')}`, vec(rng.next(), rng.next(), rng.next()), { category: i % 2 ? 'Episodic' : 'Semantic' }));
      await m.upsert(all);
      const seen: MemoryRecord[] = [];
      let pages = 0;
      for (let cursor: string | null = null; ; pages++) {
        const page = await m.scan(cursor, 5);
        expect(page.records.length).toBeLessThanOrEqual(5);
        seen.push(...page.records);
        if (page.next_cursor === null) break;
        cursor = page.next_cursor;
      }
      expect(pages).toBeGreaterThanOrEqual(4);
      const byId = (a: MemoryRecord, b: MemoryRecord) => (a.id < b.id ? -1 : 1);
      const plain = (r: MemoryRecord) => ({ ...r, vector: Array.from(r.vector) });
      expect(seen.sort(byId).map(plain)).toEqual([...all].sort(byId).map(plain));
    });

    it('refuses vectors from another model or of another length', async () => {
      await m.upsert([rec('a', vec(1, 0))]);
      const err = await m.upsert([rec('b', vec(0, 1), { model_id: 'other-model' })]).catch((e: unknown) => e);
      expect((err as ChimeraError).code).toBe('MODEL_MISMATCH');
      expect((err as Error).message).toMatch(/other-model/);
      const err2 = await m.upsert([rec('c', new Float32Array(DIM + 1), {})]).catch((e: unknown) => e);
      expect((err2 as ChimeraError).code).toBe('MODEL_MISMATCH');
      const err3 = await m.search({ vector: new Float32Array(3), k: 1 }).catch((e: unknown) => e);
      expect((err3 as ChimeraError).code).toBe('MODEL_MISMATCH');
      expect(await m.count()).toBe(1);
    });

    it('refuses invalid records and queries with a clear error', async () => {
      const err = await m.upsert([rec('a', vec(1), { category: 'Dream' as MemoryCategory })]).catch((e: unknown) => e);
      expect((err as ChimeraError).code).toBe('VALIDATION');
      expect((err as Error).message).toMatch(/category/);
      const nan = vec(1);
      nan[3] = Number.NaN;
      expect(((await m.upsert([rec('a', nan)]).catch((e: unknown) => e)) as ChimeraError).code).toBe('VALIDATION');
      expect(((await m.search({ vector: vec(1), k: 0 }).catch((e: unknown) => e)) as ChimeraError).code).toBe('VALIDATION');
    });

    it('finds the exact nearest neighbours on 300 clustered vectors (seeded)', async () => {
      const rng = new SeededRng(42, 'memory-contract');
      const centers = Array.from({ length: 6 }, () => Array.from({ length: DIM }, () => rng.normal(0, 1)));
      const recs = Array.from({ length: 300 }, (_, i) =>
        rec(`r${String(i).padStart(3, '0')}`, normalize(Float32Array.from(centers[i % 6]!, (c) => c + rng.normal(0, 0.3)))),
      );
      await m.upsert(recs);
      const q = normalize(Float32Array.from(centers[2]!, (c) => c + rng.normal(0, 0.3)));
      const scored = recs
        .map((r) => ({ id: r.id, s: r.vector.reduce((acc, x, i) => acc + x * q[i]!, 0) }))
        .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1));
      const hits = await m.search({ vector: q, k: 10 });
      expect(hits.map((h) => h.memory.id)).toEqual(scored.slice(0, 10).map((s) => s.id));
    });
  }
}
