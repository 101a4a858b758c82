/**
 * The dialect-neutral part of the plain-SQL migration runners (SQLite, Postgres): files
 * `NNNN_name.sql` read in order, each recorded with the SHA-256 of its text, and the plan that
 * compares what a database recorded with what this build ships. Each adapter applies the plan
 * in its own way (src/adapters/sqlite/sqlite-migrations.ts, src/adapters/postgres/pg-migrations.ts).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** SHA-256 of the text with line endings normalised, so a CRLF checkout does not look edited. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads `NNNN_name.sql` files of `dir` in version order; refuses gaps and duplicate numbers. */
export function readMigrationDir(dir: string): MigrationFile[] {
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
 * still to apply. Throws BadDatabaseError (naming `target`, a `noun` such as "file" or
 * "schema") when a recorded migration was edited or renamed, or when the database is newer
 * than this build.
 */
export function planMigrations(target: string, shipped: readonly MigrationFile[], applied: readonly AppliedMigration[], noun = 'file'): MigrationFile[] {
  const byVersion = new Map(shipped.map((m) => [m.version, m]));
  const latest = shipped.length;
  const unchanged = `The ${noun} was not changed.`;
  for (const a of [...applied].sort((x, y) => x.version - y.version)) {
    const s = byVersion.get(a.version);
    if (!s) {
      throw new BadDatabaseError(
        `${target} was written by a newer version of Chimera (it has migration ${a.version} "${a.name}"; this build knows migrations up to ${latest}); open it with that version or newer. ${unchanged}`,
        { [noun]: target, problem: 'newer', recorded: a.version, latest },
      );
    }
    if (s.name !== a.name || s.checksum !== a.checksum) {
      throw new BadDatabaseError(
        `${target}: recorded migration ${a.version} "${a.name}" (sha256 ${a.checksum.slice(0, 12)}…) does not match this build's ${s.version}_${s.name}.sql (sha256 ${s.checksum.slice(0, 12)}…); a migration was edited after it was applied. ${unchanged}`,
        { [noun]: target, problem: 'edited', version: a.version },
      );
    }
  }
  const done = new Set(applied.map((a) => a.version));
  const pending = shipped.filter((m) => !done.has(m.version));
  const maxApplied = Math.max(0, ...done);
  const early = pending.find((m) => m.version < maxApplied);
  if (early) {
    throw new BadDatabaseError(`${target}: migration ${early.version} was never applied but ${maxApplied} was; the ${noun}'s history is inconsistent. ${unchanged}`, {
      [noun]: target,
      problem: 'gap',
    });
  }
  return pending;
}
