/**
 * One owner per SQLite file, with real processes: a second writer is refused at once naming the
 * holder; a SIGKILLed holder's lock is taken over by the next writer and the file verifies;
 * several processes racing to take over one stale lock leave exactly one winner (bounded rounds,
 * seed logged); a lock from another host or an unreadable one is never taken over; the lock goes
 * on close and on a normal exit. Every wait is for a line a child prints or for its exit.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { DatabaseOwnedError, ownerLockPath, type OwnerRecord } from '../../src/adapters/sqlite/sqlite-owner.ts';
import { SqlitePersonaCache } from '../../src/adapters/sqlite/sqlite-persona-cache.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { verifyAuditChain } from '../../src/domain/audit.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { cli } from '../support/cli.ts';
import { startChild, type Child } from './child.ts';
import { tempDbPath } from './temp-db.ts';

const SEED = Number(process.env.CHIMERA_OWNER_SEED ?? 20261128);
const RACE_ROUNDS = 3;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

const children: Child[] = [];
function child(file: string, flags: string[] = []): Child {
  const c = startChild(file, flags);
  children.push(c);
  return c;
}
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
});

function lockOf(file: string): OwnerRecord {
  return JSON.parse(readFileSync(ownerLockPath(file), 'utf8')) as OwnerRecord;
}

/** A lock whose holder is dead: a child that took it and was killed with SIGKILL (and reaped). */
async function killedHolder(file: string): Promise<number> {
  const a = child(file);
  expect(await a.next()).toMatchObject({ held: true });
  a.send('write before-kill');
  expect(await a.next()).toEqual({ wrote: 'before-kill' });
  a.proc.kill('SIGKILL');
  expect((await a.exited).signal).toBe('SIGKILL');
  expect(lockOf(file).pid).toBe(a.pid); // left behind: stale
  return a.pid;
}

describe('sqlite: one owner per file', () => {
  it('refuses a second writer at once, naming the holder (pid, host, since, file); readers and the holder carry on', async () => {
    const file = tempDbPath('owner');
    const a = child(file);
    expect(await a.next()).toEqual({ held: true, pid: a.pid });
    const rec = lockOf(file);
    expect(rec).toMatchObject({ pid: a.pid, host: hostname() });
    expect(rec.started_at).toMatch(ISO);

    // another process
    const b = child(file);
    const refused = await b.next();
    expect(refused).toMatchObject({ held: false, code: 'BACKEND_UNAVAILABLE', refusal: 'owned' });
    const msg = String(refused.message);
    for (const part of [`pid ${a.pid}`, `host ${hostname()}`, rec.started_at, file]) expect(msg).toContain(part);

    // this process: a typed error carrying the holder
    let err: unknown;
    try {
      openSqliteDatabase(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatabaseOwnedError);
    expect((err as DatabaseOwnedError).holder).toMatchObject({ pid: a.pid, host: hostname(), started_at: rec.started_at });

    // the CLI: exit code 2 and one line naming the holder
    const r = await cli(['simulate', '--backend', 'sqlite', '--db', file, '--seed', '5', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`pid ${a.pid}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);

    // the holder still writes, and the lock is still its own
    a.send('write after-refusals');
    expect(await a.next()).toEqual({ wrote: 'after-refusals' });
    expect(lockOf(file).token).toBe(rec.token);

    // released on close: the next writer gets it
    a.send('close');
    expect(await a.next()).toEqual({ closed: true });
    await a.exited;
    expect(existsSync(ownerLockPath(file))).toBe(false);
    const c = child(file);
    expect(await c.next()).toEqual({ held: true, pid: c.pid });
  });

  it('takes over the lock of a SIGKILLed writer; the run then completes and the file verifies', async () => {
    const file = tempDbPath('killed');
    const dead = await killedHolder(file);
    const r = await cli(['simulate', '--backend', 'sqlite', '--db', file, '--seed', '9', '--until-done', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(ownerLockPath(file))).toBe(false); // released when the command closed its ports

    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    const cache = new SqlitePersonaCache(sdb);
    await sdb.release();
    try {
      const audit = await store.readAudit();
      expect(audit.length).toBeGreaterThan(0);
      expect(verifyAuditChain(audit).ok).toBe(true);
      expect(await cache.get('before-kill')).toEqual({ wrote_by: String(dead) }); // committed before the kill: kept
      expect(lockOf(file).pid).toBe(process.pid);
    } finally {
      await store.close();
      await cache.close();
    }
    expect(existsSync(ownerLockPath(file))).toBe(false);
  });

  // child processes start slowly on a loaded 2-core machine: a generous bound, no assertion on time
  it(`lets exactly one of several processes take over a stale lock (seed ${SEED}, ${RACE_ROUNDS} rounds)`, { timeout: 240_000 }, async () => {
    const rng = new SeededRng(SEED);
    const file = tempDbPath('race');
    await killedHolder(file);
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const n = 3 + rng.int(2); // 3..4 contenders
      const racers = Array.from({ length: n }, () => child(file, ['--wait-go', '--barrier', `${file}.barrier-${round}`, String(n)]));
      for (const c of racers) expect(await c.next()).toEqual({ ready: true });
      // release them together, in a seeded order
      const order = racers.map((_, i) => i).sort((x, y) => rng.int(1000) - rng.int(1000) || x - y);
      for (const i of order) (racers[i] as Child).send('go');
      const results = await Promise.all(racers.map((c) => c.next()));
      const context = `seed ${SEED}, round ${round}, ${n} contenders: ${JSON.stringify(results)}`;
      const winners = results.filter((x) => x.held === true);
      expect(winners, context).toHaveLength(1);
      const winner = winners[0] as { pid: number };
      expect(lockOf(file).pid, context).toBe(winner.pid);
      for (const x of results.filter((y) => y.held !== true)) {
        expect(x, context).toMatchObject({ held: false, refusal: 'owned' });
        expect(String(x.message), context).toContain(`pid ${winner.pid}`);
      }
      // the winner writes; then every racer goes, the winner killed so the next round races for a stale lock again
      const w = racers.find((c) => c.pid === winner.pid) as Child;
      w.send(`write round-${round}`);
      expect(await w.next()).toEqual({ wrote: `round-${round}` });
      for (const c of racers) c.proc.kill('SIGKILL');
      for (const c of racers) await c.exited;
    }
    const sdb = openSqliteDatabase(file);
    const cache = new SqlitePersonaCache(sdb);
    await sdb.release();
    expect((await cache.list()).sort()).toEqual(['before-kill', ...Array.from({ length: RACE_ROUNDS }, (_, i) => `round-${i}`)].sort());
    await cache.close();
  });

  it('never takes over a lock from another host, nor an unreadable one, and leaves both as they were', () => {
    const file = tempDbPath('foreign-lock');
    const lock = ownerLockPath(file);
    const other: OwnerRecord = { pid: 4242, host: `not-${hostname()}`, started_at: '2026-11-27T10:00:00.000Z', token: 't-other', file };
    writeFileSync(lock, JSON.stringify(other));
    expect(() => openSqliteDatabase(file)).toThrow(DatabaseOwnedError);
    try {
      openSqliteDatabase(file);
    } catch (e) {
      const err = e as DatabaseOwnedError;
      expect(err.refusal).toBe('other_host');
      expect(err.message).toContain(`pid 4242 on host not-${hostname()} since 2026-11-27T10:00:00.000Z`);
      expect(err.message).toContain(`delete ${lock} by hand`);
    }
    expect(readFileSync(lock, 'utf8')).toBe(JSON.stringify(other));

    writeFileSync(lock, '{"pid": 12');
    expect(() => openSqliteDatabase(file)).toThrow(/cannot be read .*delete .*\.owner and retry/);
    expect(readFileSync(lock, 'utf8')).toBe('{"pid": 12');
  });

  it.skipIf(!existsSync('/proc/self/stat'))('takes over a lock whose pid was reused by a later process (Linux: /proc start time)', async () => {
    const file = tempDbPath('reused');
    // this very pid, but a process start time that is not ours: the holder that wrote it is gone
    const stale: OwnerRecord = { pid: process.pid, host: hostname(), started_at: '2026-11-27T10:00:00.000Z', token: 't-old', file, proc_start: '1' };
    writeFileSync(ownerLockPath(file), JSON.stringify(stale));
    const sdb = openSqliteDatabase(file);
    expect(lockOf(file).token).not.toBe('t-old');
    await sdb.release();
    expect(existsSync(ownerLockPath(file))).toBe(false);
  });

  it('opens a file once per process (reference-counted): one lock, released by the last close', async () => {
    const file = tempDbPath('refcount');
    const one = openSqliteDatabase(file);
    const two = openSqliteDatabase(file);
    expect(two).toBe(one);
    const token = lockOf(file).token;
    await one.release();
    expect(lockOf(file).token).toBe(token);
    await two.release();
    expect(existsSync(ownerLockPath(file))).toBe(false);
  });

  it('releases the lock on a normal exit that skipped close', async () => {
    const file = tempDbPath('exit');
    const a = child(file);
    expect(await a.next()).toMatchObject({ held: true });
    a.send('exit');
    expect((await a.exited).code).toBe(0);
    expect(existsSync(ownerLockPath(file))).toBe(false);
  });
});
