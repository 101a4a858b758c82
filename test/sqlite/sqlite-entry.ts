/** The SQLite entry of the contract-suite table: every port on a fresh temporary file. */
import type { AdapterEntry } from '../adapters.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { SqlitePersonaCache } from '../../src/adapters/sqlite/sqlite-persona-cache.ts';
import { tempDbPath } from './temp-db.ts';

/** Opens a fresh file, builds one port on it and hands the opener's reference to the port. */
async function fresh<P>(make: (sdb: SqliteDatabase) => P): Promise<P> {
  const sdb = openSqliteDatabase(tempDbPath('contract'));
  const port = make(sdb);
  await sdb.release();
  return port;
}

export const sqliteEntry: AdapterEntry = {
  name: 'sqlite',
  state: () => fresh((sdb) => new SqliteStateStore(sdb)),
  queue: <T,>(clock: Clock) => fresh((sdb) => new SqliteQueue<T>(sdb, clock)),
  personaCache: () => fresh((sdb) => new SqlitePersonaCache(sdb)),
};
