/** Opening a SQLite file: pragmas, one connection per file, durability across reopen, close. */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { loadMigrationFiles } from '../../src/adapters/sqlite/sqlite-migrations.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { SqliteRunLog } from '../../src/adapters/sqlite/sqlite-run-log.ts';
import { guardStateStore } from '../../src/ports/guards/guarded-state-store.ts';
import { composePorts } from '../../src/config/compose.ts';
import { parseConfig } from '../../src/config/config.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { verifyAuditChain } from '../../src/domain/audit.ts';
import { fixtures } from '../support/fixtures.ts';
import { tempDbPath } from './temp-db.ts';

describe('sqlite: opening a file', () => {
  it('sets WAL, synchronous=FULL and foreign keys, and records the migrations', async () => {
    const sdb = openSqliteDatabase(tempDbPath());
    expect(sdb.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sdb.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(sdb.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sdb.db.pragma('application_id', { simple: true })).toBe(0x43484d52);
    const rows = sdb.db.prepare('SELECT version, name, length(checksum) AS n FROM chimera_migrations').all();
    expect(rows).toEqual(loadMigrationFiles().map((m) => ({ version: m.version, name: m.name, n: 64 })));
    expect(rows[0]).toEqual({ version: 1, name: 'initial', n: 64 });
    await sdb.release();
    expect(sdb.isOpen).toBe(false);
  });

  it('opening the same file twice in one process shares one connection', async () => {
    const file = tempDbPath();
    const a = openSqliteDatabase(file);
    const b = openSqliteDatabase(file);
    expect(b).toBe(a);
    await a.release();
    expect(a.isOpen).toBe(true);
    await b.release();
    expect(a.isOpen).toBe(false);
  });

  it('state, leases and the run log survive closing and reopening the file', async () => {
    const file = tempDbPath();
    const f = fixtures(3);
    const clock = new VirtualClock();
    const c = f.campaign();
    const t = f.task(c.id);
    {
      const sdb = openSqliteDatabase(file);
      const store = guardStateStore(new SqliteStateStore(sdb));
      const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
      const log = new SqliteRunLog(sdb);
      await sdb.release();
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.insertTasks([t]);
        await tx.appendAudit(f.audit({ entity_id: c.id, campaign_id: c.id }));
      });
      await q.enqueue('task_queue:x', [{ id: 'a', payload: { n: 1 } }, { id: 'b', payload: { n: 2 } }]);
      const lease = await q.claim('task_queue:x', 'w1', 1000);
      expect(lease?.lease_id).toBe('L1.0'); // item seq 1, first hand-out
      await log.startRun({ run_id: 'r1', seed: 42, config: { a: 1 }, scenario: 'smoke', created_at: f.t0 }, { step: 0, tick: 0, clock_ms: 0 });
      await log.append([{ step: 1, kind: 'x' }, { step: 2, kind: 'y' }], { step: 2, tick: 1, clock_ms: 10 });
      await store.close();
      await store.close(); // idempotent
      await q.close();
      await log.close();
      expect(sdb.isOpen).toBe(false);
    }
    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    const log = new SqliteRunLog(sdb);
    await sdb.release();
    expect(await store.getCampaign(c.id)).toEqual(c);
    expect(await store.getTask(t.id)).toEqual(t);
    expect(verifyAuditChain(await store.readAudit()).ok).toBe(true);
    expect(await q.depth('task_queue:x')).toEqual({ ready: 1, delayed: 0, leased: 1 });
    clock.advance(1000);
    expect(await q.redeliverExpired('task_queue:x')).toEqual(['a']);
    expect((await q.claim('task_queue:x', 'w2', 1000))?.lease_id).toBe('L1.1'); // the same item's second hand-out: a new id
    await q.enqueue('task_queue:x', [{ id: 'c', payload: { n: 3 } }]);
    expect((await q.peek('task_queue:x', 5)).map((i) => i.id)).toEqual(['b', 'c']); // seqs continue after a reopen
    expect(await log.loadRun()).toMatchObject({ header: { run_id: 'r1', seed: 42 }, progress: { step: 2, tick: 1, clock_ms: 10 } });
    expect(await log.readEvents(1)).toEqual([{ step: 2, kind: 'y' }]);
    expect(await log.countEvents()).toBe(2);
    await expect(log.startRun({ run_id: 'r2', seed: 1, config: {}, scenario: 's', created_at: f.t0 }, { step: 0, tick: 0, clock_ms: 0 })).rejects.toMatchObject({
      code: 'DUPLICATE',
    });
    await Promise.all([store.close(), q.close(), log.close()]);
  });

  it('port calls made inside a unit of work join it and roll back with it', async () => {
    const clock = new VirtualClock();
    const sdb = openSqliteDatabase(tempDbPath());
    const store = guardStateStore(new SqliteStateStore(sdb));
    const q = new SqliteQueue<{ n: number }>(sdb, clock);
    await sdb.release();
    const f = fixtures(4);
    const c = f.campaign();
    const err = await store
      .transaction(async (tx) => {
        await tx.insertCampaign(c);
        await q.enqueue('task_queue:y', [{ id: 'a', payload: { n: 1 } }]);
        expect(await store.getCampaign(c.id)).toEqual(c); // sees its own unit of work
        throw new Error('boom');
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('boom');
    expect(await store.getCampaign(c.id)).toBeNull();
    expect(await q.depth('task_queue:y')).toEqual({ ready: 0, delayed: 0, leased: 0 });
    await store.close();
    await q.close();
  });

  it('unit after unit, calls from inside join and calls from outside wait (async context is tracked only while units run)', async () => {
    const clock = new VirtualClock();
    const sdb = openSqliteDatabase(tempDbPath());
    const store = guardStateStore(new SqliteStateStore(sdb));
    const q = new SqliteQueue<{ n: number }>(sdb, clock);
    await sdb.release();
    const f = fixtures(6);
    for (let round = 0; round < 3; round++) {
      const c = f.campaign();
      let leftover: Promise<number> | null = null;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const unit = store
        .transaction(async (tx) => {
          await tx.insertCampaign(c);
          await q.enqueue('task_queue:u', [{ id: `in-${round}`, payload: { n: round } }]); // joins
          // started inside, runs on after the unit ended: must not slip into a later unit
          leftover = gate.then(() => q.enqueue('task_queue:u', [{ id: `late-${round}`, payload: { n: round } }]));
          await new Promise((r) => setImmediate(r));
          throw new Error('boom');
        })
        .catch((e: unknown) => e);
      // from outside, while the unit runs: waits for it, so it is not rolled back with it
      const outside = q.enqueue('task_queue:u', [{ id: `out-${round}`, payload: { n: round } }]);
      expect(((await unit) as Error).message).toBe('boom');
      expect(await outside).toBe(1);
      // a later unit that fails: the leftover call from the first one is not part of it
      const later = store.transaction(async () => {
        release();
        await new Promise((r) => setImmediate(r));
        throw new Error('later');
      });
      await expect(later).rejects.toThrow('later');
      expect(await (leftover as unknown as Promise<number>)).toBe(1);
      expect(await store.getCampaign(c.id)).toBeNull();
      const ids = (await q.peek('task_queue:u', 100)).map((i) => i.id);
      expect(ids).not.toContain(`in-${round}`);
      expect(ids).toContain(`out-${round}`);
      expect(ids).toContain(`late-${round}`);
    }
    await store.close();
    await q.close();
  });

  it('the run log keeps events in order across appends, and pages them by step', async () => {
    const sdb = openSqliteDatabase(tempDbPath());
    const log = new SqliteRunLog(sdb);
    await sdb.release();
    await log.startRun({ run_id: 'r', seed: 1, config: {}, scenario: 's', created_at: '2026-01-01T00:00:00.000Z' }, { step: 0, tick: 0, clock_ms: 0 });
    const all: { step: number; i: number }[] = [];
    for (const [n, step] of [[0, 1], [1, 2], [16, 3], [37, 4], [48, 5]] as const) {
      const batch = Array.from({ length: n }, (_, k) => ({ step, i: all.length + k }));
      all.push(...batch);
      await log.append(batch, { step, tick: step, clock_ms: 0 });
    }
    expect(await log.countEvents()).toBe(all.length);
    expect(await log.readEvents()).toEqual(all);
    expect(await log.readEvents(3, 10)).toEqual(all.filter((e) => e.step > 3).slice(0, 10));
    await log.close();
  });

  it('a task for a campaign that does not exist is refused (foreign key)', async () => {
    const sdb = openSqliteDatabase(tempDbPath());
    const store = guardStateStore(new SqliteStateStore(sdb));
    await sdb.release();
    const f = fixtures(5);
    await expect(store.transaction((tx) => tx.insertTasks([f.task(f.rng.uuid())]))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.close();
  });

  it('composePorts builds every port on one file and closes it once', async () => {
    const file = tempDbPath();
    const config = parseConfig({ mode: 'sqlite', sqlite: { path: file } });
    const ports = await composePorts(config, new VirtualClock());
    expect(ports.state.kind).toBe('sqlite');
    expect(ports.taskQueue.kind).toBe('sqlite');
    expect(ports.runLog.kind).toBe('sqlite');
    expect(ports.description).toContain(file);
    await ports.taskQueue.enqueue('task_queue:z', [{ id: 'a', payload: { task_id: 'x' } as never }]);
    expect(await ports.reviewQueue.queues()).toEqual([]); // task and review queues are separate
    await ports.close();
    await ports.close();
    const again = await composePorts(config, new VirtualClock());
    expect(await again.taskQueue.queues()).toEqual(['task_queue:z']);
    await again.close();
  });

  it('batched commits: before the next event, or only at checkpoints once a run owns them; a failed unit rolls back alone', async () => {
    const file = tempDbPath();
    const sdb = openSqliteDatabase(file);
    const store = guardStateStore(new SqliteStateStore(sdb));
    const log = new SqliteRunLog(sdb);
    await sdb.release();
    const f = fixtures(9);
    const onDisk = () => {
      const other = new Database(file, { readonly: true });
      try {
        return (other.prepare('SELECT count(*) AS n FROM campaigns').get() as { n: number }).n;
      } finally {
        other.close();
      }
    };
    const [a, b] = [f.campaign(), f.campaign()];
    await store.transaction((tx) => tx.insertCampaign(a));
    await store.transaction(async (tx) => {
      await tx.insertCampaign(b);
      throw new Error('boom');
    }).catch(() => undefined);
    expect(await store.getCampaign(a.id)).toEqual(a); // earlier unit of the same batch kept
    expect(await store.getCampaign(b.id)).toBeNull(); // and not served from the cache either
    expect(onDisk()).toBe(0); // not committed yet: same macrotask
    await new Promise((r) => setImmediate(r));
    expect(onDisk()).toBe(1); // committed before the process handled anything else
    await log.startRun({ run_id: 'r', seed: 1, config: {}, scenario: 's', created_at: f.t0 }, { step: 0, tick: 0, clock_ms: 0 });
    await store.transaction((tx) => tx.insertCampaign(f.campaign()));
    await new Promise((r) => setImmediate(r));
    expect(onDisk()).toBe(1); // a run owns the checkpoints now: an event-loop turn does not commit
    await log.append([{ step: 1 }], { step: 1, tick: 0, clock_ms: 0 }); // its checkpoint commits at once
    expect(onDisk()).toBe(2);
    await store.close();
    await log.close();
  });
});
