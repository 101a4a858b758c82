/**
 * The Weaviate persona memory beyond the contract, over the wire emulator: the class it
 * creates, scores equal to the exact adapter's to the last bit, the model check across
 * processes, cursor paging, API keys, and faults (drops, 5xx, slow answers) with the attempts
 * counted on the emulator. Every test ends by asserting the emulator saw no call it does not know.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChimeraError } from '../../src/domain/errors.ts';
import type { MemoryCategory } from '../../src/domain/schemas.ts';
import { normalize } from '../../src/domain/vectors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { MemoryRecord, PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import { ExactPersonaMemory } from '../../src/adapters/exact/exact-persona-memory.ts';
import { openWeaviateMemory, type WeaviateMemoryOptions } from '../../src/adapters/weaviate/weaviate-persona-memory.ts';
import { MEMORY_ID_NAMESPACE, memoryUuid } from '../../src/adapters/weaviate/weaviate-schema.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from './emulator.ts';
import { testClassName } from './weaviate-entry.ts';

const DIM = 8;
const CATS: MemoryCategory[] = ['Episodic', 'Semantic', 'SOUL'];
function rec(id: string, v: Float32Array, over: Partial<MemoryRecord> = {}): MemoryRecord {
  return { id, persona_id: 'aria', content: `memory ${id}`, category: 'Semantic', timestamp: '2026-01-01T00:00:00.000Z', vector: v, model_id: 'm1', ...over };
}
const errOf = (p: Promise<unknown>): Promise<ChimeraError> => p.then(() => Promise.reject(new Error('expected a failure')), (e: ChimeraError) => e);

let emu: WeaviateEmulator;
const open: PersonaMemoryStore[] = [];
async function memory(over: Partial<WeaviateMemoryOptions> = {}): Promise<PersonaMemoryStore & { className: string }> {
  const m = await openWeaviateMemory({ url: emu.url, grpcPort: emu.grpcPort, className: testClassName(), timeoutMs: 3_000, retry: { attempts: 3, base_delay_ms: 5 }, ...over });
  open.push(m);
  return m;
}

beforeAll(async () => {
  emu = await startWeaviateEmulator();
});
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
  emu.log.clearFaults();
  assertNoUnknownCalls(emu);
  emu.reset();
});
afterAll(() => emu.close());

describe('weaviate persona memory: schema and ids', () => {
  it("creates the seed's class with no vectoriser, cosine HNSW, and model_id and memory_id added", async () => {
    const m = await memory();
    const def = emu.store.find(m.className)?.def;
    expect(def?.vectorizer).toBe('none');
    expect(def?.vectorIndexConfig.distance).toBe('cosine');
    expect(def?.properties.map((p) => [p.name, p.dataType[0]])).toEqual([
      ['persona_id', 'text'],
      ['content', 'text'],
      ['category', 'text'],
      ['timestamp', 'date'],
      ['memory_id', 'text'],
      ['model_id', 'text'],
    ]);
    expect(emu.log.attempts('POST /v1/schema')).toBe(1);
  });

  it('adds memory_id and model_id to a class the seed made without them, and keeps its objects', async () => {
    const className = testClassName();
    emu.store.create({ class: className, vectorizer: 'none', properties: [{ name: 'persona_id', dataType: ['text'] }, { name: 'content', dataType: ['text'] }, { name: 'category', dataType: ['text'] }, { name: 'timestamp', dataType: ['date'] }] });
    const m = await memory({ className });
    expect(emu.store.find(className)?.def.properties.map((p) => p.name)).toEqual(['persona_id', 'content', 'category', 'timestamp', 'memory_id', 'model_id']);
    expect(emu.log.attempts('POST /v1/schema/{class}/properties')).toBe(2);
    await m.upsert([rec('a', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    expect(await m.count()).toBe(1);
  });

  it('object ids are uuidv5 of the memory id under the documented namespace', async () => {
    // RFC 4122 appendix B style check: the same input always gives the same v5 uuid
    expect(MEMORY_ID_NAMESPACE).toBe('5dfb8373-6434-497e-9494-2118e0c499e9');
    expect(memoryUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(memoryUuid('a')).toBe(memoryUuid('a'));
    expect(memoryUuid('a')).not.toBe(memoryUuid('b'));
    const m = await memory();
    await m.upsert([rec('mem-1', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    expect([...(emu.store.find(m.className)?.objects.keys() ?? [])]).toEqual([memoryUuid('mem-1')]);
  });
});

describe('weaviate persona memory: agrees with the exact adapter', () => {
  it('scores and tie order equal the exact adapter to the last bit (seeded, with duplicate vectors)', async () => {
    const seed = 20261128;
    const rng = new SeededRng(seed, 'weaviate-vs-exact');
    const base = Array.from({ length: 40 }, () => normalize(Float32Array.from({ length: DIM }, () => rng.normal(0, 1))));
    // every vector appears 3 times under different ids: ties that only the id breaks
    const recs = Array.from({ length: 120 }, (_, i) =>
      rec(`m${String((i * 37) % 120).padStart(3, '0')}`, base[i % 40]!, { persona_id: i % 2 ? 'aria' : 'bo', category: CATS[i % 3]! }),
    );
    const w = await memory({ oversample: 1 });
    const x = new ExactPersonaMemory();
    await w.upsert(recs);
    await x.upsert(recs);
    for (let t = 0; t < 12; t++) {
      const q = { vector: base[t * 3]!, k: 1 + (t % 7) * 3, ...(t % 3 === 1 ? { persona_id: 'aria' } : {}), ...(t % 4 === 2 ? { categories: ['SOUL', 'Episodic'] as MemoryCategory[] } : {}) };
      const got = await w.search(q);
      const want = await x.search(q);
      expect(got, `seed ${seed} query ${t}`).toEqual(want);
    }
  });

  it('widens the candidate list while the last candidate ties with the k-th (Weaviate breaks ties by its own order)', async () => {
    const w = await memory({ oversample: 1 });
    const v = normalize(Float32Array.of(1, 2, 3, 0, 0, 0, 0, 0));
    const recs = Array.from({ length: 80 }, (_, i) => rec(`d${String(i).padStart(2, '0')}`, v));
    await w.upsert(recs);
    emu.log.reset();
    const hits = await w.search({ vector: v, k: 2 });
    expect(hits.map((h) => h.memory.id)).toEqual(['d00', 'd01']);
    expect(emu.log.attempts('grpc Search')).toBe(2);
  });

  it('lists by (timestamp, id) with cursor pages, never offsets', async () => {
    const m = await memory({ pageSize: 7 });
    const x = new ExactPersonaMemory();
    const recs = Array.from({ length: 30 }, (_, i) =>
      rec(`r${i}`, normalize(Float32Array.of(1, i, 0, 0, 0, 0, 0, 0)), { timestamp: new Date(Date.UTC(2026, 0, 1 + (i % 5))).toISOString(), persona_id: i % 3 ? 'aria' : 'bo' }),
    );
    await m.upsert(recs);
    await x.upsert(recs);
    emu.log.reset();
    expect(await m.list({ persona_id: 'aria' }, 5, 3)).toEqual(await x.list({ persona_id: 'aria' }, 5, 3));
    // pages of 7, 7, 7, 7, 2: the short page ends the walk
    expect(emu.log.attempts('grpc Search')).toBe(5);
    expect(await m.list()).toEqual(await x.list());
  });
});

describe('weaviate persona memory: one embedding model per class, whichever process wrote', () => {
  it('a second process (its own handle, no guard) is refused vectors of another model or length', async () => {
    const a = await memory();
    const b = await memory({ className: a.className });
    await a.upsert([rec('a', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    const e1 = await errOf(b.upsert([rec('b', normalize(Float32Array.of(0, 1, 0, 0, 0, 0, 0, 0)), { model_id: 'm2' })]));
    expect(e1.code).toBe('MODEL_MISMATCH');
    expect(e1.message).toMatch(/"m1".*"m2"/);
    const e2 = await errOf(b.upsert([rec('c', normalize(Float32Array.of(1, 1, 0, 0, 0, 0, 0, 0, 1)))]));
    expect(e2.code).toBe('MODEL_MISMATCH');
    expect(e2.message).toMatch(/length 9/);
    expect(await a.count()).toBe(1);
    expect(await b.model()).toEqual({ model_id: 'm1', dimensions: DIM });
  });
});

describe('weaviate persona memory: API key', () => {
  let secured: WeaviateEmulator;
  beforeAll(async () => {
    secured = await startWeaviateEmulator({ apiKey: 'sk-test-123' });
  });
  afterAll(async () => {
    assertNoUnknownCalls(secured);
    await secured.close();
  });

  it('sends the key on REST and gRPC; a missing or wrong key is a clear error that does not show the key', async () => {
    const opts = { url: secured.url, grpcPort: secured.grpcPort, className: testClassName(), timeoutMs: 3_000, retry: { attempts: 2, base_delay_ms: 5 } };
    const m = await openWeaviateMemory({ ...opts, apiKey: 'sk-test-123' });
    await m.upsert([rec('a', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    expect(await m.count()).toBe(1);
    await m.close();
    for (const apiKey of [undefined, 'sk-wrong-456']) {
      const e = await errOf(openWeaviateMemory({ ...opts, apiKey }));
      expect(e.code).toBe('BACKEND_UNAVAILABLE');
      expect(e.message).toContain(secured.url);
      expect(e.message).not.toContain('sk-');
    }
  });
});

describe('weaviate persona memory: faults', () => {
  it('a read is retried after transient 503s and succeeds', async () => {
    const className = testClassName();
    emu.fault({ target: 'GET /v1/schema/{class}', mode: 'status', status: 503, times: 2 });
    await memory({ className });
    expect(emu.log.attempts('GET /v1/schema/{class}')).toBe(3);
  });

  it('a read is retried after a dropped connection and succeeds', async () => {
    emu.fault({ target: 'GET /v1/schema/{class}', mode: 'drop', times: 1 });
    await memory();
    expect(emu.log.attempts('GET /v1/schema/{class}')).toBe(2);
  });

  it('a gRPC search is retried after a dropped connection and a 503-like UNAVAILABLE', async () => {
    const m = await memory();
    await m.upsert([rec('a', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    for (const mode of ['drop', 'status'] as const) {
      emu.log.reset();
      emu.fault({ target: 'grpc Search', mode, times: 1 });
      const hits = await m.search({ vector: normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)), k: 1 });
      expect(hits.map((h) => h.memory.id)).toEqual(['a']);
      expect(emu.log.attempts('grpc Search')).toBe(2);
    }
  });

  it('an idempotent upsert (by id) is retried after a dropped connection', async () => {
    const m = await memory();
    emu.fault({ target: 'grpc BatchObjects', mode: 'drop', times: 1 });
    await m.upsert([rec('a', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    expect(emu.log.attempts('grpc BatchObjects')).toBe(2);
    expect(await m.count()).toBe(1);
  });

  it('retries are bounded: a lasting 503 ends after the configured attempts, naming the endpoint', async () => {
    const className = testClassName();
    emu.fault({ target: 'GET /v1/schema/{class}', mode: 'status', status: 503 });
    const e = await errOf(memory({ className, retry: { attempts: 4, base_delay_ms: 1 } }));
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toContain(`${emu.url}/v1/schema/${className}`);
    expect(e.message).toContain('after 4 attempts');
    expect(e.details).toMatchObject({ code: 'WEAVIATE_TRANSIENT', status: 'HTTP 503', attempts: 4 });
    expect(emu.log.attempts('GET /v1/schema/{class}')).toBe(4);
  });

  it('a timeout is a clear error naming the endpoint, not retried', async () => {
    const m = await memory({ timeoutMs: 200 });
    emu.fault({ target: 'grpc Aggregate', mode: 'slow', delay_ms: 5_000 });
    const e = await errOf(m.count());
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toMatch(/Weaviate count \(class PersonaMemory_t\w+\) at grpc:\/\/127\.0\.0\.1:\d+ weaviate\.v1\.Weaviate\/Aggregate timed out after 200 ms/);
    expect(emu.log.attempts('grpc Aggregate')).toBe(1);
    expect(e.details).toMatchObject({ code: 'WEAVIATE_TIMEOUT' });
  });

  it('a delete (not safe to repeat: its count would be wrong) is reported, not retried', async () => {
    const m = await memory();
    await m.upsert([rec('a', normalize(Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0)))]);
    emu.fault({ target: 'grpc BatchDelete', mode: 'status', times: 1 });
    const e = await errOf(m.delete(['a']));
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toMatch(/weaviate\.v1\.Weaviate\/BatchDelete.*not retried/);
    expect(emu.log.attempts('grpc BatchDelete')).toBe(1);
    expect(await m.delete(['a'])).toBe(1);
  });

  it('a permanent server error (500 / INTERNAL) is reported at once', async () => {
    const className = testClassName();
    emu.fault({ target: 'POST /v1/schema', mode: 'status', status: 500 });
    const e = await errOf(memory({ className }));
    expect(e.message).toContain(`${emu.url}/v1/schema`);
    expect(emu.log.attempts('POST /v1/schema')).toBe(1);
    emu.log.clearFaults();
    const m = await memory();
    emu.fault({ target: 'grpc Search', mode: 'status', status: 13 });
    const e2 = await errOf(m.get('a'));
    expect(e2.message).toMatch(/weaviate\.v1\.Weaviate\/Search failed: .*INTERNAL/);
    expect(emu.log.attempts('grpc Search')).toBe(1);
  });

  it('nothing listening: a clear error naming both endpoints, after the bounded retries', async () => {
    const gone = await startWeaviateEmulator();
    const { url, grpcPort } = gone;
    await gone.close();
    const e = await errOf(openWeaviateMemory({ url, grpcPort, className: testClassName(), timeoutMs: 1_000, retry: { attempts: 2, base_delay_ms: 1 } }));
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.message).toContain(`Weaviate connect at ${url}/v1/meta and grpc://127.0.0.1:${grpcPort} (health) failed after 2 attempts`);
  });

  it('the emulator records a call it does not serve (and the teardown would fail on it)', async () => {
    const res = await fetch(`${emu.url}/v1/nodes`);
    expect(res.status).toBe(404);
    expect(emu.log.unknown).toEqual(['REST GET /v1/nodes']);
    expect(() => assertNoUnknownCalls(emu)).toThrow(/GET \/v1\/nodes/);
  });
});
