/**
 * A production profile of its own for one test: a new database on the tests' Postgres and a
 * key prefix on the tests' Redis (test/support/servers.ts), as the CLI's environment and as a
 * config; `drop` removes both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type ChimeraConfig } from '../../src/config/config.ts';
import { testDatabase, testRedisPrefix, testRedisUrl } from '../support/servers.ts';

export interface ProductionStore {
  /** The environment a `chimera` process needs to use this store. */
  readonly env: Record<string, string>;
  readonly config: ChimeraConfig;
  readonly pgUrl: string;
  readonly redisUrl: string;
  readonly prefix: string;
  drop(): Promise<void>;
}

export async function productionStore(label: string, opts: { redisUrl?: string; queues?: 'redis' | 'postgres' } = {}): Promise<ProductionStore> {
  const db = await testDatabase(label);
  const prefix = testRedisPrefix(label);
  const redisUrl = opts.redisUrl ?? testRedisUrl();
  // the local persona-memory index (no Weaviate here) and anything else kept on disk
  const dataDir = mkdtempSync(join(tmpdir(), `chimera-${label}-`));
  const env: Record<string, string> = {
    DATABASE_MODE: 'production',
    CHIMERA_DATA_DIR: dataDir,
    CHIMERA_POSTGRES_URL: db.url,
    CHIMERA_REDIS_URL: redisUrl,
    CHIMERA_REDIS_PREFIX: prefix,
    ...(opts.queues ? { CHIMERA_QUEUES: opts.queues } : {}),
  };
  return {
    env,
    config: loadConfig({ env }),
    pgUrl: db.url,
    redisUrl,
    prefix,
    async drop() {
      await deleteKeys(redisUrl, prefix).catch(() => {});
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Deletes every key under `prefix` (SCAN, never KEYS). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await r.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
