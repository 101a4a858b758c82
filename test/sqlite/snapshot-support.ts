/** What the snapshot tests share: ports, a small complete state, a real simulated run on SQLite, and looking at files. */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Simulation } from '../../src/app/simulation.ts';
import { memoryBackend } from '../../src/config/backends/memory.ts';
import { sqliteBackend } from '../../src/config/backends/sqlite.ts';
import type { RawPorts } from '../../src/config/backends/types.ts';
import { parseConfig } from '../../src/config/config.ts';
import { computeDigests, type MemoryRows, type Snapshot } from '../../src/cli/snapshot.ts';
import { main } from '../../src/cli/main.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../src/domain/schemas.ts';
import type { MemoryRecord } from '../../src/ports/persona-memory.ts';
import { fixtures } from '../support/fixtures.ts';
import { tempDbPath } from './temp-db.ts';

export async function memoryPorts(clock: VirtualClock): Promise<RawPorts> {
  return memoryBackend.create({ config: parseConfig({}), clock });
}
export async function sqlitePorts(file: string, clock: VirtualClock): Promise<RawPorts> {
  return sqliteBackend.create({ config: parseConfig({ mode: 'sqlite', sqlite: { path: file } }), clock });
}
export async function closeAll(p: RawPorts): Promise<void> {
  for (const x of [p.state, p.taskQueue, p.reviewQueue, p.personaCache, p.runLog]) await x.close();
}

/** Persona memories held in this process, with their vectors. */
export function heldMemories(initial: readonly MemoryRecord[] = []): MemoryRows & { records: Map<string, MemoryRecord> } {
  const records = new Map(initial.map((r) => [r.id, r]));
  return {
    records,
    read: async () => [...records.values()],
    write: async (rs) => {
      for (const r of rs) records.set(r.id, r);
    },
  };
}

/** Three memories with small vectors (one with a negative zero and a subnormal, which base64 keeps exactly). */
export function someMemories(): MemoryRecord[] {
  return ['b', 'a', 'c'].map((k, i) => ({
    id: `mem-${k}`,
    persona_id: 'aria',
    content: `memory ${k} — zoë`,
    category: i === 0 ? 'SOUL' : 'Episodic',
    timestamp: `2026-01-0${i + 1}T00:00:00.000Z`,
    model_id: 'hashing-4',
    vector: new Float32Array([0.1 * (i + 1), -0, 1.4e-45, -2.5]),
  }));
}

/** A small but complete state: campaigns at several versions, tasks in every status, a chain, queues with a lease, cache, run. */
export async function populate(p: RawPorts, clock: VirtualClock): Promise<void> {
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

/**
 * A real run in a SQLite file: the storm scenario (transient errors and retries, skill failures
 * and re-plans, escalations to humans, a pause), persona memories kept beside the file (exact
 * adapter), stopped mid-run so queues hold work. Returns the database file.
 */
export async function stormRun(seed = 7, until_tick = 14): Promise<string> {
  const file = inOwnFolder('storm', 'storm.db');
  const sim = await Simulation.open({ scenario: 'storm', backend: 'sqlite', db: file, engine: { seed }, config: parseConfig({ memory: { adapter: 'exact' } }), keepEvents: false });
  try {
    await sim.run({ until_tick });
    // a few single actions more, so a worker may hold a lease at export time
    for (let i = 0; i < 3; i++) await sim.step();
  } finally {
    await sim.close();
  }
  return file;
}

/** The digests recomputed after an edit (what a forger, or an honest tool, would write). */
export function resealed(doc: Record<string, unknown>): Record<string, unknown> {
  const { digest: _d, ...rest } = doc;
  const d = computeDigests(rest);
  return { ...rest, digest: { algorithm: d.algorithm, sections: { ...d.sections }, whole: d.whole } };
}

/** Every file under `dir` (recursively) with its bytes, folders marked: to compare a folder before and after. */
export function folderState(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(p).isDirectory()) {
        out.set(`${r}/`, 'dir');
        walk(p, r);
      } else out.set(r, readFileSync(p).toString('base64'));
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

/** A path `name` in a fresh folder of its own (persona memory lives in the folder beside a database). */
export function inOwnFolder(label: string, name = 'target.db'): string {
  const dir = `${tempDbPath(label)}.d`;
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** An empty (migrated, closed) Chimera database in a folder of its own; returns the file. */
export async function emptyDbInOwnFolder(label: string): Promise<string> {
  const file = inOwnFolder(label);
  const p = await sqlitePorts(file, new VirtualClock());
  await closeAll(p);
  return file;
}

export function cliIo() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  return { stdout: out, stderr: err, env: {}, cwd: process.cwd(), out: () => o, err: () => e };
}

/** Runs the CLI in-process; returns its exit code and what it wrote. */
export async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = cliIo();
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

export type { Snapshot };
