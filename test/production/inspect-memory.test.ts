/**
 * The Inspector's persona memory channels on a production profile (real Postgres and Redis; the
 * Weaviate wire emulator): with CHIMERA_WEAVIATE_URL they read the seed's `PersonaMemory` class
 * through the profile's read-only readers — objects Chimera's own services wrote, with only the
 * seed's properties, list, open and are found by a plain-words query, an object that does not
 * fit is marked, and the class is left as it was; without Weaviate (each process keeps its own
 * index) they read this session's persona memory port and say so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ChimeraConfig } from '../../src/config/config.ts';
import { openPostgres } from '../../src/adapters/postgres/index.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { MemoryPersonaMemory } from '../../src/adapters/memory/memory-persona-memory.ts';
import { SEED_PROPERTIES } from '../../src/adapters/weaviate/weaviate-schema.ts';
import { inspectMemoryChannels } from '../../src/app/studio/inspect-memory.ts';
import { unpooledReaders } from '../../src/app/studio/inspect-pool.ts';
import type { Session } from '../../src/app/studio/session.ts';
import type { PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from '../weaviate/emulator.ts';
import { productionStore, type ProductionStore } from './support.ts';

let emu: WeaviateEmulator;
let store: ProductionStore;
const embedder = new HashingEmbedder();

/** The part of the studio the channels use: the profile, the session's memory port and embedder, and the config. */
function channels(config: ChimeraConfig, memory: PersonaMemoryStore) {
  const session = { profile: { kind: 'production', name: null, path: null }, sim: { ports: { memory, embedder } } } as unknown as Session;
  // each call opens its readers and closes them (no pool to close after the test)
  return inspectMemoryChannels({ config, current: () => session, connectionConfig: () => Promise.reject(new Error('no connection profiles here')), inspectReaders: unpooledReaders() });
}

beforeAll(async () => {
  emu = await startWeaviateEmulator();
  store = await productionStore('inspect_memory');
  // the schema a deployment has (a read-only inspection migrates nothing)
  const pg = await openPostgres({ url: store.pgUrl, schema: 'public' });
  await pg.close();
  emu.store.create({ class: 'PersonaMemory', vectorizer: 'none', properties: SEED_PROPERTIES.map((p) => ({ name: p.name, dataType: [...p.dataType] })) });
  const texts = ['Sashiko stitches on worn denim', 'Brushing a wool coat back to life', 'Linen dyed with onion skins'];
  const vectors = await embedder.embed(texts);
  const c = emu.store.find('PersonaMemory');
  texts.forEach((content, i) =>
    c?.put(`6c1f0a3e-0000-4000-8000-00000000000${i}`, { persona_id: 'aria', content, category: 'Episodic', timestamp: `2026-03-0${i + 1}T08:00:00Z` }, vectors[i] as Float32Array, 0),
  );
  c?.put('6c1f0a3e-0000-4000-8000-0000000000ff', { persona_id: 'aria', content: 'not one of ours', category: 'Gossip', timestamp: '2026-03-09T08:00:00Z' }, vectors[0] as Float32Array, 0);
}, 120_000);
afterAll(async () => {
  await store?.drop();
  await emu?.close();
});

describe('inspect memory channels on production', () => {
  it('with Weaviate: the seed-only objects list, open and are found nearest first; the bad one is marked; the class is unchanged', async () => {
    const config = loadConfig({ env: { ...store.env, CHIMERA_WEAVIATE_URL: emu.url, CHIMERA_WEAVIATE_GRPC_PORT: String(emu.grpcPort) } });
    const ch = channels(config, new MemoryPersonaMemory());
    const list = await ch['inspect/memories']({ limit: 10 });
    expect(list).toMatchObject({ backend: 'production', source: 'store', total: 4, next_cursor: null });
    expect(list.items.map((r) => (r.ok ? r.value.content : `bad: ${r.problem}`))).toEqual([
      'Sashiko stitches on worn denim',
      'Brushing a wool coat back to life',
      'Linen dyed with onion skins',
      expect.stringMatching(/^bad: .*category/),
    ]);
    const one = await ch['inspect/memory']({ id: '6c1f0a3e-0000-4000-8000-000000000001' });
    expect(one.object).toMatchObject({ row: { ok: true, value: { content: 'Brushing a wool coat back to life' } }, model_id: null, dimensions: embedder.dimensions });

    const found = await ch['inspect/memory-search']({ query: 'denim stitches', k: 3, category: 'Episodic' });
    expect(found).toMatchObject({ backend: 'production', source: 'store', metric: 'cosine distance', embedder: { model_id: embedder.model_id, dimensions: embedder.dimensions }, left_out: 0 });
    expect(found.items[0]).toMatchObject({ ok: true, value: { content: 'Sashiko stitches on worn denim' } });
    const d = found.items.map((n) => n.distance);
    expect(d).toEqual([...d].sort((a, b) => a - b));

    expect(emu.store.find('PersonaMemory')?.def.properties.map((p) => p.name)).toEqual(['persona_id', 'content', 'category', 'timestamp']);
    assertNoUnknownCalls(emu);
  }, 120_000);

  it("without Weaviate: this session's own persona memory, said as such", async () => {
    const memory = new MemoryPersonaMemory();
    const [v] = await embedder.embed(['kept in this process']);
    await memory.upsert([{ id: 'local-1', persona_id: 'aria', content: 'kept in this process', category: 'Semantic', timestamp: '2026-03-01T00:00:00.000Z', vector: v as Float32Array, model_id: embedder.model_id }]);
    const ch = channels(loadConfig({ env: store.env }), memory);
    expect(await ch['inspect/memories']({})).toMatchObject({ backend: 'production', source: 'session', total: 1 });
    const found = await ch['inspect/memory-search']({ query: 'kept in this process', k: 5 });
    expect(found).toMatchObject({ source: 'session', exact: true, items: [{ ok: true, value: { id: 'local-1' }, distance: expect.closeTo(0, 6) }] });
  }, 120_000);
});
