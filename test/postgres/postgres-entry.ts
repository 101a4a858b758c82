/**
 * The Postgres entry of the contract-suite table: one database per suite (`testDatabase`), a
 * namespace is a fresh schema in it (migrated), and every port opened on a namespace gets a
 * pool of its own on that schema, so two handles on one namespace are two pools on the same
 * tables, as two processes would be.
 */
import type { AdapterEntry } from '../adapters.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { PgPool } from '../../src/adapters/postgres/pg-pool.ts';
import { migratePostgres } from '../../src/adapters/postgres/pg-migrations.ts';
import { PgStateStore } from '../../src/adapters/postgres/pg-state-store.ts';
import { PgQueue } from '../../src/adapters/postgres/pg-queue.ts';
import { PgRunLog } from '../../src/adapters/postgres/pg-run-log.ts';
import { PgPersonaCache } from '../../src/adapters/postgres/pg-persona-cache.ts';
import { pgReaders } from '../../src/adapters/postgres/pg-readers.ts';
import { pgUnavailable, testDatabase } from '../support/servers.ts';

/** A pool on `schema` of `url` (small: the suites open many). */
export const testPool = (url: string, schema: string, max = 4): PgPool => new PgPool({ url, schema, poolMax: max, statementTimeoutMs: 20_000 });

export const postgresEntry: AdapterEntry = {
  name: 'postgres',
  ports: ['state', 'queue', 'personaCache', 'runLog', 'readers'],
  capabilities: { reopens: true },
  unavailable: () => pgUnavailable(),
  setup: async () => {
    const db = await testDatabase('chimera_pg');
    const admin = testPool(db.url, 'public', 2);
    let n = 0;
    const open = (ns: string): PgPool => testPool(db.url, ns);
    return {
      namespace: async () => {
        const ns = `ns_${++n}`;
        const p = open(ns);
        try {
          await migratePostgres(p);
        } finally {
          await p.release();
        }
        return ns;
      },
      drop: async (ns) => {
        await admin.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`);
      },
      state: async (ns) => new PgStateStore(open(ns)),
      queue: async <T,>(ns: string, clock: Clock, space: string) => new PgQueue<T>(open(ns), clock, space),
      personaCache: async (ns) => new PgPersonaCache(open(ns)),
      runLog: async (ns) => new PgRunLog(open(ns)),
      readers: async (ns) => pgReaders(open(ns)),
      malform: async (ns, kind, key) => {
        // plain SQL behind the ports' back, as another program would write
        const sql = {
          campaign: `UPDATE "${ns}".campaigns SET title = '' WHERE id = $1::uuid`,
          task: `UPDATE "${ns}".tasks SET depends_on = '"not a list"'::jsonb WHERE id = $1::uuid`,
          audit: `UPDATE "${ns}".audit_log SET hash = 'not hex' WHERE seq = $1::int8`,
          persona: `UPDATE "${ns}".persona_cache SET traits = '["not","an","object"]' WHERE persona_id = $1`,
        }[kind];
        const r = await admin.query(sql, [key]);
        if (r.rowCount !== 1) throw new Error(`malform ${kind} ${key}: no such row`);
      },
      teardown: async () => {
        await admin.release();
        await db.drop();
      },
    };
  },
};
