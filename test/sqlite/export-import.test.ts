/** Snapshots move a whole state memory ⇄ SQLite; the CLI refuses bad snapshots with exit 2. */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { memoryBackend } from '../../src/config/backends/memory.ts';
import { sqliteBackend } from '../../src/config/backends/sqlite.ts';
import type { RawPorts } from '../../src/config/backends/types.ts';
import { parseConfig } from '../../src/config/config.ts';
import { exportSnapshot, importSnapshot, parseSnapshot, type Snapshot } from '../../src/cli/snapshot.ts';
import { main } from '../../src/cli/main.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../src/domain/schemas.ts';
import { fixtures } from '../support/fixtures.ts';
import { tempDbPath } from './temp-db.ts';

async function memoryPorts(clock: VirtualClock): Promise<RawPorts> {
  return memoryBackend.create({ config: parseConfig({}), clock });
}
async function sqlitePorts(file: string, clock: VirtualClock): Promise<RawPorts> {
  return sqliteBackend.create({ config: parseConfig({ mode: 'sqlite', sqlite: { path: file } }), clock });
}
async function closeAll(p: RawPorts): Promise<void> {
  for (const x of [p.state, p.taskQueue, p.reviewQueue, p.personaCache, p.runLog]) await x.close();
}

/** A small but complete state: campaigns at several versions, tasks in every status, a chain, queues with a lease, cache, run. */
async function populate(p: RawPorts, clock: VirtualClock): Promise<void> {
  const f = fixtures(21);
  for (let i = 0; i < 3; i++) {
    const c = f.campaign({ created_at: `2026-01-0${i + 1}T00:00:00.000Z` });
    await p.state.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.updateCampaign(c.id, 1, { status: 'ACTIVE' });
      const tasks = (['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL'] as const).map((status, k) =>
        f.task(c.id, { status, attempts: k, output_data: status === 'COMPLETED' ? { text: `done ${k}` } : null, confidence_score: status === 'COMPLETED' ? 0.93 : null }),
      );
      await tx.insertTasks(tasks);
      await tx.claimIdempotencyKey(`${tasks[2]!.id}:commit`);
      for (let k = 0; k < 4; k++) await tx.appendAudit(f.audit({ campaign_id: c.id, entity_id: c.id, details: { k, unicode: 'zoë ✓' } }));
      const input = (t: string): WorkerTaskInput => ({ task_id: t, skill_name: 'content_generation', params: { n: i }, persona_id: 'aria' });
      await p.taskQueue.enqueue(`task_queue:${c.id}`, tasks.slice(0, 3).map((t) => ({ id: t.id, payload: input(t.id) })));
      const out: WorkerTaskOutput = { task_id: tasks[1]!.id, skill_name: 'content_generation', result: { text: 'x' }, confidence_score: 0.8, reasoning: 'ok' };
      await p.reviewQueue.enqueue(`review_queue:${c.id}`, [{ id: `${tasks[1]!.id}:0`, payload: out }], { delay_ms: 500 });
    });
  }
  const q = (await p.taskQueue.queues())[0]!;
  await p.taskQueue.claim(q, 'worker-1', 60_000); // a lease held at export time
  await p.personaCache.set('aria', { name: 'Aria', voice: '["warm"]' });
  await p.runLog.startRun({ run_id: 'run-1', seed: 7, config: { tick_ms: 100 }, scenario: { name: 'smoke' }, created_at: f.t0 }, { step: 0, tick: 0, clock_ms: clock.now_ms() });
  await p.runLog.append([{ step: 0, type: 'run.started' }, { step: 1, type: 'campaign.created' }], { step: 1, tick: 0, clock_ms: clock.now_ms() });
}

/** What must survive a round trip (leases become redeliveries; `source` names the backend). */
function comparable(s: Snapshot): unknown {
  const q = (d: { queue: string; items: Snapshot['queues']['task'][number]['items'][number][] }[] | Snapshot['queues']['review']) => d.map((x) => ({ queue: x.queue, items: x.items.map((i) => ({ ...i, leased: false, attempts: i.leased ? i.attempts + 1 : i.attempts })) }));
  return { ...s, source: null, queues: { task: q(s.queues.task), review: q(s.queues.review) } };
}

describe('sqlite: export and import', () => {
  it('memory → SQLite → memory keeps every record and the audit chain', async () => {
    const clock = new VirtualClock();
    const mem = await memoryPorts(clock);
    await populate(mem, clock);
    const snap = parseSnapshot(JSON.stringify(await exportSnapshot(mem, 'memory')), 'memory export');
    expect(snap.counts).toMatchObject({ campaigns: 3, tasks: 15, audit: 12, queue_items: 12, persona_cache: 1, run_events: 2 });
    expect(snap.idempotency_keys).toBeNull(); // the memory port cannot list them
    expect(snap.queues.task.flatMap((d) => d.items).filter((i) => i.leased)).toHaveLength(1);

    const file = tempDbPath('import');
    const sql = await sqlitePorts(file, new VirtualClock(clock.now_ms()));
    const progress: string[] = [];
    const counts = await importSnapshot(sql, snap, { where: file, now_ms: clock.now_ms(), onProgress: (w) => progress.push(w) });
    expect(counts.audit).toBe(12);
    expect(progress).toContain('records');
    const back = await exportSnapshot(sql, 'sqlite');
    expect(comparable(back)).toEqual(comparable({ ...snap, idempotency_keys: [] }));
    // a second import into the same file is refused
    await expect(importSnapshot(sql, snap, { where: file, now_ms: 0 })).rejects.toThrow(/is not empty/);
    await closeAll(sql);

    const sql2 = await sqlitePorts(file, new VirtualClock(clock.now_ms()));
    const fromFile = await exportSnapshot(sql2, 'sqlite');
    await closeAll(sql2);
    const mem2 = await memoryPorts(new VirtualClock(clock.now_ms()));
    await importSnapshot(mem2, fromFile, { where: 'memory', now_ms: clock.now_ms() });
    const again = await exportSnapshot(mem2, 'memory');
    expect(again.audit).toEqual(snap.audit);
    expect(again.tasks).toEqual(snap.tasks);
    expect(again.campaigns).toEqual(snap.campaigns);
    expect(again.counts).toEqual({ ...snap.counts, idempotency_keys: 0 });
    await closeAll(mem2);
    await closeAll(mem);
  });

  it('SQLite → SQLite through the CLI, with idempotency keys and attempts kept', async () => {
    const clock = new VirtualClock();
    const src = tempDbPath('cli-src');
    const p = await sqlitePorts(src, clock);
    await populate(p, clock);
    await closeAll(p);
    const out = tempDbPath('snapshot') + '.json';
    const io = cliIo();
    expect(await main(['export', '--backend', 'sqlite', '--db', src, '--out', out], io)).toBe(0);
    expect(io.err()).toMatch(/exported 3 campaigns, 15 tasks, 12 audit events/);
    const dst = tempDbPath('cli-dst');
    const io2 = cliIo();
    expect(await main(['import', '--backend', 'sqlite', '--db', dst, out], io2)).toBe(0);
    expect(io2.err()).toMatch(/imported 3 campaigns, 15 tasks, 12 audit events \(chain verified\)/);
    const io3 = cliIo();
    expect(await main(['export', '--backend', 'sqlite', '--db', dst], io3)).toBe(0);
    const a = parseSnapshot(readFileSync(out, 'utf8'), 'a');
    const b = parseSnapshot(io3.out(), 'b');
    expect(b.idempotency_keys).toEqual(a.idempotency_keys);
    expect(a.idempotency_keys).toHaveLength(3);
    expect(comparable(b)).toEqual(comparable(a));
  });

  it('an import that fails half-way leaves no database file behind', async () => {
    const clock = new VirtualClock();
    const mem = await memoryPorts(clock);
    await populate(mem, clock);
    const good = await exportSnapshot(mem, 'memory');
    await closeAll(mem);
    // a task whose campaign is not in the snapshot passes the schema but not the foreign key
    const orphan = { ...good.tasks[0]!, id: '00000000-0000-4000-8000-00000000abcd', campaign_id: '00000000-0000-4000-8000-00000000dead' };
    const bad = { ...good, tasks: [...good.tasks, orphan], counts: { ...good.counts, tasks: good.counts.tasks + 1 } };
    const snapFile = tempDbPath('orphan') + '.json';
    writeFileSync(snapFile, JSON.stringify(bad));
    const db = tempDbPath('half');
    const io = cliIo();
    expect(await main(['import', '--backend', 'sqlite', '--db', db, snapFile], io)).toBe(2);
    expect(io.err()).toMatch(/campaign 00000000-0000-4000-8000-00000000dead not found/);
    const dir = dirname(db);
    expect(readdirSync(dir).filter((f) => f.startsWith(basename(db)))).toEqual([]);
  });

  it('exports while another connection holds the write lock (a running app)', async () => {
    const clock = new VirtualClock();
    const file = tempDbPath('busy');
    const p = await sqlitePorts(file, clock);
    await populate(p, clock);
    await closeAll(p);
    const writer = new Database(file);
    writer.exec('BEGIN IMMEDIATE');
    writer.prepare(`UPDATE campaigns SET title = 'uncommitted'`).run();
    try {
      const io = cliIo();
      expect(await main(['export', '--backend', 'sqlite', '--db', file], io), io.err()).toBe(0);
      const snap = parseSnapshot(io.out(), 'export');
      expect(snap.counts.campaigns).toBe(3);
      expect(snap.campaigns.every((c) => c.title !== 'uncommitted')).toBe(true);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });

  it('bad snapshots are refused with a clear message and exit code 2', async () => {
    const clock = new VirtualClock();
    const mem = await memoryPorts(clock);
    await populate(mem, clock);
    const good = await exportSnapshot(mem, 'memory');
    await closeAll(mem);
    const cases: [string, string, RegExp][] = [
      ['not json', '{"format": "chimera-snap', /is not valid JSON/],
      ['other json', JSON.stringify({ hello: 'world' }), /is not a Chimera snapshot/],
      ['future version', JSON.stringify({ ...good, version: 9 }), /snapshot version 9; this build reads version 1/],
      ['wrong count', JSON.stringify({ ...good, counts: { ...good.counts, tasks: 99 } }), /counts\.tasks: says 99 but the snapshot holds 15/],
      ['bad record', JSON.stringify({ ...good, tasks: [{ ...good.tasks[0], confidence_score: 3 }, ...good.tasks.slice(1)] }), /tasks\.0\.confidence_score/],
      ['tampered audit', JSON.stringify({ ...good, audit: good.audit.map((e) => (e.seq === 5 ? { ...e, actor: 'mallory' } : e)) }), /audit chain is broken at seq 5/],
    ];
    for (const [label, text, message] of cases) {
      const file = tempDbPath(label.replace(/ /g, '-')) + '.json';
      writeFileSync(file, text);
      const db = tempDbPath('never');
      const io = cliIo();
      expect(await main(['import', '--backend', 'sqlite', '--db', db, file], io), label).toBe(2);
      expect(io.err(), label).toMatch(message);
      expect(io.err(), label).toContain(file);
    }
    const io = cliIo();
    expect(await main(['export', '--backend', 'sqlite', '--db', tempDbPath('missing')], io)).toBe(2);
    expect(io.err()).toMatch(/no database at/);
    const io2 = cliIo();
    expect(await main(['export', '--backend', 'postgres'], io2)).toBe(2);
    expect(io2.err()).toMatch(/--backend must be one of memory, sqlite/);
  });
});

function cliIo() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  return { stdout: out, stderr: err, env: {}, cwd: process.cwd(), out: () => o, err: () => e };
}
