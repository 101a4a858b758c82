/**
 * Read-only, enforced in the adapters, against this machine's real Postgres and Redis: a write
 * through a read-only Postgres pool is refused by the server (25006) and reported as READ_ONLY;
 * a write command through a read-only Redis connection is refused before it is sent (MONITOR
 * sees nothing of it, no key appears); `chimera simulate --backend production --read-only`
 * exits 2 with one line and writes nothing; `chimera inspect --backend production` reads a
 * populated store and writes nothing.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createClient } from 'redis';
import { main } from '../../src/cli/main.ts';
import { openPostgres } from '../../src/adapters/postgres/index.ts';
import { openRedis } from '../../src/adapters/redis/redis-open.ts';
import { RedisConnection } from '../../src/adapters/redis/redis-connection.ts';
import { ReadOnlyError } from '../../src/domain/errors.ts';
import { SystemClock } from '../../src/sim/clock.ts';
import { openWeaviateMemory } from '../../src/adapters/weaviate/weaviate-persona-memory.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from '../weaviate/emulator.ts';
import { productionStore, type ProductionStore } from './support.ts';

let store: ProductionStore;

/** `chimera …` in this process with the store's environment. */
async function chimera(args: string[], env: Record<string, string> = store.env): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write: (c, _e, cb) => ((stdout += String(c)), cb()) });
  const err = new Writable({ write: (c, _e, cb) => ((stderr += String(c)), cb()) });
  const code = await main(args, { stdout: out, stderr: err, env: { ...process.env, ...env }, cwd: process.cwd() });
  return { code, stdout, stderr };
}

/** Rows of every table in the store's schema (the whole state, as counts). */
async function rowCounts(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`);
    const out: Record<string, number> = {};
    for (const { t } of tables.rows) out[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`)).rows[0]?.n);
    return out;
  } finally {
    await c.end();
  }
}

/** Every key under the store's prefix, with its type and length (lists, hashes, sorted sets). */
async function keyDigest(): Promise<string[]> {
  const r = createClient({ url: store.redisUrl });
  await r.connect();
  try {
    const out: string[] = [];
    for await (const batch of r.scanIterator({ MATCH: `${store.prefix}*`, COUNT: 1000 })) {
      for (const k of batch) {
        const type = await r.type(k);
        const len = type === 'list' ? await r.lLen(k) : type === 'hash' ? await r.hLen(k) : type === 'zset' ? await r.zCard(k) : 0;
        out.push(`${k} ${type} ${len}`);
      }
    }
    return out.sort();
  } finally {
    await r.close();
  }
}

beforeAll(async () => {
  store = await productionStore('read_only');
});
afterAll(async () => {
  await store?.drop();
});

describe('read-only production profile (real Postgres and Redis)', () => {
  it('an unmigrated schema is refused by a read-only open, which migrates nothing', async () => {
    const opts = { url: store.pgUrl, schema: 'never_migrated', readOnly: true };
    await expect(openPostgres(opts)).rejects.toMatchObject({ code: 'BAD_DATABASE', message: expect.stringMatching(/not migrated.*read-only open does not migrate/) });
    const c = new pg.Client({ connectionString: store.pgUrl });
    await c.connect();
    try {
      expect((await c.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'never_migrated'`)).rowCount).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('a write through a read-only Postgres pool is refused by the server and reported as READ_ONLY', async () => {
    // migrated by a read-write open first
    const rw = await openPostgres({ url: store.pgUrl, schema: 'public' });
    await rw.close();
    const ro = await openPostgres({ url: store.pgUrl, schema: 'public', readOnly: true });
    try {
      expect(await ro.personaCache.get('nobody')).toBeNull(); // reads work
      const err = await ro.personaCache.set('p-1', { tone: 'dry' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ReadOnlyError);
      // the server's own words (SQLSTATE 25006), with the endpoint
      expect(err).toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/^write refused: Postgres at 127\.0\.0\.1:5432\/read_only_t_\w+ \(schema public\) is open read-only .*cannot execute INSERT in a read-only transaction/) });
    } finally {
      await ro.close();
    }
    expect((await rowCounts(store.pgUrl)).persona_cache).toBe(0);
  });

  it('a write command through a read-only Redis connection is refused before it is sent', async () => {
    const key = `${store.prefix}never_written`;
    const monitor = createClient({ url: store.redisUrl });
    await monitor.connect();
    const seen: string[] = [];
    await monitor.monitor((line) => {
      if (line.includes(store.prefix)) seen.push(line);
    });
    const conn = await RedisConnection.open({ url: store.redisUrl, readOnly: true, client_name: 'chimera-ro-test' });
    try {
      await expect(conn.cmd(['SET', key, 'x'], key)).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringContaining(`SET ${key} was not sent`) });
      await expect(conn.cmd(['CLIENT', 'KILL', 'ID', '1'])).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringContaining('CLIENT KILL') });
      await expect(conn.multi([['GET', key], ['DEL', key]], key)).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringContaining(`DEL ${key}`) });
      // reads go through, and act as the marker that MONITOR has seen everything sent before them
      expect(await conn.cmd(['GET', key], key)).toBeNull();
      expect(await conn.cmd(['EXISTS', key], key)).toBe(0);
      // the queue and cache ports on a read-only open: a claim (a script) and a cache write refused too
      const redis = await openRedis({ url: store.redisUrl, prefix: store.prefix, readOnly: true });
      const queue = redis.queue<{ n: number }>('task', new SystemClock());
      const cache = redis.personaCache();
      await redis.close();
      await expect(queue.enqueue('task_queue:c1', [{ id: 'i1', payload: { n: 1 } }])).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/EVALSHA \(script \w+\).*task_queue:c1/) });
      await expect(cache.set('p-1', { tone: 'dry' })).rejects.toMatchObject({ code: 'READ_ONLY' });
      expect(await cache.get('p-1')).toBeNull();
      await queue.close();
      await cache.close();
      const marker = `${store.prefix}monitor_marker`;
      await conn.cmd(['EXISTS', marker], marker);
      await expect.poll(() => seen.some((l) => l.includes(marker))).toBe(true);
      const writes = seen.filter((l) => /"(set|del|evalsha|eval|hset|rpush|lpush|client)"/i.test(l) && !l.includes('"setname"'));
      expect(writes).toEqual([]);
    } finally {
      await conn.release();
      await monitor.close();
    }
    expect(await keyDigest()).toEqual([]);
  });

  it('chimera simulate --backend production --read-only exits 2 with one line and writes nothing', async () => {
    const before = await rowCounts(store.pgUrl);
    const keys = await keyDigest();
    const r = await chimera(['simulate', '--backend', 'production', '--read-only', '--scenario', 'storm', '--seed', '3', '--ticks', '5', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    process.stderr.write(`read-only simulate: ${lines[0]}\n`);
    expect(lines[0]).toMatch(/^chimera simulate: write refused: .*(Postgres at 127\.0\.0\.1:5432\/read_only_t_\w+|redis 127\.0\.0\.1:6379).* is open read-only/);
    expect(await rowCounts(store.pgUrl)).toEqual(before);
    expect(await keyDigest()).toEqual(keys);
    // CHIMERA_READ_ONLY=1 is the same profile setting
    const env = await chimera(['simulate', '--backend', 'production', '--scenario', 'storm', '--seed', '3', '--ticks', '5', '--json'], { ...store.env, CHIMERA_READ_ONLY: '1' });
    expect(env.code, env.stderr).toBe(2);
    expect(env.stderr).toMatch(/write refused/);
    expect(await rowCounts(store.pgUrl)).toEqual(before);
  });

  it('--read-only on the memory backend is refused up front (it has no read-only open)', async () => {
    const r = await chimera(['simulate', '--backend', 'memory', '--read-only', '--ticks', '1'], { DATABASE_MODE: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^chimera simulate: --read-only: the memory backend cannot be opened read-only \(only [\w, ]*production/);
  });

  it('chimera inspect --backend production reads a populated store and writes nothing', async () => {
    const sim = await chimera(['simulate', '--backend', 'production', '--scenario', 'storm', '--seed', '3', '--ticks', '5', '--json']);
    expect(sim.code, sim.stderr).toBe(0);
    const before = await rowCounts(store.pgUrl);
    const keys = await keyDigest();
    expect(before.tasks).toBeGreaterThan(0);
    expect(keys.length).toBeGreaterThan(0);
    const campaigns = await chimera(['inspect', 'campaigns', '--backend', 'production', '--json']);
    expect(campaigns.code, campaigns.stderr).toBe(0);
    const list = JSON.parse(campaigns.stdout) as { items: { id: string }[] };
    expect(list.items.length).toBe(before.campaigns);
    for (const what of ['tasks', 'queues', 'cache', 'audit']) {
      const r = await chimera(['inspect', what, '--backend', 'production', '--read-only', '--json']);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    }
    const audit = await chimera(['inspect', 'audit', '--verify', '--backend', 'production']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(await rowCounts(store.pgUrl)).toEqual(before);
    expect(await keyDigest()).toEqual(keys);
    // and a read-only simulation on the populated store is refused at its first write, changing nothing
    const again = await chimera(['simulate', '--backend', 'production', '--read-only', '--scenario', 'storm', '--seed', '3', '--ticks', '8', '--json']);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toMatch(/write refused/);
    expect(await rowCounts(store.pgUrl)).toEqual(before);
    expect(await keyDigest()).toEqual(keys);
  });
});

describe('read-only Weaviate persona memory (the wire emulator)', () => {
  let emu: WeaviateEmulator;
  beforeAll(async () => {
    emu = await startWeaviateEmulator();
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('a read-only open creates no class, reads an absent one as empty and refuses upsert and delete before sending', async () => {
    const m = await openWeaviateMemory({ url: emu.url, grpcPort: emu.grpcPort, className: 'NeverMade', readOnly: true });
    try {
      expect(await m.count()).toBe(0);
      expect(await m.list()).toEqual([]);
      const record = { id: 'm1', persona_id: 'aria', content: 'x', category: 'Semantic' as const, timestamp: '2026-01-01T00:00:00.000Z', model_id: 'hashing', vector: new Float32Array([1, 0]) };
      await expect(m.upsert([record])).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/^write refused: Weaviate http:\/\/127\.0\.0\.1:\d+ \(class NeverMade\) is open read-only .*upsert of memory m1 was not sent/) });
      await expect(m.delete(['m1'])).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringContaining('delete of memory m1') });
      expect(emu.store.get('NeverMade')).toBeUndefined();
    } finally {
      await m.close();
    }
    assertNoUnknownCalls(emu);
  });

  it('memory import --backend production --read-only exits 2 and adds nothing; memory search --read-only reads', async () => {
    const env = { ...store.env, CHIMERA_WEAVIATE_URL: emu.url, CHIMERA_WEAVIATE_GRPC_PORT: String(emu.grpcPort) };
    const root = join(import.meta.dirname, '..', '..');
    const imp = await chimera(['memory', 'import', '--backend', 'production', '--persona', 'aria', join(root, 'examples/personas/aria.soul.md'), '--json'], env);
    expect(imp.code, imp.stderr).toBe(0);
    const held = emu.store.get('PersonaMemory')?.objects.size ?? 0;
    expect(held).toBeGreaterThan(0);
    const refused = await chimera(['memory', 'import', '--backend', 'production', '--read-only', '--persona', 'kofi', join(root, 'examples/personas/kofi.soul.md'), '--json'], env);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^chimera memory import: write refused: Weaviate http:\/\/127\.0\.0\.1:\d+ \(class PersonaMemory\) is open read-only/);
    expect(emu.store.get('PersonaMemory')?.objects.size).toBe(held);
    const found = await chimera(['memory', 'search', '--backend', 'production', '--read-only', '--persona', 'aria', 'repairing denim', '--json'], env);
    expect(found.code, found.stderr).toBe(0);
    expect((JSON.parse(found.stdout) as { hits: unknown[] }).hits.length).toBeGreaterThan(0);
    assertNoUnknownCalls(emu);
  });
});
