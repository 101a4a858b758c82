/**
 * Live mode: several engines share one set of stores (here three handles on the same in-memory
 * stores, the contract suites' picture of processes sharing a database). One plans the
 * scenario's campaigns; two more bring only workers and judges and serve campaigns they did not
 * create. Their steps interleave at every await. Every task is decided exactly once, every
 * campaign completes (decided inside the last decision's unit of work), every audit chain and
 * anchor verifies, and no lease is left behind. A second run in the same stores gets its own ids.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStateData, MemoryStateStore } from '../../src/adapters/memory/memory-state-store.ts';
import { MemoryQueue, MemoryQueueData } from '../../src/adapters/memory/memory-queue.ts';
import { MemoryPersonaCache } from '../../src/adapters/memory/memory-persona-cache.ts';
import { MemoryRunLog } from '../../src/adapters/memory/memory-run-log.ts';
import { MemoryPersonaMemory } from '../../src/adapters/memory/memory-persona-memory.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { isHumanDecisionAction, verifyAuditChain } from '../../src/domain/audit.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../src/domain/schemas.ts';
import { SwarmEngine } from '../../src/engine/engine.ts';
import { guardStateStore } from '../../src/ports/guards/guarded-state-store.ts';
import { guardPersonaMemory } from '../../src/ports/guards/guarded-persona-memory.ts';
import type { Ports } from '../../src/ports/index.ts';
import { reviewQueueName, taskQueueName } from '../../src/ports/queue.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { engineConfigFor, loadScenario } from '../../src/scenarios/load.ts';

/** The stores every "process" shares, and a handle on them for one process. */
function sharedStores() {
  const state = new MemoryStateData();
  const tasks = new MemoryQueueData<WorkerTaskInput>();
  const reviews = new MemoryQueueData<WorkerTaskOutput>();
  const cache = new Map<string, Record<string, string>>();
  // the stores' clock: live engines read it and never move it
  const clock = new VirtualClock();
  const handle = (): Ports => ({
    state: guardStateStore(new MemoryStateStore(state)),
    taskQueue: new MemoryQueue<WorkerTaskInput>(clock, tasks),
    reviewQueue: new MemoryQueue<WorkerTaskOutput>(clock, reviews),
    personaCache: new MemoryPersonaCache(cache),
    runLog: new MemoryRunLog(),
    memory: guardPersonaMemory(new MemoryPersonaMemory()),
    embedder: new HashingEmbedder(256),
  });
  return { clock, handle };
}

async function liveEngine(ports: Ports, clock: VirtualClock, run_id: string, seed: number, withCampaigns: boolean): Promise<SwarmEngine> {
  const { scenario, personas } = loadScenario('storm');
  const own = withCampaigns ? scenario : { ...scenario, campaigns: [], operator: [] };
  return SwarmEngine.create({ ports, clock, scenario: own, personas, config: engineConfigFor(scenario, { seed }), live: { run_id } });
}

describe('live mode: engines sharing the stores', () => {
  for (const [seed, dies] of [[3, false], [11, false], [29, true]] as const) it(`seed ${seed}: three engines (one planning, two serving${dies ? ', one of which dies mid-task' : ''}) complete every task exactly once`, async () => {
    const { clock, handle } = sharedStores();
    const ports = [handle(), handle(), handle()];
    const engines = [
      await liveEngine(ports[0]!, clock, 'run-a', seed, true),
      await liveEngine(ports[1]!, clock, 'run-a', seed + 1, false),
      await liveEngine(ports[2]!, clock, 'run-a', seed + 2, false),
    ];
    const state = ports[0]!.state;
    const done = async () => {
      const cs = await state.listCampaigns();
      return cs.length > 0 && cs.every((c) => c.status === 'COMPLETED');
    };
    // rounds of interleaved steps until the store says every campaign is done (bounded)
    let rounds = 0;
    let died: SwarmEngine | null = null;
    for (; rounds < 400 && !(await done()); rounds++) {
      await Promise.all(engines.filter((e) => e !== died).map((e) => e.run({ max_steps: 25 })));
      // it dies holding work: stepped alone until an agent of its holds a lease, then never run
      // again; what it held lapses, and the others' housekeepers sweep it back
      if (dies && !died) {
        const e = engines[2]!;
        for (let i = 0; i < 50 && !e.agents.some((a) => a.busy); i++) await e.step();
        if (e.agents.some((a) => a.busy)) died = e;
      }
      clock.advance(1000); // the servers' time moves on (retry delays and leases run on it)
    }
    if (!(await done())) {
      const stuck = (await state.listTasks({ status: 'PROCESSING' })).map((t) => t.id);
      throw new Error(`seed ${seed}: not done after ${rounds} rounds: campaigns ${(await state.listCampaigns()).map((c) => c.status).join(',')}; tasks ${JSON.stringify(await state.countTasks())}; processing ${stuck.join(',')}`);
    }

    if (dies) expect(died, 'the engine that was to die never held work at the end of a round').not.toBeNull();
    const tasks = await state.listTasks();
    const superseded = new Set(tasks.map((t) => t.supersedes).filter(Boolean));
    const open = tasks.filter((t) => t.role === 'WORKER' && t.status !== 'COMPLETED' && !(t.status === 'FAILED' && superseded.has(t.id)));
    expect(open).toEqual([]);
    const audit = await state.readAudit();
    expect(verifyAuditChain(audit)).toMatchObject({ ok: true, checked: audit.length });
    // each decision committed once: one judge decision per task and delivery key, one human decision per task
    const decided = new Map<string, number>();
    for (const e of audit) {
      const kind = e.action === 'judge.decided' ? 'judge' : isHumanDecisionAction(e.action) ? 'human' : null;
      if (!kind) continue;
      const k = `${kind}:${e.entity_id}`;
      decided.set(k, (decided.get(k) ?? 0) + 1);
    }
    expect([...decided].filter(([, n]) => n > 1)).toEqual([]);
    // each campaign completed once, in the unit of its last decision
    const completions = audit.filter((e) => e.action === 'campaign.completed');
    expect(completions.length).toBe((await state.listCampaigns()).length);
    // no lease lost or left: every queue is empty
    for (const c of await state.listCampaigns()) {
      for (const [q, name] of [
        [ports[0]!.taskQueue, taskQueueName(c.id)],
        [ports[0]!.reviewQueue, reviewQueueName(c.id)],
      ] as const) {
        expect(await q.depth(name), name).toEqual({ ready: 0, delayed: 0, leased: 0 });
      }
    }
    // the serving engines did real work on campaigns they did not create
    const workOf = (e: SwarmEngine) => e.log.all().filter((x) => x.type === 'task.claimed' || x.type === 'judge.decided').length;
    expect(workOf(engines[1]!)).toBeGreaterThan(0);
    expect(workOf(engines[2]!)).toBeGreaterThan(0);
    process.stderr.write(`live seed ${seed}: ${rounds} rounds, ${tasks.length} tasks, ${audit.length} audit events, work per engine ${engines.map(workOf).join('/')}\n`);
  });

  it('two runs share one store without their ids colliding', async () => {
    const { clock, handle } = sharedStores();
    const a = await liveEngine(handle(), clock, 'run-a', 3, true);
    const b = await liveEngine(handle(), clock, 'run-b', 3, true);
    expect(a.campaignOrder.length).toBeGreaterThan(0);
    expect(new Set([...a.campaignOrder, ...b.campaignOrder]).size).toBe(a.campaignOrder.length * 2);
  });

  it('a task made ready whose enqueue was lost (a process killed between its commit and the enqueue) is put back by a housekeeper', async () => {
    const { clock, handle } = sharedStores();
    const rng = new SeededRng(20261128, 'lossy-enqueue');
    let dropped = 0;
    // one engine's task queue loses about a third of its enqueues after planning: as if that
    // process died right after the unit that made the tasks ready committed
    const lossy = (ports: Ports): Ports => {
      const q = ports.taskQueue;
      const wrapped = Object.create(q) as typeof q;
      wrapped.enqueue = async (queue, items, opts) => {
        if (items.length && rng.chance(0.35)) {
          dropped += items.length;
          return 0;
        }
        return q.enqueue(queue, items, opts);
      };
      return { ...ports, taskQueue: wrapped };
    };
    const ports = [handle(), lossy(handle())];
    const engines = [await liveEngine(ports[0]!, clock, 'run-l', 5, true), await liveEngine(ports[1]!, clock, 'run-l', 6, false)];
    const state = ports[0]!.state;
    const done = async () => (await state.listCampaigns()).every((c) => c.status === 'COMPLETED');
    let rounds = 0;
    for (; rounds < 600 && !(await done()); rounds++) {
      await Promise.all(engines.map((e) => e.run({ max_steps: 25 })));
      clock.advance(1000);
    }
    expect(dropped, 'nothing was dropped: the test did not test the sweep').toBeGreaterThan(0);
    expect(await done(), `not done after ${rounds} rounds (${dropped} task items dropped)`).toBe(true);
    const swept = engines.flatMap((e) => e.log.all()).filter((x) => x.type === 'task.enqueued' && x.agent === 'housekeeper').length;
    process.stderr.write(`lossy enqueue: ${dropped} items dropped, put back by ${swept} sweeps, done in ${rounds} rounds\n`);
    expect(swept).toBeGreaterThan(0);
  });
});

