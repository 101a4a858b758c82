/**
 * Plain-SQL migrations: files `NNNN_name.sql`, applied in order, each recorded with the
 * SHA-256 of its text. `planMigrations` is the dialect-neutral part (it only compares lists):
 * it lives in src/adapters/shared/migrations.ts, which the Postgres runner uses too;
 * `applySqliteMigrations` is the SQLite part.
 * README.md beside this file says why this is a small runner and not a library.
 */
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { readMigrationDir, type AppliedMigration, type MigrationFile } from '../shared/migrations.ts';

export { migrationChecksum, planMigrations, type AppliedMigration, type MigrationFile } from '../shared/migrations.ts';

/** The SQLite migrations shipped with this build. */
export const SQLITE_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/sqlite/', import.meta.url));

/** Reads `NNNN_name.sql` files in version order; refuses gaps and duplicate numbers. */
export function loadMigrationFiles(dir: string = SQLITE_MIGRATIONS_DIR): MigrationFile[] {
  return readMigrationDir(dir);
}

/** The table a database records its migrations in. */
export const MIGRATIONS_TABLE = 'chimera_migrations';

/** Migrations recorded in the database (empty when the table does not exist yet). */
export function readAppliedMigrations(db: Database.Database): AppliedMigration[] {
  const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(MIGRATIONS_TABLE);
  if (!exists) return [];
  return db.prepare(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`).all() as AppliedMigration[];
}

/**
 * Applies `pending` in one IMMEDIATE transaction together with their records and the file's
 * application_id/user_version: a crash leaves either all of them or none.
 */
export function applySqliteMigrations(db: Database.Database, pending: readonly MigrationFile[], application_id: number, applied_at: string): void {
  if (pending.length === 0) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      checksum   TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    const record = db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`);
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.version, m.name, m.checksum, applied_at);
    }
    db.pragma(`application_id = ${application_id | 0}`);
    db.pragma(`user_version = ${(pending.at(-1) as MigrationFile).version}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
