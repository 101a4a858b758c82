/**
 * Read-only opens write nothing: the bytes of every file and the folder's listing are the same
 * before, during and after (a clean file, a junk -wal, a killed writer's committed but
 * uncheckpointed frames with and without its -shm); they work beside a live writer in another
 * process; every write through them is refused with ReadOnlyDatabaseError; a missing, empty or
 * unmigrated file is refused and left as it was, in the adapter and in the read commands.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { ownerLockPath } from '../../src/adapters/sqlite/sqlite-owner.ts';
import { SqlitePersonaCache } from '../../src/adapters/sqlite/sqlite-persona-cache.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { IMAGE_MAX_BYTES, ReadOnlyDatabaseError, openReadOnly } from '../../src/adapters/shared/sqlite-read-only.ts';
import { SqliteRunLog } from '../../src/adapters/sqlite/sqlite-run-log.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { BadDatabaseError } from '../../src/domain/errors.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { cli } from '../support/cli.ts';
import { startChild, type Child } from './child.ts';
import { tempDbPath } from './temp-db.ts';

const ARIA = fileURLToPath(new URL('../../examples/personas/aria.soul.md', import.meta.url));

const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

/** The pid in a file's owner lock. */
function lockOf(file: string): number {
  return (JSON.parse(readFileSync(ownerLockPath(file), 'utf8')) as { pid: number }).pid;
}

/** A database file alone in a fresh folder. */
function fileInOwnFolder(label: string): string {
  const dir = tempDbPath(label).replace(/\.sqlite$/, '');
  mkdirSync(dir);
  return join(dir, 'studio.db');
}

/** Every file under `dir` (recursively) with the SHA-256 of its bytes. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** A closed database holding one persona-cache row per name (no -wal, no -shm left). */
async function cleanDb(file: string, names: string[] = ['kept']): Promise<void> {
  const sdb = openSqliteDatabase(file);
  const cache = new SqlitePersonaCache(sdb);
  await sdb.release();
  for (const n of names) await cache.set(n, { by: 'test' });
  await cache.close();
}

/** Rows of the persona cache through a read-only open, and how it was opened. */
async function readOnlyRows(file: string): Promise<{ rows: string[]; way: string | null }> {
  const sdb = openSqliteDatabase(file, { readOnly: true });
  const cache = new SqlitePersonaCache(sdb);
  await sdb.release();
  try {
    return { rows: (await cache.list()).sort(), way: sdb.readOnlyWay };
  } finally {
    await cache.close();
  }
}

/** A writer child that took the lock, wrote `name` (committed, not checkpointed) and was SIGKILLed. */
async function killedWriter(file: string, name: string): Promise<void> {
  const a = startChild(file);
  children.push(a);
  expect(await a.next()).toMatchObject({ held: true });
  a.send(`write ${name}`);
  expect(await a.next()).toEqual({ wrote: name });
  a.proc.kill('SIGKILL');
  await a.exited;
}

/** Whether the database file alone (without its -wal) holds persona-cache row `name`. */
function mainFileHas(file: string, name: string): boolean {
  const bytes = readFileSync(file);
  bytes[18] = 1;
  bytes[19] = 1;
  const db = new Database(bytes, { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM persona_cache WHERE persona_id = ?').get(name) !== undefined;
  } catch {
    return false; // the table itself is still only in the -wal
  } finally {
    db.close();
  }
}

describe('sqlite: read-only opens write nothing', () => {
  it('a cleanly closed file: read from an in-memory image, every byte and the listing unchanged', async () => {
    const file = fileInOwnFolder('clean');
    await cleanDb(file);
    const before = tree(dirname(file));
    expect(Object.keys(before)).toEqual(['studio.db']);
    expect(await readOnlyRows(file)).toEqual({ rows: ['kept'], way: 'image' });
    expect(tree(dirname(file))).toEqual(before);
  });

  it('a file larger than the image limit is read from a temporary copy, not into memory; every byte and the listing unchanged', async () => {
    const file = fileInOwnFolder('large');
    await cleanDb(file, ['a', 'b']);
    const before = tree(dirname(file));
    // the limit at one byte: this small file stands for one of gigabytes
    const conn = openReadOnly(file, false, { imageMaxBytes: 1 });
    try {
      expect(conn.way).toBe('copy');
      expect((conn.db.prepare('SELECT persona_id FROM persona_cache ORDER BY persona_id').all() as { persona_id: string }[]).map((r) => r.persona_id)).toEqual(['a', 'b']);
      expect(tree(dirname(file))).toEqual(before);
    } finally {
      conn.close();
    }
    expect(tree(dirname(file))).toEqual(before);
    expect(IMAGE_MAX_BYTES).toBe(64 * 2 ** 20);
  });

  it('a junk -wal beside the file is neither applied, checkpointed nor deleted', async () => {
    const file = fileInOwnFolder('junk-wal');
    await cleanDb(file);
    writeFileSync(`${file}-wal`, Buffer.from('this is not a write-ahead log, just junk bytes '.repeat(40)));
    const before = tree(dirname(file));
    expect(await readOnlyRows(file)).toEqual({ rows: ['kept'], way: 'copy' });
    expect(tree(dirname(file))).toEqual(before);
  });

  it("a killed writer's committed, uncheckpointed frames are read; -wal, -shm and the stale lock stay byte-identical", async () => {
    const file = fileInOwnFolder('frames');
    await cleanDb(file);
    await killedWriter(file, 'in-wal-only');
    expect(mainFileHas(file, 'in-wal-only')).toBe(false); // the row is only in the -wal's frames
    const before = tree(dirname(file));
    expect(Object.keys(before)).toEqual(['studio.db', 'studio.db-shm', 'studio.db-wal', 'studio.db.owner']);
    expect(await readOnlyRows(file)).toEqual({ rows: ['in-wal-only', 'kept'], way: 'copy' });
    expect(tree(dirname(file))).toEqual(before);

    // the same frames without the -shm (a crash between SQLite deleting the -shm and the -wal, or a copied folder)
    rmSync(`${file}-shm`);
    const noShm = tree(dirname(file));
    expect(await readOnlyRows(file)).toEqual({ rows: ['in-wal-only', 'kept'], way: 'copy' });
    expect(tree(dirname(file))).toEqual(noShm);
  });

  it('works beside a live writer in another process: one snapshot, the writer carries on, its files untouched by the reader', async () => {
    const file = fileInOwnFolder('live');
    await cleanDb(file);
    const w = startChild(file);
    children.push(w);
    expect(await w.next()).toMatchObject({ held: true });
    w.send('write first');
    expect(await w.next()).toEqual({ wrote: 'first' });
    const sum = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    const before = { db: sum(file), wal: sum(`${file}-wal`), lock: sum(ownerLockPath(file)), names: readdirSync(dirname(file)).sort() };

    const sdb = openSqliteDatabase(file, { readOnly: true });
    const cache = new SqlitePersonaCache(sdb);
    await sdb.release();
    expect(sdb.readOnlyWay).toBe('live');
    expect((await cache.list()).sort()).toEqual(['first', 'kept']);
    expect({ db: sum(file), wal: sum(`${file}-wal`), lock: sum(ownerLockPath(file)), names: readdirSync(dirname(file)).sort() }).toEqual(before);

    w.send('write second'); // the writer is not blocked by the reader
    expect(await w.next()).toEqual({ wrote: 'second' });
    expect((await cache.list()).sort()).toEqual(['first', 'kept']); // the reader's snapshot, taken when it opened
    expect((await readOnlyRows(file)).rows).toEqual(['first', 'kept']); // another read-only open in this process joins it
    await cache.close();
    expect(await readOnlyRows(file)).toEqual({ rows: ['first', 'kept', 'second'], way: 'live' }); // a fresh open sees the commit
    w.send('write third');
    expect(await w.next()).toEqual({ wrote: 'third' });

    // the read commands too: chimera export beside the writer, which still holds the file
    const exp = await cli(['export', '--backend', 'sqlite', '--db', file]);
    expect(exp.code, exp.stderr).toBe(0);
    expect((JSON.parse(exp.stdout) as { counts: { persona_cache: number } }).counts.persona_cache).toBe(4);
    expect(lockOf(file)).toBe(w.pid);
  });

  it('refuses every write through a read-only open with ReadOnlyDatabaseError, not a raw SQLITE_READONLY', async () => {
    const file = fileInOwnFolder('writes');
    await cleanDb(file);
    const before = tree(dirname(file));
    const sdb: SqliteDatabase = openSqliteDatabase(file, { readOnly: true });
    const clock = new VirtualClock(0);
    const ports = {
      cache: new SqlitePersonaCache(sdb),
      state: new SqliteStateStore(sdb),
      queue: new SqliteQueue<unknown>(sdb, clock, 'task'),
      runLog: new SqliteRunLog(sdb),
    };
    await sdb.release();
    const attempts: [string, () => Promise<unknown>, RegExp][] = [
      ['persona cache set', () => ports.cache.set('x', { a: 'b' }), /a write to the persona cache/],
      ['persona cache delete', () => ports.cache.delete('kept'), /a write to the persona cache/],
      ['state transaction', () => ports.state.transaction(async () => 1), /a state store transaction/],
      ['enqueue', () => ports.queue.enqueue('q', [{ id: 'i', payload: 1 }]), /a write to the queue/],
      ['claim', () => ports.queue.claim('q', 'c', 1000), /a write to the queue/],
      ['run log append', () => ports.runLog.append([], { step: 1 } as never), /a write to the run log/],
    ];
    for (const [what, attempt, says] of attempts) {
      const err = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(ReadOnlyDatabaseError);
      expect((err as ReadOnlyDatabaseError).code, what).toBe('BACKEND_UNAVAILABLE');
      expect((err as Error).message, what).toMatch(says);
      expect((err as Error).message, what).toContain(`${file} is open read-only`);
    }
    expect(await ports.cache.get('kept')).toEqual({ by: 'test' }); // reads still work
    for (const p of Object.values(ports)) await p.close();
    expect(tree(dirname(file))).toEqual(before);
  });

  it('refuses a missing, empty or unmigrated file, creating and changing nothing', () => {
    const missing = fileInOwnFolder('missing');
    expect(() => openSqliteDatabase(missing, { readOnly: true })).toThrow(/no database at .*a read-only open creates nothing/);
    expect(readdirSync(dirname(missing))).toEqual([]);

    const empty = fileInOwnFolder('empty');
    writeFileSync(empty, '');
    expect(() => openSqliteDatabase(empty, { readOnly: true })).toThrow(/is empty: there is nothing to read/);
    expect(tree(dirname(empty))).toEqual({ 'studio.db': createHash('sha256').update('').digest('hex') });

    const bare = fileInOwnFolder('unmigrated');
    const db = new Database(bare);
    db.pragma('user_version = 7'); // a valid SQLite file without Chimera's tables
    db.close();
    const before = tree(dirname(bare));
    let err: unknown;
    try {
      openSqliteDatabase(bare, { readOnly: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadDatabaseError);
    expect((err as BadDatabaseError).message).toMatch(/needs \d+ migrations .* a read-only open migrates nothing; open it once for writing/);
    expect((err as BadDatabaseError).details).toMatchObject({ problem: 'needs_migration' });
    expect(tree(dirname(bare))).toEqual(before);
  });

  it('refuses files that are not databases, or cut short, as an open to write does, leaving them as they were', async () => {
    const text = fileInOwnFolder('not-sqlite');
    writeFileSync(text, 'name,score\naria,0.93\n');
    const good = fileInOwnFolder('source');
    await cleanDb(good, ['a', 'b', 'c']);
    const cut = fileInOwnFolder('truncated');
    writeFileSync(cut, readFileSync(good).subarray(0, 4096 + 100));
    for (const [file, says] of [
      [text, /is not a SQLite database/],
      [cut, /is truncated/],
    ] as const) {
      const before = tree(dirname(file));
      expect(() => openSqliteDatabase(file, { readOnly: true })).toThrow(says);
      expect(tree(dirname(file))).toEqual(before);
    }
  });

  it('the read commands: export and memory search exit 2 on a missing or empty file and leave it as it was', async () => {
    const empty = fileInOwnFolder('cli-empty');
    writeFileSync(empty, '');
    const exp = await cli(['export', '--backend', 'sqlite', '--db', empty]);
    expect(exp.code).toBe(2);
    expect(exp.stderr).toMatch(/is (an )?empty/);
    expect(readdirSync(dirname(empty))).toEqual(['studio.db']);
    expect(statSync(empty).size).toBe(0);

    const missing = fileInOwnFolder('cli-missing');
    const search = await cli(['memory', 'search', '--db', missing, '--persona', 'aria', 'denim']);
    expect(search.code).toBe(2);
    expect(search.stderr).toMatch(/no database at/);
    expect(readdirSync(dirname(missing))).toEqual([]);

    const emptySearch = await cli(['memory', 'search', '--db', empty, '--persona', 'aria', 'denim']);
    expect(emptySearch.code).toBe(2);
    expect(readdirSync(dirname(empty))).toEqual(['studio.db']);
  });

  it('export and memory search leave a kept store byte-identical (database, persona-memory rows and index)', async () => {
    const file = fileInOwnFolder('cli-store');
    const imported = await cli(['memory', 'import', '--db', file, '--persona', 'aria', ARIA]);
    expect(imported.code, imported.stderr).toBe(0);
    const run = await cli(['simulate', '--backend', 'sqlite', '--db', file, '--seed', '3', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const before = tree(dirname(file));
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['studio.db', 'persona-memory/rows.sqlite', 'persona-memory/index.hnsw']));

    const search = await cli(['memory', 'search', '--db', file, '--persona', 'aria', '--json', 'repairing denim']);
    expect(search.code, search.stderr).toBe(0);
    expect((JSON.parse(search.stdout) as { hits: unknown[] }).hits.length).toBeGreaterThan(0);
    const exp = await cli(['export', '--backend', 'sqlite', '--db', file]);
    expect(exp.code, exp.stderr).toBe(0);
    expect((JSON.parse(exp.stdout) as { counts: { tasks: number } }).counts.tasks).toBeGreaterThan(0);
    expect(tree(dirname(file))).toEqual(before);
  });
});
