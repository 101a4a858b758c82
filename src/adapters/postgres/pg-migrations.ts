/**
 * The Postgres migration runner: the same plain-SQL files and plan as SQLite's
 * (src/adapters/shared/migrations.ts), applied in the pool's schema. The schema and every
 * pending migration are created in one transaction under a transaction-level advisory lock
 * keyed by the schema's name, so processes that start together migrate once: the others wait
 * for the lock, then find nothing pending. Each migration is recorded in `chimera_migrations`
 * with its checksum; an edited or newer history is refused (BadDatabaseError) before anything
 * is changed.
 */
import { fileURLToPath } from 'node:url';
import { planMigrations, readMigrationDir, type AppliedMigration, type MigrationFile } from '../shared/migrations.ts';
import { BadDatabaseError } from '../../domain/errors.ts';
import { describePgError, isConnectionError, quoteSchema, type PgPool } from './pg-pool.ts';

/** The Postgres migrations shipped with this build. */
export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/postgres/', import.meta.url));

/** The table a schema records its migrations in. */
export const PG_MIGRATIONS_TABLE = 'chimera_migrations';

/** The Postgres migration files shipped with this build (or those of `dir`). */
export function loadPgMigrations(dir: string = PG_MIGRATIONS_DIR): MigrationFile[] {
  return readMigrationDir(dir);
}

/** What one `migratePostgres` did. */
export interface MigrationOutcome {
  /** Versions this call applied (empty: the schema was current, or another process migrated it). */
  readonly applied: number[];
  readonly latest: number;
}

/** Migrations recorded in the schema (empty when it has none yet). */
async function readApplied(q: (text: string, values?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>, schema: string): Promise<AppliedMigration[]> {
  const exists = await q(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${quoteSchema(schema)}.${PG_MIGRATIONS_TABLE}`]);
  if (!exists.rows[0]?.present) return [];
  const r = await q(`SELECT version, name, checksum FROM ${quoteSchema(schema)}.${PG_MIGRATIONS_TABLE} ORDER BY version`);
  return r.rows.map((x) => ({ version: Number(x.version), name: String(x.name), checksum: String(x.checksum) }));
}

/**
 * For a read-only open (which never migrates): the pool's schema holds exactly this build's
 * migrations, else a BadDatabaseError that says so (not migrated, behind, edited or newer).
 */
export async function checkMigrated(pool: PgPool, shipped: readonly MigrationFile[] = loadPgMigrations()): Promise<void> {
  const target = `Postgres ${pool.where}`;
  let seen: AppliedMigration[];
  try {
    seen = await readApplied((t, v) => pool.query(t, v), pool.schema);
  } catch (e) {
    throw describePgError(e, pool.where);
  }
  if (seen.length === 0) {
    throw new BadDatabaseError(`${target} is not migrated (no ${PG_MIGRATIONS_TABLE} table): a read-only open does not migrate; open it once read-write to create the schema. Nothing was written.`, {
      endpoint: pool.where,
      problem: 'needs_migration',
      pending: shipped.map((m) => m.name),
    });
  }
  // an edited or newer history throws here; a pending one is reported below
  const pending = planMigrations(target, shipped, seen, 'schema');
  if (pending.length > 0) {
    throw new BadDatabaseError(`${target} lacks ${pending.length} of this build's migrations (${pending.map((m) => m.version).join(', ')}): a read-only open does not migrate; open it once read-write to bring it up to date. Nothing was written.`, {
      endpoint: pool.where,
      problem: 'needs_migration',
      pending: pending.map((m) => m.name),
    });
  }
}

/**
 * Brings the pool's schema up to this build's migrations (creating the schema when needed).
 * Safe to call from any number of processes at once.
 */
export async function migratePostgres(pool: PgPool, shipped: readonly MigrationFile[] = loadPgMigrations()): Promise<MigrationOutcome> {
  const schema = pool.schema;
  const s = quoteSchema(schema);
  const target = `Postgres ${pool.where}`;
  // the common case, without a lock: already current
  const seen = await readApplied((t, v) => pool.query(t, v), schema);
  if (planMigrations(target, shipped, seen, 'schema').length === 0) return { applied: [], latest: shipped.length };
  const client = await pool.connect();
  // a connection that dies under the migration fails its statement; its 'error' event must not crash the process
  const onError = (): void => {};
  client.on('error', onError);
  let broken: unknown = undefined;
  try {
    await client.query('BEGIN');
    try {
      // a migration may take longer than the pool's statement timeout; the lock wait too
      await client.query(`SET LOCAL statement_timeout = 0`);
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`chimera_migrations:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.${PG_MIGRATIONS_TABLE} (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const pending = planMigrations(target, shipped, await readApplied((t, v) => client.query(t, v), schema), 'schema');
      for (const m of pending) {
        await client.query(`SET LOCAL search_path TO ${s}`);
        await client.query(m.sql);
        await client.query(`INSERT INTO ${s}.${PG_MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, m.checksum]);
      }
      await client.query('COMMIT');
      return { applied: pending.map((m) => m.version), latest: shipped.length };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  } catch (e) {
    broken = e;
    throw describePgError(e, pool.where);
  } finally {
    client.removeListener('error', onError);
    client.release(isConnectionError(broken) ? (broken as Error) : undefined);
  }
}
