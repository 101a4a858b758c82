/**
 * `sqlite` (DATABASE_MODE=sqlite): state, queues, persona cache and run log in one SQLite file
 * (config.sqlite.path, relative to config.data_dir unless absolute), sharing one connection.
 * Opening it to write takes the file's owner lock (one writing process per file); with
 * `sqlite.read_only` it is opened for reading only (src/adapters/sqlite/README.md).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ChimeraConfig } from '../config.ts';
import { openSqliteDatabase } from '../../adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../adapters/sqlite/sqlite-queue.ts';
import { SqlitePersonaCache } from '../../adapters/sqlite/sqlite-persona-cache.ts';
import { SqliteRunLog } from '../../adapters/sqlite/sqlite-run-log.ts';
import { sqliteReaders } from '../../adapters/sqlite/sqlite-readers.ts';
import { classifierFor } from './classify.ts';
import type { BuiltBackend, ErrorClass } from './types.ts';

/** The `sqlite` section of the config. */
export const SqliteProfileSchema = z.strictObject({
  path: z.string().min(1).default('chimera.db'),
  /**
   * 'batched' (default): a simulation's checkpoint (the end of every tick) is one commit.
   * 'each': every agent step is a commit during a simulation, every call outside one.
   */
  commit: z.enum(['batched', 'each']).default('batched'),
  /** Open the file (and the persona memory beside it) for reading only: no owner lock, nothing written. */
  read_only: z.boolean().default(false),
});

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

/** What SQLite's result codes (extended ones included: SQLITE_BUSY_SNAPSHOT, …) mean. */
export function sqliteErrorClass(code: string): ErrorClass | undefined {
  if (!code.startsWith('SQLITE_')) return undefined;
  const primary = code.replace(/^(SQLITE_[A-Z]+)(_.*)?$/, '$1');
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return 'transient';
    case 'SQLITE_FULL':
      return 'disk_full';
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_AUTH':
    case 'SQLITE_CANTOPEN':
      return 'auth';
    default:
      return 'fatal';
  }
}

export const sqliteBackend: BuiltBackend = {
  kind: 'sqlite',
  mode: 'sqlite',
  label: 'SQLite',
  help: 'one SQLite file (--db FILE), kept across restarts',
  section: { key: 'sqlite', schema: SqliteProfileSchema },
  ports: ['state', 'queues', 'cache'],
  capabilities: {
    transactions: true,
    durable: true,
    // one writing process per file; readers may open it beside the writer
    multiWriter: false,
    readOnly: true,
    serverTime: false,
    exactSearch: true,
    streamingExport: true,
  },
  classify: classifierFor(sqliteErrorClass),
  describe: (config) => `SQLite (kept in ${sqlitePath(config)}${config.sqlite.read_only ? ', read-only' : ''})`,
  files: {
    path: sqlitePath,
    withPath: (config, file) => ({ ...config, sqlite: { ...config.sqlite, path: file } }),
    readOnly: readOnlyConfig,
    fileName: 'chimera.db',
  },
  checkpoint: (config) => (config.sqlite.commit === 'each' ? 'step' : 'tick'),
  // the file and the persona memory rows kept beside it (persona-memory/, as src/config/embedders.ts keeps them)
  // (a store whose run kept no memories has no rows file: its readers then have no memory part)
  readers: (config) => {
    const memoryRows = join(dirname(sqlitePath(config)), 'persona-memory', 'rows.sqlite');
    return sqliteReaders({ database: sqlitePath(config), ...(existsSync(memoryRows) ? { memoryRows } : {}) });
  },
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
