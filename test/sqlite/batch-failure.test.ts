/**
 * A batch whose held writes cannot reach the file (disk full, simulated with a real SQLite
 * limit: PRAGMA max_page_count) is lost whole, like a crash: the file keeps the state as of
 * the last checkpoint, and nothing in memory (row cache, held writes, audit head, queue mirrors)
 * keeps what never reached it. Never half a batch, and never an uncaught exception.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { verifyAuditChain } from '../../src/domain/audit.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { fixtures } from '../support/fixtures.ts';
import { tempDbPath } from './temp-db.ts';

/** The file may grow by `pages` more pages at most (SQLITE_FULL beyond). */
function diskNearlyFull(sdb: SqliteDatabase, pages = 2): void {
  const now = Number(sdb.db.pragma('page_count', { simple: true }));
  sdb.db.pragma(`max_page_count = ${now + pages}`);
}
function diskFreed(sdb: SqliteDatabase): void {
  sdb.db.pragma('max_page_count = 1073741823');
}
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('sqlite: a batch that cannot be written', () => {
  const opened: SqliteDatabase[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) if (s.isOpen) await s.release().catch(() => undefined);
  });

  /** A file with one campaign and one audit event, committed; `sdb` holds the only ref. */
  async function committed(seed: number) {
    const f = fixtures(seed);
    const file = tempDbPath('full');
    const sdb = openSqliteDatabase(file);
    opened.push(sdb);
    const store = new SqliteStateStore(sdb);
    const c = f.campaign();
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.appendAudit(f.audit({ campaign_id: c.id }));
    });
    sdb.checkpoint();
    const big = () => f.task(c.id, { input_data: { text: 'x'.repeat(3000) } });
    return { f, file, sdb, store, c, big };
  }

  /** The state as of the checkpoint, in this process and (after close) in the file. */
  async function expectCheckpointState(s: SqliteStateStore, campaignId: string, lostTask: string) {
    expect(await s.getTask(lostTask)).toBeNull();
    expect(await s.listTasks()).toEqual([]);
    expect(await s.countTasks(campaignId)).toMatchObject({ PENDING: 0 });
    expect((await s.auditHead())?.seq).toBe(1);
    expect((await s.readAudit()).map((e) => e.seq)).toEqual([1]);
    expect(await s.listIdempotencyKeys()).toEqual([]);
    expect((await s.getCampaign(campaignId))?.state_version).toBe(1);
  }

  it('a read that must flush held writes and hits a full disk loses the whole batch, not half of it', async () => {
    const { f, file, sdb, store, c, big } = await committed(11);
    const tasks = Array.from({ length: 60 }, big);
    await store.transaction(async (tx) => {
      await tx.updateCampaign(c.id, 1, { status: 'ACTIVE' });
      await tx.insertTasks(tasks);
      await tx.appendAudit(f.audit({ campaign_id: c.id }));
      expect(await tx.claimIdempotencyKey('k1')).toBe(true);
    });
    diskNearlyFull(sdb);
    await expect(store.listTasks()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    diskFreed(sdb);
    await expectCheckpointState(store, c.id, tasks[0]!.id);
    // the chain goes on from the head that is in the file
    await store.transaction(async (tx) => expect((await tx.appendAudit(f.audit())).seq).toBe(2));
    await store.close();
    await sdb.release();

    const again = openSqliteDatabase(file);
    opened.push(again);
    const s2 = new SqliteStateStore(again);
    const audit = await s2.readAudit();
    expect(verifyAuditChain(audit).ok).toBe(true);
    expect(audit.map((e) => e.seq)).toEqual([1, 2]);
    expect(await s2.listTasks()).toEqual([]);
    await s2.close();
  });

  it('a lease taken in a lost batch is never handed out again: its holder cannot acknowledge the next claim', async () => {
    const { sdb, store, c, big } = await committed(14);
    const clock = new VirtualClock(0);
    const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    await q.enqueue('a', [{ id: 'x', payload: { n: 1 } }]);
    sdb.checkpoint();
    const lost = await q.claim('a', 'w1', 1000);
    expect(lost?.item.id).toBe('x');
    await store.transaction(async (tx) => tx.insertTasks(Array.from({ length: 60 }, big)));
    diskNearlyFull(sdb);
    await expect(store.listTasks({ campaign_id: c.id })).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    diskFreed(sdb);
    // the claim was lost with its batch: the item waits again, with the same attempt count
    expect(await q.depth('a')).toEqual({ ready: 1, delayed: 0, leased: 0 });
    const next = await q.claim('a', 'w2', 1000);
    expect(next?.item.id).toBe('x');
    expect(next?.lease_id).not.toBe(lost?.lease_id);
    expect(await q.ack('a', lost?.lease_id ?? '')).toBe(false);
    expect(await q.ack('a', next?.lease_id ?? '')).toBe(true);
    await q.close();
    await store.close();
  });

  it('a unit that catches the failed flush of its read cannot commit the rest of the batch', async () => {
    const { f, file, sdb, store, c, big } = await committed(12);
    const earlier = big();
    await store.transaction(async (tx) => {
      await tx.insertTasks([earlier]);
      await tx.appendAudit(f.audit({ campaign_id: c.id }));
    });
    const mine = Array.from({ length: 60 }, big);
    await expect(
      store.transaction(async (tx) => {
        await tx.insertTasks(mine);
        expect(await tx.claimIdempotencyKey('k1')).toBe(true);
        diskNearlyFull(sdb);
        await store.countTasks().catch(() => undefined); // swallowed
        diskFreed(sdb);
        await tx.appendAudit(f.audit({ campaign_id: c.id }));
        return 'done';
      }),
    ).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    await expectCheckpointState(store, c.id, earlier.id);
    expect(await store.getTask(mine[0]!.id)).toBeNull();
    await store.close();
    await sdb.release();

    const again = openSqliteDatabase(file);
    opened.push(again);
    const s2 = new SqliteStateStore(again);
    await expectCheckpointState(s2, c.id, earlier.id);
    await s2.close();
  });

  it('a commit armed for the next turn of the event loop that fails is reported to the next call, not thrown from nowhere', async () => {
    const { sdb, store, c, big } = await committed(13);
    const clock = new VirtualClock(0);
    const q = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    const tasks = Array.from({ length: 60 }, big);
    const t = tasks[0]!;
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      diskNearlyFull(sdb, 0);
      await store.transaction((tx) => tx.insertTasks(tasks));
      await q.enqueue('a', [{ id: 'x', payload: { n: 1 } }]);
      await tick(); // the armed commit runs here, and fails
      await tick();
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    diskFreed(sdb);
    expect(uncaught).toEqual([]);
    expect(sdb.db.inTransaction).toBe(false);
    // the next call hears about it, once
    await expect(store.getTask(t.id)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(await store.getTask(t.id)).toBeNull();
    expect(await q.depth('a')).toEqual({ ready: 0, delayed: 0, leased: 0 });
    await expectCheckpointState(store, c.id, t.id);
    await q.close();
    await store.close();
  });

  it('closing with a batch that cannot be written still closes the file', async () => {
    const { sdb, store, big } = await committed(14);
    await store.transaction((tx) => tx.insertTasks(Array.from({ length: 60 }, big)));
    diskNearlyFull(sdb, 0);
    await store.close();
    await expect(sdb.release()).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    expect(sdb.db.open).toBe(false);
  });
});
