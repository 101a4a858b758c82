/**
 * Simulation throughput on the in-memory backend with the hashing embedder, with a per-phase
 * breakdown, beside the cost of the same port calls made directly (no engine) in the same run.
 */
import { Simulation } from '../../src/app/simulation.ts';
import { parseConfig } from '../../src/config/config.ts';
import { composePorts } from '../../src/config/compose.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { reviewQueueName, taskQueueName } from '../../src/ports/queue.ts';
import type { Task } from '../../src/domain/schemas.ts';
import { PHASES } from '../../src/engine/engine.ts';
import { benchScenario, tasksPerCampaign } from '../workload.ts';
import { StopwatchTimer } from '../phase-timer.ts';
import { round, series, type BenchSuite } from '../suite.ts';

async function simulate(campaigns: number, pieces: number, engine: Record<string, unknown>, timed: boolean) {
  const timer = timed ? new StopwatchTimer() : undefined;
  const sim = await Simulation.open({
    scenario: benchScenario(campaigns, pieces, engine),
    backend: 'memory',
    config: parseConfig({}),
    keepEvents: false,
    ...(timer ? { timer } : {}),
  });
  const t0 = performance.now();
  await sim.run();
  const ms = performance.now() - t0;
  const s = sim.summary();
  await sim.close();
  return { ms, s, timer };
}

/** The port calls one task's life costs, made directly: the floor under the engine. */
export async function rawPorts(n: number): Promise<number> {
  const clock = new VirtualClock();
  const ports = await composePorts(parseConfig({}), clock);
  const rng = new SeededRng(1, 'raw');
  const now = clock.iso();
  const cid = rng.uuid();
  await ports.state.transaction((tx) =>
    tx.insertCampaign({ id: cid, title: 'raw', goal: 'raw', status: 'ACTIVE', state_version: 1, created_at: now, updated_at: now, persona_id: 'aria' }),
  );
  const v = await ports.embedder.embed(['sustainable repair denim']);
  await ports.memory.upsert(
    Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, persona_id: 'aria', content: `memory ${i}`, category: 'Semantic' as const, timestamp: now, vector: v[0]!, model_id: ports.embedder.model_id })),
  );
  const tasks: Task[] = Array.from({ length: n }, () => {
    const id = rng.uuid();
    return { id, campaign_id: cid, role: 'WORKER', skill_name: 'content_generation', input_data: { params: {} }, output_data: null, confidence_score: null, status: 'PENDING', attempts: 0, idempotency_key: id, depends_on: [], branch: 'b', replans: 0, supersedes: null, created_at: now, updated_at: now };
  });
  await ports.state.transaction((tx) => tx.insertTasks(tasks));
  const tq = taskQueueName(cid);
  const rq = reviewQueueName(cid);
  const audit = (id: string, action: string, version: number) => ({ id: rng.uuid(), actor: 'raw', action, entity_type: 'task' as const, entity_id: id, campaign_id: cid, before_status: null, after_status: null, state_version: version, timestamp: now, details: null });
  const t0 = performance.now();
  for (const t of tasks) {
    await ports.taskQueue.enqueue(tq, [{ id: t.id, payload: { task_id: t.id, skill_name: t.skill_name, params: {}, persona_id: 'aria' } }]);
    const lease = (await ports.taskQueue.claim(tq, 'w', 500))!;
    await ports.state.getTask(t.id);
    await ports.state.transaction(async (tx) => {
      const c = (await tx.getCampaign(cid))!;
      await tx.updateTask(t.id, { status: 'PROCESSING', attempts: 1, updated_at: now }, 'PENDING');
      const next = await tx.updateCampaign(cid, c.state_version, { updated_at: now });
      await tx.appendAudit(audit(t.id, 'task.claimed', next.state_version));
    });
    await ports.reviewQueue.enqueue(rq, [{ id: t.id, payload: { task_id: t.id, skill_name: t.skill_name, result: { text: 'recycled denim repair stories' }, confidence_score: 0.95, reasoning: 'r' } }]);
    await ports.taskQueue.ack(tq, lease.lease_id);
    const rl = (await ports.reviewQueue.claim(rq, 'j', 500))!;
    await ports.state.getCampaign(cid);
    await ports.state.getTask(t.id);
    const [qv] = await ports.embedder.embed(['recycled denim repair stories']);
    await ports.memory.search({ vector: qv!, k: 5, persona_id: 'aria' });
    await ports.state.transaction(async (tx) => {
      await tx.getTask(t.id);
      const c = (await tx.getCampaign(cid))!;
      const next = await tx.updateCampaign(cid, c.state_version, { updated_at: now });
      await tx.claimIdempotencyKey(`${t.idempotency_key}:judged`);
      await tx.updateTask(t.id, { status: 'COMPLETED', output_data: { ok: true }, confidence_score: 0.95, updated_at: now }, 'PROCESSING');
      await tx.appendAudit(audit(t.id, 'judge.decided', next.state_version));
    });
    await ports.reviewQueue.ack(rq, rl.lease_id);
  }
  const ms = performance.now() - t0;
  await ports.close();
  return (n / ms) * 1000;
}

export const coreSuite: BenchSuite = {
  name: 'core',
  description: 'simulation throughput, in-memory backend, hashing embedder; per-phase breakdown; raw port calls beside it',
  async run({ quick, log }) {
    const campaigns = quick ? 4 : 20;
    const pieces = quick ? 50 : 250;
    const tasks = campaigns * tasksPerCampaign(pieces);
    log(`workload: ${campaigns} campaigns × ${tasksPerCampaign(pieces)} worker tasks = ${tasks} tasks`);
    const identity = { judge: { memory_categories: ['SOUL', 'Semantic'] } };
    const rate = (r: { ms: number; s: { tasks: { completed: number } } }) => (r.s.tasks.completed / r.ms) * 1000;
    let last: Awaited<ReturnType<typeof simulate>> | undefined;
    const engine = await series(
      async () => rate((last = await simulate(campaigns, pieces, identity, false))),
      { warmup: quick ? 1 : 3, runs: quick ? 2 : 5 },
    );
    const tasksPerS = engine.median;
    log(`engine, judge vs SOUL+Semantic memories: median ${Math.round(tasksPerS)} tasks/s over ${engine.runs.length} warm runs (${Math.round(engine.min)}–${Math.round(engine.max)}); the first run in the process: ${Math.round(engine.cold)}`);
    const timed = await simulate(campaigns, pieces, identity, true);
    const phases = Object.fromEntries(PHASES.map((p) => [`${p}_ms`, round(timed.timer!.ms[p], 1)]));
    const phaseTotal = PHASES.reduce((s, p) => s + timed.timer!.ms[p], 0);
    const share = Object.fromEntries(PHASES.map((p) => [p, round(timed.timer!.ms[p] / phaseTotal, 3)]));
    const all = await series(async () => rate(await simulate(campaigns, pieces, {}, false)), { warmup: 1, runs: quick ? 1 : 3 });
    const allPerS = all.median;
    log(`engine, judge vs every memory incl. growing Episodic (exact search): median ${Math.round(allPerS)} tasks/s`);
    const raw = await series(() => rawPorts(tasks), { warmup: quick ? 1 : 3, runs: quick ? 2 : 5 });
    log(`raw port calls alone: median ${Math.round(raw.median)} tasks/s`);
    const best = last!;
    return {
      workload: { campaigns, tasks_per_campaign: tasksPerCampaign(pieces), tasks, workers: 16, judges: 4 },
      engine_tasks_per_s: Math.round(tasksPerS),
      engine_tasks_per_s_runs: engine.runs.map(Math.round),
      engine_cold_tasks_per_s: Math.round(engine.cold),
      engine_ms: round((tasks / tasksPerS) * 1000, 1),
      steps: best.s.steps,
      ticks: best.s.ticks,
      target_tasks_per_s: 20_000,
      phases_ms: phases,
      phase_share: share,
      engine_all_memories_tasks_per_s: Math.round(allPerS),
      raw_ports_tasks_per_s: Math.round(raw.median),
      engine_vs_raw_ratio: round(tasksPerS / raw.median, 3),
    };
  },
};
