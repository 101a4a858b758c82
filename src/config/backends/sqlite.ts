/**
 * DATABASE_MODE=sqlite: state, queues, persona cache and run log in one SQLite file
 * (config.sqlite.path, relative to config.data_dir unless absolute), sharing one connection.
 */
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ChimeraConfig } from '../config.ts';
import { openSqliteDatabase } from '../../adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../adapters/sqlite/sqlite-queue.ts';
import { SqlitePersonaCache } from '../../adapters/sqlite/sqlite-persona-cache.ts';
import { SqliteRunLog } from '../../adapters/sqlite/sqlite-run-log.ts';
import type { BackendFactory } from './types.ts';

/** The database file a config points at. */
export function sqlitePath(config: ChimeraConfig): string {
  return isAbsolute(config.sqlite.path) ? config.sqlite.path : resolve(config.data_dir, config.sqlite.path);
}

/** The 'sqlite' profile: every port but persona memory and the embedder on one shared connection. */
export const sqliteBackend: BackendFactory = {
  mode: 'sqlite',
  describe: (config) => `SQLite (kept in ${sqlitePath(config)})`,
  create: async ({ config, clock }) => {
    const file = sqlitePath(config);
    mkdirSync(dirname(file), { recursive: true });
    const sdb = openSqliteDatabase(file, { commit: config.sqlite.commit });
    try {
      // each port holds a reference; the connection closes when the last port closes
      return {
        state: new SqliteStateStore(sdb),
        taskQueue: new SqliteQueue(sdb, clock, 'task'),
        reviewQueue: new SqliteQueue(sdb, clock, 'review'),
        personaCache: new SqlitePersonaCache(sdb),
        runLog: new SqliteRunLog(sdb),
      };
    } finally {
      await sdb.release();
    }
  },
};
