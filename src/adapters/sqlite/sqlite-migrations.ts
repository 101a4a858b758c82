/**
 * Plain-SQL migrations: files `NNNN_name.sql`, applied in order, each recorded with the
 * SHA-256 of its text. `planMigrations` is the dialect-neutral part (it only compares lists),
 * so a Postgres runner can reuse it; `applySqliteMigrations` is the SQLite part.
 * README.md beside this file says why this is a small runner and not a library.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { BadDatabaseError } from '../../domain/errors.ts';

/** One migration file as shipped with the app. */
export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** One migration as recorded in a database. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
}

/** The SQLite migrations shipped with this build. */
export const SQLITE_MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/sqlite/', import.meta.url));

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** SHA-256 of the text with line endings normalised, so a CRLF checkout does not look edited. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads `NNNN_name.sql` files in version order; refuses gaps and duplicate numbers. */
export function loadMigrationFiles(dir: string = SQLITE_MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const out: MigrationFile[] = [];
  for (const f of files) {
    const m = FILE_NAME.exec(f);
    if (!m) throw new Error(`migration file ${join(dir, f)}: name must look like 0001_some_name.sql`);
    const sql = readFileSync(join(dir, f), 'utf8');
    const version = Number(m[1]);
    if (version !== out.length + 1) throw new Error(`migration ${f}: expected version ${out.length + 1} (versions are 1, 2, 3… without gaps)`);
    out.push({ version, name: m[2] as string, sql, checksum: migrationChecksum(sql) });
  }
  return out;
}

/**
 * Compares what a database recorded with what this build ships and returns the migrations
 * still to apply. Throws BadDatabaseError (naming `file`) when a recorded migration was
 * edited or renamed, or when the database is newer than this build.
 */
export function planMigrations(file: string, shipped: readonly MigrationFile[], applied: readonly AppliedMigration[]): MigrationFile[] {
  const byVersion = new Map(shipped.map((m) => [m.version, m]));
  const latest = shipped.length;
  for (const a of [...applied].sort((x, y) => x.version - y.version)) {
    const s = byVersion.get(a.version);
    if (!s) {
      throw new BadDatabaseError(
        `${file} was written by a newer version of Chimera (it has migration ${a.version} "${a.name}"; this build knows migrations up to ${latest}); open it with that version or newer. The file was not changed.`,
        { file, problem: 'newer', recorded: a.version, latest },
      );
    }
    if (s.name !== a.name || s.checksum !== a.checksum) {
      throw new BadDatabaseError(
        `${file}: recorded migration ${a.version} "${a.name}" (sha256 ${a.checksum.slice(0, 12)}…) does not match this build's ${s.version}_${s.name}.sql (sha256 ${s.checksum.slice(0, 12)}…); a migration was edited after it was applied. The file was not changed.`,
        { file, problem: 'edited', version: a.version },
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  const pending = shipped.filter((m) => !done.has(m.version));
  const maxApplied = Math.max(0, ...done);
  const early = pending.find((m) => m.version < maxApplied);
  if (early) {
    throw new BadDatabaseError(`${file}: migration ${early.version} was never applied but ${maxApplied} was; the file's history is inconsistent. The file was not changed.`, {
      file,
      problem: 'gap',
    });
  }
  return pending;
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
