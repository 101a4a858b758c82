/**
 * The HNSW persona memory on disk: it survives a restart, deletions and growth past its
 * initial capacity, and a missing, stale, truncated, edited or forged index file is rebuilt
 * from the rows (with progress) instead of crashing the process.
 */
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChimeraError } from '../../src/domain/errors.ts';
import type { MemoryCategory } from '../../src/domain/schemas.ts';
import type { MemoryRecord } from '../../src/ports/persona-memory.ts';
import { guardPersonaMemory } from '../../src/ports/guards/guarded-persona-memory.ts';
import { HnswPersonaMemory } from '../../src/adapters/hnsw/hnsw-persona-memory.ts';
import { ExactPersonaMemory } from '../../src/adapters/exact/exact-persona-memory.ts';
import { sha256File } from '../../src/adapters/hnsw/hnsw-index-file.ts';
import { normalize } from '../../src/domain/vectors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { TEST_HNSW, tempDir } from './semantic-entries.ts';

const DIM = 24;
const CATS: MemoryCategory[] = ['Episodic', 'Semantic', 'SOUL'];

const crng = new SeededRng(1, 'hnsw-centers');
const centers = Array.from({ length: 8 }, () => Array.from({ length: DIM }, () => crng.normal(0, 1)));

/** n clustered records (seeded), personas p0..p{personas-1}. */
function records(n: number, seed = 1, personas = 4, from = 0): MemoryRecord[] {
  const rng = new SeededRng(seed, 'hnsw-test');
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      id: `m${String(i).padStart(5, '0')}`,
      persona_id: `p${i % personas}`,
      content: `memory ${i}`,
      category: CATS[i % 3]!,
      timestamp: '2026-01-01T00:00:00.000Z',
      vector: normalize(Float32Array.from(centers[i % 8]!, (c) => c + rng.normal(0, 0.4))),
      model_id: 'test-model',
    };
  });
}

/** A query drawn like the data: near one of the clusters. */
function query(seed: number): Float32Array {
  const rng = new SeededRng(seed, 'hnsw-query');
  return normalize(Float32Array.from(centers[seed % 8]!, (c) => c + rng.normal(0, 0.4)));
}

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('hnsw-persist');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(d: string, progress?: [string, number, number][]) {
  return HnswPersonaMemory.open({ dir: d, ...TEST_HNSW, ...(progress ? { onProgress: (w, a, b) => progress.push([w, a, b]) } : {}) });
}

describe('HNSW persona memory on disk', () => {
  it('survives a restart: the saved graph is loaded, not rebuilt, and answers the same', async () => {
    const d = dir();
    const m = await open(d);
    await m.upsert(records(300));
    const before = await m.search({ vector: query(1), k: 10 });
    await m.close();
    const again = await open(d);
    expect(again.report.source).toBe('loaded');
    expect(await again.count()).toBe(300);
    expect(await again.model()).toEqual({ model_id: 'test-model', dimensions: DIM });
    expect(await again.search({ vector: query(1), k: 10 })).toEqual(before);
    await again.close();
  });

  it('keeps deletions and replacements across a restart', async () => {
    const d = dir();
    const m = await open(d);
    const recs = records(200);
    await m.upsert(recs);
    const top = (await m.search({ vector: recs[5]!.vector, k: 3 })).map((h) => h.memory.id);
    expect(top[0]).toBe('m00005');
    expect(await m.delete(['m00005', 'm00006', 'nope'])).toBe(2);
    await m.upsert([{ ...recs[7]!, content: 'replaced', vector: recs[5]!.vector }]);
    await m.close();
    const again = await open(d);
    expect(again.report.source).toBe('loaded');
    expect(await again.count()).toBe(198);
    expect(await again.get('m00005')).toBeNull();
    const hits = await again.search({ vector: recs[5]!.vector, k: 3 });
    expect(hits[0]?.memory).toMatchObject({ id: 'm00007', content: 'replaced' });
    expect(hits.map((h) => h.memory.id)).not.toContain('m00005');
    await again.close();
  });

  it('grows past its initial capacity and stays exact on the top results', async () => {
    const d = dir();
    const m = await open(d);
    const ref = new ExactPersonaMemory();
    const recs = records(2600, 3);
    for (let i = 0; i < recs.length; i += 500) {
      await m.upsert(recs.slice(i, i + 500));
      await ref.upsert(recs.slice(i, i + 500));
    }
    expect(await m.count()).toBe(2600);
    let found = 0;
    for (let s = 0; s < 10; s++) {
      const want = (await ref.search({ vector: query(s), k: 10 })).map((h) => h.memory.id);
      const got = new Set((await m.search({ vector: query(s), k: 10 })).map((h) => h.memory.id));
      found += want.filter((id) => got.has(id)).length;
    }
    expect(found / 100).toBeGreaterThanOrEqual(0.95);
    await m.close();
    const again = await open(d);
    expect(again.report.source).toBe('loaded');
    expect(await again.count()).toBe(2600);
    await again.close();
  });

  it('filters by persona and category through the graph and by exact scan, matching the exact answer', async () => {
    const recs = records(3000, 5, 3).map((r, i) => (i % 60 === 7 ? { ...r, persona_id: 'rare' } : r));
    const ref = new ExactPersonaMemory();
    await ref.upsert(recs);
    for (const exact_scan_max of [0, 100_000]) {
      const d = dir();
      const m = await HnswPersonaMemory.open({ dir: d, ...TEST_HNSW, exact_scan_max });
      await m.upsert(recs);
      let found = 0;
      let total = 0;
      for (let s = 0; s < 10; s++) {
        const q = { vector: query(100 + s), k: 10, persona_id: `p${s % 3}`, categories: s % 2 ? (['SOUL'] as MemoryCategory[]) : undefined };
        const want = (await ref.search(q)).map((h) => h.memory.id);
        const got = await m.search(q);
        for (const h of got) {
          expect(h.memory.persona_id).toBe(q.persona_id);
          if (q.categories) expect(h.memory.category).toBe('SOUL');
        }
        const ids = new Set(got.map((h) => h.memory.id));
        found += want.filter((id) => ids.has(id)).length;
        total += want.length;
      }
      expect(found / total).toBeGreaterThanOrEqual(exact_scan_max ? 1 : 0.95);
      // a rare persona (1.6%): too selective to post-filter, so hnswlib's filtered search runs
      const rare = { vector: query(7), k: 10, persona_id: 'rare' };
      const rareWant = (await ref.search(rare)).map((h) => h.memory.id);
      expect(rareWant.length).toBe(10);
      expect((await m.search(rare)).map((h) => h.memory.id)).toEqual(rareWant);
      expect(await m.search({ vector: query(1), k: 5, persona_id: 'nobody' })).toEqual([]);
      await m.close();
    }
  });

  it('refuses a second model through the guard, also after a restart', async () => {
    const d = dir();
    const m = guardPersonaMemory(await open(d));
    await m.upsert(records(10));
    await m.close();
    const again = guardPersonaMemory(await open(d));
    const err = (await again.upsert([{ ...records(1, 9, 4, 50)[0]!, model_id: 'other-model' }]).catch((e: unknown) => e)) as ChimeraError;
    expect(err.code).toBe('MODEL_MISMATCH');
    expect(err.message).toMatch(/other-model.*test-model|test-model.*other-model/);
    expect(await again.count()).toBe(10);
    await again.close();
  });

  it('a rows file that is not SQLite is a clear BAD_DATABASE error, and the file is left alone', async () => {
    const d = dir();
    writeFileSync(join(d, 'rows.sqlite'), 'this is not a database, just some text that is long enough '.repeat(100));
    const err = (await open(d).catch((e: unknown) => e)) as ChimeraError;
    expect(err.code).toBe('BAD_DATABASE');
    expect(err.message).toContain(join(d, 'rows.sqlite'));
    expect(readFileSync(join(d, 'rows.sqlite'), 'utf8')).toMatch(/^this is not a database/);
  });

  describe('rebuilds from the rows instead of loading a bad index file', () => {
    async function saved(): Promise<{ d: string; expected: string[] }> {
      const d = dir();
      const m = await open(d);
      await m.upsert(records(400, 7));
      const expected = (await m.search({ vector: query(3), k: 10 })).map((h) => h.memory.id);
      await m.close();
      return { d, expected };
    }
    async function reopened(d: string, expected: string[], reason: RegExp): Promise<void> {
      const progress: [string, number, number][] = [];
      const m = await open(d, progress);
      expect(m.report.source).toBe('rebuilt');
      expect(m.report.reason).toMatch(reason);
      expect(progress.at(-1)?.slice(1)).toEqual([400, 400]);
      expect(progress[0]?.[0]).toMatch(/rebuilding/);
      expect(await m.count()).toBe(400);
      const got = (await m.search({ vector: query(3), k: 10 })).map((h) => h.memory.id);
      expect(got.filter((id) => expected.includes(id)).length).toBeGreaterThanOrEqual(9);
      await m.close();
      const after = await open(d);
      expect(after.report.source).toBe('loaded'); // the rebuilt index was saved
      await after.close();
    }

    it('missing', async () => {
      const { d, expected } = await saved();
      rmSync(join(d, 'index.hnsw'));
      await reopened(d, expected, /^missing/);
    });

    it('truncated', async () => {
      const { d, expected } = await saved();
      truncateSync(join(d, 'index.hnsw'), 1000);
      await reopened(d, expected, /^corrupt/);
    });

    it('bytes flipped in the middle', async () => {
      const { d, expected } = await saved();
      const p = join(d, 'index.hnsw');
      const b = readFileSync(p);
      for (let i = 200; i < 260; i++) b[i] = 0xff;
      writeFileSync(p, b);
      await reopened(d, expected, /^corrupt: its checksum/);
    });

    it('garbage with a sidecar forged to match it (the header check stops it)', async () => {
      const { d, expected } = await saved();
      const p = join(d, 'index.hnsw');
      const rng = new SeededRng(11, 'garbage');
      writeFileSync(p, Uint8Array.from({ length: 50_000 }, () => rng.int(256)));
      const side = JSON.parse(readFileSync(join(d, 'index.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(d, 'index.json'), JSON.stringify({ ...side, bytes: 50_000, sha256: sha256File(p) }));
      await reopened(d, expected, /^corrupt: its header/);
    });

    it('a corrupt sidecar', async () => {
      const { d, expected } = await saved();
      writeFileSync(join(d, 'index.json'), '{"format": 1, "generat');
      await reopened(d, expected, /^stale: it has no readable sidecar/);
    });

    it('stale: the rows changed after the index was saved (a crash before close)', async () => {
      const { d, expected } = await saved();
      const writer = await open(d);
      await writer.upsert(records(5, 8, 4, 10_000)); // rows now ahead of the saved graph
      const progress: [string, number, number][] = [];
      const reader = await open(d, progress);
      expect(reader.report.source).toBe('rebuilt');
      expect(reader.report.reason).toMatch(/^stale: it reflects rows generation/);
      expect(await reader.count()).toBe(405);
      expect(progress.at(-1)?.slice(1)).toEqual([405, 405]);
      expect((await reader.search({ vector: query(3), k: 10 })).length).toBe(10);
      await reader.close();
      await writer.close();
      expect(expected.length).toBe(10);
    });

    it('two writers on one folder: neither saves a graph that misses the other\'s rows', async () => {
      const { d } = await saved();
      const a = await open(d);
      const b = await open(d);
      await a.upsert(records(3, 8, 4, 20_000));
      await b.delete(['m00001']);
      await a.close();
      await b.close();
      const c = await open(d);
      expect(c.report.source).toBe('rebuilt');
      expect(await c.count()).toBe(402);
      const ids = (await c.search({ vector: records(1, 8, 4, 20_000)[0]!.vector, k: 1 })).map((h) => h.memory.id);
      expect(ids).toEqual(['m20000']);
      await c.close();
    });

    it('stale: the graph parameters changed in the config', async () => {
      const { d } = await saved();
      const m = await HnswPersonaMemory.open({ dir: d, ...TEST_HNSW, M: 12 });
      expect(m.report.reason).toMatch(/^stale: it was built with M=8/);
      await m.close();
    });
  });
});
