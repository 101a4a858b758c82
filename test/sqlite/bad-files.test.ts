/**
 * Files that must be refused: not SQLite, truncated, another application's, edited or newer
 * migrations. Each refusal names the file and the problem, and leaves the file byte-for-byte
 * as it was (no -wal beside it either).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SQLITE_MIGRATIONS_DIR, loadMigrationFiles } from '../../src/adapters/sqlite/sqlite-migrations.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { ChimeraError } from '../../src/domain/errors.ts';
import { fixtures } from '../support/fixtures.ts';
import { tempDbPath } from './temp-db.ts';

/** The version after the shipped migrations, and its file name for `name`. */
const NEXT = loadMigrationFiles().length + 1;
const nextFile = (name: string) => `${String(NEXT).padStart(4, '0')}_${name}.sql`;

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function refusal(open: () => unknown): ChimeraError {
  try {
    open();
  } catch (e) {
    if (e instanceof ChimeraError) return e;
    throw e;
  }
  throw new Error('the file was accepted');
}

function expectRefused(file: string, problem: RegExp, migrationsDir?: string): ChimeraError {
  const before = sha(file);
  const hadWal = existsSync(`${file}-wal`);
  const err = refusal(() => openSqliteDatabase(file, migrationsDir ? { migrationsDir } : {}));
  expect(err.code).toBe('BAD_DATABASE');
  expect(err.message).toContain(file);
  expect(err.message).toMatch(problem);
  expect(err.message).toMatch(/not changed/);
  expect(sha(file)).toBe(before);
  if (!hadWal) expect(existsSync(`${file}-wal`)).toBe(false);
  return err;
}

/** A closed, checkpointed Chimera database with a little data in it. */
async function makeChimeraDb(file: string, migrationsDir?: string): Promise<void> {
  const sdb = openSqliteDatabase(file, migrationsDir ? { migrationsDir } : {});
  const store = new SqliteStateStore(sdb);
  await sdb.release();
  const f = fixtures(11);
  await store.transaction(async (tx) => {
    for (let i = 0; i < 50; i++) {
      const c = f.campaign();
      await tx.insertCampaign(c);
      await tx.insertTasks([f.task(c.id), f.task(c.id)]);
      await tx.appendAudit(f.audit({ entity_id: c.id, details: { pad: 'x'.repeat(200) } }));
    }
  });
  await store.close(); // closing the last connection checkpoints and removes the -wal
}

function copyMigrations(): string {
  const dir = tempDbPath('migrations-dir'); // a fresh, unused path
  mkdirSync(dir);
  for (const f of readdirSync(SQLITE_MIGRATIONS_DIR)) if (f.endsWith('.sql')) copyFileSync(join(SQLITE_MIGRATIONS_DIR, f), join(dir, f));
  return dir;
}

describe('sqlite: bad files are refused and left untouched', () => {
  it('a file that is not a SQLite database', () => {
    const file = tempDbPath('notes');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(50));
    expectRefused(file, /is not a SQLite database/);
  });

  it('a file shorter than the SQLite header', () => {
    const file = tempDbPath('short');
    writeFileSync(file, 'SQLite format 3\0abc');
    expectRefused(file, /truncated/);
  });

  it('a Chimera database cut short', async () => {
    const file = tempDbPath('cut');
    await makeChimeraDb(file);
    const size = readFileSync(file).length;
    expect(size).toBeGreaterThan(4 * 4096);
    truncateSync(file, 2 * 4096);
    const err = expectRefused(file, /truncated: its header says \d+ pages/);
    expect(err.details).toMatchObject({ problem: 'truncated' });
  });

  it("another application's SQLite database", () => {
    const file = tempDbPath('other-app');
    const other = new Database(file);
    other.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (9.5);');
    other.close();
    const err = expectRefused(file, /another application .*invoices/);
    expect(err.details).toMatchObject({ problem: 'foreign' });
  });

  it("another application's database with its own application_id", () => {
    const file = tempDbPath('other-id');
    const other = new Database(file);
    other.pragma('application_id = 1234');
    other.exec('CREATE TABLE campaigns (id TEXT)');
    other.close();
    expectRefused(file, /application_id 0x4d2/);
  });

  it('a database whose applied migration was edited', async () => {
    const dir = copyMigrations();
    const file = tempDbPath('edited');
    await makeChimeraDb(file, dir);
    const m = join(dir, '0001_initial.sql');
    writeFileSync(m, readFileSync(m, 'utf8') + '\n-- an edit after the fact\n');
    expectRefused(file, /migration 1 "initial" .* does not match .*edited/, dir);
  });

  it('a database newer than this build', async () => {
    const dir = copyMigrations();
    writeFileSync(join(dir, nextFile('future')), 'CREATE TABLE future_things (id TEXT PRIMARY KEY) STRICT;');
    const file = tempDbPath('newer');
    await makeChimeraDb(file, dir);
    const err = expectRefused(file, new RegExp(`newer version of Chimera .*migration ${NEXT} "future".* up to ${NEXT - 1}`));
    expect(err.details).toMatchObject({ problem: 'newer' });
  });

  it('a refused database with a write-ahead log beside it keeps both files as they were', async () => {
    const dir = copyMigrations();
    writeFileSync(join(dir, nextFile('future')), 'CREATE TABLE future_things (id TEXT PRIMARY KEY) STRICT;');
    const live = tempDbPath('live');
    const sdb = openSqliteDatabase(live, { migrationsDir: dir });
    const store = new SqliteStateStore(sdb);
    const f = fixtures(12);
    await store.transaction((tx) => tx.insertCampaign(f.campaign()));
    sdb.checkpoint(); // committed into the -wal, not yet into the file
    const copy = tempDbPath('unclean');
    copyFileSync(live, copy);
    copyFileSync(`${live}-wal`, `${copy}-wal`); // as an app killed before closing leaves it
    await store.close();
    await sdb.release();
    const walBefore = sha(`${copy}-wal`);
    expectRefused(copy, /newer version of Chimera/);
    expect(sha(`${copy}-wal`)).toBe(walBefore);
  });

  it('an empty file becomes a new database; an older one is migrated forward', async () => {
    const empty = tempDbPath('empty');
    writeFileSync(empty, '');
    const a = openSqliteDatabase(empty);
    await a.release();
    const dir = copyMigrations();
    const file = tempDbPath('older');
    await makeChimeraDb(file);
    writeFileSync(join(dir, nextFile('more')), 'CREATE TABLE more_things (id TEXT PRIMARY KEY) STRICT;');
    const b = openSqliteDatabase(file, { migrationsDir: dir });
    expect(b.db.prepare('SELECT version FROM chimera_migrations ORDER BY version').pluck().all()).toEqual(Array.from({ length: NEXT }, (_, i) => i + 1));
    expect(b.db.pragma('user_version', { simple: true })).toBe(NEXT);
    expect(b.db.prepare('SELECT count(*) FROM campaigns').pluck().get()).toBe(50);
    await b.release();
  });
});
