/** Fresh SQLite files for tests, in one temporary folder per process, removed at exit. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { SQLITE_MIGRATIONS_DIR, loadMigrationFiles } from '../../src/adapters/sqlite/sqlite-migrations.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | null = null;
let n = 0;

/** A path to a database file that does not exist yet. */
export function tempDbPath(label = 'db'): string {
  if (!dir) {
    const d = mkdtempSync(join(tmpdir(), 'chimera-sqlite-'));
    dir = d;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  n += 1;
  return join(dir, `${label}-${n}.sqlite`);
}

/** A folder holding the shipped migrations up to `version` (an older build's schema). */
export function migrationsUpTo(version: number): string {
  const dir = tempDbPath('migrations');
  mkdirSync(dir);
  for (const m of loadMigrationFiles().filter((x) => x.version <= version)) {
    const f = `${String(m.version).padStart(4, '0')}_${m.name}.sql`;
    copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(dir, f));
  }
  return dir;
}
