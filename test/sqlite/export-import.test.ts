/**
 * Snapshots move a whole state memory ⇄ SQLite; export is canonical (export → import → export
 * gives the same bytes); import is all or nothing (a failure at any point leaves the target's
 * files byte for byte as they were); the CLI refuses bad snapshots with exit 2.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exportSnapshot, importSnapshot, parseSnapshot, snapshotText, SNAPSHOT_SECTIONS } from '../../src/cli/snapshot.ts';
import { backendTarget } from '../../src/cli/commands/export.ts';
import { importIntoSqlite } from '../../src/cli/commands/import.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { MemoryRowStore } from '../../src/adapters/hnsw/hnsw-row-store.ts';
import { tempDbPath } from './temp-db.ts';
import {
  cliIo,
  closeAll,
  emptyDbInOwnFolder,
  folderState,
  heldMemories,
  inOwnFolder,
  memoryPorts,
  populate,
  resealed,
  run,
  someMemories,
  sqlitePorts,
  stormRun,
} from './snapshot-support.ts';

const SEED = Number(process.env.CHIMERA_SNAPSHOT_SEED ?? 20261128);

describe('sqlite: export and import', () => {
  it('memory → SQLite → memory keeps every section, memories and their vectors included', async () => {
    const clock = new VirtualClock();
    const mem = await memoryPorts(clock);
    await populate(mem, clock);
    const source = heldMemories(someMemories());
    const snap = parseSnapshot(snapshotText(await exportSnapshot(mem, 'memory', { memories: source })), 'memory export');
    expect(snap.counts).toMatchObject({ campaigns: 3, tasks: 15, audit: 12, queue_items: 12, persona_cache: 1, persona_memories: 3, run_events: 2 });
    expect(snap.idempotency_keys).toHaveLength(3); // the in-memory store lists them too (beside its port)
    expect(snap.persona_memories?.map((m) => m.id)).toEqual(['mem-a', 'mem-b', 'mem-c']); // canonical order
    // the lease held at export is written as the redelivery it becomes
    expect(snap.queues.task.flatMap((d) => d.items).filter((i) => i.attempts === 1)).toHaveLength(1);

    const file = tempDbPath('import');
    const sql = await sqlitePorts(file, new VirtualClock(clock.now_ms()));
    const target = heldMemories();
    const progress: string[] = [];
    const counts = await importSnapshot(sql, snap, { where: file, now_ms: clock.now_ms(), onProgress: (w) => progress.push(w), memories: target });
    expect(counts.audit).toBe(12);
    expect(progress).toContain('records');
    const vec = target.records.get('mem-a')!.vector;
    expect(Object.is(vec[1], -0)).toBe(true);
    expect(vec[2]).toBe(new Float32Array([1.4e-45])[0]);
    const back = await exportSnapshot(sql, 'sqlite', { memories: target });
    for (const s of SNAPSHOT_SECTIONS) expect(back.digest.sections[s], s).toBe(snap.digest.sections[s]);
    // a second import into the same store is refused
    await expect(importSnapshot(sql, snap, { where: file, now_ms: 0 })).rejects.toThrow(/is not empty/);
    await closeAll(sql);

    const sql2 = await sqlitePorts(file, new VirtualClock(clock.now_ms()));
    const fromFile = await exportSnapshot(sql2, 'sqlite', { memories: target });
    await closeAll(sql2);
    const mem2 = await memoryPorts(new VirtualClock(clock.now_ms()));
    await importSnapshot(mem2, fromFile, { where: 'memory', now_ms: clock.now_ms(), memories: heldMemories() });
    const again = await exportSnapshot(mem2, 'memory');
    expect(again.audit).toEqual(snap.audit);
    expect(again.tasks).toEqual(snap.tasks);
    expect(again.campaigns).toEqual(snap.campaigns);
    expect(again.digest.sections['queues.task']).toBe(snap.digest.sections['queues.task']); // attempts and times kept by the memory queue too
    await closeAll(mem2);
    await closeAll(mem);
  });

  it('a real simulated run (storm, SQLite, memories): export → import → export gives the same bytes', async () => {
    const src = await stormRun();
    const out = inOwnFolder('snap', 'a.json');
    const first = await run(['export', '--backend', 'sqlite', '--db', src, '--out', out]);
    expect(first.code, first.err).toBe(0);
    const a = readFileSync(out, 'utf8');
    const snap = parseSnapshot(a, 'a');
    // the run has what the issue names: escalations, retries, outputs, memories, queue items, run events
    expect(snap.audit.some((e) => e.after_status === 'ESC_HITL'), 'an escalation').toBe(true);
    expect(snap.tasks.some((t) => t.attempts > 0), 'a retry').toBe(true);
    expect(snap.tasks.some((t) => t.output_data !== null), 'an output').toBe(true);
    expect(snap.counts.persona_memories).toBeGreaterThan(0);
    expect(snap.counts.queue_items).toBeGreaterThan(0);
    expect(snap.counts.run_events).toBeGreaterThan(0);
    expect(snap.idempotency_keys?.length).toBeGreaterThan(0);
    expect(first.err).toContain(`digest sha256:${snap.digest.whole}`);
    expect(a).toBe(snapshotText(snap)); // the file is canonical JSON

    const dst = inOwnFolder('roundtrip');
    const imp = await run(['import', '--backend', 'sqlite', '--db', dst, '--expect-digest', snap.digest.whole, out]);
    expect(imp.code, imp.err).toBe(0);
    expect(imp.err).toMatch(/every section matches the digest/);
    expect(existsSync(`${dirname(dst)}/persona-memory/rows.sqlite`)).toBe(true);
    const second = await run(['export', '--backend', 'sqlite', '--db', dst]);
    expect(second.code, second.err).toBe(0);
    expect(second.out).toBe(a);
    // and once more, from the copy of the copy
    const b = inOwnFolder('snap', 'b.json');
    writeFileSync(b, second.out);
    const dst2 = inOwnFolder('roundtrip2');
    expect((await run(['import', '--backend', 'sqlite', '--db', dst2, b])).code).toBe(0);
    expect((await run(['export', '--backend', 'sqlite', '--db', dst2])).out).toBe(a);
  });

  it('an import that fails at any point leaves the target as it was: new file, or an existing empty one', async () => {
    const clock = new VirtualClock();
    const mem = await memoryPorts(clock);
    await populate(mem, clock);
    const snap = parseSnapshot(snapshotText(await exportSnapshot(mem, 'memory', { memories: heldMemories(someMemories()) })), 'x');
    await closeAll(mem);
    let calls = 0;
    await importIntoSqlite(snap, target(inOwnFolder('count')), { now_ms: 0, onProgress: () => void (calls += 1) });
    const rng = new SeededRng(SEED);
    const points = Array.from({ length: 8 }, () => 1 + rng.int(calls));
    points.push(calls); // the last progress report: everything written, not yet verified
    for (const [k, at] of points.entries()) {
      const file = k % 2 ? await emptyDbInOwnFolder('fail') : inOwnFolder('fail');
      const before = folderState(dirname(file));
      let n = 0;
      const failing = () => {
        if (++n === at) throw new Error(`injected failure at progress report ${at}`);
      };
      await expect(importIntoSqlite(snap, target(file), { now_ms: 0, onProgress: failing }), `seed ${SEED}, failure at ${at}`).rejects.toThrow(/injected failure/);
      expect(folderState(dirname(file)), `seed ${SEED}, failure at ${at} of ${calls}, ${k % 2 ? 'existing' : 'new'} file`).toEqual(before);
    }
    // a folder made for the import goes again
    const deep = join(dirname(inOwnFolder('fail-deep')), 'made', 'target.db');
    await expect(importIntoSqlite(snap, target(deep), { now_ms: 0, onProgress: () => { throw new Error('injected failure'); } })).rejects.toThrow(/injected/);
    expect(existsSync(dirname(deep))).toBe(false);
    // and the same import without a failure goes through, into an existing empty file
    const ok = await emptyDbInOwnFolder('fail-then-ok');
    expect((await importIntoSqlite(snap, target(ok), { now_ms: 0 })).persona_memories).toBe(3);
  });

  it('a non-empty target is refused before anything is written: rows, a foreign file, an open file, memories beside it', async () => {
    const clock = new VirtualClock();
    const mem = await memoryPorts(clock);
    await populate(mem, clock);
    const snapFile = inOwnFolder('snap', 's.json');
    writeFileSync(snapFile, snapshotText(await exportSnapshot(mem, 'memory', { memories: heldMemories(someMemories()) })));
    await closeAll(mem);

    const full = inOwnFolder('full');
    const p = await sqlitePorts(full, new VirtualClock());
    await populate(p, new VirtualClock());
    await closeAll(p);
    const foreign = inOwnFolder('foreign');
    const f = new Database(foreign);
    f.exec('CREATE TABLE notes (x TEXT)');
    f.close();
    const open = await emptyDbInOwnFolder('open');
    const withMemories = await emptyDbInOwnFolder('memories');
    mkdirSync(`${dirname(withMemories)}/persona-memory`, { recursive: true });
    const rs = MemoryRowStore.open(`${dirname(withMemories)}/persona-memory/rows.sqlite`);
    rs.upsert(someMemories().slice(0, 1));
    rs.close();
    const text = inOwnFolder('text');
    writeFileSync(text, 'hello, not a database\n');

    const holder = new Database(open); // another process would hold it like this
    holder.pragma('journal_mode = WAL');
    holder.prepare('SELECT count(*) FROM campaigns').get();
    try {
      const cases: [string, string, RegExp][] = [
        ['rows', full, /is not empty \(it holds rows in audit_log, campaigns, .*tasks/],
        ['foreign', foreign, /another application/],
        ['open', open, /is open in another process or was not closed cleanly \(target\.db-shm, target\.db-wal|is open in another process or was not closed cleanly \(target\.db-wal, target\.db-shm/],
        ['memories', withMemories, /already holds 1 persona memories/],
        ['text', text, /is not a SQLite database/],
      ];
      for (const [label, file, message] of cases) {
        const before = folderState(dirname(file));
        const r = await run(['import', '--backend', 'sqlite', '--db', file, snapFile]);
        expect(r.code, label).toBe(2);
        expect(r.err, label).toMatch(message);
        expect(folderState(dirname(file)), label).toEqual(before);
      }
    } finally {
      holder.close();
    }
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
      const r = await run(['export', '--backend', 'sqlite', '--db', file]);
      expect(r.code, r.err).toBe(0);
      const snap = parseSnapshot(r.out, 'export');
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
    const good = JSON.parse(snapshotText(await exportSnapshot(mem, 'memory', { memories: heldMemories(someMemories()) }))) as Record<string, unknown> & {
      counts: Record<string, number>;
      tasks: Record<string, unknown>[];
      audit: Record<string, unknown>[];
      campaigns: Record<string, unknown>[];
    };
    await closeAll(mem);
    const orphan = { ...good.tasks[0]!, id: '00000000-0000-4000-8000-00000000abcd', campaign_id: '00000000-0000-4000-8000-00000000dead' };
    const cases: [string, string, RegExp][] = [
      ['not json', '{"format": "chimera-snap', /is not valid JSON/],
      ['other json', JSON.stringify({ hello: 'world' }), /is not a Chimera snapshot/],
      ['version 1', JSON.stringify({ ...good, version: 1 }), /snapshot version 1, which carries no digest; this build reads version 2 only/],
      ['future version', JSON.stringify({ ...good, version: 9 }), /snapshot version 9; this build reads version 2/],
      ['no digest', JSON.stringify({ ...good, digest: undefined }), /has no valid digest/],
      // the checks behind the digest, reached with digests recomputed after the edit
      ['wrong count', JSON.stringify(resealed({ ...good, counts: { ...good.counts, tasks: 99 } })), /counts\.tasks: says 99 but the snapshot holds 15/],
      ['bad record', JSON.stringify(resealed({ ...good, tasks: [{ ...good.tasks[0], confidence_score: 3 }, ...good.tasks.slice(1)] })), /tasks\.0\.confidence_score/],
      ['orphan task', JSON.stringify(resealed({ ...good, tasks: [...good.tasks, orphan], counts: { ...good.counts, tasks: 16 } })), /campaign 00000000-0000-4000-8000-00000000dead is not in the snapshot/],
      ['duplicate task', JSON.stringify(resealed({ ...good, tasks: [...good.tasks, good.tasks[3]], counts: { ...good.counts, tasks: 16 } })), /tasks\.15: .* appears twice/],
      ['tampered audit', JSON.stringify(resealed({ ...good, audit: good.audit.map((e) => (e.seq === 5 ? { ...e, actor: 'mallory' } : e)) })), /audit chain is broken at seq 5/],
    ];
    for (const [label, text, message] of cases) {
      const file = tempDbPath(label.replace(/ /g, '-')) + '.json';
      writeFileSync(file, text);
      const db = inOwnFolder('never');
      const r = await run(['import', '--backend', 'sqlite', '--db', db, file]);
      expect(r.code, label).toBe(2);
      expect(r.err, label).toMatch(message);
      expect(r.err, label).toContain(file);
      expect(folderState(dirname(db)), label).toEqual(new Map());
    }
    const r1 = await run(['export', '--backend', 'sqlite', '--db', tempDbPath('missing')]);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/no database at/);
    const r2 = await run(['export', '--backend', 'postgres']);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/--backend must be one of memory, sqlite/);
    const snapshot = join(dirname(tempDbPath('x')), 'any.json');
    writeFileSync(snapshot, '{}');
    const r3 = await run(['import', '--backend', 'memory', '--expect-digest', 'abc', snapshot]);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/--expect-digest must be a SHA-256 in hex/);
  });
});

function target(file: string) {
  const t = backendTarget({ backend: 'sqlite', db: file }, { ...cliIo() });
  return { ...t, file };
}
