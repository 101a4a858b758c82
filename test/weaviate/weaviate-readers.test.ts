/**
 * The Weaviate persona memory reader on a class Chimera's own services wrote, over the wire
 * emulator: only the seed's four properties (no memory_id, no model_id), objects known by their
 * uuid, vectors their embedder made. They list, count, search (a plain-words query embedded here,
 * distances bit-equal to a brute-force reference) and open with every property; an object that
 * is not a persona memory is marked, never breaking a page; and the reader changes nothing: no
 * class created, no property added. The contract cases (lists, search, get over our own
 * objects) are in test/contract/persona-memory-readers.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dot } from '../../src/domain/vectors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { openWeaviateMemoryReader } from '../../src/adapters/weaviate/weaviate-readers.ts';
import { SEED_PROPERTIES } from '../../src/adapters/weaviate/weaviate-schema.ts';
import { InspectSession } from '../../src/app/inspect-session.ts';
import type { PersonaMemoryReader } from '../../src/ports/readers.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from './emulator.ts';
import { testClassName } from './weaviate-entry.ts';

const SEED = 20260312;
const TEXTS = [
  'Repairing denim with sashiko stitches keeps a jacket alive for years',
  'A thrifted wool coat, brushed and mended, beats a new one',
  'Visible mending is a statement: the patch is the point',
  'Fast fashion hauls fill landfills within a season',
  'Dyeing old linen with onion skins gives a warm yellow',
  'Darning socks on a wooden mushroom, one evening at a time',
];

let emu: WeaviateEmulator;
const embedder = new HashingEmbedder(64);
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  emu = await startWeaviateEmulator();
});
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  assertNoUnknownCalls(emu);
  emu.reset();
});
afterAll(() => emu.close());

async function reader(className: string): Promise<PersonaMemoryReader> {
  const r = await openWeaviateMemoryReader({ url: emu.url, grpcPort: emu.grpcPort, className, timeoutMs: 5_000 });
  open.push(r);
  return r;
}

/** A class as the seed's services create it, with their objects (uuids of their own, vectors of their embedder). */
async function seedOnlyClass(): Promise<{ className: string; objects: { uuid: string; content: string; persona_id: string; category: string; timestamp: string; vector: Float32Array }[] }> {
  const className = testClassName();
  emu.store.create({ class: className, vectorizer: 'none', properties: SEED_PROPERTIES.map((p) => ({ name: p.name, dataType: [...p.dataType] })) });
  const rng = new SeededRng(SEED, 'seed-only-objects');
  const vectors = await embedder.embed(TEXTS);
  const objects = TEXTS.map((content, i) => ({
    uuid: rng.uuid(),
    content,
    persona_id: i % 2 === 0 ? 'aria' : 'kofi',
    category: (['Episodic', 'Semantic', 'SOUL'] as const)[i % 3] as string,
    timestamp: `2026-02-0${1 + i}T09:30:00Z`,
    vector: Float32Array.from(vectors[i] as Float32Array),
  }));
  const c = emu.store.find(className);
  for (const o of objects) c?.put(o.uuid, { persona_id: o.persona_id, content: o.content, category: o.category, timestamp: o.timestamp }, o.vector, Date.UTC(2026, 1, 1));
  return { className, objects };
}

describe('weaviate memory reader: a class with only the seed properties', () => {
  it('lists, counts and opens its objects by uuid, marks one that is not a memory, and changes nothing', async () => {
    const { className, objects } = await seedOnlyClass();
    // another program's object that is not a persona memory: no content, a category of its own
    emu.store.find(className)?.put('00000000-0000-4000-8000-000000000001', { persona_id: 'aria', category: 'Opinion', timestamp: '2026-02-03T12:00:00Z' }, objects[0]?.vector as Float32Array, 0);
    const r = await reader(className);
    const page = await r.list({ limit: 4 });
    expect(page.items).toHaveLength(4);
    const rest = await r.list({ limit: 4, cursor: page.next_cursor });
    expect(rest.next_cursor).toBeNull();
    const rows = [...page.items, ...rest.items];
    const good = rows.flatMap((x) => (x.ok ? [x.value] : []));
    // by (timestamp, id): Weaviate's dates come back as ISO text with milliseconds
    expect(good).toEqual(
      objects.map((o) => ({ id: o.uuid, persona_id: o.persona_id, content: o.content, category: o.category, timestamp: o.timestamp.replace('Z', '.000Z') })),
    );
    const bad = rows.filter((x) => !x.ok);
    expect(bad).toEqual([{ ok: false, raw: expect.objectContaining({ id: '00000000-0000-4000-8000-000000000001', category: 'Opinion' }), problem: expect.stringMatching(/content/) }]);
    expect(rows.indexOf(bad[0] as never), 'the bad object sorts by its timestamp').toBe(3);
    expect(await r.count()).toBe(7);
    expect(await r.count({ persona_id: 'kofi' })).toBe(3);
    expect(await r.count({ categories: ['SOUL'] })).toBe(2);

    const one = await r.get(objects[2]?.uuid as string);
    expect(one).toEqual({
      row: { ok: true, value: good[2] },
      properties: { id: objects[2]?.uuid, uuid: objects[2]?.uuid, persona_id: 'aria', content: TEXTS[2], category: 'SOUL', timestamp: '2026-02-03T09:30:00.000Z' },
      model_id: null,
      dimensions: 64,
    });
    expect(await r.get('not-there')).toBeNull();

    // read-only: the class keeps the seed's four properties; nothing was created or added
    expect(emu.store.find(className)?.def.properties.map((p) => p.name)).toEqual(['persona_id', 'content', 'category', 'timestamp']);
    expect(emu.log.attempts('POST /v1/schema') + emu.log.attempts('POST /v1/schema/{class}/properties')).toBe(0);
  });

  it('a plain-words query embedded here finds them nearest first, with the distances of a brute-force reference', async () => {
    const { className, objects } = await seedOnlyClass();
    const s = await InspectSession.open({ kind: 'production', memory: await reader(className), close: async () => {} });
    const r = await s.searchMemories(embedder, { query: 'mending a denim jacket', k: 4 });
    const [q] = await embedder.embed(['mending a denim jacket']);
    const qv = q as Float32Array;
    const qn = Math.sqrt(dot(qv, qv)) || 1;
    const want = objects
      .map((o) => ({ id: o.uuid, distance: 1 - dot(qv, o.vector) / (qn * Math.sqrt(dot(o.vector, o.vector))) }))
      .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1))
      .slice(0, 4);
    expect(r.items.map((n) => ({ id: n.row.ok ? n.row.value.id : '?', distance: n.distance }))).toEqual(want);
    // a model the seed's services did not record is compared when its vectors have the query's length
    expect(r).toMatchObject({ metric: 'cosine distance', embedder: { model_id: embedder.model_id, dimensions: 64 }, exact: false, left_out: 0, left_out_models: [] });

    const kofi = await s.searchMemories(embedder, { query: 'socks', k: 10, persona_id: 'kofi', categories: ['Episodic', 'SOUL'] });
    expect(kofi.items.map((n) => n.row.ok && n.row.value.persona_id)).toEqual(['kofi', 'kofi']);

    // an embedder of another length cannot be compared with what is stored: every memory passing the filter is left out, said plainly
    const other = await s.searchMemories(new HashingEmbedder(32), { query: 'denim', k: 3, persona_id: 'aria' });
    expect(other).toMatchObject({ items: [], left_out: 3, left_out_models: ['(not recorded) (64)'] });
    await expect(s.searchMemories(embedder, { query: '   ', k: 3 })).rejects.toMatchObject({ code: 'VALIDATION', message: 'query: the search text is empty' });
    await expect(s.searchMemories(embedder, { query: 'denim', k: 0 })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^k: must be an integer from 1 to 100/) });
  });

  it('an absent class reads as empty and is not created', async () => {
    const className = testClassName();
    const r = await reader(className);
    expect(await r.list()).toEqual({ items: [], next_cursor: null });
    expect(await r.count()).toBe(0);
    expect((await r.search({ vector: Float32Array.of(1, 0), model_id: 'm', k: 3 })).items).toEqual([]);
    expect(await r.get('x')).toBeNull();
    expect(emu.store.find(className)).toBeUndefined();
  });
});
