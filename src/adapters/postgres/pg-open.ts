/**
 * What the composition root calls: `openPostgres(options)` migrates the schema (once, whatever
 * the number of processes starting together) and returns the Postgres ports on one shared pool.
 */
import type { WorkQueue } from '../../ports/queue.ts';
import type { Readers } from '../../ports/readers.ts';
import { checkMigrated, migratePostgres } from './pg-migrations.ts';
import { PgPersonaCache } from './pg-persona-cache.ts';
import { acquirePgPool, type PgConnectOptions } from './pg-pool.ts';
import { PgQueue } from './pg-queue.ts';
import { pgReaders } from './pg-readers.ts';
import { PgRunLog } from './pg-run-log.ts';
import { PgStateStore } from './pg-state-store.ts';
import type { Clock } from '../../ports/clock.ts';

export interface PostgresPorts {
  readonly state: PgStateStore;
  readonly runLog: PgRunLog;
  /** The queue object `space` ('task' or 'review'), leases on `clock`. */
  queue<T>(space: string, clock: Clock): WorkQueue<T>;
  readonly personaCache: PgPersonaCache;
  /** Inspection readers on the same schema (closed with the rest, or on their own). */
  readers(): Readers;
  /** Closes every port opened here and gives back the pool. */
  close(): Promise<void>;
  /**
   * Gives back only the factory's own hold on the pool: the ports opened here keep it until each
   * is closed (the composition root hands them out and closes them one by one).
   */
  release(): Promise<void>;
}

/**
 * Migrates `opts.schema` (default 'chimera') at `opts.url` and opens the Postgres ports on it.
 * With `readOnly` nothing is migrated: a schema this build's migrations have not brought up to
 * date is refused (BadDatabaseError), and every write through the ports is refused by the server.
 */
export async function openPostgres(opts: PgConnectOptions): Promise<PostgresPorts> {
  const pool = acquirePgPool(opts);
  const opened: { close(): Promise<void> }[] = [];
  const track = <P extends { close(): Promise<void> }>(p: P): P => {
    opened.push(p);
    return p;
  };
  try {
    if (opts.readOnly) await checkMigrated(pool);
    else await migratePostgres(pool);
  } catch (e) {
    await pool.release();
    throw e;
  }
  const state = track(new PgStateStore(pool.retain()));
  const runLog = track(new PgRunLog(pool.retain()));
  const personaCache = track(new PgPersonaCache(pool.retain()));
  let closed = false;
  return {
    state,
    runLog,
    personaCache,
    queue: <T>(space: string, clock: Clock) => track(new PgQueue<T>(pool.retain(), clock, space)),
    readers: () => track(pgReaders(pool.retain())),
    async close() {
      if (closed) return;
      closed = true;
      for (const p of opened.splice(0).reverse()) await p.close();
      await pool.release();
    },
    async release() {
      if (closed) return;
      closed = true;
      opened.splice(0);
      await pool.release();
    },
  };
}
