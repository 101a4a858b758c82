/**
 * DATABASE_MODE=sqlite: state, queues, persona cache and run log in one SQLite file
 * (config.sqlite.path, relative to config.data_dir unless absolute), sharing one connection.
 * Opening it to write takes the file's owner lock (one writing process per file); with
 * `sqlite.read_only` it is opened for reading only (src/adapters/sqlite/README.md).
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

/**
 * The same config with the SQLite file (and the persona memory beside it) opened read-only: for
 * commands that only read (`chimera export`, `chimera memory search`), which then neither take the
 * file's owner lock nor write anything, and work beside a process that is writing it.
 */
export function readOnlyConfig(config: ChimeraConfig): ChimeraConfig {
  return Object.freeze({ ...config, sqlite: Object.freeze({ ...config.sqlite, read_only: true }) });
}

/** The 'sqlite' profile: every port but persona memory and the embedder on one shared connection. */
export const sqliteBackend: BackendFactory = {
  mode: 'sqlite',
  describe: (config) => `SQLite (kept in ${sqlitePath(config)}${config.sqlite.read_only ? ', read-only' : ''})`,
  create: async ({ config, clock }) => {
    const file = sqlitePath(config);
    const readOnly = config.sqlite.read_only;
    if (!readOnly) mkdirSync(dirname(file), { recursive: true });
    const sdb = openSqliteDatabase(file, { readOnly, commit: config.sqlite.commit });
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
