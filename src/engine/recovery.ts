/**
 * Recovery: how a run already in a store is resumed, exactly.
 *
 * What one process remembers between checkpoints (each agent's round-robin position and the
 * work it holds, the escalation order the simulated reviewer follows, which leases it took)
 * is not in the store, and guessing it back from the store made resumed runs drift from the
 * uninterrupted ones. So a run is resumed by re-executing it: a fresh engine replays the run
 * from its seed on scratch in-memory ports, checked event by event against the stored log, up
 * to the store's last checkpoint. The store must then hold exactly what the replay holds (the
 * file only ever holds checkpoint states); the engine's in-process state is by construction the
 * one the killed process had, and it goes on over the durable ports. A resumed run therefore
 * ends with the same event log, audit chain, versions and task rows as the uninterrupted run.
 */
import { BadDatabaseError, ValidationError } from '../domain/errors.ts';
import type { Ports } from '../ports/index.ts';
import { reviewQueueName, taskQueueName, type Lease } from '../ports/queue.ts';
import type { RunHeader, RunLog, RunProgress } from '../ports/run-log.ts';
import type { ExternalCommand, SwarmEngine } from './engine.ts';
import type { EngineEvent } from './events.ts';

/** Stored events are read in pages of this many. */
const PAGE = 5000;

/**
 * A resumed run must be the same run: seed, engine settings, scenario, personas and embedding
 * model as stored.
 * Throws a ValidationError naming the first setting that differs.
 */
export function assertSameRun(stored: RunHeader, wanted: RunHeader): void {
  const differs = (what: string, a: unknown, b: unknown): string | null => firstDifference(plain(a), plain(b), what);
  const d =
    (stored.seed !== wanted.seed ? `seed (stored ${stored.seed}, asked ${wanted.seed})` : null) ??
    scenarioDifference(stored.scenario, wanted.scenario) ??
    differs('', stored.config, wanted.config) ??
    (stored.personas === undefined ? null : differs('personas', stored.personas, wanted.personas)) ??
    (stored.embedder === undefined || stored.embedder === wanted.embedder ? null : `embedder (stored "${stored.embedder}", asked "${String(wanted.embedder)}")`);
  if (d) {
    throw new ValidationError(`this store holds another run: ${d}; resume with the same settings, or use a new database`);
  }
}

function scenarioDifference(stored: unknown, wanted: unknown): string | null {
  const name = (s: unknown) => (s && typeof s === 'object' ? (s as { name?: unknown }).name : undefined);
  if (name(stored) !== name(wanted)) return `scenario (stored "${String(name(stored))}", asked "${String(name(wanted))}")`;
  const d = firstDifference(plain(stored), plain(wanted), '');
  return d ? `scenario "${String(name(stored))}" was changed: ${d}` : null;
}

const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** The path of the first place two JSON values differ, with both values, or null. */
export function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (a === b) return null;
  const at = path || 'settings';
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) {
    return `${at} (stored ${show(a)}, asked ${show(b)})`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
    const d = firstDifference(ao[k], bo[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}

/**
 * The stored events one step at a time, in order, read in pages by their sequence number
 * (paging by step lost the tail of a step whose events straddled a page).
 */
export async function* storedSteps(log: RunLog): AsyncGenerator<EngineEvent[]> {
  let group: EngineEvent[] = [];
  for (let after = 0; ; ) {
    const page = await log.readEventsAfter(after, PAGE);
    if (page.length === 0) break;
    for (const { event } of page) {
      const e = event as EngineEvent;
      if (group.length && (group[0] as EngineEvent).step !== e.step) {
        yield group;
        group = [];
      }
      group.push(e);
    }
    after = (page[page.length - 1] as { seq: number }).seq;
  }
  if (group.length) yield group;
}

function diverged(step: number, want: EngineEvent | undefined, got: EngineEvent | undefined): BadDatabaseError {
  const what = (e: EngineEvent | undefined) => (e ? `${e.type} by ${e.agent}` : 'nothing');
  return new BadDatabaseError(
    `cannot resume: replaying the stored run from its seed diverges at step ${step} (stored ${what(want)}, replay ${what(got)}); ` +
      'the run was written by another version of Chimera, or edited',
  );
}

function compare(want: readonly EngineEvent[], got: readonly EngineEvent[]): void {
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    const w = want[i];
    const g = got[i];
    if (!w || !g || JSON.stringify(w) !== JSON.stringify(g)) throw diverged((w ?? g)?.step ?? 0, w, g);
  }
}

/**
 * Brings `engine` (fresh, on scratch ports) to the store's last checkpoint by replaying the
 * stored run, checks the store holds exactly what the replay holds, and moves the engine onto
 * the durable ports. Persona memory, which may live outside the checkpointed file, is made
 * equal to the replay's.
 */
export async function resumeByReplay(engine: SwarmEngine, durable: Ports, progress: RunProgress): Promise<void> {
  if (progress.step === 0) {
    // killed before the run's first events were checkpointed: the store holds only its header
    if ((await durable.state.listCampaigns()).length > 0) {
      throw new BadDatabaseError('cannot resume: the store holds campaigns but its run log records no step');
    }
    engine.ports = durable;
    await engine.start({ headerWritten: true });
    return;
  }
  await engine.start();
  const startEvents = (await engine.ports.runLog.readEvents(0, Infinity)) as EngineEvent[];
  let started = 0;
  for await (const group of storedSteps(durable.runLog)) {
    const step = (group[0] as EngineEvent).step;
    if (step > progress.step) throw new BadDatabaseError(`cannot resume: the run log holds step ${step}, past its recorded progress (step ${progress.step})`);
    if (started < startEvents.length) {
      compare(group, startEvents.slice(started, started + group.length));
      started += group.length;
      continue;
    }
    const first = group[0] as EngineEvent;
    let got: readonly EngineEvent[];
    if (first.agent === 'ui') {
      const rec = group.map((e) => e.data as { command?: ExternalCommand; at?: { tick: number; cursor: number } } | undefined).find((d) => d?.command);
      if (!rec?.command) throw new BadDatabaseError(`cannot resume: step ${step} records an outside command without its arguments`);
      got = (await engine.command(rec.command, rec.at)).events;
    } else {
      const r = await engine.step();
      got = r ? r.events : [];
    }
    compare(group, got);
  }
  if (started < startEvents.length) compare(startEvents.slice(started), []);
  if (engine.stepNo !== progress.step) {
    throw new BadDatabaseError(`cannot resume: the run log records progress at step ${progress.step} but holds events up to step ${engine.stepNo}`);
  }
  // the checkpoint was taken at the end of a tick: the idle turns that ended it
  if (engine.tickNo < progress.tick) await engine.idleUntil({ tick: progress.tick, cursor: 0 });
  if (engine.tickNo !== progress.tick || engine.nowMs() !== progress.clock_ms) {
    throw new BadDatabaseError(
      `cannot resume: the replay stands at tick ${engine.tickNo} (${engine.nowMs()} ms), the run log at tick ${progress.tick} (${progress.clock_ms} ms)`,
    );
  }
  await assertStoreAgrees(engine, durable, progress);
  await reconcileMemory(engine.ports, durable);
  await rebind(engine, durable);
}

/** The store must hold what the replay holds; otherwise it was written past its last checkpoint. */
async function assertStoreAgrees(engine: SwarmEngine, durable: Ports, progress: RunProgress): Promise<void> {
  const scratch = engine.ports;
  const ahead = (what: string) =>
    new BadDatabaseError(
      `cannot resume exactly: the store's ${what} differs from its run log's checkpoint at step ${progress.step} (it holds changes the log does not record)`,
    );
  const [wantHead, gotHead] = await Promise.all([scratch.state.auditHead(), durable.state.auditHead()]);
  if (wantHead?.seq !== gotHead?.seq || wantHead?.hash !== gotHead?.hash) throw ahead(`audit log (seq ${gotHead?.seq ?? 0}, replay ${wantHead?.seq ?? 0})`);
  const key = (c: { id: string; status: string; state_version: number }) => `${c.id}:${c.status}:${c.state_version}`;
  const [wc, gc] = await Promise.all([scratch.state.listCampaigns(), durable.state.listCampaigns()]);
  if (wc.map(key).join() !== gc.map(key).join()) throw ahead('campaigns');
  const [wt, gt] = await Promise.all([scratch.state.countTasks(), durable.state.countTasks()]);
  if (JSON.stringify(wt) !== JSON.stringify(gt)) throw ahead('task counts');
  const lease = (l: Lease<unknown>) => `${l.item.id}:${l.item.attempts}:${l.consumer}:${l.expires_at_ms}`;
  for (const c of wc) {
    for (const [want, got, name] of [
      [scratch.taskQueue, durable.taskQueue, taskQueueName(c.id)],
      [scratch.reviewQueue, durable.reviewQueue, reviewQueueName(c.id)],
    ] as const) {
      const [wd, gd] = await Promise.all([want.depth(name), got.depth(name)]);
      if (wd.ready !== gd.ready || wd.delayed !== gd.delayed || wd.leased !== gd.leased) throw ahead(`queue ${name}`);
      if (wd.leased === 0) continue;
      const [wl, gl] = await Promise.all([want.leased(name, wd.leased), got.leased(name, gd.leased)]);
      if (wl.map(lease).sort().join() !== gl.map(lease).sort().join()) throw ahead(`leases of ${name}`);
    }
  }
}

/** Makes the durable persona memory hold exactly the replay's memories (it may live outside the checkpointed store). */
async function reconcileMemory(scratch: Ports, durable: Ports): Promise<void> {
  const all = 1_000_000_000;
  const [want, got] = await Promise.all([scratch.memory.list(undefined, all), durable.memory.list(undefined, all)]);
  const key = (m: { id: string; persona_id: string; content: string; category: string; timestamp: string }) =>
    `${m.persona_id}\u0000${m.category}\u0000${m.timestamp}\u0000${m.content}`;
  const wanted = new Map(want.map((m) => [m.id, key(m)]));
  const have = new Set<string>();
  const stale: string[] = [];
  for (const m of got) {
    if (wanted.get(m.id) === key(m)) have.add(m.id);
    else stale.push(m.id);
  }
  if (stale.length) await durable.memory.delete(stale);
  const missing = want.filter((m) => !have.has(m.id));
  for (let i = 0; i < missing.length; i += 64) {
    const batch = missing.slice(i, i + 64);
    const vectors = await durable.embedder.embed(batch.map((m) => m.content));
    await durable.memory.upsert(batch.map((m, j) => ({ ...m, vector: vectors[j] as Float32Array, model_id: durable.embedder.model_id })));
  }
}

/**
 * Moves the engine onto the durable ports. Each lease the engine holds is re-pointed at the
 * store's lease with the same identity (queue, item, delivery, holder, expiry); a lease that
 * lapsed and was handed on (its holder will find it lost) gets a stand-in id no store hands out.
 */
async function rebind(engine: SwarmEngine, durable: Ports): Promise<void> {
  const leases = engine.coord.leases;
  const agents = engine.agents;
  const identity = (l: Lease<unknown>) => `${l.queue}\u0000${l.item.id}\u0000${l.item.attempts}\u0000${l.consumer}\u0000${l.expires_at_ms}`;
  const stored = new Map<string, Lease<unknown>>();
  for (const id of engine.campaignOrder) {
    for (const [q, name] of [
      [durable.taskQueue, taskQueueName(id)],
      [durable.reviewQueue, reviewQueueName(id)],
    ] as const) {
      for (const l of await (q as Ports['taskQueue'] | Ports['reviewQueue']).leased(name, 1_000_000)) stored.set(identity(l as Lease<unknown>), l as Lease<unknown>);
    }
  }
  const moved = new Map<object, Lease<unknown>>();
  const move = (l: Lease<unknown>): Lease<unknown> => {
    let m = moved.get(l);
    if (!m) {
      m = stored.get(identity(l)) ?? { ...l, lease_id: `lapsed:${l.lease_id}` };
      moved.set(l, m);
    }
    return m;
  };
  const held = [...leases];
  leases.clear();
  for (const [l, at] of held) leases.set(move(l as Lease<unknown>), at);
  for (const a of agents) {
    if (a.busy) (a as { busy: unknown }).busy = { ...a.busy, lease: move(a.busy.lease as Lease<unknown>) };
  }
  engine.log.drain(); // these events are in the durable run log already
  engine.ports = durable;
}
