/**
 * A database written by an older schema (only the first migrations applied) opens with this
 * build, is migrated forward in place and reads back exactly as it was written.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { loadMigrationFiles } from '../../src/adapters/sqlite/sqlite-migrations.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { TASK_COLUMNS, taskToRow } from '../../src/adapters/sqlite/sqlite-rows.ts';
import { fixtures } from '../support/fixtures.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { migrationsUpTo, tempDbPath } from './temp-db.ts';

describe('sqlite: upgrading a database of schema version 1', () => {
  it('keeps every queue item: order, attempts, leases and delays; enqueue and ack go on after it', async () => {
    const file = tempDbPath('v1');
    const clock = new VirtualClock();
    const t0 = clock.now_ms();
    // rows as the version-1 adapter wrote them (0001's queue_items and queue_counters)
    const old = openSqliteDatabase(file, { migrationsDir: migrationsUpTo(1) });
    const row = old.db.prepare(
      `INSERT INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    old.db.transaction(() => {
      row.run('task', 'q:a', 'a4', 4, '{"n":4}', 0, t0, t0, null, null, null);
      row.run('task', 'q:a', 'a1', 1, '{"n":1}', 0, t0, t0, 'L1.0', 'w1', t0 + 60_000);
      row.run('task', 'q:a', 'a3', 3, '{"n":3}', 0, t0, t0, null, null, null);
      row.run('task', 'q:a', 'a2', 7, '{"n":2}', 1, t0, t0, null, null, null); // retried: a new seq, attempts 1
      row.run('task', 'q:b', 'b1', 5, '{"n":10}', 0, t0, t0 + 5_000, null, null, null);
      row.run('review', 'q:a', 'a1', 1, '{"n":100}', 0, t0, t0, null, null, null);
      old.db.prepare(`INSERT INTO queue_counters (space, last_seq, last_lease) VALUES ('task', 1024, 0), ('review', 1024, 0)`).run();
    })();
    await old.release();

    const sdb = openSqliteDatabase(file);
    expect(sdb.db.prepare('SELECT version FROM chimera_migrations ORDER BY version').pluck().all()).toEqual(loadMigrationFiles().map((m) => m.version));
    const tq2 = new SqliteQueue<{ n: number }>(sdb, clock, 'task');
    const rq2 = new SqliteQueue<{ n: number }>(sdb, clock, 'review');
    await sdb.release();
    expect(await tq2.queues()).toEqual(['q:a', 'q:b']);
    expect((await tq2.peek('q:a', 10)).map((it) => [it.id, it.payload.n, it.attempts])).toEqual([['a3', 3, 0], ['a4', 4, 0], ['a2', 2, 1]]);
    expect(await tq2.depth('q:a')).toEqual({ ready: 3, delayed: 0, leased: 1 });
    expect(await tq2.depth('q:b')).toEqual({ ready: 0, delayed: 1, leased: 0 });
    expect(await rq2.peek('q:a', 10)).toEqual([{ id: 'a1', payload: { n: 100 }, attempts: 0, enqueued_at_ms: t0, available_at_ms: t0 }]);
    const lease = { lease_id: 'L1.0' };
    // the lease taken before the upgrade is still acknowledged by its id; claims keep their order
    expect(await tq2.ack('q:a', lease.lease_id)).toBe(true);
    expect((await tq2.claim('q:a', 'w3', 60_000))?.lease_id).toBe('L3.0');
    await tq2.enqueue('q:a', [{ id: 'a5', payload: { n: 5 } }, { id: 'a3', payload: { n: 33 } }]); // a3 is leased: not enqueued again
    expect((await tq2.peek('q:a', 10)).map((it) => it.id)).toEqual(['a4', 'a2', 'a5']);
    expect((await tq2.claim('q:a', 'w4', 60_000))?.lease_id).toBe('L4.0');
    await tq2.close();
    await rq2.close();

    // and a third life reads what the second one wrote
    const again = openSqliteDatabase(file);
    const tq3 = new SqliteQueue<{ n: number }>(again, clock, 'task');
    await again.release();
    expect((await tq3.peek('q:a', 10)).map((it) => [it.id, it.attempts])).toEqual([['a2', 1], ['a5', 0]]);
    expect((await tq3.leased('q:a', 10)).map((l) => [l.item.id, l.consumer])).toEqual([['a3', 'w3'], ['a4', 'w4']]);
    expect((await tq3.peek('q:b', 10)).map((it) => it.id)).toEqual(['b1']);
    await tq3.close();
  });

  it('moves task outputs into task_outputs; tasks read back the same, and a replaced output leaves no row behind', async () => {
    const file = tempDbPath('v1-tasks');
    const f = fixtures(21);
    const c = f.campaign();
    const tasks = [
      f.task(c.id, { status: 'COMPLETED', output_data: { text: 'done', n: [1, 2] }, confidence_score: 0.93 }),
      f.task(c.id, { status: 'PENDING', output_data: null }),
      f.task(c.id, { status: 'ESC_HITL', output_data: { text: 'escalated' }, confidence_score: 0.8 }),
    ];
    // rows as the version-1 adapter wrote them: outputs in tasks.output_data, no output as 'null'
    const old = openSqliteDatabase(file, { migrationsDir: migrationsUpTo(1) });
    old.db.prepare(`INSERT INTO campaigns (id, title, goal, status, state_version, created_at, updated_at, persona_id) VALUES (@id, @title, @goal, @status, @state_version, @created_at, @updated_at, @persona_id)`).run(c);
    const ins = old.db.prepare(`INSERT INTO tasks (${TASK_COLUMNS}) VALUES (${TASK_COLUMNS.split(', ').map(() => '?').join(', ')})`);
    for (const t of tasks) ins.run(Object.values(taskToRow(t)));
    expect(old.db.prepare(`SELECT output_data FROM tasks WHERE id = ?`).pluck().get(tasks[1]!.id)).toBe('null');
    await old.release();

    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    await sdb.release();
    expect(sdb.db.prepare('SELECT count(*) FROM task_outputs').pluck().get()).toBe(2);
    expect(sdb.db.prepare('SELECT count(*) FROM tasks WHERE output_data IS NOT NULL').pluck().get()).toBe(0);
    const listed = await store.listTasks({ campaign_id: c.id });
    expect(listed.map((t) => t.id).sort()).toEqual(tasks.map((t) => t.id).sort());
    for (const t of listed) expect(t).toEqual(await store.getTask(t.id));
    expect((await store.getTask(tasks[0]!.id))?.output_data).toEqual({ text: 'done', n: [1, 2] });
    expect((await store.getTask(tasks[1]!.id))?.output_data).toBeNull();
    expect((await store.listTasks({ status: 'ESC_HITL' })).map((t) => t.id)).toEqual([tasks[2]!.id]);
    expect(await store.countTasks()).toMatchObject({ COMPLETED: 1, PENDING: 1, ESC_HITL: 1 });
    await store.transaction(async (tx) => {
      await tx.updateTask(tasks[2]!.id, { status: 'COMPLETED', output_data: { text: 'edited' } }, 'ESC_HITL');
      await tx.updateTask(tasks[0]!.id, { output_data: null });
    });
    const completed = new Map((await store.listTasks({ status: 'COMPLETED' })).map((t) => [t.id, t.output_data]));
    expect(completed).toEqual(new Map([[tasks[0]!.id, null], [tasks[2]!.id, { text: 'edited' }]]));
    expect(sdb.db.prepare('SELECT output_data FROM task_outputs').pluck().all()).toEqual(['{"text":"edited"}']);
    await store.close();

    const again = openSqliteDatabase(file);
    const store2 = new SqliteStateStore(again);
    await again.release();
    expect((await store2.getTask(tasks[2]!.id))?.output_data).toEqual({ text: 'edited' });
    expect((await store2.getTask(tasks[0]!.id))?.output_data).toBeNull();
    await store2.close();
  });
});
