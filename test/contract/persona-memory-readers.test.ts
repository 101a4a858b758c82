/**
 * The persona memory reader (src/ports/readers.ts) over every store that serves one: the
 * in-memory store and an HNSW store (what the Inspector reads of a session's own memory port), the row file the
 * HNSW and exact-durable adapters keep (`rows.sqlite`, the SQLite profile's), and a Weaviate
 * class (over the wire emulator; test/weaviate/). Lists: memories by (timestamp, id), filtered by
 * persona and category as JavaScript filters them, every row once across pages with memories
 * added between them, a row that does not fit comes back marked. Search: the k nearest by cosine
 * distance, bit-equal to a brute-force reference on every store (the readers measure distances
 * themselves), nearest first with ties by id, vectors of another model or length left out and
 * counted, a bad k refused naming it; get: one memory with its model and vector length.
 * (Persona memory is not in the entry table's readers suite: the memory entry opens one store
 * per handle, and the malformed rows are written per technology here.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { MemoryCategory, PersonaMemory } from '../../src/domain/schemas.ts';
import { dot } from '../../src/domain/vectors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { MemoryRecord } from '../../src/ports/persona-memory.ts';
import type { MemoryListQuery, MemorySearchQuery, Page, PersonaMemoryReader, ReadRow } from '../../src/ports/readers.ts';
import { MemoryPersonaMemory } from '../../src/adapters/memory/memory-persona-memory.ts';
import { memoryReaders } from '../../src/adapters/memory/memory-readers.ts';
import { MemoryRowStore } from '../../src/adapters/hnsw/hnsw-row-store.ts';
import { sqliteReaders } from '../../src/adapters/sqlite/sqlite-readers.ts';
import { HnswPersonaMemory } from '../../src/adapters/hnsw/hnsw-persona-memory.ts';
import { memoryStoreReader } from '../../src/config/memory-store-reader.ts';
import { openWeaviateMemory } from '../../src/adapters/weaviate/weaviate-persona-memory.ts';
import { openWeaviateMemoryReader } from '../../src/adapters/weaviate/weaviate-readers.ts';
import { memoryUuid } from '../../src/adapters/weaviate/weaviate-schema.ts';
import { tempDbPath } from '../sqlite/temp-db.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from '../weaviate/emulator.ts';
import { dropClass, testClassName } from '../weaviate/weaviate-entry.ts';

interface Fixture {
  /** Search returns the true k nearest (false: the store proposes candidates from an approximate index). */
  readonly exact: boolean;
  upsert(records: readonly MemoryRecord[]): Promise<void>;
  /** Stores a row that is not a valid memory (an unknown category), behind the store's back. */
  malformed(id: string, timestamp: string): Promise<void>;
  reader(): Promise<PersonaMemoryReader>;
  close(): Promise<void>;
}

/** One emulator for the file's Weaviate fixtures (started on first use). */
let emulator: Promise<WeaviateEmulator> | null = null;
afterAll(async () => {
  if (emulator) await (await emulator).close();
});

const FIXTURES: Record<string, () => Promise<Fixture>> = {
  memory: async () => {
    const store = new MemoryPersonaMemory();
    return {
      exact: true,
      upsert: (r) => store.upsert(r),
      malformed: (id, timestamp) => store.upsert([{ ...record(0), id, timestamp, category: 'Bogus' as MemoryCategory }]),
      reader: async () => memoryReaders({ memory: store }).memory!,
      close: () => store.close(),
    };
  },
  'sqlite rows file': async () => {
    const path = tempDbPath('memory-rows');
    const store = MemoryRowStore.open(path);
    const readers: { close(): Promise<void> }[] = [];
    return {
      exact: true,
      upsert: async (r) => void store.upsert(r),
      malformed: async (id, timestamp) => {
        const db = new Database(path);
        db.prepare(`INSERT INTO memories (id, persona_id, category, content, timestamp, model_id, vector) VALUES (?, 'aria', 'Bogus', 'x', ?, 'test-model', ?)`).run(id, timestamp, Buffer.from(Float32Array.of(1, 0, 0, 0).buffer));
        db.close();
      },
      reader: async () => {
        const r = sqliteReaders({ memoryRows: path });
        readers.push(r);
        return r.memory!;
      },
      close: async () => {
        for (const r of readers) await r.close();
        store.close();
        for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
      },
    };
  },
  // what the Inspector reads of a session whose memory lives only in its process (production without Weaviate keeps an HNSW index)
  'hnsw store (a session memory port)': async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-reader-hnsw-'));
    const store = await HnswPersonaMemory.open({ dir, M: 16, ef_construction: 100, ef: 50, ephemeral: true });
    return {
      exact: false,
      upsert: (r) => store.upsert(r),
      malformed: (id, timestamp) => store.upsert([{ ...record(0), id, timestamp, category: 'Bogus' as MemoryCategory }]),
      reader: async () => memoryStoreReader(store),
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  weaviate: async () => {
    const emu = await (emulator ??= startWeaviateEmulator());
    const className = testClassName();
    const store = await openWeaviateMemory({ url: emu.url, grpcPort: emu.grpcPort, className, timeoutMs: 5_000 });
    const readers: { close(): Promise<void> }[] = [];
    return {
      // Weaviate's HNSW proposes the candidates (the emulator's search is exact, so the results are too)
      exact: false,
      upsert: (r) => store.upsert(r),
      malformed: async (id, timestamp) => {
        // written behind the adapter's back, as another program could
        emu.store.find(className)?.put(memoryUuid(id), { memory_id: id, persona_id: 'aria', category: 'Bogus', content: 'x', timestamp, model_id: 'test-model' }, Float32Array.of(1, 0, 0, 0), Date.now());
      },
      reader: async () => {
        const r = await openWeaviateMemoryReader({ url: emu.url, grpcPort: emu.grpcPort, className, timeoutMs: 5_000 });
        readers.push(r);
        return r;
      },
      close: async () => {
        for (const r of readers) await r.close();
        await store.close();
        await dropClass(emu.url, className);
        assertNoUnknownCalls(emu);
      },
    };
  },
};

const PERSONAS = ['aria', 'kofi', 'mira'];
const CATEGORIES: MemoryCategory[] = ['Episodic', 'Semantic', 'SOUL'];

function record(i: number, timestamp = `2026-01-01T00:00:0${i % 4}.000Z`): MemoryRecord {
  return {
    id: `m-${String(i).padStart(3, '0')}-${(i * 37) % 11}`,
    persona_id: PERSONAS[i % 3] as string,
    category: CATEGORIES[(i * 2) % 3] as MemoryCategory,
    content: `memory ${i}`,
    timestamp,
    vector: new Float32Array([1, i, 0, 0]),
    model_id: 'test-model',
  };
}

const plain = ({ id, persona_id, content, category, timestamp }: MemoryRecord): PersonaMemory => ({ id, persona_id, content, category, timestamp });
const key = (m: PersonaMemory): string => `${m.timestamp}|${m.id}`;
const sorted = (ms: PersonaMemory[]): PersonaMemory[] => [...ms].sort((a, b) => (key(a) < key(b) ? -1 : 1));

async function walk(read: (cursor: string | null) => Promise<Page<PersonaMemory>>, between?: () => Promise<void>): Promise<ReadRow<PersonaMemory>[]> {
  const out: ReadRow<PersonaMemory>[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const p: Page<PersonaMemory> = await read(cursor);
    out.push(...p.items);
    if (!p.next_cursor) return out;
    cursor = p.next_cursor;
    if (between) await between();
  }
  throw new Error('walk did not end');
}

const values = (rows: ReadRow<PersonaMemory>[]): PersonaMemory[] =>
  rows.map((r) => {
    if (!r.ok) throw new Error(r.problem);
    return r.value;
  });

for (const [name, make] of Object.entries(FIXTURES)) {
  describe(`persona memory reader: ${name}`, () => {
    let fx: Fixture;
    afterEach(async () => fx.close());

    it('filters by persona and category as JavaScript does, every row once across pages', async () => {
      fx = await make();
      const records = Array.from({ length: 45 }, (_, i) => record(i));
      await fx.upsert(records);
      const r = await fx.reader();
      const queries: MemoryListQuery[] = [{}, { persona_id: 'kofi' }, { categories: ['SOUL'] }, { persona_id: 'aria', categories: ['Episodic', 'Semantic'] }, { categories: [] }, { persona_id: 'nobody' }];
      for (const q of queries) {
        const want = sorted(records.map(plain).filter((m) => (q.persona_id === undefined || m.persona_id === q.persona_id) && (q.categories === undefined || q.categories.includes(m.category))));
        expect(values(await walk((cursor) => r.list({ ...q, cursor, limit: 6 }))), JSON.stringify(q)).toEqual(want);
        expect(await r.count(q)).toBe(want.length);
      }
    });

    it('reaches memories added between pages after the cursor, and marks a row that is not a memory', async () => {
      fx = await make();
      const records = Array.from({ length: 20 }, (_, i) => record(i));
      await fx.upsert(records);
      await fx.malformed('m-bad', '2026-01-01T00:00:01.500Z');
      const r = await fx.reader();
      const added: MemoryRecord[] = [];
      const rows = await walk(
        (cursor) => r.list({ cursor, limit: 4 }),
        async () => {
          const m = record(100 + added.length, `2026-03-01T00:00:${String(added.length).padStart(2, '0')}.000Z`);
          added.push(m);
          await fx.upsert([m]);
        },
      );
      const bad = rows.filter((x) => !x.ok);
      expect(bad).toHaveLength(1);
      expect((bad[0] as { raw: { id: string } }).raw.id).toBe('m-bad');
      expect((bad[0] as { problem: string }).problem).toMatch(/category/);
      expect(rows.map((x) => (x.ok ? x.value.id : (x.raw as { id: string }).id))).toEqual(
        [...sorted([...records, ...added].map(plain)).map((m) => ({ k: key(m), id: m.id })), { k: '2026-01-01T00:00:01.500Z|m-bad', id: 'm-bad' }]
          .sort((a, b) => (a.k < b.k ? -1 : 1))
          .map((x) => x.id),
      );
    });

    it('search: the k nearest by cosine distance, nearest first, ties by id, the same numbers as a brute-force reference', async () => {
      fx = await make();
      const seed = 20260311;
      const rng = new SeededRng(seed, 'memory-reader-search');
      // 4 dimensions; duplicates make exact ties, which go by id
      const records = Array.from({ length: 40 }, (_, i) => ({ ...record(i), vector: Float32Array.from({ length: 4 }, () => rng.next() * 2 - 1) }));
      for (const i of [5, 17, 29]) (records[i] as { vector: Float32Array }).vector = Float32Array.from((records[3] as MemoryRecord).vector);
      await fx.upsert(records);
      const r = await fx.reader();
      for (let t = 0; t < 12; t++) {
        const q: MemorySearchQuery = {
          vector: t === 0 ? Float32Array.from((records[3] as MemoryRecord).vector) : Float32Array.from({ length: 4 }, () => rng.next() * 2 - 1),
          model_id: 'test-model',
          k: 1 + rng.int(12),
          ...(t % 3 === 1 ? { persona_id: 'kofi' } : {}),
          ...(t % 4 === 2 ? { categories: ['Semantic', 'SOUL'] as MemoryCategory[] } : {}),
        };
        const got = await r.search(q);
        const want = reference(records, q);
        expect(got.items.map((n) => ({ id: n.row.ok ? n.row.value.id : '?', distance: n.distance })), `seed ${seed} query ${t}`).toEqual(want);
        expect(got.items.map((n) => n.row)).toEqual(want.map((w) => ({ ok: true, value: plain(records.find((x) => x.id === w.id) as MemoryRecord) })));
        expect(got).toMatchObject({ exact: fx.exact, left_out: 0, left_out_models: [] });
        for (const n of got.items) expect(n.distance).toBeGreaterThanOrEqual(0);
      }
    });

    it('search: vectors of another model or length are left out and counted; a bad k is refused naming it', async () => {
      fx = await make();
      await fx.upsert(Array.from({ length: 20 }, (_, i) => record(i)));
      const r = await fx.reader();
      const aria = 7; // record(i) is aria's when i % 3 === 0
      const other = await r.search({ vector: Float32Array.of(1, 0, 0, 0), model_id: 'other-model', k: 5 });
      expect(other).toMatchObject({ items: [], left_out: 20, left_out_models: ['test-model (4)'] });
      const shorter = await r.search({ vector: Float32Array.of(1, 0, 0), model_id: 'test-model', k: 5, persona_id: 'aria' });
      expect(shorter).toMatchObject({ items: [], left_out: aria, left_out_models: ['test-model (4)'] });
      for (const k of [0, 101, 2.5]) await expect(r.search({ vector: Float32Array.of(1, 0, 0, 0), model_id: 'test-model', k })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^invalid k /) });
    });

    it('search and get: a stored memory that does not fit comes back marked, with its distance', async () => {
      fx = await make();
      await fx.upsert(Array.from({ length: 6 }, (_, i) => record(i)));
      await fx.malformed('m-bad', '2026-01-01T00:00:01.500Z');
      const r = await fx.reader();
      const got = await r.search({ vector: Float32Array.of(1, 0, 0, 0), model_id: 'test-model', k: 10 });
      expect(got.items).toHaveLength(7);
      const bad = got.items.filter((n) => !n.row.ok);
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatchObject({ distance: 0, row: { ok: false, problem: expect.stringMatching(/category/) } });
      expect(await r.get('m-bad')).toMatchObject({ row: { ok: false, problem: expect.stringMatching(/category/) }, properties: { category: 'Bogus' }, dimensions: 4 });
    });

    it('get: one memory with every stored property, its model and vector length; null for an unknown id', async () => {
      fx = await make();
      const records = Array.from({ length: 5 }, (_, i) => record(i));
      await fx.upsert(records);
      const r = await fx.reader();
      const m = records[3] as MemoryRecord;
      const got = await r.get(m.id);
      expect(got).toMatchObject({ row: { ok: true, value: plain(m) }, properties: plain(m), model_id: 'test-model', dimensions: 4 });
      expect(await r.get('no-such-memory')).toBeNull();
    });
  });
}

/** The k nearest by a brute-force scan: 1 − cos with domain/vectors.ts dot, distance then id ascending. */
function reference(records: readonly MemoryRecord[], q: MemorySearchQuery): { id: string; distance: number }[] {
  const qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
  return records
    .filter((m) => (q.persona_id === undefined || m.persona_id === q.persona_id) && (q.categories === undefined || q.categories.includes(m.category)))
    .map((m) => {
      const n = Math.sqrt(dot(m.vector, m.vector));
      return { id: m.id, distance: 1 - (n === 0 ? 0 : dot(q.vector, m.vector) / (qn * n)) };
    })
    .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, q.k);
}
