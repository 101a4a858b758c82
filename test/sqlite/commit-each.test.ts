/**
 * The contract suites again on SQLite with commit mode 'each' (every unit of work and queue
 * call its own transaction), the mode the default 'batched' one is measured against. The
 * assertions live in the contract suites (test/contract/*.contract.ts).
 */
import type { Clock } from '../../src/ports/clock.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { SqlitePersonaCache } from '../../src/adapters/sqlite/sqlite-persona-cache.ts';
import { stateStoreContract } from '../contract/state-store.contract.ts';
import { queueContract } from '../contract/queue.contract.ts';
import { personaCacheContract } from '../contract/persona-cache.contract.ts';
import { tempDbPath } from './temp-db.ts';

async function fresh<P>(make: (sdb: SqliteDatabase) => P): Promise<P> {
  const sdb = openSqliteDatabase(tempDbPath('each'), { commit: 'each' });
  const port = make(sdb);
  await sdb.release();
  return port;
}

stateStoreContract('sqlite (commit each)', () => fresh((sdb) => new SqliteStateStore(sdb)));
queueContract('sqlite (commit each)', <T,>(clock: Clock) => fresh((sdb) => new SqliteQueue<T>(sdb, clock)));
personaCacheContract('sqlite (commit each)', () => fresh((sdb) => new SqlitePersonaCache(sdb)));
