/**
 * Write-behind inside a batch: writes are held in memory and written at the checkpoint. A unit
 * of work that throws must still leave nothing, also when something inside it made the held
 * writes reach SQL first (a list query), and what earlier units held must survive it.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { fixtures } from '../support/fixtures.ts';
import { tempDbPath } from './temp-db.ts';

const boom = new Error('boom');

/** Closes what `close` lists, then opens the file again: a queue on it, as after a restart. */
async function reopenQueue(file: string, clock: VirtualClock, ...close: (() => Promise<unknown>)[]): Promise<SqliteQueue<{ n: number }>> {
  for (const c of close) await c();
  const again = openSqliteDatabase(file);
  const q = new SqliteQueue<{ n: number }>(again, clock, 'task');
  await again.release();
  return q;
}

describe('sqlite: write-behind within a batch', () => {
  it('a unit that flushed held writes and then threw leaves nothing, and keeps what earlier units held', async () => {
    const f = fixtures(3);
    const file = tempDbPath();
    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    const c = f.campaign();
    const kept = f.task(c.id);
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.insertTasks([kept]);
      await tx.appendAudit(f.audit());
      expect(await tx.claimIdempotencyKey('k1')).toBe(true);
    });
    const lost = f.task(c.id);
    await expect(
      store.transaction(async (tx) => {
        await tx.insertTasks([lost]);
        await tx.updateTask(kept.id, { status: 'PROCESSING', attempts: 1 }, 'PENDING');
        await tx.updateCampaign(c.id, 1, { status: 'ACTIVE' });
        await tx.appendAudit(f.audit());
        expect(await tx.claimIdempotencyKey('k2')).toBe(true);
        // a list query inside the unit writes what is held into SQL first
        expect((await store.listTasks({ campaign_id: c.id })).map((t) => t.id).sort()).toEqual([kept.id, lost.id].sort());
        await tx.updateTask(lost.id, { attempts: 2 });
        throw boom;
      }),
    ).rejects.toBe(boom);
    const check = async (s: SqliteStateStore) => {
      expect((await s.listTasks({ campaign_id: c.id })).map((t) => t.id)).toEqual([kept.id]);
      expect(await s.getTask(lost.id)).toBeNull();
      expect((await s.getTask(kept.id))?.status).toBe('PENDING');
      expect((await s.getCampaign(c.id))?.state_version).toBe(1);
      expect((await s.readAudit()).length).toBe(1);
      expect((await s.auditHead())?.seq).toBe(1);
      expect(await s.listIdempotencyKeys()).toEqual(['k1']);
    };
    await check(store);
    // and the next unit sees the chain and keys as they were
    await store.transaction(async (tx) => {
      expect(await tx.claimIdempotencyKey('k1')).toBe(false);
      expect((await tx.appendAudit(f.audit())).seq).toBe(2);
    });
    await store.close();
    await sdb.release();

    const again = openSqliteDatabase(file);
    const reopened = new SqliteStateStore(again);
    await again.release();
    expect((await reopened.readAudit()).length).toBe(2);
    expect((await reopened.getTask(kept.id))?.status).toBe('PENDING');
    expect(await reopened.getTask(lost.id)).toBeNull();
    await reopened.close();
  });

  it('queue calls made inside a unit that throws are undone; an item enqueued and acked in one batch writes no row', async () => {
    const file = tempDbPath();
    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    const clock = new VirtualClock(0);
    const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    await q.enqueue('a', [{ id: 'x', payload: { n: 1 } }]);
    await expect(
      store.transaction(async () => {
        const lease = await q.claim('a', 'w1', 1000);
        expect(lease?.item.id).toBe('x');
        await q.enqueue('a', [{ id: 'y', payload: { n: 2 } }]);
        expect(await q.queues()).toEqual(['a']); // flushes inside the unit
        if (lease) await q.ack('a', lease.lease_id);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await q.depth('a')).toEqual({ ready: 1, delayed: 0, leased: 0 });
    expect((await q.peek('a', 10)).map((i) => i.id)).toEqual(['x']);
    const lease = await q.claim('a', 'w1', 1000);
    expect(lease?.item.payload).toEqual({ n: 1 });
    expect(await q.ack('a', lease?.lease_id ?? '')).toBe(true);
    sdb.checkpoint();
    expect(sdb.db.prepare('SELECT count(*) AS n FROM queue_items').get()).toEqual({ n: 0 });
    await q.enqueue('a', [{ id: 'z', payload: { n: 3 } }]);
    await q.claim('a', 'w2', 1000);
    sdb.checkpoint();
    const q2 = await reopenQueue(file, clock, () => q.close(), () => store.close(), () => sdb.release());
    expect(await q2.depth('a')).toEqual({ ready: 0, delayed: 0, leased: 1 });
    expect((await q2.leased('a', 10)).map((l) => [l.item.id, l.consumer])).toEqual([['z', 'w2']]);
    await q2.close();
  });

  it("a queue space whose first load fails is loaded again on the next call, not taken for empty", async () => {
    const file = tempDbPath();
    const clock = new VirtualClock(0);
    const first = openSqliteDatabase(file);
    const q1 = new SqliteQueue<{ n: number }>(first, clock, 'task');
    await q1.enqueue('a', [{ id: 'x', payload: { n: 1 } }]);
    first.checkpoint();
    await q1.close();
    await first.release();

    const sdb = openSqliteDatabase(file);
    const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    sdb.db.exec('ALTER TABLE queue_items RENAME TO queue_items_away');
    await expect(q.depth('a')).rejects.toThrow(/queue_items/);
    sdb.db.exec('ALTER TABLE queue_items_away RENAME TO queue_items');
    expect(await q.depth('a')).toEqual({ ready: 1, delayed: 0, leased: 0 });
    expect((await q.claim('a', 'w1', 1000))?.item.id).toBe('x');
    await q.close();
    await sdb.release();
  });

  it('a list of new tasks is refused as a whole when one of them already has a row (checked in one statement)', async () => {
    const f = fixtures(5);
    const file = tempDbPath();
    const first = openSqliteDatabase(file);
    const store = new SqliteStateStore(first);
    await first.release();
    const c = f.campaign();
    const [t1, t2, t3, t4] = [f.task(c.id), f.task(c.id), f.task(c.id), f.task(c.id)];
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.insertTasks([t1!, t2!]);
    });
    await store.close();
    // a new connection: nothing cached, the rows are the only record of t1 and t2
    const sdb = openSqliteDatabase(file);
    const again = new SqliteStateStore(sdb);
    await sdb.release();
    await expect(again.transaction((tx) => tx.insertTasks([t3!, t2!]))).rejects.toMatchObject({ code: 'DUPLICATE' });
    await expect(again.transaction((tx) => tx.insertTasks([t4!, t3!, t4!]))).rejects.toMatchObject({ code: 'DUPLICATE' });
    expect(await again.getTask(t3!.id)).toBeNull();
    await again.transaction((tx) => tx.insertTasks([t3!, t4!]));
    expect((await again.listTasks({ campaign_id: c.id })).map((t) => t.id).sort()).toEqual([t1!.id, t2!.id, t3!.id, t4!.id].sort());
    await again.close();
  });
});

describe('sqlite: claim-order numbers', () => {
  it('a unit that reserved a block of numbers and rolled back does not let them be handed out again after a restart', async () => {
    const file = tempDbPath();
    const clock = new VirtualClock(0);
    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    const leases: string[] = [];
    // the first number of the file reserves a block (a write to queue_counters), inside a unit that throws
    await expect(
      store.transaction(async () => {
        await q.enqueue('a', [{ id: 'gone', payload: { n: 0 } }]);
        throw boom;
      }),
    ).rejects.toBe(boom);
    for (const id of ['x', 'y']) {
      await q.enqueue('a', [{ id, payload: { n: 1 } }]);
      const lease = await q.claim('a', 'w1', 1000);
      leases.push(lease?.lease_id ?? '');
      await q.ack('a', lease?.lease_id ?? '');
    }
    const q2 = await reopenQueue(file, clock, () => q.close(), () => store.close(), () => sdb.release());
    for (const id of ['p', 'q', 'r']) {
      await q2.enqueue('a', [{ id, payload: { n: 2 } }]);
      const lease = await q2.claim('a', 'w2', 1000);
      leases.push(lease?.lease_id ?? '');
      await q2.ack('a', lease?.lease_id ?? '');
    }
    await q2.close();
    expect(new Set(leases).size).toBe(leases.length);
  });
});
