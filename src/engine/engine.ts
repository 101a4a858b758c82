/**
 * The swarm engine: a step function over explicit state. Each tick every agent gets a turn
 * in a fixed order (operator, planner, workers, judges, human, housekeeper); `step()` runs
 * the next agent action that does something, `tick()` finishes the tick, `run()` goes on to
 * completion. Time is the injected virtual clock; every random choice comes from a stream
 * derived from the run's seed. The engine reaches storage only through the ports.
 */
import { ChimeraError, ValidationError } from '../domain/errors.ts';
import type { AuditDraft, Campaign, Persona, PersonaMemory, Task, TaskStatus, WorkerTaskInput, WorkerTaskOutput } from '../domain/schemas.ts';
import { personaMemories, personaTraits } from '../domain/persona.ts';
import type { Ports } from '../ports/index.ts';
import type { Lease } from '../ports/queue.ts';
import type { RunHeader } from '../ports/run-log.ts';
import { SeededRng, auditIdFor, uuidFromKey } from '../domain/seeded-rng.ts';
import type { EngineConfig, Scenario, ScenarioCampaign } from './config.ts';
import { EventLog, type EngineEvent, type EventType } from './events.ts';
import type { Verdict } from './judge.ts';
import { CampaignMirror } from './mirror.ts';
import { personaViewFromTraits, type PersonaView } from './persona-view.ts';
import type { SkillOutcome } from './skills.ts';
import { assertSameRun, resumeByReplay } from './recovery.ts';
import * as units from './transactions.ts';
import { Coordination } from './coordination.ts';
import type { AgentHost } from './agents/host.ts';
import * as operator from './agents/operator.ts';
import * as planner from './agents/planner.ts';
import * as worker from './agents/worker.ts';
import * as judgeAgent from './agents/judge.ts';
import * as human from './agents/human.ts';
import * as housekeeper from './agents/housekeeper.ts';

export { ANCHOR_EVERY_TICKS } from './agents/housekeeper.ts';

/** The clock the engine drives: the Clock port plus the ability to move it. */
export interface EngineClock {
  now_ms(): number;
  iso(): string;
  set(ms: number): void;
}

export type AgentKind = 'operator' | 'planner' | 'worker' | 'judge' | 'human' | 'housekeeper';

export interface WorkerBusy {
  readonly lease: Lease<WorkerTaskInput>;
  readonly task_id: string;
  readonly campaign_id: string;
  readonly attempt: number;
  readonly until_tick: number;
  readonly outcome: SkillOutcome;
}

export interface JudgeBusy {
  readonly lease: Lease<WorkerTaskOutput>;
  readonly campaign_id: string;
  readonly task_id: string;
  readonly version: number;
  readonly verdict: Verdict;
  readonly until_tick: number;
}

export interface AgentState {
  readonly id: string;
  readonly kind: AgentKind;
  readonly capacity: number;
  actions: number;
  offset: number;
  busy: WorkerBusy | JudgeBusy | null;
  /** What the agent did last, for the swarm view. */
  last: string;
}

export interface StepResult {
  readonly step: number;
  readonly tick: number;
  readonly agent: string;
  readonly events: readonly EngineEvent[];
}

export type FinishReason = 'completed' | 'quiescent' | 'max_ticks';

/** Commands from outside the simulation (the UI, the CLI); they are logged and replayed. */
/** `actor`: who gave the command, as the audit log names them (default: the reviewer of a decision, else 'ui'). */
export type ExternalCommand = (
  | { type: 'human.decide'; task_id: string; decision: 'approve' | 'reject' | 'edit'; edited_text?: string; expected_version?: number; reviewer?: string }
  | { type: 'campaign.pause'; campaign_id: string; expected_version?: number }
  | { type: 'campaign.resume'; campaign_id: string; expected_version?: number }
  | { type: 'campaign.create'; title: string; goal: string; persona_id: string; content_pieces?: number }
) & { actor?: string };

export const PHASES = ['plan', 'claim', 'work', 'judge', 'commit', 'other'] as const;
export type Phase = (typeof PHASES)[number];

/** Optional profiler: the engine marks where its time goes; the caller owns the stopwatch. */
export interface PhaseTimer {
  /** Enters a phase (nested phases pause the enclosing one). */
  start(phase: Phase): void;
  /** Leaves the innermost phase. */
  stop(): void;
}

export interface EngineInit {
  readonly ports: Ports;
  readonly clock: EngineClock;
  readonly scenario: Scenario;
  readonly personas: readonly Persona[];
  /** Engine settings (merged over the scenario's `engine` block by the caller). */
  readonly config: EngineConfig;
  /** Keep every event in memory (the UI and replay need them; the benchmark does not). */
  readonly keepEvents?: boolean;
  readonly timer?: PhaseTimer;
  /**
   * Fresh, empty in-memory ports (sharing `ports.embedder`) for resuming by replay: a run already
   * in `ports.runLog` is re-executed there from its seed up to its last checkpoint, checked event
   * by event, and the engine then goes on over `ports` (see recovery.ts). Required to resume.
   */
  readonly scratch?: () => Promise<Ports & { close(): Promise<void> }>;
  /** How often the run log records a checkpoint: at the end of every tick (default) or after every step. */
  readonly checkpoint?: 'tick' | 'step';
  /**
   * Live mode: any number of engines share the stores. Time is the ports' clock (the engine never
   * moves it); campaign ids are namespaced by `run_id`; mirrors are re-read from the store every
   * round; no queue hints or lease map (coordination.ts); completion is decided inside the
   * decision's unit of work; no run log, no replay. Absent: simulation mode.
   */
  readonly live?: { readonly run_id: string; /** Names this process in its leases' consumers (e.g. host:pid). */ readonly process?: string };
}

export class SwarmEngine implements AgentHost {
  readonly config: EngineConfig;
  readonly scenario: Scenario;
  readonly log: EventLog;
  readonly agents: AgentState[] = [];
  readonly campaigns = new Map<string, CampaignMirror>();
  /** Campaign ids in creation order. */
  readonly campaignOrder: string[] = [];
  /**
   * The campaigns this engine created (from its scenario or a command), in order: the operator's
   * `campaign: n` is the n-th of these. In simulation mode the same as campaignOrder; in live mode
   * campaignOrder also holds campaigns other processes created.
   */
  readonly ownCampaigns: string[] = [];
  /** The same campaigns' mirrors, in the same order (the claim loop walks them every turn). */
  /** @internal (agents) */
  readonly mirrorOrder: CampaignMirror[] = [];
  stepNo = 0;
  tickNo = 0;
  finished: FinishReason | null = null;
  conflicts = 0;
  /** Audit events drafted since the last anchor, and the tick of that anchor (see anchorTurn). */
  /** @internal (agents) */
  auditSinceAnchor = 0;
  /** @internal (agents) */
  lastAnchorTick = 0;
  /** Set when storage lost writes: the engine refuses to go on (see breaks()). */
  private broken: ChimeraError | null = null;

  /** @internal Swapped once by recovery: from the scratch ports the run was replayed on to the durable ones. */
  ports: Ports;
  /** @internal (agents) */
  readonly clock: EngineClock;
  private readonly checkpointEachStep: boolean;
  /** @internal (agents) */
  readonly rng: SeededRng;
  /** @internal (agents) */
  readonly personas = new Map<string, PersonaView>();
  /** @internal (agents) */
  readonly scenarioPieces = new Map<string, number>();
  private cursor = 0;
  private actionsThisTick = 0;
  /** @internal (agents) */
  operatorDone = 0;
  private current: EngineEvent[] = [];
  private currentAgent = 'system';
  /** While a command applies: the person the audit log names as its actor (null: the acting agent). */
  private commandActor: string | null = null;
  private readonly personaList: readonly Persona[];
  /** @internal (agents) */
  readonly timer: PhaseTimer | undefined;
  /** When the run started (persona memories are stamped with it). */
  private startedAt: string | null = null;
  /**
   * Campaigns whose task (review) queue may hold claimable items. The engine is the only
   * producer, so it sets the hint whenever it adds or returns items; a claim that finds
   * nothing clears it. Skipping a queue that is known empty changes no outcome (a claim
   * there would return null), only the cost of idle turns.
   */
  /**
   * Every lease on this run's queues and when it expires: the ones this engine took, plus (after
   * a restart) the ones a previous life left. The housekeeper sweeps only when one of them may
   * have expired; a sweep that could find nothing changes nothing, so skipping it changes no
   * outcome, only the cost of a turn every tick.
   */
  /** @internal (agents) The single-process coordination of simulation mode (hints, the leases it took); inert in live mode. */
  readonly coord: Coordination;
  /** Live mode (see EngineInit.live), or null in simulation mode. */
  readonly live: { readonly run_id: string } | null;

  private constructor(init: EngineInit) {
    this.config = init.config;
    this.scenario = init.scenario;
    this.ports = init.ports;
    this.clock = init.clock;
    this.personaList = init.personas;
    this.timer = init.timer;
    this.checkpointEachStep = init.checkpoint === 'step';
    this.rng = new SeededRng(init.config.seed, 'run');
    this.log = new EventLog({ keep: init.keepEvents ?? true });
    this.live = init.live ?? null;
    this.coord = new Coordination(init.config.lease_ticks * init.config.tick_ms, this.live !== null, init.live?.process ?? '');
    const c = init.config;
    const add = (id: string, kind: AgentKind, capacity: number) =>
      this.agents.push({ id, kind, capacity, actions: 0, offset: 0, busy: null, last: 'idle' });
    add('operator', 'operator', 1000);
    add('planner', 'planner', 100_000);
    for (let i = 0; i < c.workers; i++) add(`worker-${i}`, 'worker', c.worker_actions_per_tick);
    for (let i = 0; i < c.judges; i++) add(`judge-${i}`, 'judge', c.judge_actions_per_tick);
    if (c.human.enabled) add('human', 'human', 1000);
    add('housekeeper', 'housekeeper', 1);
  }

  // ---------------------------------------------------------------- start and resume

  /** The run header this engine writes (and a resumed run must match). */
  runHeader(): RunHeader {
    return {
      run_id: this.rng.fork('run-id').uuid(),
      seed: this.config.seed,
      config: this.config,
      scenario: this.scenario,
      personas: this.personaList,
      embedder: this.ports.embedder.model_id,
      created_at: this.clock.iso(),
    };
  }

  /** @internal Starts the run: writes its header (unless the store has it already) and sets up personas and campaigns. */
  async start(opts: { headerWritten?: boolean } = {}): Promise<void> {
    if (!opts.headerWritten) await this.ports.runLog.startRun(this.runHeader(), this.progress());
    this.beginAction('system');
    this.emit('run.started', { data: { seed: this.config.seed, scenario: this.scenario.name, workers: this.config.workers, judges: this.config.judges } });
    this.endAction();
    for (const p of this.personaList) {
      this.beginAction('system');
      await this.loadPersona(p);
      this.endAction();
    }
    for (const sc of this.scenario.campaigns) {
      this.beginAction('system');
      await this.createCampaign(sc);
      this.endAction();
    }
    await this.flush();
  }


  // ---------------------------------------------------------------- stepping

  /** Runs the next agent action; null when the run has finished. */
  async step(): Promise<StepResult | null> {
    let out: StepResult | null = null;
    await this.steps(1, undefined, undefined, (r) => {
      out = r;
    });
    return out;
  }

  /** Runs the rest of the current tick; returns its steps. */
  async tick(): Promise<StepResult[]> {
    const out: StepResult[] = [];
    const start = this.tickNo;
    while (!this.finished && this.tickNo === start) {
      const r = await this.step();
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * Runs until finished, `max_steps`, `until_tick` or `shouldStop()`; hands every step to
   * `onStep` and reports progress every `every` steps (and once at the end).
   */
  async run(
    opts: {
      max_steps?: number;
      until_tick?: number;
      shouldStop?: () => boolean;
      onStep?: (r: StepResult) => void;
      onProgress?: (e: SwarmEngine) => void;
      every?: number;
    } = {},
  ): Promise<void> {
    const every = opts.every ?? 500;
    const { onStep, onProgress } = opts;
    let n = 0;
    await this.steps(opts.max_steps ?? Infinity, opts.until_tick, opts.shouldStop, (r) => {
      onStep?.(r);
      n += 1;
      if (onProgress && n % every === 0) onProgress(this);
    });
    await this.flush();
    onProgress?.(this);
  }

  /**
   * The stepping loop (one async call for a whole run, not one per step): before each step the
   * limits are checked; a step runs agent turns, skipping idle ones and ending ticks, until an
   * agent acts, and that action is the step.
   */
  private async steps(max: number, until_tick: number | undefined, shouldStop: (() => boolean) | undefined, onStep: (r: StepResult) => void): Promise<void> {
    this.assertUsable();
    try {
      await this.stepLoop(max, until_tick, shouldStop, onStep);
    } catch (e) {
      // an agent's action that fails part way leaves this engine's view ahead of the store
      throw this.breaks(e);
    }
  }

  private async stepLoop(max: number, until_tick: number | undefined, shouldStop: (() => boolean) | undefined, onStep: (r: StepResult) => void): Promise<void> {
    for (let n = 0; n < max && !this.finished; n++) {
      if (until_tick !== undefined && this.tickNo >= until_tick) return;
      if (shouldStop?.()) return;
      for (let turns = 0; ; turns++) {
        if (turns >= 1_000_000) throw new Error('engine made no progress in 1,000,000 turns');
        if (this.finished) return;
        if (this.cursor >= this.agents.length) {
          const idle = this.actionsThisTick === 0;
          await this.endTick();
          // a step skips idle ticks; it must not run past until_tick while doing so
          if (until_tick !== undefined && this.tickNo >= until_tick) return;
          // live: a round in which nothing here could act hands control back (others may bring work)
          if (this.live && idle) return;
          continue;
        }
        const a = this.agents[this.cursor] as AgentState;
        if (a.actions >= a.capacity || !this.mayAct(a)) {
          this.cursor += 1;
          continue;
        }
        this.beginAction(a.id);
        const acted = await this.act(a);
        if (!acted) {
          this.current = [];
          this.cursor += 1;
          continue;
        }
        a.actions += 1;
        this.actionsThisTick += 1;
        onStep(this.endAction());
        if (this.checkpointEachStep) await this.flush();
        break;
      }
    }
  }

  /**
   * Applies a command from outside the simulation (the UI, the CLI) as the next step; it is
   * logged with the engine's position so a replay applies it at exactly the same point.
   * `at` is that recorded position (replay only): idle turns run until it is reached.
   */
  async command(cmd: ExternalCommand, at?: { tick: number; cursor: number }): Promise<StepResult> {
    this.assertUsable();
    try {
      return await this.applyCommand(cmd, at);
    } catch (e) {
      // a refused command (stale version, unknown id, not waiting for review) changed nothing
      if (e instanceof ChimeraError && REFUSALS.has(e.code)) throw e;
      throw this.breaks(e);
    }
  }

  private async applyCommand(cmd: ExternalCommand, at?: { tick: number; cursor: number }): Promise<StepResult> {
    if (at) await this.idleUntil(at);
    const position = { tick: this.tickNo, cursor: this.cursor };
    this.beginAction('ui');
    this.commandActor = cmd.actor ?? (cmd.type === 'human.decide' ? cmd.reviewer : undefined) ?? null;
    try {
      switch (cmd.type) {
        case 'human.decide':
          await human.humanDecide(this, cmd.task_id, cmd.decision, cmd.edited_text ?? null, cmd.reviewer ?? cmd.actor ?? 'ui', cmd.expected_version);
          break;
        case 'campaign.pause':
        case 'campaign.resume':
          await this.setCampaignStatus(cmd.campaign_id, cmd.type === 'campaign.pause' ? 'PAUSED' : 'ACTIVE', cmd.expected_version);
          break;
        case 'campaign.create': {
          const p = this.personas.get(cmd.persona_id);
          if (!p) throw new ValidationError(`unknown persona "${cmd.persona_id}" (loaded: ${[...this.personas.keys()].join(', ')})`);
          await this.createCampaign({ title: cmd.title, goal: cmd.goal, persona: cmd.persona_id, content_pieces: cmd.content_pieces ?? 3 });
          break;
        }
      }
    } finally {
      this.commandActor = null;
    }
    // new work may exist now: a finished run can go on
    if (this.finished === 'completed' || this.finished === 'quiescent') this.finished = null;
    const last = this.current[this.current.length - 1];
    if (last) this.current[this.current.length - 1] = { ...last, data: { ...(last.data ?? {}), command: cmd, at: position } };
    const r = this.endAction();
    if (this.checkpointEachStep) await this.flush();
    return r;
  }

  /** Runs idle agent turns until the engine stands at `at`; an agent that acts means the replay diverged. */
  /** @internal */
  async idleUntil(at: { tick: number; cursor: number }): Promise<void> {
    for (let guard = 0; guard < 10_000_000; guard++) {
      if (this.tickNo === at.tick && this.cursor === at.cursor) return;
      if (this.tickNo > at.tick || (this.tickNo === at.tick && this.cursor > at.cursor)) break;
      if (this.cursor >= this.agents.length) {
        if (this.finished) break;
        await this.endTick();
        continue;
      }
      const a = this.agents[this.cursor] as AgentState;
      if (a.actions < a.capacity) {
        this.beginAction(a.id);
        if (await this.act(a)) throw new ChimeraError('INTERNAL', `replay diverged: ${a.id} acted before the recorded command at tick ${at.tick}`);
        this.current = [];
      }
      this.cursor += 1;
    }
    if (!(this.tickNo === at.tick && this.cursor === at.cursor)) {
      throw new ChimeraError('INTERNAL', `replay diverged: cannot reach tick ${at.tick}, turn ${at.cursor} (engine at tick ${this.tickNo}, turn ${this.cursor})`);
    }
  }

  private async endTick(): Promise<void> {
    const idle = this.actionsThisTick === 0;
    if (this.live) await this.refreshMirrors();
    if (this.campaignOrder.length > 0 && this.campaignOrder.every((id) => this.campaigns.get(id)?.status === 'COMPLETED')) {
      this.finished = 'completed';
    } else if (!this.live && idle && !(await this.hasPendingWork())) {
      // (live: other processes may still bring work; only completion or max_ticks ends a round of runs)
      this.finished = 'quiescent';
    } else if (this.tickNo + 1 >= this.config.max_ticks) {
      this.finished = 'max_ticks';
    }
    if (!this.finished) {
      this.tickNo += 1;
      if (!this.live) this.clock.set(this.clock.now_ms() + this.config.tick_ms);
      this.cursor = 0;
      this.actionsThisTick = 0;
      for (const a of this.agents) a.actions = 0;
    }
    await this.flush();
  }

  /** True while something will happen without a new command: busy agents, queued work, scheduled operator actions. */
  private async hasPendingWork(): Promise<boolean> {
    if (this.agents.some((a) => a.busy)) return true;
    if (this.operatorDone < this.scenario.operator.length) return true;
    for (const id of this.campaignOrder) {
      const m = this.campaigns.get(id) as CampaignMirror;
      if (m.status === 'PLANNING') return true;
      if (m.status !== 'ACTIVE') continue;
      if (m.toReplan.length) return true;
      for (const q of [this.ports.taskQueue.depth(m.taskQueue), this.ports.reviewQueue.depth(m.reviewQueue)]) {
        const d = await q;
        if (d.ready + d.delayed + d.leased > 0) return true;
      }
      if (this.config.human.enabled && m.escalated.length) return true;
    }
    return false;
  }

  /** Persists events and progress to the run log (a checkpoint). */
  async flush(): Promise<void> {
    if (this.broken) throw this.broken;
    const { events, lines } = this.log.drain();
    if (this.live) return; // a live run keeps no run log: its history is the audit log
    try {
      await this.ports.runLog.append(events, this.progress(), lines);
    } catch (e) {
      throw this.breaks(e);
    }
  }

  /**
   * After storage lost writes (a checkpoint that failed, a backend that dropped its batch) this
   * engine is ahead of its store: it must not write again (a later checkpoint would record
   * progress over state the store no longer has). Reopening resumes from the last checkpoint.
   */
  private breaks(e: unknown): unknown {
    this.broken ??= new ChimeraError('BACKEND_UNAVAILABLE', `the engine stopped: its storage lost writes (${(e as Error).message}); reopen the store to resume from its last checkpoint`);
    return e;
  }

  private assertUsable(): void {
    if (this.broken) throw this.broken;
  }

  private progress() {
    return { step: this.stepNo, tick: this.tickNo, clock_ms: this.clock.now_ms() };
  }

  private beginAction(agent: string): void {
    this.currentAgent = agent;
    this.current = [];
  }

  private endAction(): StepResult {
    const events = this.current;
    this.current = [];
    for (const e of events) this.log.push(e);
    return { step: this.stepNo, tick: this.tickNo, agent: this.currentAgent, events };
  }

  /** @internal (agents) */
  emit(type: EventType, fields: { campaign_id?: string; task_id?: string; data?: Record<string, unknown> } = {}): void {
    if (this.current.length === 0) this.stepNo += 1;
    // one shape for every event (absent fields are undefined, which JSON leaves out)
    const e: EngineEvent = { step: this.stepNo, tick: this.tickNo, agent: this.currentAgent, type, campaign_id: fields.campaign_id, task_id: fields.task_id, data: fields.data };
    this.current.push(e);
  }

  /** An agent's turn (timed by phase when a PhaseTimer is set; no extra async call otherwise). */
  private act(a: AgentState): Promise<boolean> {
    return this.timer ? this.timedAct(a, this.timer) : this.actUntimed(a);
  }

  private async timedAct(a: AgentState, timer: PhaseTimer): Promise<boolean> {
    const phase: Phase =
      a.kind === 'planner' ? 'plan' : a.kind === 'worker' ? (a.busy ? 'work' : 'claim') : a.kind === 'judge' ? (a.busy ? 'commit' : 'judge') : a.kind === 'human' ? 'commit' : 'other';
    timer.start(phase);
    try {
      return await this.actUntimed(a);
    } finally {
      timer.stop();
    }
  }

  /**
   * False when the agent certainly has nothing to do this turn: its turn would return false
   * and change nothing. Spares an async call for each idle turn (most turns of most ticks).
   */
  private mayAct(a: AgentState): boolean {
    switch (a.kind) {
      case 'worker':
        return a.busy ? this.tickNo >= a.busy.until_tick : this.coord.mayClaim('taskQueue');
      case 'judge':
        return a.busy ? this.tickNo >= a.busy.until_tick : this.coord.mayClaim('reviewQueue');
      case 'operator': {
        const next = this.scenario.operator[this.operatorDone];
        return next !== undefined && next.tick <= this.tickNo;
      }
      case 'housekeeper':
        return this.coord.soonestLease() <= this.clock.now_ms() || housekeeper.anchorDue(this);
      default:
        return true;
    }
  }

  private actUntimed(a: AgentState): Promise<boolean> {
    switch (a.kind) {
      case 'operator':
        return operator.operatorTurn(this);
      case 'planner':
        return planner.plannerTurn(this, a);
      case 'worker':
        return a.busy ? worker.workerFinish(this, a) : worker.workerClaim(this, a);
      case 'judge':
        return a.busy ? judgeAgent.judgeCommitDeliberated(this, a) : judgeAgent.judgeClaim(this, a);
      case 'human':
        return human.humanTurn(this, a);
      case 'housekeeper':
        return housekeeper.housekeeperTurn(this, a);
    }
  }

  // ---------------------------------------------------------------- shared transactional pieces

  private audit(fields: Omit<AuditDraft, 'id' | 'timestamp' | 'actor'> & { actor?: string }): AuditDraft {
    this.auditSinceAnchor += 1;
    // the id is derived from what makes the event unique (one commit per campaign version),
    // not drawn from a stream, so a resumed run never reuses an id of its previous life
    return {
      id: auditIdFor(this.config.seed, fields.campaign_id ?? '-', fields.state_version == null ? '-' : String(fields.state_version), fields.action, fields.entity_id),
      actor: fields.actor ?? this.commandActor ?? this.currentAgent,
      timestamp: this.clock.iso(),
      action: fields.action,
      entity_type: fields.entity_type,
      entity_id: fields.entity_id,
      campaign_id: fields.campaign_id,
      before_status: fields.before_status,
      after_status: fields.after_status,
      state_version: fields.state_version,
      details: fields.details,
    };
  }

  /** What the units of work (transactions.ts) need from the engine. */
  /** @internal (agents) */
  readonly unitContext: units.UnitContext = {
    audit: (fields) => this.audit(fields),
    iso: () => this.clock.iso(),
  };

  private addMirror(m: CampaignMirror): void {
    this.campaigns.set(m.id, m);
    this.campaignOrder.push(m.id);
    this.mirrorOrder.push(m);
  }

  /** @internal (agents) */
  mirror(id: string): CampaignMirror {
    const m = this.campaigns.get(id);
    if (!m) throw new ValidationError(`unknown campaign ${id}`);
    return m;
  }

  /** Puts tasks on the campaign's task queue (the payload comes from the mirror: no store read). */
  /** @internal (agents) */
  async enqueueTasks(m: CampaignMirror, ids: readonly string[], log = true): Promise<number> {
    const items: { id: string; payload: WorkerTaskInput }[] = [];
    for (const id of ids) {
      const t = m.tasks.get(id);
      if (!t) continue;
      items.push({ id, payload: { task_id: id, skill_name: t.skill_name, params: t.params, persona_id: m.persona_id } });
    }
    const n = await this.ports.taskQueue.enqueue(m.taskQueue, items);
    if (n > 0) this.coord.taskHint.add(m.id);
    if (log && n > 0) this.emit('task.enqueued', { campaign_id: m.id, data: { count: n, first: ids[0] } });
    return n;
  }

  /** @internal (agents) */
  async persona(id: string): Promise<PersonaView> {
    const cached = this.personas.get(id);
    if (cached) return cached;
    const traits = await this.ports.personaCache.get(id);
    if (!traits) throw new ValidationError(`persona_cache:${id} is missing`);
    const v = personaViewFromTraits(id, traits);
    this.personas.set(id, v);
    return v;
  }

  // ---------------------------------------------------------------- setup

  private async loadPersona(p: Persona): Promise<void> {
    await this.ports.personaCache.set(p.id, personaTraits(p));
    this.personas.set(p.id, personaViewFromTraits(p.id, personaTraits(p)));
    const n = await this.seedPersonaMemory(p);
    this.emit('persona.loaded', { data: { persona_id: p.id, memories: n } });
  }

  /** Writes the persona's SOUL and Semantic memories (upsert by fixed ids: safe to repeat). */
  private async seedPersonaMemory(p: Persona): Promise<number> {
    const now = this.startedAt ?? this.clock.iso();
    const memories: PersonaMemory[] = [
      ...personaMemories(p, now),
      ...this.scenario.memories
        .filter((m) => m.persona === p.id)
        .map((m, i) => ({ id: `scn-${p.id}-${i}`, persona_id: p.id, content: m.content, category: m.category, timestamp: now })),
    ];
    const vectors = await this.ports.embedder.embed(memories.map((m) => m.content));
    await this.ports.memory.upsert(
      memories.map((m, i) => ({ ...m, vector: vectors[i] as Float32Array, model_id: this.ports.embedder.model_id })),
    );
    return memories.length;
  }

  /** The id of the n-th campaign of this run. */
  private campaignId(n: number): string {
    return this.live ? uuidFromKey(this.config.seed, `${this.live.run_id}/campaign-${n}`) : this.rng.fork(`campaign-${n}`).uuid();
  }

  /**
   * Live mode: the store is the truth about campaigns and their tasks, whoever wrote them. Every
   * round the mirrors are read again (a human's escalation tick is kept for tasks still waiting).
   * A COMPLETED campaign never changes again, so its tasks are not read again (nor at all, when
   * it was already completed when this engine first saw it: nothing here will act on it).
   */
  private async refreshMirrors(): Promise<void> {
    for (const c of await this.ports.state.listCampaigns()) {
      const old = this.campaigns.get(c.id);
      if (c.status === 'COMPLETED' && old?.status === 'COMPLETED') continue;
      const tasks = c.status === 'COMPLETED' && !old ? [] : await this.ports.state.listTasks({ campaign_id: c.id });
      const m = CampaignMirror.fromStore(c, tasks, this.tickNo);
      if (!old) {
        this.addMirror(m);
        if (!this.scenarioPieces.has(c.id)) this.scenarioPieces.set(c.id, 3);
        continue;
      }
      for (const [id, t] of m.tasks) {
        const was = old.tasks.get(id);
        if (t.status === 'ESC_HITL' && was?.escalated_tick != null) t.escalated_tick = was.escalated_tick;
      }
      this.campaigns.set(c.id, m);
      this.mirrorOrder[this.campaignOrder.indexOf(c.id)] = m;
    }
  }

  private async createCampaign(sc: ScenarioCampaign): Promise<Campaign> {
    const now = this.clock.iso();
    const id = this.campaignId(this.ownCampaigns.length);
    if (this.live) {
      // live: a driver started again with the same run id (or rebuilt after a lost connection)
      // finds the campaigns it created before and takes them up instead of creating them twice
      const stored = await this.ports.state.getCampaign(id);
      if (stored) {
        this.ownCampaigns.push(id);
        if (!this.campaigns.has(id)) this.addMirror(CampaignMirror.fromStore(stored, await this.ports.state.listTasks({ campaign_id: id }), this.tickNo));
        this.scenarioPieces.set(id, sc.content_pieces);
        this.emit('campaign.created', { campaign_id: id, data: { title: stored.title, persona_id: stored.persona_id, adopted: true } });
        return stored;
      }
    }
    const c: Campaign = {
      id,
      title: sc.title,
      goal: sc.goal,
      status: 'PLANNING',
      state_version: 1,
      created_at: now,
      updated_at: now,
      persona_id: sc.persona,
    };
    await units.createCampaign(this.ports.state, this.unitContext, c);
    this.ownCampaigns.push(c.id);
    this.addMirror(new CampaignMirror(c.id, c.persona_id, c.goal, 'PLANNING', c.created_at));
    this.scenarioPieces.set(c.id, sc.content_pieces);
    this.emit('campaign.created', { campaign_id: c.id, data: { title: c.title, persona_id: c.persona_id } });
    return c;
  }

  // ---------------------------------------------------------------- operator

  /** @internal (agents) */
  async setCampaignStatus(id: string, status: 'PAUSED' | 'ACTIVE', expected_version?: number): Promise<void> {
    const m = this.mirror(id);
    // every task was decided while the campaign was paused: resuming completes it
    const completes = status === 'ACTIVE' && m.outstanding === 0 && m.tasks.size > 0;
    const c = await units.setCampaignStatus(this.ports.state, this.unitContext, { id, status, ...(expected_version !== undefined ? { expected_version } : {}), completes });
    m.status = c.status;
    this.emit(status === 'PAUSED' ? 'campaign.paused' : 'campaign.resumed', { campaign_id: id, data: { state_version: c.state_version } });
    if (completes) this.emit('campaign.completed', { campaign_id: id });
  }

  // ---------------------------------------------------------------- planner

  // ---------------------------------------------------------------- workers

  // ---------------------------------------------------------------- judges

  /** The one commit path for a decision on a task (judge or human). */
  /** @internal (agents) */
  async commitDecision(
    m: CampaignMirror,
    task_id: string,
    version: number,
    route: TaskStatus,
    output_data: unknown,
    score: number | null,
    action: string,
    details: Record<string, unknown>,
    expected_status: TaskStatus = 'PROCESSING',
  ): Promise<units.DecisionOutcome> {
    // live: other engines decide too, so only the unit can tell whether this is the last open task
    const lastOutstanding = this.live ? null : route === 'COMPLETED' && m.outstanding === 1 && m.tasks.get(task_id)?.status !== 'COMPLETED';
    return units.decide(this.ports.state, this.unitContext, { campaign_id: m.id, task_id, version, route, output_data, score, action, details, expected_status, lastOutstanding });
  }

  /** @internal (agents) */
  async afterDecision(m: CampaignMirror, task_id: string, route: TaskStatus, vector: Float32Array | null, completed: boolean, written: Task | null): Promise<void> {
    m.setStatus(task_id, route, this.tickNo);
    if (route === 'COMPLETED') {
      if (completed) {
        m.status = 'COMPLETED';
        this.emit('campaign.completed', { campaign_id: m.id });
      } else {
        await this.enqueueTasks(m, m.newlyReady(task_id));
      }
      const t = m.tasks.get(task_id);
      if (t?.skill_name === 'content_generation') {
        // the row the decision just wrote (no read back)
        const task = written?.id === task_id ? written : await this.ports.state.getTask(task_id);
        if (task) await this.writeEpisodic(task, vector, true);
      }
    }
  }

  /** Approved content becomes Episodic memory of the persona. */
  private async writeEpisodic(task: Task, vector: Float32Array | null, log: boolean): Promise<void> {
    const od = (task.output_data ?? {}) as { output?: { result?: { text?: string } }; edited_text?: string };
    const text = od.edited_text ?? od.output?.result?.text;
    if (!text) return;
    const m = this.mirror(task.campaign_id);
    const v = vector ?? ((await this.ports.embedder.embed([text]))[0] as Float32Array);
    await this.ports.memory.upsert([
      { id: `ep-${task.id}`, persona_id: m.persona_id, content: text, category: 'Episodic', timestamp: this.clock.iso(), vector: v, model_id: this.ports.embedder.model_id },
    ]);
    if (log) this.emit('memory.written', { campaign_id: m.id, task_id: task.id, data: { memory_id: `ep-${task.id}` } });
  }

  // ---------------------------------------------------------------- human

  // ---------------------------------------------------------------- housekeeper

  // ---------------------------------------------------------------- read-outs

  /** What each agent is doing, for the swarm view. */
  agentStates(): { id: string; kind: AgentKind; busy: boolean; last: string }[] {
    return this.agents.map((a) => ({ id: a.id, kind: a.kind, busy: a.busy !== null, last: a.last }));
  }

  now(): string {
    return this.clock.iso();
  }

  /** The engine's clock in milliseconds. */
  nowMs(): number {
    return this.clock.now_ms();
  }


  /**
   * Starts a new run, or resumes the run already in the ports' run log: the same run or nothing
   * (a different seed, scenario, persona or setting is refused, naming it), re-executed from its
   * seed on scratch ports up to its last checkpoint and checked against the store (recovery.ts).
   */
  static async create(init: EngineInit): Promise<SwarmEngine> {
    if (init.live) {
      // live: no run to resume; the shared stores are the state
      const e = new SwarmEngine(init);
      await e.start({ headerWritten: true });
      return e;
    }
    const existing = await init.ports.runLog.loadRun();
    if (!existing) {
      const e = new SwarmEngine(init);
      await e.start();
      return e;
    }
    const fresh = new SwarmEngine(init);
    assertSameRun(existing.header, fresh.runHeader());
    if (!init.scratch) throw new ValidationError('this store holds a run; resuming it needs scratch ports to replay it on (EngineInit.scratch)');
    const scratch = await init.scratch();
    try {
      const replayed = new SwarmEngine({ ...init, ports: scratch });
      await resumeByReplay(replayed, init.ports, existing.progress);
      return replayed;
    } finally {
      await scratch.close();
    }
  }
}

/** Error codes of a command refused before it changed anything. */
const REFUSALS: ReadonlySet<string> = new Set(['VALIDATION', 'CONFLICT', 'ILLEGAL_TRANSITION', 'NOT_FOUND', 'DUPLICATE']);
