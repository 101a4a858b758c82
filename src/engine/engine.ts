/**
 * The swarm engine: a step function over explicit state. Each tick every agent gets a turn
 * in a fixed order (operator, planner, workers, judges, human, housekeeper); `step()` runs
 * the next agent action that does something, `tick()` finishes the tick, `run()` goes on to
 * completion. Time is the injected virtual clock; every random choice comes from a stream
 * derived from the run's seed. The engine reaches storage only through the ports.
 */
import { ChimeraError, ConflictError, ValidationError } from '../domain/errors.ts';
import type { AuditDraft, Campaign, Persona, PersonaMemory, Task, TaskStatus, WorkerTaskInput, WorkerTaskOutput } from '../domain/schemas.ts';
import { personaMemories, personaTraits } from '../domain/persona.ts';
import type { Ports } from '../ports/index.ts';
import type { Lease, WorkQueue } from '../ports/queue.ts';
import type { StateTransaction } from '../ports/state-store.ts';
import type { RunHeader } from '../ports/run-log.ts';
import { SeededRng, auditIdFor } from '../domain/seeded-rng.ts';
import type { EngineConfig, Scenario, ScenarioCampaign } from './config.ts';
import { EventLog, type EngineEvent, type EventType } from './events.ts';
import { judge, redactFlagged, type Verdict } from './judge.ts';
import { CampaignMirror } from './mirror.ts';
import { personaViewFromTraits, type PersonaView } from './persona-view.ts';
import { planCampaign, replanTask } from './planner.ts';
import { runSkill, type SkillOutcome } from './skills.ts';
import { assertSameRun, resumeByReplay } from './recovery.ts';
import { UNIT_ATTEMPTS, retryingUnit } from './units.ts';
import { ANCHOR_ACTION } from '../domain/audit.ts';

/** How many ticks apart the audit chains are anchored together (when anything was audited in between). */
export const ANCHOR_EVERY_TICKS = 10;

/** The clock the engine drives: the Clock port plus the ability to move it. */
export interface EngineClock {
  now_ms(): number;
  iso(): string;
  set(ms: number): void;
}

export type AgentKind = 'operator' | 'planner' | 'worker' | 'judge' | 'human' | 'housekeeper';

interface WorkerBusy {
  readonly lease: Lease<WorkerTaskInput>;
  readonly task_id: string;
  readonly campaign_id: string;
  readonly attempt: number;
  readonly until_tick: number;
  readonly outcome: SkillOutcome;
}

interface JudgeBusy {
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
export type ExternalCommand =
  | { type: 'human.decide'; task_id: string; decision: 'approve' | 'reject' | 'edit'; edited_text?: string; expected_version?: number; reviewer?: string }
  | { type: 'campaign.pause'; campaign_id: string; expected_version?: number }
  | { type: 'campaign.resume'; campaign_id: string; expected_version?: number }
  | { type: 'campaign.create'; title: string; goal: string; persona_id: string; content_pieces?: number };

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
}

export class SwarmEngine {
  readonly config: EngineConfig;
  readonly scenario: Scenario;
  readonly log: EventLog;
  readonly agents: AgentState[] = [];
  readonly campaigns = new Map<string, CampaignMirror>();
  /** Campaign ids in creation order. */
  readonly campaignOrder: string[] = [];
  /** The same campaigns' mirrors, in the same order (the claim loop walks them every turn). */
  private readonly mirrorOrder: CampaignMirror[] = [];
  stepNo = 0;
  tickNo = 0;
  finished: FinishReason | null = null;
  conflicts = 0;
  /** Audit events drafted since the last anchor, and the tick of that anchor (see anchorTurn). */
  private auditSinceAnchor = 0;
  private lastAnchorTick = 0;
  /** Set when storage lost writes: the engine refuses to go on (see breaks()). */
  private broken: ChimeraError | null = null;

  /** @internal Swapped once by recovery: from the scratch ports the run was replayed on to the durable ones. */
  ports: Ports;
  private readonly clock: EngineClock;
  private readonly checkpointEachStep: boolean;
  private readonly rng: SeededRng;
  private readonly personas = new Map<string, PersonaView>();
  private readonly scenarioPieces = new Map<string, number>();
  private cursor = 0;
  private actionsThisTick = 0;
  private operatorDone = 0;
  private current: EngineEvent[] = [];
  private currentAgent = 'system';
  private readonly lease_ms: number;
  private readonly personaList: readonly Persona[];
  private readonly timer: PhaseTimer | undefined;
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
  private readonly leases = new Map<object, number>();
  private readonly taskHint = new Set<string>();
  private readonly reviewHint = new Set<string>();

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
    this.lease_ms = init.config.lease_ticks * init.config.tick_ms;
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
          await this.endTick();
          // a step skips idle ticks; it must not run past until_tick while doing so
          if (until_tick !== undefined && this.tickNo >= until_tick) return;
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
    switch (cmd.type) {
      case 'human.decide':
        await this.humanDecide(cmd.task_id, cmd.decision, cmd.edited_text ?? null, cmd.reviewer ?? 'ui', cmd.expected_version);
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
    if (this.campaignOrder.length > 0 && this.campaignOrder.every((id) => this.campaigns.get(id)?.status === 'COMPLETED')) {
      this.finished = 'completed';
    } else if (idle && !(await this.hasPendingWork())) {
      this.finished = 'quiescent';
    } else if (this.tickNo + 1 >= this.config.max_ticks) {
      this.finished = 'max_ticks';
    }
    if (!this.finished) {
      this.tickNo += 1;
      this.clock.set(this.clock.now_ms() + this.config.tick_ms);
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

  private emit(type: EventType, fields: { campaign_id?: string; task_id?: string; data?: Record<string, unknown> } = {}): void {
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
        return a.busy ? this.tickNo >= a.busy.until_tick : this.taskHint.size > 0;
      case 'judge':
        return a.busy ? this.tickNo >= a.busy.until_tick : this.reviewHint.size > 0;
      case 'operator': {
        const next = this.scenario.operator[this.operatorDone];
        return next !== undefined && next.tick <= this.tickNo;
      }
      case 'housekeeper':
        return this.soonestLease() <= this.clock.now_ms() || this.anchorDue();
      default:
        return true;
    }
  }

  private actUntimed(a: AgentState): Promise<boolean> {
    switch (a.kind) {
      case 'operator':
        return this.operatorTurn();
      case 'planner':
        return this.plannerTurn(a);
      case 'worker':
        return a.busy ? this.workerFinish(a) : this.workerClaim(a);
      case 'judge':
        return a.busy ? this.judgeCommitDeliberated(a) : this.judgeClaim(a);
      case 'human':
        return this.humanTurn(a);
      case 'housekeeper':
        return this.housekeeperTurn(a);
    }
  }

  // ---------------------------------------------------------------- shared transactional pieces

  private audit(fields: Omit<AuditDraft, 'id' | 'timestamp' | 'actor'> & { actor?: string }): AuditDraft {
    this.auditSinceAnchor += 1;
    // the id is derived from what makes the event unique (one commit per campaign version),
    // not drawn from a stream, so a resumed run never reuses an id of its previous life
    return {
      id: auditIdFor(this.config.seed, fields.campaign_id ?? '-', fields.state_version == null ? '-' : String(fields.state_version), fields.action, fields.entity_id),
      actor: fields.actor ?? this.currentAgent,
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

  /** Bumps the campaign's version (compare-and-set on what this actor read). */
  private bump(tx: StateTransaction, c: Campaign, status?: Campaign['status']): Promise<Campaign> {
    return tx.updateCampaign(c.id, c.state_version, status ? { status, updated_at: this.clock.iso() } : { updated_at: this.clock.iso() });
  }

  private addMirror(m: CampaignMirror): void {
    this.campaigns.set(m.id, m);
    this.campaignOrder.push(m.id);
    this.mirrorOrder.push(m);
  }

  private mirror(id: string): CampaignMirror {
    const m = this.campaigns.get(id);
    if (!m) throw new ValidationError(`unknown campaign ${id}`);
    return m;
  }

  /** Puts tasks on the campaign's task queue (the payload comes from the mirror: no store read). */
  private async enqueueTasks(m: CampaignMirror, ids: readonly string[], log = true): Promise<void> {
    const items: { id: string; payload: WorkerTaskInput }[] = [];
    for (const id of ids) {
      const t = m.tasks.get(id);
      if (!t) continue;
      items.push({ id, payload: { task_id: id, skill_name: t.skill_name, params: t.params, persona_id: m.persona_id } });
    }
    const n = await this.ports.taskQueue.enqueue(m.taskQueue, items);
    if (n > 0) this.taskHint.add(m.id);
    if (log && n > 0) this.emit('task.enqueued', { campaign_id: m.id, data: { count: n, first: ids[0] } });
  }

  private async persona(id: string): Promise<PersonaView> {
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
    return this.rng.fork(`campaign-${n}`).uuid();
  }

  private async createCampaign(sc: ScenarioCampaign): Promise<Campaign> {
    const now = this.clock.iso();
    const c: Campaign = {
      id: this.campaignId(this.campaignOrder.length),
      title: sc.title,
      goal: sc.goal,
      status: 'PLANNING',
      state_version: 1,
      created_at: now,
      updated_at: now,
      persona_id: sc.persona,
    };
    await this.ports.state.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.appendAudit(
        this.audit({ action: 'campaign.created', entity_type: 'campaign', entity_id: c.id, campaign_id: c.id, before_status: null, after_status: 'PLANNING', state_version: 1, details: { title: c.title, persona_id: c.persona_id } }),
      );
    });
    this.addMirror(new CampaignMirror(c.id, c.persona_id, c.goal, 'PLANNING', c.created_at));
    this.scenarioPieces.set(c.id, sc.content_pieces);
    this.emit('campaign.created', { campaign_id: c.id, data: { title: c.title, persona_id: c.persona_id } });
    return c;
  }

  // ---------------------------------------------------------------- operator

  private async operatorTurn(): Promise<boolean> {
    const next = this.scenario.operator[this.operatorDone];
    if (!next || next.tick > this.tickNo) return false;
    this.operatorDone += 1;
    const id = this.campaignOrder[next.campaign];
    if (!id) {
      this.emit('campaign.paused', { data: { skipped: `no campaign #${next.campaign}` } });
      return true;
    }
    const m = this.mirror(id);
    const want = next.action === 'pause' ? 'PAUSED' : 'ACTIVE';
    if ((want === 'PAUSED' && m.status !== 'ACTIVE') || (want === 'ACTIVE' && m.status !== 'PAUSED')) {
      this.emit(want === 'PAUSED' ? 'campaign.paused' : 'campaign.resumed', { campaign_id: id, data: { skipped: `campaign is ${m.status}` } });
      return true;
    }
    await this.setCampaignStatus(id, want);
    return true;
  }

  private async setCampaignStatus(id: string, status: 'PAUSED' | 'ACTIVE', expected_version?: number): Promise<void> {
    const m = this.mirror(id);
    // every task was decided while the campaign was paused: resuming completes it
    const completes = status === 'ACTIVE' && m.outstanding === 0 && m.tasks.size > 0;
    // the operator's change reads the version in the unit (a conflict runs it again); a version
    // the caller read (the UI) is the caller's to re-read: its conflict is reported
    const c = await retryingUnit(this.ports.state, async (tx) => {
      const cur = await tx.getCampaign(id);
      if (!cur) throw new ValidationError(`unknown campaign ${id}`);
      const read = expected_version === undefined ? cur : { ...cur, state_version: expected_version };
      let next = await this.bump(tx, read, status);
      await tx.appendAudit(
        this.audit({ action: status === 'PAUSED' ? 'campaign.paused' : 'campaign.resumed', entity_type: 'campaign', entity_id: id, campaign_id: id, before_status: cur.status, after_status: status, state_version: next.state_version, details: null }),
      );
      if (completes) {
        next = await this.bump(tx, next, 'COMPLETED');
        await tx.appendAudit(
          this.audit({ action: 'campaign.completed', entity_type: 'campaign', entity_id: id, campaign_id: id, before_status: 'ACTIVE', after_status: 'COMPLETED', state_version: next.state_version, details: null }),
        );
      }
      return next;
    }, expected_version === undefined ? UNIT_ATTEMPTS : 1);
    m.status = c.status;
    this.emit(status === 'PAUSED' ? 'campaign.paused' : 'campaign.resumed', { campaign_id: id, data: { state_version: c.state_version } });
    if (completes) this.emit('campaign.completed', { campaign_id: id });
  }

  // ---------------------------------------------------------------- planner

  private async plannerTurn(a: AgentState): Promise<boolean> {
    for (const id of this.campaignOrder) {
      const m = this.campaigns.get(id) as CampaignMirror;
      if (m.status === 'PLANNING') {
        await this.plan(m);
        a.last = `planned ${id.slice(0, 8)}`;
        return true;
      }
      if (m.status === 'ACTIVE' && m.toReplan.length) {
        await this.replan(m, m.toReplan[0] as string);
        a.last = `re-planned a branch of ${id.slice(0, 8)}`;
        return true;
      }
    }
    return false;
  }

  private async plan(m: CampaignMirror): Promise<void> {
    const now = this.clock.iso();
    const { planner, tasks } = planCampaign(
      { campaign_id: m.id, goal: m.goal, persona_id: m.persona_id, content_pieces: this.scenarioPieces.get(m.id) ?? 3, now },
      this.rng.fork(`plan/${m.id}`),
    );
    const c = await retryingUnit(this.ports.state, async (tx) => {
      const cur = await tx.getCampaign(m.id);
      if (!cur) throw new ValidationError(`campaign ${m.id} vanished`);
      await tx.insertTasks([planner, ...tasks]);
      const next = await this.bump(tx, cur, 'ACTIVE');
      await tx.appendAudit(
        this.audit({ action: 'campaign.planned', entity_type: 'campaign', entity_id: m.id, campaign_id: m.id, before_status: cur.status, after_status: 'ACTIVE', state_version: next.state_version, details: { tasks: tasks.length } }),
      );
      return next;
    });
    m.status = c.status;
    m.addTask(planner, this.tickNo);
    for (const t of tasks) m.addTask(t, this.tickNo);
    this.emit('campaign.planned', { campaign_id: m.id, data: { tasks: tasks.length, state_version: c.state_version } });
    await this.enqueueTasks(m, m.readyTasks());
  }

  private async replan(m: CampaignMirror, failed_id: string): Promise<void> {
    const failed = await this.ports.state.getTask(failed_id);
    if (!failed) throw new ValidationError(`task ${failed_id} vanished`);
    const replacement = replanTask(failed, this.rng.fork(`replan/${failed_id}`), this.clock.iso());
    const dependents = m.dependents.get(failed_id) ?? [];
    await retryingUnit(this.ports.state, async (tx) => {
      const cur = await tx.getCampaign(m.id);
      if (!cur) throw new ValidationError(`campaign ${m.id} vanished`);
      await tx.insertTasks([replacement]);
      for (const d of dependents) {
        const dt = await tx.getTask(d);
        if (dt) await tx.updateTask(d, { depends_on: dt.depends_on.map((x) => (x === failed_id ? replacement.id : x)), updated_at: this.clock.iso() });
      }
      const next = await this.bump(tx, cur);
      await tx.appendAudit(
        this.audit({ action: 'task.replanned', entity_type: 'task', entity_id: replacement.id, campaign_id: m.id, before_status: null, after_status: 'PENDING', state_version: next.state_version, details: { supersedes: failed_id, branch: failed.branch, replans: replacement.replans } }),
      );
    });
    m.replaced(failed_id, replacement, this.tickNo);
    this.emit('task.replanned', { campaign_id: m.id, task_id: replacement.id, data: { supersedes: failed_id, branch: failed.branch, replans: replacement.replans } });
    await this.enqueueTasks(m, m.isReady(replacement.id) ? [replacement.id] : []);
  }

  // ---------------------------------------------------------------- workers

  private async workerClaim(a: AgentState): Promise<boolean> {
    const got = await this.claimNext(a, this.ports.taskQueue, this.taskHint, 'taskQueue');
    if (!got) return false;
    await this.startWork(a, got.m, got.lease);
    return true;
  }

  /**
   * Claims the next item for agent `a` from the queues of active campaigns, round-robin from
   * where it last found work, skipping queues the hint knows to be empty.
   */
  private async claimNext<T>(
    a: AgentState,
    queue: WorkQueue<T>,
    hint: Set<string>,
    which: 'taskQueue' | 'reviewQueue',
  ): Promise<{ m: CampaignMirror; lease: Lease<T> } | null> {
    const order = this.mirrorOrder;
    const n = order.length;
    for (let k = 0; k < n; k++) {
      let idx = a.offset + k;
      if (idx >= n) idx %= n;
      const m = order[idx] as CampaignMirror;
      const id = m.id;
      if (m.status !== 'ACTIVE' || !hint.has(id)) continue;
      const lease = await queue.claim(m[which], a.id, this.lease_ms);
      if (lease) this.leases.set(lease, lease.expires_at_ms);
      if (!lease) {
        await this.maybeClearHint(hint, queue.depth(m[which]), id);
        continue;
      }
      a.offset = idx + 1;
      return { m, lease };
    }
    return null;
  }

  /** When the first lease on this run's queues expires (Infinity when none is held). */
  private soonestLease(): number {
    let soonest = Infinity;
    for (const at of this.leases.values()) if (at < soonest) soonest = at;
    return soonest;
  }

  /** Acknowledges a lease this engine holds (and forgets it). */
  private ack<T>(queue: WorkQueue<T>, lease: Lease<T>): Promise<boolean> {
    this.leases.delete(lease);
    return queue.ack(lease.queue, lease.lease_id);
  }

  /** Puts a held item back on its queue after `delay_ms` (and forgets the lease). */
  private retryLease<T>(queue: WorkQueue<T>, lease: Lease<T>, delay_ms: number): Promise<{ attempts: number } | null> {
    this.leases.delete(lease);
    return queue.retry(lease.queue, lease.lease_id, { delay_ms });
  }

  /** Clears a queue hint unless items are only waiting out a delay. */
  private async maybeClearHint(hint: Set<string>, depth: Promise<{ ready: number; delayed: number }>, id: string): Promise<void> {
    const d = await depth;
    if (d.ready === 0 && d.delayed === 0) hint.delete(id);
  }

  private async startWork(a: AgentState, m: CampaignMirror, lease: Lease<WorkerTaskInput>): Promise<void> {
    const task_id = lease.item.payload.task_id;
    // the task's status is read in the unit that changes it: another worker's commit in between is a conflict, and the unit runs again
    const claimed = await retryingUnit(this.ports.state, async (tx) => {
      const task = await tx.getTask(task_id);
      if (!task || (task.status !== 'PENDING' && task.status !== 'PROCESSING')) return { duplicate: task?.status ?? 'missing' } as const;
      const c = await tx.getCampaign(m.id);
      if (!c) throw new ValidationError(`campaign ${m.id} vanished`);
      // a redelivery (the task is still PROCESSING) is the same attempt: only a fresh claim counts
      const attempts = task.status === 'PENDING' ? task.attempts + 1 : task.attempts;
      const t = await tx.updateTask(task_id, { status: 'PROCESSING', attempts, updated_at: this.clock.iso() }, task.status);
      const next = await this.bump(tx, c);
      await tx.appendAudit(
        this.audit({ action: 'task.claimed', entity_type: 'task', entity_id: task_id, campaign_id: m.id, before_status: task.status, after_status: 'PROCESSING', state_version: next.state_version, details: { attempt: t.attempts } }),
      );
      return { task, updated: t } as const;
    });
    if ('duplicate' in claimed) {
      await this.ack(this.ports.taskQueue, lease);
      this.emit('task.duplicate', { campaign_id: m.id, task_id, data: { status: claimed.duplicate, stage: 'claim' } });
      a.last = 'skipped a duplicate delivery';
      return;
    }
    const { task, updated } = claimed;
    m.setStatus(task_id, 'PROCESSING', this.tickNo);
    const persona = (this.personas.get(m.persona_id) ?? (await this.persona(m.persona_id)));
    this.timer?.start('work');
    const outcome = runSkill(task.skill_name, lease.item.payload.params, persona, m.goal, this.config.faults, this.rng.fork(`skill/${task_id}/${updated.attempts}`));
    this.timer?.stop();
    const slow = this.rng.fork(`slow/${task_id}/${lease.item.attempts}`).chance(this.config.faults.slow_worker);
    const until_tick = this.tickNo + 1 + (slow ? this.config.slow_extra_ticks : 0);
    a.busy = { lease, task_id, campaign_id: m.id, attempt: updated.attempts, until_tick, outcome };
    a.last = `working on ${task.skill_name} ${task_id.slice(0, 8)}`;
    this.emit('task.claimed', { campaign_id: m.id, task_id, data: { attempt: updated.attempts, skill: task.skill_name, redelivery: lease.item.attempts, slow } });
  }

  private async workerFinish(a: AgentState): Promise<boolean> {
    const b = a.busy as WorkerBusy;
    if (this.tickNo < b.until_tick) return false;
    a.busy = null;
    const m = this.mirror(b.campaign_id);
    let outcome = b.outcome;
    if (outcome.kind === 'transient') {
      if (b.attempt < this.config.retry.max_attempts) {
        const r = await this.retryLease(this.ports.taskQueue, b.lease, this.config.retry.backoff_ticks * this.config.tick_ms);
        this.taskHint.add(m.id);
        if (!r) {
          this.emit('task.lease_lost', { campaign_id: m.id, task_id: b.task_id, data: { stage: 'retry' } });
          a.last = 'lost a lease';
          return true;
        }
        await retryingUnit(this.ports.state, async (tx) => {
          const c = await tx.getCampaign(m.id);
          if (!c) throw new ValidationError(`campaign ${m.id} vanished`);
          const cur = await tx.getTask(b.task_id);
          if (cur?.status !== 'PROCESSING') return;
          await tx.updateTask(b.task_id, { status: 'PENDING', updated_at: this.clock.iso() }, 'PROCESSING');
          const next = await this.bump(tx, c);
          await tx.appendAudit(
            this.audit({ action: 'task.retry', entity_type: 'task', entity_id: b.task_id, campaign_id: m.id, before_status: 'PROCESSING', after_status: 'PENDING', state_version: next.state_version, details: { attempt: b.attempt, reason: outcome.kind === 'transient' ? outcome.reason : '' } }),
          );
        });
        m.setStatus(b.task_id, 'PENDING', this.tickNo);
        this.emit('task.retry', { campaign_id: m.id, task_id: b.task_id, data: { attempt: b.attempt, level: 1, reason: outcome.reason } });
        a.last = `retrying ${b.task_id.slice(0, 8)} (level 1)`;
        return true;
      }
      outcome = { kind: 'failure', reason: `${outcome.reason}; still failing after ${b.attempt} attempts` };
    }
    const output: WorkerTaskOutput =
      outcome.kind === 'ok'
        ? { task_id: b.task_id, skill_name: b.lease.item.payload.skill_name, result: outcome.result, confidence_score: outcome.confidence, reasoning: outcome.reasoning }
        : { task_id: b.task_id, skill_name: b.lease.item.payload.skill_name, result: { text: '', error: outcome.reason }, confidence_score: 0, reasoning: `worker error: ${outcome.reason}` };
    await this.ports.reviewQueue.enqueue(m.reviewQueue, [{ id: `${b.task_id}:${b.attempt}`, payload: output }]);
    this.reviewHint.add(m.id);
    const held = await this.ack(this.ports.taskQueue, b.lease);
    if (!held) this.emit('task.lease_lost', { campaign_id: m.id, task_id: b.task_id, data: { stage: 'ack' } });
    this.emit('task.output', {
      campaign_id: m.id,
      task_id: b.task_id,
      data: { attempt: b.attempt, confidence: output.confidence_score, fault: outcome.kind === 'ok' ? outcome.fault : outcome.kind === 'failure' ? 'skill_failure' : null },
    });
    a.last = `handed ${b.task_id.slice(0, 8)} to review`;
    return true;
  }

  // ---------------------------------------------------------------- judges

  private async judgeClaim(a: AgentState): Promise<boolean> {
    const got = await this.claimNext(a, this.ports.reviewQueue, this.reviewHint, 'reviewQueue');
    if (!got) return false;
    await this.review(a, got.m, got.lease);
    return true;
  }

  private async evaluate(m: CampaignMirror, task: Task, output: WorkerTaskOutput): Promise<{ verdict: Verdict; vector: Float32Array | null }> {
    const persona = (this.personas.get(m.persona_id) ?? (await this.persona(m.persona_id)));
    const result = (output.result ?? {}) as { text?: string };
    const text = typeof result.text === 'string' ? result.text : '';
    const failed = output.confidence_score === 0 || text.length === 0;
    let vector: Float32Array | null = null;
    let hits: Awaited<ReturnType<Ports['memory']['search']>> = [];
    if (!failed) {
      vector = (await this.ports.embedder.embed([text]))[0] as Float32Array;
      hits = await this.ports.memory.search({ vector, k: this.config.judge.memories_k, persona_id: m.persona_id, categories: this.config.judge.memory_categories });
    }
    return { verdict: judge({ text, confidence: output.confidence_score, failed }, persona, hits, this.config, task.replans), vector };
  }

  private async review(a: AgentState, m: CampaignMirror, lease: Lease<WorkerTaskOutput>): Promise<void> {
    const task_id = lease.item.payload.task_id;
    const c = await this.ports.state.getCampaign(m.id);
    const task = await this.ports.state.getTask(task_id);
    if (!c || !task || task.status !== 'PROCESSING') {
      await this.ack(this.ports.reviewQueue, lease);
      this.emit('task.duplicate', { campaign_id: m.id, task_id, data: { status: task?.status ?? 'missing', stage: 'review' } });
      a.last = 'skipped a duplicate output';
      return;
    }
    const { verdict, vector } = await this.evaluate(m, task, lease.item.payload);
    if (this.config.judge_think_ticks > 0) {
      a.busy = { lease, campaign_id: m.id, task_id, version: c.state_version, verdict, until_tick: this.tickNo + this.config.judge_think_ticks };
      a.last = `deliberating on ${task_id.slice(0, 8)} (read v${c.state_version})`;
      this.emit('judge.decided', { campaign_id: m.id, task_id, data: { phase: 'read', state_version: c.state_version, score: verdict.score, route: verdict.route } });
      return;
    }
    this.timer?.start('commit');
    try {
      await this.commitVerdict(a, m, lease, task, c.state_version, verdict, vector);
    } finally {
      this.timer?.stop();
    }
  }

  private async judgeCommitDeliberated(a: AgentState): Promise<boolean> {
    const b = a.busy as JudgeBusy;
    if (this.tickNo < b.until_tick) return false;
    a.busy = null;
    const m = this.mirror(b.campaign_id);
    const task = await this.ports.state.getTask(b.task_id);
    if (!task || task.status !== 'PROCESSING') {
      await this.ack(this.ports.reviewQueue, b.lease);
      this.emit('task.duplicate', { campaign_id: m.id, task_id: b.task_id, data: { status: task?.status ?? 'missing', stage: 'commit' } });
      return true;
    }
    await this.commitVerdict(a, m, b.lease, task, b.version, b.verdict, null);
    return true;
  }

  /**
   * Commits a verdict on the campaign version the judge read. A conflict means someone else
   * committed since: the judge re-reads and re-decides (never overwrites), or defers if the
   * campaign is no longer active.
   */
  private async commitVerdict(a: AgentState, m: CampaignMirror, lease: Lease<WorkerTaskOutput>, task: Task, version: number, verdict: Verdict, vector: Float32Array | null): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const { outcome, written } = await this.commitDecision(m, task.id, version, verdict.route, {
          output: lease.item.payload,
          judge: { score: verdict.score, route: verdict.route, reasons: verdict.reasons, similarity: verdict.similarity, memories: verdict.memories, sensitive_topics: verdict.sensitive_topics, unsafe_words: verdict.unsafe_words },
        }, verdict.score, 'judge.decided', { escalation: verdict.escalation, reasons: verdict.reasons });
        await this.ack(this.ports.reviewQueue, lease);
        if (outcome === 'duplicate') {
          this.emit('task.duplicate', { campaign_id: m.id, task_id: task.id, data: { stage: 'idempotency' } });
          return;
        }
        this.emit('judge.decided', {
          campaign_id: m.id,
          task_id: task.id,
          data: { score: verdict.score, route: verdict.route, escalation: verdict.escalation, similarity: verdict.similarity, sensitive: verdict.sensitive_topics.length > 0 },
        });
        a.last = `${verdict.route === 'COMPLETED' ? 'approved' : verdict.route === 'FAILED' ? 'rejected' : 'escalated'} ${task.id.slice(0, 8)} (${verdict.score})`;
        await this.afterDecision(m, task.id, verdict.route, vector, outcome === 'completed', written);
        return;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        this.conflicts += 1;
        const fresh = await this.ports.state.getCampaign(m.id);
        this.emit('occ.conflict', { campaign_id: m.id, task_id: task.id, data: { read_version: version, actual_version: fresh?.state_version ?? null } });
        if (!fresh || fresh.status !== 'ACTIVE') {
          await this.retryLease(this.ports.reviewQueue, lease, this.config.tick_ms);
          this.reviewHint.add(m.id);
          this.emit('judge.deferred', { campaign_id: m.id, task_id: task.id, data: { campaign_status: fresh?.status ?? 'missing' } });
          a.last = `deferred ${task.id.slice(0, 8)}: campaign ${fresh?.status}`;
          return;
        }
        const freshTask = await this.ports.state.getTask(task.id);
        if (!freshTask || freshTask.status !== 'PROCESSING') {
          await this.ack(this.ports.reviewQueue, lease);
          this.emit('task.duplicate', { campaign_id: m.id, task_id: task.id, data: { stage: 'reread' } });
          return;
        }
        version = fresh.state_version;
        task = freshTask;
        ({ verdict, vector } = await this.evaluate(m, freshTask, lease.item.payload));
      }
    }
    // others keep committing on this campaign: hand the output back for later instead of failing the run
    await this.retryLease(this.ports.reviewQueue, lease, this.config.tick_ms);
    this.reviewHint.add(m.id);
    this.emit('judge.deferred', { campaign_id: m.id, task_id: task.id, data: { reason: 'conflicts', attempts: 5 } });
    a.last = `deferred ${task.id.slice(0, 8)}: kept conflicting`;
  }

  /** The one commit path for a decision on a task (judge or human). */
  private async commitDecision(
    m: CampaignMirror,
    task_id: string,
    version: number,
    route: TaskStatus,
    output_data: unknown,
    score: number | null,
    action: string,
    details: Record<string, unknown>,
    expected_status: TaskStatus = 'PROCESSING',
  ): Promise<{ outcome: 'ok' | 'completed' | 'duplicate'; written: Task | null }> {
    const lastOutstanding = route === 'COMPLETED' && m.outstanding === 1 && m.tasks.get(task_id)?.status !== 'COMPLETED';
    try {
      return await this.ports.state.transaction(async (tx) => {
        const task = await tx.getTask(task_id);
        if (!task) throw new ValidationError(`task ${task_id} vanished`);
        const key = `${task.idempotency_key}:${expected_status === 'PROCESSING' ? 'judged' : 'human'}`;
        const c = await tx.getCampaign(m.id);
        if (!c) throw new ValidationError(`campaign ${m.id} vanished`);
        // a paused campaign (a human may decide during a pause) completes when it is resumed
        const completesCampaign = lastOutstanding && c.status === 'ACTIVE';
        const next = await tx.updateCampaign(m.id, version, { updated_at: this.clock.iso(), ...(completesCampaign ? { status: 'COMPLETED' as const } : {}) });
        if (!(await tx.claimIdempotencyKey(key))) throw new DuplicateCommit();
        const written = await tx.updateTask(task_id, { status: route, output_data, confidence_score: score, updated_at: this.clock.iso() }, expected_status);
        await tx.appendAudit(
          this.audit({ action, entity_type: 'task', entity_id: task_id, campaign_id: m.id, before_status: expected_status, after_status: route, state_version: next.state_version, details: { ...details, score } }),
        );
        if (completesCampaign) {
          await tx.appendAudit(
            this.audit({ action: 'campaign.completed', entity_type: 'campaign', entity_id: m.id, campaign_id: m.id, before_status: c.status, after_status: 'COMPLETED', state_version: next.state_version, details: null }),
          );
        }
        return { outcome: completesCampaign ? ('completed' as const) : ('ok' as const), written };
      });
    } catch (e) {
      if (e instanceof DuplicateCommit) return { outcome: 'duplicate', written: null };
      throw e;
    }
  }

  private async afterDecision(m: CampaignMirror, task_id: string, route: TaskStatus, vector: Float32Array | null, completed: boolean, written: Task | null): Promise<void> {
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

  private async humanTurn(a: AgentState): Promise<boolean> {
    for (const id of this.campaignOrder) {
      const m = this.campaigns.get(id) as CampaignMirror;
      if (m.status !== 'ACTIVE') continue;
      for (const tid of m.escalated) {
        const t = m.tasks.get(tid);
        if (!t || t.escalated_tick === null || t.escalated_tick + this.config.human.delay_ticks > this.tickNo) continue;
        const r = this.rng.fork(`human/${tid}/${t.replans}`).next();
        const h = this.config.human;
        const decision = r < h.approve ? 'approve' : r < h.approve + h.edit ? 'edit' : 'reject';
        await this.humanDecide(tid, decision, null, 'simulated-reviewer');
        a.last = `${decision}d ${tid.slice(0, 8)}`;
        return true;
      }
    }
    return false;
  }

  /** A human's decision on an escalated task: approve, reject, or edit then approve. */
  async humanDecide(task_id: string, decision: 'approve' | 'reject' | 'edit', edited_text: string | null, reviewer: string, expected_version?: number): Promise<void> {
    const task = await this.ports.state.getTask(task_id);
    if (!task) throw new ValidationError(`unknown task ${task_id}`);
    if (task.status !== 'ESC_HITL') throw new ChimeraError('ILLEGAL_TRANSITION', `task ${task_id} is ${task.status}, not waiting for review`);
    const m = this.mirror(task.campaign_id);
    const route: TaskStatus = decision === 'reject' ? 'FAILED' : 'COMPLETED';
    const prev = (task.output_data ?? {}) as Record<string, unknown>;
    let text = edited_text;
    if (decision === 'edit' && !text) {
      const orig = (prev.output as { result?: { text?: string } } | undefined)?.result?.text ?? '';
      text = redactFlagged(orig, (this.personas.get(m.persona_id) ?? (await this.persona(m.persona_id))));
    }
    const output_data = { ...prev, human: { decision, reviewer }, ...(text ? { edited_text: text } : {}) };
    // a version the reviewer saw is theirs to re-read (its conflict is reported); without one the
    // decision does not depend on the version, so a conflict reads it again and commits on that
    const commit = async () => {
      const c = await this.ports.state.getCampaign(m.id);
      if (!c) throw new ValidationError(`unknown campaign ${m.id}`);
      return this.commitDecision(m, task_id, expected_version ?? c.state_version, route, output_data, task.confidence_score, 'human.decided', { decision, reviewer }, 'ESC_HITL');
    };
    let result: Awaited<ReturnType<typeof commit>> | null = null;
    for (let attempt = 1; !result; attempt++) {
      try {
        result = await commit();
      } catch (e) {
        if (!(e instanceof ConflictError) || expected_version !== undefined || attempt >= UNIT_ATTEMPTS) throw e;
      }
    }
    const { outcome, written } = result;
    if (outcome === 'duplicate') {
      this.emit('task.duplicate', { campaign_id: m.id, task_id, data: { stage: 'human' } });
      return;
    }
    this.emit('human.decided', { campaign_id: m.id, task_id, data: { decision, reviewer } });
    await this.afterDecision(m, task_id, route, null, outcome === 'completed', written);
  }

  // ---------------------------------------------------------------- housekeeper

  /** Every ANCHOR_EVERY_TICKS ticks in which audit events were written, the heads of all chains are anchored. */
  private anchorDue(): boolean {
    return this.auditSinceAnchor > 0 && this.tickNo - this.lastAnchorTick >= ANCHOR_EVERY_TICKS;
  }

  /**
   * Writes an anchor event into the run's audit chain: the head of every campaign's chain as
   * this unit reads them, binding the chains together (src/domain/audit.ts verifies it).
   */
  private async anchorTurn(a: AgentState): Promise<boolean> {
    const chains = await retryingUnit(this.ports.state, async (tx) => {
      const heads = await tx.auditHeads();
      delete heads[''];
      const sorted = Object.fromEntries(Object.keys(heads).sort().map((k) => [k, heads[k]]));
      await tx.appendAudit(
        this.audit({ action: ANCHOR_ACTION, entity_type: 'system', entity_id: `tick-${this.tickNo}`, campaign_id: null, before_status: null, after_status: null, state_version: null, details: { heads: sorted } }),
      );
      return Object.keys(sorted).length;
    });
    this.auditSinceAnchor = 0;
    this.lastAnchorTick = this.tickNo;
    a.last = `anchored ${chains} audit chain(s)`;
    this.emit('audit.anchored', { data: { chains } });
    return true;
  }

  private async housekeeperTurn(a: AgentState): Promise<boolean> {
    const now = this.clock.now_ms();
    if (this.soonestLease() > now) return this.anchorDue() ? this.anchorTurn(a) : false;
    // what expired is redelivered now (or was already acked): forget it either way
    for (const [l, at] of this.leases) if (at <= now) this.leases.delete(l);
    const redelivered: string[] = [];
    for (const id of this.campaignOrder) {
      const m = this.campaigns.get(id) as CampaignMirror;
      if (m.status === 'COMPLETED' || m.status === 'PLANNING') continue;
      const t = await this.ports.taskQueue.redeliverExpired(m.taskQueue);
      const r = await this.ports.reviewQueue.redeliverExpired(m.reviewQueue);
      if (t.length) this.taskHint.add(id);
      if (r.length) this.reviewHint.add(id);
      redelivered.push(...t, ...r);
    }
    if (!redelivered.length) return this.anchorDue() ? this.anchorTurn(a) : false;
    a.last = `redelivered ${redelivered.length} expired lease(s)`;
    this.emit('lease.expired', { data: { ids: redelivered } });
    return true;
  }

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

  /** @internal The leases this engine knows of and the agents' busy state, for recovery to re-point at another store. */
  heldLeases(): { leases: Map<object, number>; agents: AgentState[] } {
    return { leases: this.leases, agents: this.agents };
  }

  /**
   * Starts a new run, or resumes the run already in the ports' run log: the same run or nothing
   * (a different seed, scenario, persona or setting is refused, naming it), re-executed from its
   * seed on scratch ports up to its last checkpoint and checked against the store (recovery.ts).
   */
  static async create(init: EngineInit): Promise<SwarmEngine> {
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

class DuplicateCommit extends Error {}

/** Error codes of a command refused before it changed anything. */
const REFUSALS: ReadonlySet<string> = new Set(['VALIDATION', 'CONFLICT', 'ILLEGAL_TRANSITION', 'NOT_FOUND', 'DUPLICATE']);
