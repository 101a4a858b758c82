/**
 * The run as it was at any step. The engine is deterministic from (seed, scenario, config) and
 * the recorded outside commands, so the state at step N is rebuilt by replaying the session's own
 * event log onto scratch in-memory ports (src/app/replay.ts) up to N, without touching the
 * session. Replayed copies are kept parked where they were last asked (up to PARKED of them);
 * a jump goes on from the nearest copy at or before its step, so stepping through the timeline
 * forwards costs one step each, and a jump back re-executes from the nearest parked copy (or
 * the start). A copy that disagrees with the log (the run moved on a branch since) is dropped.
 *
 * One more copy runs one step ahead of the session when a breakpoint must stop *before* an agent
 * kind acts: it tells what the next step will be without the session taking it (lookahead()).
 */
import { performance } from 'node:perf_hooks';
import { reviewQueueName, taskQueueName } from '../../ports/queue.ts';
import type { Ports } from '../../ports/index.ts';
import type { EngineEvent } from '../../engine/events.ts';
import type { StepResult } from '../../engine/engine.ts';
import { ChimeraError, ValidationError } from '../../domain/errors.ts';
import { STATUS_LETTERS, type CampaignView, type DagView, type QueueView, type StepStateView, type StepTaskView, type TaskStatus } from '../../shared/types.ts';
import { Replayer } from '../replay.ts';
import type { ChimeraConfig } from '../../config/config.ts';
import type { RunFileHeader, Simulation } from '../simulation.ts';

/** How many replayed copies stay parked for jumps. */
export const PARKED = 4;
/**
 * Stepping backwards: a copy can only go forwards, so a step back finds no copy just before it
 * and re-executes from further back; on the way it keeps the states of this many steps before
 * the one asked, so the next steps back are read from there.
 */
export const BACK_WINDOW = 16;
/** States kept for steps back (each a few KB to a few hundred KB with a large task graph). */
const VIEW_CACHE = 64;

/** The run file header of a session's run (what a replay needs besides the events). */
export function headerOf(sim: Simulation): RunFileHeader {
  return {
    format: 'chimera-run',
    version: 1,
    seed: sim.engineConfig.seed,
    backend: sim.backend,
    scenario: sim.loaded.scenario,
    personas: sim.loaded.personas,
    config: sim.engineConfig,
  };
}

/** The last step of the run's start-up (personas loaded, campaigns created): the earliest step a rebuild can land on. */
export function firstStep(events: readonly EngineEvent[]): number {
  let last = 0;
  for (const e of events) {
    if (e.agent !== 'system') break;
    last = e.step;
  }
  return last;
}

/** Index of the first event of `step` or after (events are in step order). */
function firstIndexAtOrAfter(events: readonly EngineEvent[], step: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((events[mid] as EngineEvent).step < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function eventsOfStep(events: readonly EngineEvent[], step: number): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (let i = firstIndexAtOrAfter(events, step); i < events.length && (events[i] as EngineEvent).step === step; i++) out.push(events[i] as EngineEvent);
  return out;
}

export class StepStates {
  private parked: Replayer[] = [];
  private ahead: { copy: Replayer; next: StepResult | null; at: number } | null = null;
  private closed = false;
  /** States of past steps read on the way (a step's past never changes within a session), by step and campaign asked. */
  private readonly views = new Map<string, StepStateView>();
  private lastAsked: number | null = null;

  /** `config`: the app config the copies are composed with (in memory), as the session's own. */
  constructor(
    private readonly sim: Simulation,
    private readonly config?: ChimeraConfig,
  ) {}

  private get log(): readonly EngineEvent[] {
    return this.sim.engine.log.all();
  }

  private async fresh(): Promise<Replayer> {
    const r = await Replayer.open({ header: headerOf(this.sim), events: this.log }, this.config ? { config: this.config } : {});
    if (r.detail) {
      await r.sim.close();
      throw new ChimeraError('INTERNAL', `rebuilding the run diverged from its log: ${r.detail}`);
    }
    return r;
  }

  /** A replayed copy standing exactly at `step` (taken from the parked ones, or made). */
  private async copyAt(step: number): Promise<{ copy: Replayer; from: number }> {
    let best: Replayer | null = null;
    for (const p of this.parked) if (p.step <= step && (!best || p.step > best.step)) best = p;
    if (best) this.parked = this.parked.filter((p) => p !== best);
    const copy = best ?? (await this.fresh());
    const from = copy.step;
    await copy.advanceTo(step);
    if (copy.detail || copy.step !== step) {
      const why = copy.detail ?? `it stopped at step ${copy.step}`;
      await copy.sim.close();
      // a parked copy from before a branch point: drop it and try once from the start
      if (best) return this.copyAt(step);
      throw new ChimeraError('INTERNAL', `could not rebuild step ${step}: ${why}`);
    }
    return { copy, from };
  }

  private async park(copy: Replayer): Promise<void> {
    if (this.closed) return copy.sim.close();
    this.parked.push(copy);
    while (this.parked.length > PARKED) {
      // keep copies spread over the run: drop the one nearest to another
      const sorted = [...this.parked].sort((a, b) => a.step - b.step);
      let drop = sorted[0] as Replayer;
      let gap = Infinity;
      for (let i = 1; i < sorted.length; i++) {
        const g = (sorted[i] as Replayer).step - (sorted[i - 1] as Replayer).step;
        if (g < gap) {
          gap = g;
          drop = sorted[i - 1] as Replayer;
        }
      }
      this.parked = this.parked.filter((p) => p !== drop);
      await drop.sim.close();
    }
  }

  /** The state at `step` (0 < first step ≤ step ≤ the session's last step). */
  async at(step: number, campaign_id?: string): Promise<StepStateView> {
    const t0 = performance.now();
    const log = this.log;
    const first = firstStep(log);
    const last = this.sim.engine.stepNo;
    if (step > last) throw new ValidationError(`step: the run has ${last} steps; there is no step ${step} yet`);
    if (step < first) throw new ValidationError(`step: steps 1–${first} are the run's start-up (personas and campaigns loaded); the earliest step to look at is ${first}`);
    const events = eventsOfStep(log, step);
    if (step === last) {
      const view = await readState(this.sim.ports, this.sim.engine.campaignOrder, step, this.sim.engine.tickNo, events, campaign_id);
      return { ...view, first_step: first, last_step: last, source: 'live', from_step: null, elapsed_ms: performance.now() - t0 };
    }
    const key = `${step}:${campaign_id ?? ''}`;
    const backwards = this.lastAsked !== null && step < this.lastAsked;
    this.lastAsked = step;
    const cached = this.views.get(key);
    // (as it was first rebuilt: where from and how long it took)
    if (cached) return { ...cached, last_step: last };
    // going backwards: stop on the way at the steps just before, and keep their states
    const window = backwards ? Math.max(first, step - BACK_WINDOW) : step;
    const { copy, from } = await this.copyAt(window);
    try {
      for (;;) {
        const at = copy.step;
        const view: StepStateView = {
          ...(await readState(copy.sim.ports, copy.sim.engine.campaignOrder, at, copy.sim.engine.tickNo, eventsOfStep(log, at), campaign_id)),
          first_step: first,
          last_step: last,
          source: 'replay',
          from_step: from,
          elapsed_ms: 0,
        };
        if (at === step) {
          const done = { ...view, elapsed_ms: performance.now() - t0 };
          this.remember(key, done);
          return done;
        }
        this.remember(`${at}:${campaign_id ?? ''}`, view);
        await copy.advanceTo(at + 1);
        if (copy.detail || copy.step !== at + 1) throw new ChimeraError('INTERNAL', `could not rebuild step ${at + 1}: ${copy.detail ?? `it stopped at step ${copy.step}`}`);
      }
    } finally {
      await this.park(copy);
    }
  }

  private remember(key: string, view: StepStateView): void {
    this.views.delete(key);
    this.views.set(key, view);
    if (this.views.size > VIEW_CACHE) this.views.delete(this.views.keys().next().value as string);
  }

  /**
   * What the session's next step will be, computed on a copy one step ahead (the session does
   * not move). Null when the run has nothing more to do. The copy goes on in step with the
   * session while the log agrees with it; an outside command in between makes it start again.
   */
  async lookahead(): Promise<StepResult | null> {
    const step = this.sim.engine.stepNo;
    const a = this.ahead;
    if (a && a.at === step) return a.next;
    let copy: Replayer | null = null;
    if (a && a.at + 1 === step && a.next && sameEvents(a.next.events, eventsOfStep(this.log, step))) {
      copy = a.copy;
      if (!copy.accept(a.next.events)) {
        await copy.sim.close();
        copy = (await this.copyAt(step)).copy;
      }
    } else {
      if (a) await a.copy.sim.close();
      this.ahead = null;
      copy = (await this.copyAt(step)).copy;
    }
    const next = await copy.sim.step();
    this.ahead = { copy, next, at: step };
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.parked, ...(this.ahead ? [this.ahead.copy] : [])];
    this.parked = [];
    this.ahead = null;
    for (const p of all) await p.sim.close().catch(() => undefined);
  }
}

function sameEvents(a: readonly EngineEvent[], b: readonly EngineEvent[]): boolean {
  return a.length === b.length && a.every((e, i) => JSON.stringify(e) === JSON.stringify(b[i]));
}

async function readState(
  ports: Ports,
  campaignOrder: readonly string[],
  step: number,
  tick: number,
  events: EngineEvent[],
  campaign_id: string | undefined,
): Promise<Omit<StepStateView, 'first_step' | 'last_step' | 'source' | 'from_step' | 'elapsed_ms'>> {
  const campaigns: CampaignView[] = [];
  for (const c of await ports.state.listCampaigns()) campaigns.push({ ...c, counts: await ports.state.countTasks(c.id) });
  const queues: QueueView[] = [];
  for (const id of campaignOrder) {
    const c = campaigns.find((x) => x.id === id);
    queues.push({
      campaign_id: id,
      title: c?.title ?? id,
      task_queue: await ports.taskQueue.depth(taskQueueName(id)),
      review_queue: await ports.reviewQueue.depth(reviewQueueName(id)),
    });
  }
  const review = (await ports.state.listTasks({ status: 'ESC_HITL', limit: 500 })).map((t) => ({
    task_id: t.id,
    campaign_id: t.campaign_id,
    skill_name: t.skill_name,
    score: t.confidence_score,
  }));
  const tasks: StepTaskView[] = [];
  for (const id of new Set(events.map((e) => e.task_id).filter((x): x is string => !!x))) {
    const t = await ports.state.getTask(id);
    if (!t) continue;
    const od = (t.output_data ?? null) as { judge?: { score?: number; route?: string; reasons?: string[] } } | null;
    tasks.push({
      id: t.id,
      campaign_id: t.campaign_id,
      skill_name: t.skill_name,
      status: t.status as TaskStatus,
      attempts: t.attempts,
      input: t.input_data,
      output: t.output_data,
      judge: od?.judge ? { score: od.judge.score ?? null, route: od.judge.route ?? null, reasons: od.judge.reasons ?? [] } : null,
    });
  }
  const dagOf = campaign_id ?? events.find((e) => e.campaign_id)?.campaign_id ?? campaignOrder[0];
  const dag = dagOf && campaigns.some((c) => c.id === dagOf) ? await readDag(ports, dagOf) : null;
  return { step, tick, agent: events[0]?.agent ?? null, events, tasks, campaigns, queues, review, dag };
}

/** A campaign's task graph in the wire's compact form (as campaigns/dag sends it). */
async function readDag(ports: Ports, campaign_id: string): Promise<DagView> {
  const tasks = await ports.state.listTasks({ campaign_id });
  const index = new Map<string, number>();
  tasks.forEach((t, i) => index.set(t.id, i));
  const skills: string[] = [];
  const skillIndex = new Map<string, number>();
  const skill_of: number[] = [];
  const dep_start: number[] = [0];
  const dep_list: number[] = [];
  let statuses = '';
  for (const t of tasks) {
    let k = skillIndex.get(t.skill_name);
    if (k === undefined) {
      k = skills.push(t.skill_name) - 1;
      skillIndex.set(t.skill_name, k);
    }
    skill_of.push(k);
    statuses += STATUS_LETTERS[t.status as TaskStatus];
    for (const d of t.depends_on) {
      const j = index.get(d);
      if (j !== undefined) dep_list.push(j);
    }
    dep_start.push(dep_list.length);
  }
  return { campaign_id, count: tasks.length, skills, skill_of, statuses, dep_start, dep_list };
}
