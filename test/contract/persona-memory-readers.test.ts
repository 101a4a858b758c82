/**
 * The persona memory reader (src/ports/readers.ts) over the in-memory store and over the row
 * file the HNSW and exact-durable adapters keep (`rows.sqlite`): memories by (timestamp, id),
 * filtered by persona and category as JavaScript filters them, every row once across pages with
 * memories added between them, a row that does not fit comes back marked. (Persona memory is
 * not in the entry table's readers suite: the memory entry opens one store per handle.)
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryCategory, PersonaMemory } from '../../src/domain/schemas.ts';
import type { MemoryRecord } from '../../src/ports/persona-memory.ts';
import type { MemoryListQuery, Page, PersonaMemoryReader, ReadRow } from '../../src/ports/readers.ts';
import { MemoryPersonaMemory } from '../../src/adapters/memory/memory-persona-memory.ts';
import { memoryReaders } from '../../src/adapters/memory/memory-readers.ts';
import { MemoryRowStore } from '../../src/adapters/hnsw/hnsw-row-store.ts';
import { sqliteReaders } from '../../src/adapters/sqlite/sqlite-readers.ts';
import { tempDbPath } from '../sqlite/temp-db.ts';

interface Fixture {
  upsert(records: readonly MemoryRecord[]): Promise<void>;
  /** Stores a row that is not a valid memory (an unknown category), behind the store's back. */
  malformed(id: string, timestamp: string): Promise<void>;
  reader(): Promise<PersonaMemoryReader>;
  close(): Promise<void>;
}

const FIXTURES: Record<string, () => Fixture> = {
  memory: () => {
    const store = new MemoryPersonaMemory();
    return {
      upsert: (r) => store.upsert(r),
      malformed: (id, timestamp) => store.upsert([{ ...record(0), id, timestamp, category: 'Bogus' as MemoryCategory }]),
      reader: async () => memoryReaders({ memory: store }).memory!,
      close: () => store.close(),
    };
  },
  'sqlite rows file': () => {
    const path = tempDbPath('memory-rows');
    const store = MemoryRowStore.open(path);
    const readers: { close(): Promise<void> }[] = [];
    return {
      upsert: async (r) => void store.upsert(r),
      malformed: async (id, timestamp) => {
        const db = new Database(path);
        db.prepare(`INSERT INTO memories (id, persona_id, category, content, timestamp, model_id, vector) VALUES (?, 'aria', 'Bogus', 'x', ?, 'm', x'00000000')`).run(id, timestamp);
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
      fx = make();
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
      fx = make();
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
  });
}
