/**
 * The SQLite entries of the contract-suite table: a namespace is a fresh temporary file, and
 * every port opened on it shares the process's one connection to that file (reference-counted,
 * see src/adapters/sqlite/sqlite-database.ts), so two handles on one namespace are two port
 * objects on one connection.
 */
import { rmSync } from 'node:fs';
import type { AdapterEntry } from '../adapters.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { openSqliteDatabase, type CommitMode, type SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { SqlitePersonaCache } from '../../src/adapters/sqlite/sqlite-persona-cache.ts';
import { SqliteRunLog } from '../../src/adapters/sqlite/sqlite-run-log.ts';
import { sqliteReaders } from '../../src/adapters/sqlite/sqlite-readers.ts';
import { tempDbPath } from './temp-db.ts';

/** An entry on SQLite files opened with commit mode `commit`. */
export function sqliteEntryWith(name: string, commit: CommitMode): AdapterEntry {
  return {
    name,
    ports: ['state', 'queue', 'personaCache', 'runLog', 'readers'],
    capabilities: { unitCoversQueue: true, reopens: true },
    setup: async () => {
      /** Opens (or joins) the file, builds one port on it and hands the opener's reference to the port. */
      const on = async <P,>(file: string, make: (sdb: SqliteDatabase) => P): Promise<P> => {
        const sdb = openSqliteDatabase(file, { commit });
        try {
          return make(sdb);
        } finally {
          await sdb.release();
        }
      };
      return {
        namespace: async () => tempDbPath(name),
        drop: async (file) => {
          for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
        },
        state: (file) => on(file, (sdb) => new SqliteStateStore(sdb)),
        queue: <T,>(file: string, clock: Clock, space: string) => on(file, (sdb) => new SqliteQueue<T>(sdb, clock, space)),
        personaCache: (file) => on(file, (sdb) => new SqlitePersonaCache(sdb)),
        runLog: (file) => on(file, (sdb) => new SqliteRunLog(sdb)),
        checkpoint: (file) => on(file, (sdb) => sdb.checkpoint()),
        readers: async (file) => sqliteReaders({ database: file }),
        malform: (file, kind, key) =>
          on(file, (sdb) => {
            // committed first, then changed by plain SQL outside any batch (autocommit), as another program would
            sdb.checkpoint();
            const sql = {
              campaign: `UPDATE campaigns SET title = '' WHERE id = ?`,
              task: `UPDATE tasks SET depends_on = 'not a list' WHERE id = ?`,
              audit: `UPDATE audit_log SET hash = 'not hex' WHERE seq = ?`,
              persona: `UPDATE persona_cache SET traits = '["not","an","object"]' WHERE persona_id = ?`,
            }[kind];
            const changed = sdb.db.prepare(sql).run(kind === 'audit' ? Number(key) : key).changes;
            if (changed !== 1) throw new Error(`malform ${kind} ${key}: no such row`);
          }),
      };
    },
  };
}

/** The default commit mode (batched), as the app runs. */
export const sqliteEntry: AdapterEntry = sqliteEntryWith('sqlite', 'batched');
