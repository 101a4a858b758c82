/**
 * The studio's pool of inspection readers on this machine's real Postgres and Redis (and a
 * SQLite profile), counted where the servers see them: Postgres backends of this test's database
 * named 'chimera-inspector' (pg_stat_activity), Redis clients named 'chimera-inspector' logged in
 * as this test's own ACL user (CLIENT LIST), so other processes' connections never count.
 * - many calls, bursts included, make one open: one Redis client, one Postgres backend for
 *   calls in a row;
 * - an entry unused for the idle time closes (the pool's timers are advanced by hand);
 * - connections killed on the servers (pg_terminate_backend, CLIENT KILL) fail one call at
 *   most, the next works, and the session is never reopened;
 * - Refresh ('inspect/reset') reads a schema's layout again: a column added since shows;
 * - switching profile closes them (a SQLite profile's -wal is folded in when it closes), and so
 *   does closing the service;
 * - the pool's keys hold nothing of the config's URLs (the Redis password is in one).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StudioService } from '../../src/app/studio-service.ts';
import { INSPECT_IDLE_MS, type InspectReaderPool } from '../../src/app/studio/inspect-pool.ts';
import { loadConfig } from '../../src/config/config.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { writeSeedCluster } from '../support/seed-writer.ts';
import { manualTimers } from '../support/manual-timers.ts';
import { testRedisUrl, uniqueSuffix } from '../support/servers.ts';

const APP = 'chimera-inspector';
const PASSWORD = `pool-pw-${uniqueSuffix()}`;
const USER = `chimera_pool_${uniqueSuffix()}`;
const STATE = { timeout: 15_000, interval: 50 };

describe('inspection readers kept open by the studio', () => {
  let store: ProductionStore;
  let seed: ProductionStore;
  let service: StudioService;
  let dataDir: string;
  const timers = manualTimers();
  const admin = createClient({ url: testRedisUrl() });
  let db: pg.Client;
  const pool = () => service.inspectReaders as InspectReaderPool;

  /** This test's inspector backends on Postgres. */
  const pgBackends = async (): Promise<number[]> =>
    (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 ORDER BY pid', [APP])).rows.map((r) => r.pid);
  /** This test's inspector clients on Redis (its own ACL user). */
  const redisClients = async (): Promise<string[]> =>
    String(await admin.sendCommand(['CLIENT', 'LIST']))
      .split('\n')
      .filter((l) => l.includes(` name=${APP} `) && l.includes(` user=${USER} `))
      .map((l) => /^id=(\d+)/.exec(l)?.[1] ?? '?');
  const counts = async () => ({ pg: (await pgBackends()).length, redis: (await redisClients()).length });
  /** What the Inspector's view fires at once. */
  const screen = (args: { connection?: string } = {}) =>
    Promise.all([service.call('inspect/campaigns', args), service.call('inspect/tasks', args), service.call('inspect/queues', args), service.call('inspect/cache', args)]);

  beforeAll(async () => {
    store = await productionStore('inspool');
    seed = await productionStore('inspool_seed');
    await admin.connect();
    // a Redis login of this test's own: its connections are told apart from any other process's, and the password sits in the config's URL
    await admin.sendCommand(['ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all']);
    const redis = new URL(testRedisUrl());
    redis.username = USER;
    redis.password = PASSWORD;
    dataDir = mkdtempSync(join(tmpdir(), 'chimera-inspool-'));
    const config = loadConfig({ env: { CHIMERA_POSTGRES_URL: store.pgUrl, CHIMERA_REDIS_URL: redis.toString(), CHIMERA_REDIS_PREFIX: store.prefix }, overrides: { data_dir: dataDir } });
    service = await StudioService.open({ config, inspectReaders: { timers: timers.timers } });
    await service.call('backend/switch', { kind: 'production' });
    await service.call('campaigns/create', { title: 'Pooled', goal: 'Teach denim repair', persona_id: 'aria' });
    await service.call('sim/step', { count: 40 });
    db = new pg.Client({ connectionString: store.pgUrl });
    await db.connect();
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    await db?.end();
    await admin.sendCommand(['ACL', 'DELUSER', USER]).catch(() => undefined);
    await admin.quit();
    await store?.drop();
    await seed?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('many calls, bursts included, make one open: one Redis client, one Postgres backend for calls in a row', async () => {
    expect(await counts()).toEqual({ pg: 0, redis: 0 });
    const pids = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const page = await service.call('inspect/tasks', { limit: 5 });
      expect(page.items).toHaveLength(5);
      for (const p of await pgBackends()) pids.add(p);
    }
    expect(pids.size).toBe(1);
    for (let i = 0; i < 5; i++) {
      const [campaigns, , queues] = await screen();
      expect(campaigns.backend).toBe('production');
      expect(queues.items.length).toBeGreaterThan(0);
    }
    expect(pool().opens).toBe(1);
    expect(await redisClients()).toHaveLength(1);
    // concurrent calls may hold several connections of the one Postgres pool (at most its 10)
    expect((await pgBackends()).length).toBeGreaterThanOrEqual(1);
    expect((await pgBackends()).length).toBeLessThanOrEqual(10);
  });

  it('the keys of the pool hold nothing of the config: not its Redis password, not its user', () => {
    expect(pool().size).toBe(1);
    for (const k of pool().keys()) {
      expect(k).toMatch(/^[0-9a-f]{64}$/);
      expect(k).not.toContain(PASSWORD);
      expect(k).not.toContain(USER);
    }
  });

  it('an entry unused for the idle time closes its connections; the next call opens again', async () => {
    timers.advance(INSPECT_IDLE_MS - 1);
    expect(pool().size).toBe(1);
    timers.advance(1);
    expect(pool().size).toBe(0);
    await vi.waitFor(async () => expect(await counts()).toEqual({ pg: 0, redis: 0 }), STATE);
    await screen();
    expect(pool().opens).toBe(2);
    expect(await redisClients()).toHaveLength(1);
  });

  it('connections killed on the servers fail one call at most; the next works; the session is left alone', async () => {
    const status = service.status();
    for (let round = 1; round <= 3; round++) {
      const pids = await pgBackends();
      const clients = await redisClients();
      expect(pids.length, `round ${round}: Postgres backends before the kill`).toBeGreaterThan(0);
      expect(clients, `round ${round}: Redis clients before the kill`).toHaveLength(1);
      await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [APP]);
      for (const id of clients) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
      await vi.waitFor(async () => expect((await pgBackends()).filter((p) => pids.includes(p))).toEqual([]), STATE);
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        outcomes.push(
          await screen().then(
            () => 'ok',
            (e: { code?: string; message: string }) => {
              expect(e.message).not.toMatch(/reopened/);
              return `failed: ${e.code} ${e.message}`;
            },
          ),
        );
      }
      expect(outcomes.slice(1), `round ${round}: ${outcomes.join(' | ')}`).toEqual(['ok', 'ok']);
      expect(await redisClients(), `round ${round}: one Redis client again`).toHaveLength(1);
    }
    // no recovery: the session is the one it was, at the same step
    const after = service.status();
    expect({ step: after.step, backend: after.backend, events: after.events }).toEqual({ step: status.step, backend: status.backend, events: status.events });
  }, 60_000);

  it("Refresh ('inspect/reset') reads a schema's layout again: a column added since shows", async () => {
    const written = await writeSeedCluster({ pgUrl: seed.pgUrl, redisUrl: testRedisUrl(), prefix: seed.prefix });
    await service.call('connections/save', { name: 'seed', postgres_url: seed.pgUrl, redis_url: testRedisUrl(), redis_prefix: seed.prefix, secrets: {} });
    const personas = async () => {
      const page = await service.call('inspect/campaigns', { connection: 'seed', limit: 100 });
      expect(page.items).toHaveLength(written.campaigns.length);
      // (the seed's campaign with NULL columns comes back marked, whatever the layout)
      return page.items.filter((r) => r.ok).map((r) => (r.ok ? r.value.persona_id : null));
    };
    const before = await personas();
    expect(before.length).toBeGreaterThan(0);
    expect(before).not.toContain('aria');
    const opens = pool().opens;
    // the seed's campaigns have no persona_id: one is added and filled behind the Inspector's back
    const seedDb = new pg.Client({ connectionString: seed.pgUrl });
    await seedDb.connect();
    try {
      await seedDb.query("ALTER TABLE campaigns ADD COLUMN persona_id VARCHAR(64); UPDATE campaigns SET persona_id = 'aria'");
    } finally {
      await seedDb.end();
    }
    // the kept readers still select the layout they read when they opened
    expect(await personas()).not.toContain('aria');
    expect(pool().opens).toBe(opens);
    expect(await service.call('inspect/reset', { connection: 'seed' })).toEqual({ dropped: true });
    expect(await service.call('inspect/reset', { connection: 'seed' })).toEqual({ dropped: false });
    expect(await personas()).toEqual(before.map(() => 'aria'));
    expect(pool().opens).toBe(opens + 1);
    // the current profile's (production here) are dropped the same way
    expect(await service.call('inspect/reset', {})).toEqual({ dropped: true });
  });

  it('switching profile closes every kept reader; a SQLite profile’s file is left as its writer closes it', async () => {
    await screen();
    expect(pool().size).toBeGreaterThan(0);
    await service.call('backend/switch', { kind: 'sqlite', name: 'pooled' });
    expect(pool().size).toBe(0);
    await vi.waitFor(async () => expect(await counts()).toEqual({ pg: 0, redis: 0 }), STATE);
    await service.call('campaigns/create', { title: 'On file', goal: 'Teach denim repair', persona_id: 'aria' });
    await service.call('sim/step', { count: 30 });
    const [campaigns] = await screen();
    expect(campaigns.backend).toBe('sqlite');
    await service.call('inspect/memories', {});
    expect(pool().size).toBe(1);
    const file = join(dataDir, 'profiles', 'pooled', 'chimera.db');
    expect(existsSync(`${file}-wal`)).toBe(true);
    await service.call('backend/switch', { kind: 'memory' });
    expect(pool().size).toBe(0);
    // the writer, last to close the file, folded its -wal in and removed it
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('closing the service closes every kept reader, and later calls are refused', async () => {
    await service.call('backend/switch', { kind: 'production' });
    await screen();
    expect(await redisClients()).toHaveLength(1);
    await service.close();
    expect(pool().size).toBe(0);
    await vi.waitFor(async () => expect(await counts()).toEqual({ pg: 0, redis: 0 }), STATE);
    await expect(service.call('inspect/campaigns', { connection: 'seed' })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
