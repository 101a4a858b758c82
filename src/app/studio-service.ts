/**
 * The studio service: everything the UI can ask of the core, one method per contract channel
 * (src/shared/contract.ts), over a Simulation and its ports. Transports (Electron IPC, the
 * browser-mode HTTP server) call `invoke(channel, rawArgs)`; it validates the argument with
 * the channel's schema and returns the result, or throws a ChimeraError whose code crosses
 * the bridge.
 *
 * One session at a time: a Simulation on the active backend profile. A new run, a backend
 * switch or a timeline scrub closes it and opens the next. The service is an instance owned by
 * whoever starts it (server, Electron's core process, tests), never a global.
 *
 * Long runs go in chunks: each chunk runs for a few milliseconds, then yields to the event
 * loop (setImmediate), so requests keep being served while a run is in progress.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig, type ChimeraConfig } from '../config/config.ts';
import { composePorts } from '../config/compose.ts';
import { backendByKind, backendKinds, backends, configForBackend, defaultBackend, isBuilt, profileConfig, readOnlyView } from '../config/backends/index.ts';
import { ChimeraError, ConflictError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { verifyAuditChain, GENESIS_HASH, type AuditHeads } from '../domain/audit.ts';
import type { AuditEvent, Task } from '../domain/schemas.ts';
import { reviewQueueName, taskQueueName } from '../ports/queue.ts';
import { ScenarioSchema } from '../engine/config.ts';
import type { EngineEvent } from '../engine/events.ts';
import { VirtualClock } from '../sim/clock.ts';
import { engineConfigFor, listScenarios, loadPersona, loadScenario, type LoadedScenario } from '../scenarios/load.ts';
import { Mutex } from '../util/mutex.ts';
import { Simulation, type RunFileHeader } from './simulation.ts';
import { loadStudioScenario } from './studio-scenarios.ts';
import { replay } from './replay.ts';
import { MetricsFold } from './studio-metrics.ts';
import { SettingsFile } from './studio-settings.ts';
import { CHANNELS, parseArgs, isChannelName, type ChannelName, type ChimeraHandlers, type ParsedArgsOf, type ResultOf } from '../shared/contract.ts';
import type {
  AuditPage,
  AuditRow,
  AuditVerificationView,
  BackendProfile,
  BackendStatus,
  CampaignView,
  DagView,
  EngineEventView,
  FaultRates,
  PushMessage,
  ReviewItem,
  SimStatus,
  TaskRow,
  TaskStatus,
} from '../shared/types.ts';
import { BACKEND_KINDS, STATUS_LETTERS, TASK_STATUSES, type BackendKind } from '../shared/types.ts';

export const DEFAULT_SCENARIO = 'review-queue';
/** How long one run chunk may hold the event loop. */
const CHUNK_MS = 12;

export interface StudioServiceOptions {
  /** App config; its data_dir holds settings and SQLite profiles. Defaults to loadConfig(). */
  readonly config?: ChimeraConfig;
  /** Receives pushed updates (the server broadcasts them over WebSocket). */
  readonly onPush?: (msg: PushMessage) => void;
}

interface Session {
  readonly sim: Simulation;
  readonly profile: BackendProfile;
  readonly metrics: MetricsFold;
  replayed_from: number | null;
  /** Audit rows read so far (the chain is append-only) and the verification up to them. */
  audit: AuditEvent[];
  verification: AuditVerificationView;
  /** Where the verification of `audit` stands (to extend it over what comes next). */
  auditHeads: AuditHeads | null;
  lastSampledTick: number;
}

interface RunRequest {
  readonly until_tick?: number;
  readonly until_escalated?: boolean;
  readonly max_steps?: number;
}

export class StudioService {
  readonly config: ChimeraConfig;
  readonly settings: SettingsFile;
  private session: Session | null = null;
  private readonly lock = new Mutex();
  private running = false;
  /** Bumped to stop a run loop (pause, switch, close). */
  private runGeneration = 0;
  private runDone: Promise<void> = Promise.resolve();
  private lastPush = 0;
  /** Orders status snapshots: pushes and replies can arrive out of order at the UI (starts from the wall clock so a restarted server's snapshots are newer). */
  private statusSeq = Date.now() * 1000;
  private readonly listeners = new Set<(msg: PushMessage) => void>();
  private closed = false;

  private constructor(config: ChimeraConfig, onPush?: (msg: PushMessage) => void) {
    this.config = config;
    this.settings = new SettingsFile(resolve(config.data_dir));
    if (onPush) this.listeners.add(onPush);
  }

  /** Opens the service and its first session (the saved backend profile and run settings). */
  static async open(opts: StudioServiceOptions = {}): Promise<StudioService> {
    const s = new StudioService(opts.config ?? loadConfig(), opts.onPush);
    const saved = s.settings.get();
    try {
      await s.openSession(saved.backend, null);
    } catch (e) {
      // a damaged or foreign SQLite file must not keep the app from starting: fall back, say why
      s.settings.notice = `could not open the saved ${saved.backend.kind} profile (${(e as Error).message}); using in-memory`;
      await s.openSession(inMemoryProfile(), null);
    }
    return s;
  }

  /** Adds a listener for pushed updates; returns its remover. */
  subscribe(fn: (msg: PushMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private push(msg: PushMessage): void {
    for (const l of this.listeners) {
      try {
        l(msg);
      } catch {
        // a broken listener must not stop the core
      }
    }
  }

  // ---------------------------------------------------------------- the one entry point

  /** Validates `raw` against the channel's schema and runs its handler. Throws ChimeraError. */
  async invoke(channel: string, raw: unknown): Promise<unknown> {
    if (!isChannelName(channel)) throw new NotFoundError('channel', channel);
    const parsed = parseArgs(channel, raw);
    if (!parsed.ok) throw new ValidationError(parsed.message, { fields: parsed.fields });
    const handler = this.handlers[channel] as (a: unknown) => Promise<unknown>;
    let result: unknown;
    try {
      result = await handler(parsed.value);
    } catch (e) {
      throw this.isStorageFailure(e) ? await this.recover(e) : e;
    }
    if (CHANNELS[channel].mutates) this.push({ type: 'changed', what: channel.startsWith('settings/') ? 'settings' : 'data' });
    return result;
  }

  /** Typed call for in-process users (tests, the bench). */
  call<C extends ChannelName>(channel: C, args: ParsedArgsOf<C>): Promise<ResultOf<C>> {
    return this.invoke(channel, args) as Promise<ResultOf<C>>;
  }

  readonly handlers: ChimeraHandlers = {
    'sim/status': async () => this.status(),
    'sim/scenarios': async () => ({
      scenarios: listScenarios().map((name) => {
        const l = loadScenario(name);
        const c = engineConfigFor(l.scenario);
        return { name, description: l.scenario.description, personas: l.scenario.personas, workers: c.workers, seed: c.seed, faults: c.faults, human_enabled: c.human.enabled };
      }),
    }),
    'sim/open': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        // a shipped scenario or a file inside the data folder, never any path (see studio-scenarios.ts)
        const loaded = loadStudioScenario(a.scenario, this.config.data_dir);
        const base = engineConfigFor(loaded.scenario);
        const overrides: Record<string, unknown> = { seed: a.seed };
        if (a.workers !== undefined) overrides.workers = a.workers;
        if (a.faults) overrides.faults = a.faults;
        if (a.human_enabled !== undefined) overrides.human = { ...base.human, enabled: a.human_enabled };
        await this.replaceSession(s.profile, { loaded, overrides, fresh: true });
        const c = this.current().sim.engineConfig;
        this.settings.update({ last_run: { scenario: loaded.scenario.name, seed: c.seed, workers: c.workers, faults: c.faults } });
        return this.status();
      }),
    'sim/step': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        const out: EngineEventView[] = [];
        for (let i = 0; i < (a.count ?? 1); i++) {
          const r = await this.stepOnce(s);
          if (!r) break;
          out.push(...r.events);
        }
        await s.sim.engine.flush();
        return { status: this.status(), events: out.slice(-200) };
      }),
    'sim/tick': async () =>
      this.exclusive(async () => {
        const s = this.current();
        const start = s.sim.engine.tickNo;
        let steps = 0;
        while (!s.sim.engine.finished && s.sim.engine.tickNo === start) {
          if (!(await this.stepOnce(s))) break;
          steps += 1;
        }
        await s.sim.engine.flush();
        return { status: this.status(), steps };
      }),
    'sim/run': async (a) => {
      await this.stopRun();
      this.startRun(a);
      return this.status();
    },
    'sim/pause': async () => {
      await this.stopRun();
      return this.status();
    },
    'sim/speed': async (a) => {
      this.settings.update({ speed: a.steps_per_s });
      return this.status();
    },
    'sim/events': async (a) => {
      const all = this.current().sim.engine.log.all();
      const after = a.after_step ?? 0;
      const limit = a.limit ?? 500;
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((all[mid] as EngineEvent).step <= after) lo = mid + 1;
        else hi = mid;
      }
      const events: EngineEvent[] = [];
      for (let i = lo; i < all.length && events.length < limit; i++) {
        const e = all[i] as EngineEvent;
        if (!a.type || e.type === a.type) events.push(e);
      }
      return { total: all.length, events };
    },
    'sim/scrub': async (a) => this.exclusive(async () => this.scrub(a.step)),
    'sim/swarm': async () => {
      const s = this.current();
      const queues = [];
      for (const id of s.sim.engine.campaignOrder) {
        const c = await s.sim.ports.state.getCampaign(id);
        queues.push({
          campaign_id: id,
          title: c?.title ?? id,
          task_queue: await s.sim.ports.taskQueue.depth(taskQueueName(id)),
          review_queue: await s.sim.ports.reviewQueue.depth(reviewQueueName(id)),
        });
      }
      return { agents: s.sim.engine.agentStates(), queues };
    },

    'campaigns/list': async () => {
      const s = this.current();
      const out: CampaignView[] = [];
      for (const c of await s.sim.ports.state.listCampaigns()) out.push({ ...c, counts: await s.sim.ports.state.countTasks(c.id) });
      return { campaigns: out };
    },
    'campaigns/create': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        const before = new Set(s.sim.engine.campaignOrder);
        await this.command(s, { type: 'campaign.create', title: a.title, goal: a.goal, persona_id: a.persona_id, ...(a.content_pieces ? { content_pieces: a.content_pieces } : {}) });
        const id = s.sim.engine.campaignOrder.find((x) => !before.has(x));
        return { campaign: id ? await this.campaignView(s, id) : null, status: this.status() };
      }),
    'campaigns/pause': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        await this.withConflictMessage(s, a.campaign_id, a.expected_version, () =>
          this.command(s, { type: 'campaign.pause', campaign_id: a.campaign_id, expected_version: a.expected_version }),
        );
        return { campaign: await this.campaignView(s, a.campaign_id) };
      }),
    'campaigns/resume': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        await this.withConflictMessage(s, a.campaign_id, a.expected_version, () =>
          this.command(s, { type: 'campaign.resume', campaign_id: a.campaign_id, expected_version: a.expected_version }),
        );
        return { campaign: await this.campaignView(s, a.campaign_id) };
      }),
    'campaigns/tasks': async (a) => {
      const s = this.current();
      await this.requireCampaign(s, a.campaign_id);
      const counts = await s.sim.ports.state.countTasks(a.campaign_id);
      const total = a.status ? counts[a.status] : TASK_STATUSES.reduce((n, st) => n + counts[st], 0);
      const tasks = await s.sim.ports.state.listTasks({ campaign_id: a.campaign_id, ...(a.status ? { status: a.status } : {}), offset: a.offset, limit: a.limit });
      return { total, offset: a.offset, tasks: tasks.map(taskRow) };
    },
    'campaigns/dag': async (a) => {
      const s = this.current();
      await this.requireCampaign(s, a.campaign_id);
      const tasks = await s.sim.ports.state.listTasks({ campaign_id: a.campaign_id });
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
      const view: DagView = { campaign_id: a.campaign_id, count: tasks.length, skills, skill_of, statuses, dep_start, dep_list };
      return view;
    },

    'review/list': async (a) => ({ items: await this.reviewItems(a.campaign_id) }),
    'review/decide': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        const task = await s.sim.ports.state.getTask(a.task_id);
        if (!task) throw new NotFoundError('task', a.task_id);
        await this.withConflictMessage(s, task.campaign_id, a.expected_version, () =>
          this.command(s, {
            type: 'human.decide',
            task_id: a.task_id,
            decision: a.decision,
            ...(a.edited_text ? { edited_text: a.edited_text } : {}),
            expected_version: a.expected_version,
            reviewer: 'studio-user',
          }),
        );
        return { status: this.status() };
      }),

    'memory/personas': async () => {
      const s = this.current();
      const ids = [...new Set([...s.sim.loaded.personas.map((p) => p.id), ...(await s.sim.ports.personaCache.list())])].sort();
      const personas = [];
      for (const id of ids) personas.push({ id, memories: await s.sim.ports.memory.count({ persona_id: id }) });
      return { personas };
    },
    'memory/search': async (a) => {
      const s = this.current();
      const [vector] = await s.sim.ports.embedder.embed([a.query]);
      const hits = await s.sim.ports.memory.search({
        vector: vector as Float32Array,
        k: a.k ?? 10,
        ...(a.persona_id ? { persona_id: a.persona_id } : {}),
        ...(a.categories?.length ? { categories: a.categories } : {}),
      });
      return {
        hits: hits.map((h) => ({ ...h.memory, score: Math.round(h.score * 10_000) / 10_000 })),
        model_id: s.sim.ports.embedder.model_id,
        exact: s.sim.ports.memory.capabilities.exact,
      };
    },
    'memory/add': async (a) =>
      this.exclusive(async () => {
        const s = this.current();
        if (!(await s.sim.ports.personaCache.get(a.persona_id)) && !s.sim.loaded.personas.some((p) => p.id === a.persona_id)) {
          throw new ValidationError(`persona_id: unknown persona "${a.persona_id}"`);
        }
        const [vector] = await s.sim.ports.embedder.embed([a.content]);
        const id = `studio-${randomUUID()}`;
        const timestamp = s.sim.engine.now();
        await s.sim.ports.memory.upsert([
          { id, persona_id: a.persona_id, content: a.content, category: a.category, timestamp, vector: vector as Float32Array, model_id: s.sim.ports.embedder.model_id },
        ]);
        // a person's action, so it goes on the audit trail (outside the engine: a replay does not repeat it)
        await s.sim.ports.state.transaction(async (tx) => {
          await tx.appendAudit({
            id: randomUUID(),
            actor: 'studio-user',
            action: 'memory.added',
            entity_type: 'memory',
            entity_id: id,
            campaign_id: null,
            before_status: null,
            after_status: null,
            state_version: null,
            timestamp,
            details: { persona_id: a.persona_id, category: a.category, chars: a.content.length },
          });
        });
        return { id };
      }),

    'audit/list': async (a) => this.auditPage(a),
    'metrics/series': async () => {
      const s = this.current();
      s.metrics.update(s.sim.engine.log.all());
      return s.metrics.view(s.sim.engine.tickNo);
    },

    'backend/status': async () => this.backendStatus(),
    'backend/switch': async (a) =>
      this.exclusive(async () => {
        const profile = this.profileFor(a.kind, a.name ?? null);
        await this.replaceSession(profile, null);
        this.settings.update({ backend: profile });
        return this.backendStatus();
      }),

    'settings/get': async () => this.settings.get(),
    'settings/set': async (a) => {
      const patch: Record<string, unknown> = {};
      if (a.theme !== undefined) patch.theme = a.theme;
      if (a.speed !== undefined) patch.speed = a.speed;
      return this.settings.update(patch);
    },
  };

  // ---------------------------------------------------------------- sessions

  /**
   * An error of the storage itself (not of the request), as the session's backends read it
   * (their classifiers in the registry, src/config/backends): anything they recognise but a
   * conflict, which is the request's to handle.
   */
  private isStorageFailure(e: unknown): boolean {
    const cls = this.session?.sim.ports.backend.classify(e) ?? null;
    return cls !== null && cls !== 'conflict';
  }

  /**
   * After storage failed (a disk filled, the file went away), the engine's picture of the run
   * is ahead of the store, which kept its last checkpoint: a durable profile's session is
   * reopened from the store (it resumes the run it holds), so the app goes on from what was
   * saved. The error returned says what failed (as the backend classed it) and where the run
   * stands again.
   */
  private async recover(e: unknown): Promise<ChimeraError> {
    const s = this.session;
    const cls = s?.sim.ports.backend.classify(e) ?? null;
    const why = `${cls === 'disk_full' ? 'disk full: ' : cls === 'auth' ? 'permission denied: ' : ''}${(e as Error).message}`;
    if (!s || !s.sim.ports.backend.capabilities.durable || s.replayed_from !== null) {
      return e instanceof ChimeraError ? e : new ChimeraError('BACKEND_UNAVAILABLE', why);
    }
    return this.exclusive(async () => {
      if (this.session !== s) return new ChimeraError('BACKEND_UNAVAILABLE', why);
      try {
        await this.replaceSession(s.profile, null);
      } catch (e2) {
        return new ChimeraError('BACKEND_UNAVAILABLE', `storage failed (${why}) and profile "${s.profile.name}" could not be reopened (${(e2 as Error).message}); using in-memory`);
      }
      const engine = this.current().sim.engine;
      return new ChimeraError(
        'BACKEND_UNAVAILABLE',
        `storage failed (${why}); profile "${s.profile.name}" was reopened from its last saved checkpoint (step ${engine.stepNo}, tick ${engine.tickNo}): what happened after it was not saved`,
      );
    });
  }

  private current(): Session {
    if (this.closed) throw new ChimeraError('BACKEND_UNAVAILABLE', 'the studio service is closed');
    if (!this.session) throw new ChimeraError('BACKEND_UNAVAILABLE', 'no session is open');
    return this.session;
  }

  /** Runs fn with the engine to itself (no run chunk or other command in between). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn);
  }

  /** The profile a user picked: a backend that keeps a file keeps each named profile in a folder of its own. */
  private profileFor(kind: BackendProfile['kind'], name: string | null): BackendProfile {
    const entry = backendByKind(kind, 'kind');
    if (!isBuilt(entry)) throw new ValidationError(`kind: the ${kind} backend is not available in this build`);
    if (!entry.files) return { kind, name: null, path: null };
    if (!name) throw new ValidationError(`name: a ${kind} profile needs a name`);
    return { kind, name, path: profileConfig(this.config, kind, join(this.profilesDir(), name)).file };
  }

  private profilesDir(): string {
    return join(resolve(this.config.data_dir), 'profiles');
  }

  private configFor(profile: BackendProfile): ChimeraConfig {
    // persona memory must outlive the process on a durable profile, so those use the exact
    // adapter, whose rows sit in persona-memory/ beside the profile's store
    const durable = backendByKind(profile.kind).capabilities.durable;
    const memory = { ...this.config.memory, adapter: durable ? ('exact' as const) : ('memory' as const) };
    return { ...this.config, memory };
  }

  private async replaceSession(profile: BackendProfile, run: { loaded: LoadedScenario; overrides: Record<string, unknown>; fresh: boolean } | null): Promise<void> {
    await this.stopRunLocked();
    const old = this.session;
    this.session = null;
    if (old) {
      // a session whose storage failed may fail to flush and close too: the new one opens anyway
      await old.sim.engine.flush().catch(() => undefined);
      await old.sim.close().catch(() => undefined);
    }
    try {
      await this.openSession(profile, run);
    } catch (e) {
      // never leave the app without a session: fall back to in-memory and report
      if (profile.kind !== inMemoryProfile().kind) await this.openSession(inMemoryProfile(), null);
      throw e;
    }
    this.push({ type: 'changed', what: 'session' });
  }

  private async openSession(profile: BackendProfile, run: { loaded: LoadedScenario; overrides: Record<string, unknown>; fresh: boolean } | null): Promise<void> {
    const config = this.configFor(profile);
    const last = this.settings.get().last_run;
    let loaded: LoadedScenario;
    let overrides: Record<string, unknown>;
    if (run) {
      loaded = run.loaded;
      overrides = run.overrides;
    } else {
      const name = last?.scenario ?? DEFAULT_SCENARIO;
      try {
        loaded = loadScenario(name);
      } catch {
        loaded = loadScenario(DEFAULT_SCENARIO);
      }
      overrides = last && last.scenario === loaded.scenario.name ? { seed: last.seed, workers: last.workers, faults: last.faults } : {};
    }
    if (profile.path !== null) {
      // a profile kept in a file of its own (profileFor)
      const file = profile.path;
      if (run?.fresh) {
        // the folder is this profile's; it is cleared only by its owner: opening it for writing
        // takes the owner lock, so a file another process holds is refused, naming the holder
        if (existsSync(file)) await (await composePorts(configForBackend(config, profile.kind, file), new VirtualClock())).close();
        rmSync(resolve(file, '..'), { recursive: true, force: true });
      }
      mkdirSync(resolve(file, '..'), { recursive: true });
      // a profile that holds a run resumes it, with the run's own scenario and settings
      const existing = existsSync(file) ? await readStoredRun(configForBackend(config, profile.kind, file), file) : null;
      if (existing) {
        loaded = existing.loaded;
        overrides = existing.config;
      }
    }
    const sim = await Simulation.open({
      scenario: loaded,
      backend: profile.kind,
      ...(profile.path ? { db: profile.path } : {}),
      engine: overrides,
      config,
    });
    const metrics = new MetricsFold();
    metrics.update(sim.engine.log.all());
    this.session = {
      sim,
      profile,
      metrics,
      replayed_from: null,
      audit: [],
      verification: { ok: true, checked: 0, broken_at: null, reason: null, head_hash: GENESIS_HASH },
      auditHeads: null,
      lastSampledTick: -1,
    };
  }

  /** Rebuilds the run up to `step` on a fresh in-memory backend and continues from there. */
  private async scrub(step: number): Promise<SimStatus> {
    await this.stopRunLocked();
    const s = this.current();
    const last = s.sim.engine.stepNo;
    if (step > last) throw new ValidationError(`step: the run has ${last} steps; cannot scrub to ${step}`);
    await s.sim.engine.flush();
    const header: RunFileHeader = {
      format: 'chimera-run',
      version: 1,
      seed: s.sim.engineConfig.seed,
      backend: s.sim.backend,
      scenario: s.sim.loaded.scenario,
      personas: s.sim.loaded.personas,
      config: s.sim.engineConfig,
    };
    const r = await replay({ header, events: [...s.sim.engine.log.all()], summary: null }, { to: step });
    if (r.divergedAt !== null) {
      await r.sim.close();
      throw new ChimeraError('INTERNAL', `the replay diverged from the recording: ${r.detail}`);
    }
    const depths = s.metrics.depths.filter((d) => d.tick <= r.sim.engine.tickNo);
    this.session = null;
    await s.sim.close();
    const metrics = new MetricsFold();
    metrics.depths = depths;
    metrics.update(r.sim.engine.log.all());
    this.session = {
      sim: r.sim,
      profile: inMemoryProfile(),
      metrics,
      replayed_from: r.sim.engine.stepNo,
      audit: [],
      verification: { ok: true, checked: 0, broken_at: null, reason: null, head_hash: GENESIS_HASH },
      auditHeads: null,
      lastSampledTick: r.sim.engine.tickNo,
    };
    this.push({ type: 'changed', what: 'session' });
    return this.status();
  }

  // ---------------------------------------------------------------- stepping and runs

  private async stepOnce(s: Session) {
    const r = await s.sim.step();
    if (s.sim.engine.tickNo !== s.lastSampledTick || s.sim.engine.finished) await this.sampleDepths(s);
    return r;
  }

  private async sampleDepths(s: Session): Promise<void> {
    let task = 0;
    let review = 0;
    for (const id of s.sim.engine.campaignOrder) {
      const t = await s.sim.ports.taskQueue.depth(taskQueueName(id));
      const r = await s.sim.ports.reviewQueue.depth(reviewQueueName(id));
      task += t.ready + t.delayed + t.leased;
      review += r.ready + r.delayed + r.leased;
    }
    // the sample belongs to the tick that just ended
    const tick = s.sim.engine.finished ? s.sim.engine.tickNo : Math.max(0, s.sim.engine.tickNo - 1);
    s.metrics.sample(tick, task, review);
    s.lastSampledTick = s.sim.engine.tickNo;
  }

  private async command(s: Session, cmd: Parameters<Simulation['command']>[0]): Promise<void> {
    await s.sim.command(cmd);
    await s.sim.engine.flush();
  }

  /** A stale state_version becomes a CONFLICT that says what was read and what is there now. */
  private async withConflictMessage(s: Session, campaign_id: string, expected: number, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      const c = await s.sim.ports.state.getCampaign(campaign_id);
      throw new ConflictError(
        `campaign "${c?.title ?? campaign_id}" changed since you read it (you read state_version ${expected}, it is now ${c?.state_version ?? '?'}); nothing was written — re-read and decide again`,
        { entity: 'campaign', id: campaign_id, expected, actual: c?.state_version },
      );
    }
  }

  private startRun(req: RunRequest): void {
    const gen = ++this.runGeneration;
    this.running = true;
    this.pushStatus(true);
    this.runDone = this.runLoop(gen, req)
      .catch(async (e: unknown) => {
        if (this.isStorageFailure(e)) e = await this.recover(e);
        this.push({ type: 'error', error: { code: e instanceof ChimeraError ? e.code : 'INTERNAL', message: (e as Error).message } });
      })
      .finally(() => {
        if (gen === this.runGeneration) this.running = false;
        if (!this.closed && this.session) this.pushStatus(true);
      });
  }

  private async runLoop(gen: number, req: RunRequest): Promise<void> {
    let steps = 0;
    const escalatedAtStart = this.session?.sim.fold.hitl.size ?? 0;
    for (;;) {
      const speed = this.settings.get().speed;
      const stop = await this.exclusive(async () => {
        if (gen !== this.runGeneration || !this.session) return true;
        const s = this.session;
        const e = s.sim.engine;
        const t0 = performance.now();
        // at a set speed a chunk is a tenth of a second's worth of steps
        const budget = speed > 0 ? Math.max(1, Math.round(speed / 10)) : Infinity;
        for (let n = 0; n < budget; n++) {
          if (e.finished) return true;
          if (req.until_tick !== undefined && e.tickNo >= req.until_tick) return true;
          if (req.max_steps !== undefined && steps >= req.max_steps) return true;
          if (req.until_escalated && s.sim.fold.hitl.size > escalatedAtStart) return true;
          if (!(await this.stepOnce(s))) return true;
          steps += 1;
          if (speed === 0 && performance.now() - t0 > CHUNK_MS) break;
        }
        await e.flush();
        return false;
      });
      this.pushStatus(false);
      if (stop || gen !== this.runGeneration) {
        if (this.session) await this.exclusive(() => this.session?.sim.engine.flush() ?? Promise.resolve());
        return;
      }
      // yield to the event loop between chunks; at a set speed, pace the chunks (a rate, not a wait for an outcome)
      await new Promise<void>((r) => (speed > 0 ? setTimeout(r, 100) : setImmediate(r)));
    }
  }

  private async stopRun(): Promise<void> {
    this.runGeneration += 1;
    // not running from now on, so the loop's last pushed status already says so
    this.running = false;
    await this.runDone;
  }

  /** Inside the lock: ask the loop to stop; it sees the new generation at its next chunk. */
  private async stopRunLocked(): Promise<void> {
    this.runGeneration += 1;
    this.running = false;
  }

  private pushStatus(force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastPush < 100) return;
    this.lastPush = now;
    if (this.session) this.push({ type: 'status', status: this.status() });
  }

  // ---------------------------------------------------------------- read-outs

  status(): SimStatus {
    const s = this.current();
    this.statusSeq += 1;
    const sum = s.sim.summary();
    const c = s.sim.engineConfig;
    return {
      scenario: s.sim.loaded.scenario.name,
      seed: c.seed,
      workers: c.workers,
      judges: c.judges,
      faults: c.faults as FaultRates,
      human_enabled: c.human.enabled,
      step: s.sim.engine.stepNo,
      tick: s.sim.engine.tickNo,
      finished: s.sim.engine.finished,
      running: this.running,
      speed: this.settings.get().speed,
      backend: s.profile.kind,
      events: s.sim.engine.log.length,
      summary: {
        steps: sum.steps,
        ticks: sum.ticks,
        finished: sum.finished,
        campaigns: sum.campaigns,
        tasks: sum.tasks,
        hitlPending: sum.hitlPending,
        conflicts: sum.conflicts,
        retries: sum.retries,
        replans: sum.replans,
        redeliveries: sum.redeliveries,
        duplicatesSkipped: sum.duplicatesSkipped,
        humanDecisions: sum.humanDecisions,
        eventLogSha256: sum.eventLogSha256,
      },
      replayed_from: s.replayed_from,
      seq: this.statusSeq,
    };
  }

  private async requireCampaign(s: Session, id: string) {
    const c = await s.sim.ports.state.getCampaign(id);
    if (!c) throw new NotFoundError('campaign', id);
    return c;
  }

  private async campaignView(s: Session, id: string): Promise<CampaignView> {
    const c = await this.requireCampaign(s, id);
    return { ...c, counts: await s.sim.ports.state.countTasks(id) };
  }

  private async reviewItems(campaign_id?: string): Promise<ReviewItem[]> {
    const s = this.current();
    const tasks = await s.sim.ports.state.listTasks({ status: 'ESC_HITL', ...(campaign_id ? { campaign_id } : {}), limit: 500 });
    const campaigns = new Map<string, { title: string; state_version: number; persona_id: string }>();
    const out: ReviewItem[] = [];
    for (const t of tasks) {
      let c = campaigns.get(t.campaign_id);
      if (!c) {
        const got = await s.sim.ports.state.getCampaign(t.campaign_id);
        c = { title: got?.title ?? t.campaign_id, state_version: got?.state_version ?? 1, persona_id: got?.persona_id ?? '' };
        campaigns.set(t.campaign_id, c);
      }
      const od = (t.output_data ?? {}) as {
        output?: { result?: { text?: string }; reasoning?: string; confidence_score?: number };
        judge?: { score?: number; reasons?: string[]; sensitive_topics?: string[]; memories?: { id: string; category: string; score: number }[] };
      };
      const memories = [];
      for (const m of od.judge?.memories ?? []) {
        const got = await s.sim.ports.memory.get(m.id);
        memories.push({ id: m.id, category: m.category, score: m.score, content: got?.content ?? null });
      }
      out.push({
        task_id: t.id,
        campaign_id: t.campaign_id,
        campaign_title: c.title,
        state_version: c.state_version,
        persona_id: c.persona_id,
        skill_name: t.skill_name,
        text: od.output?.result?.text ?? '',
        reasoning: od.output?.reasoning ?? '',
        worker_confidence: od.output?.confidence_score ?? null,
        score: od.judge?.score ?? t.confidence_score,
        reasons: od.judge?.reasons ?? [],
        sensitive_topics: od.judge?.sensitive_topics ?? [],
        memories,
      });
    }
    return out;
  }

  private async auditPage(a: ParsedArgsOf<'audit/list'>): Promise<AuditPage> {
    const s = this.current();
    // read what is new since the last call and extend the verification over it
    const prevSeq = s.audit.length;
    for (;;) {
      const page = await s.sim.ports.state.readAudit({ after_seq: s.audit.length, limit: 10_000 });
      if (page.length === 0) break;
      for (const e of page) s.audit.push(e);
    }
    if (s.audit.length > prevSeq && s.verification.ok) {
      const v = verifyAuditChain(s.audit.slice(prevSeq), s.auditHeads);
      s.auditHeads = v.heads;
      s.verification = { ok: v.ok, checked: s.verification.checked + v.checked, broken_at: v.broken_at, reason: v.reason, head_hash: v.head_hash };
    }
    const text = a.text?.toLowerCase();
    const filtered = s.audit.filter(
      (e) =>
        (!a.campaign_id || e.campaign_id === a.campaign_id) &&
        (!a.action || e.action === a.action) &&
        (!a.actor || e.actor === a.actor) &&
        (!text || e.entity_id.includes(text) || e.action.includes(text) || JSON.stringify(e.details ?? '').toLowerCase().includes(text)),
    );
    // newest first
    const events: AuditRow[] = [];
    for (let i = filtered.length - 1 - a.offset; i >= 0 && events.length < a.limit; i--) events.push(filtered[i] as AuditRow);
    return {
      total: filtered.length,
      events,
      verification: s.verification,
      actions: [...new Set(s.audit.map((e) => e.action))].sort(),
      actors: [...new Set(s.audit.map((e) => e.actor))].sort(),
    };
  }

  private async backendStatus(): Promise<BackendStatus> {
    const s = this.current();
    // the named profiles of every backend that keeps a file, found by their files
    const profiles: { kind: BackendKind; name: string; path: string; bytes: number }[] = [];
    const dir = this.profilesDir();
    if (existsSync(dir)) {
      for (const name of readdirSync(dir).sort()) {
        for (const kind of backendKinds({ built: true })) {
          const path = profileConfig(this.config, kind, join(dir, name)).file;
          if (path && existsSync(path)) profiles.push({ kind: wireKind(kind), name, path, bytes: statSync(path).size });
        }
      }
    }
    const caps = s.sim.ports.backend.capabilities;
    return {
      active: s.profile,
      description: s.replayed_from !== null ? `In-memory replay (rebuilt to step ${s.replayed_from})` : s.sim.ports.description,
      capabilities: {
        transactions: caps.transactions,
        durable: caps.durable,
        memory_exact: s.sim.ports.memory.capabilities.exact,
        memory_durable: s.sim.ports.memory.capabilities.durable,
      },
      notices: [...s.sim.ports.notices, ...(this.settings.notice ? [this.settings.notice] : [])],
      data_dir: resolve(this.config.data_dir),
      sqlite_profiles: profiles,
      kinds: backendKinds({ built: true }).map(wireKind),
      backends: backends()
        .filter(isBuilt)
        .map((b) => ({ kind: wireKind(b.kind), label: b.label, help: b.help, file_name: b.files?.fileName ?? null, capabilities: { ...b.capabilities } })),
    };
  }

  // ---------------------------------------------------------------- shutdown

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stopRun();
    await this.lock.run(async () => {
      this.closed = true;
      const s = this.session;
      this.session = null;
      if (s) {
        await s.sim.engine.flush().catch(() => undefined);
        await s.sim.close();
      }
    });
    this.listeners.clear();
  }
}

function taskRow(t: Task): TaskRow {
  return {
    id: t.id,
    campaign_id: t.campaign_id,
    role: t.role,
    skill_name: t.skill_name,
    status: t.status as TaskStatus,
    confidence_score: t.confidence_score,
    attempts: t.attempts,
    depends_on: t.depends_on,
    branch: t.branch,
    replans: t.replans,
    updated_at: t.updated_at,
  };
}

/** The run a profile's store holds (its scenario, personas and engine settings), or null; `config` points at the store. */
async function readStoredRun(config: ChimeraConfig, file: string): Promise<{ loaded: LoadedScenario; config: Record<string, unknown> } | null> {
  // only reads: a read-only open (where the backend has one) takes no lock and writes nothing; a
  // store from an older version (which a read-only open does not migrate) is opened as the session will open it
  const ports = await composePorts(readOnlyView(config), new VirtualClock()).catch((e: unknown) => {
    if ((e as ChimeraError).details && ((e as ChimeraError).details as { problem?: unknown }).problem === 'needs_migration') return composePorts(config, new VirtualClock());
    throw e;
  });
  try {
    const run = await ports.runLog.loadRun();
    if (!run) return null;
    const scenario = ScenarioSchema.parse(run.header.scenario);
    return {
      loaded: { scenario, personas: scenario.personas.map((p) => loadPersona(p)), source: file },
      config: run.header.config as Record<string, unknown>,
    };
  } finally {
    await ports.close();
  }
}

/** The profile of the default backend (everything in this process): the app's fallback. */
function inMemoryProfile(): BackendProfile {
  return { kind: wireKind(defaultBackend().kind), name: null, path: null };
}

/** A registry backend as the wire names it (src/shared keeps a copy of the names; a test keeps them equal). */
function wireKind(kind: string): BackendKind {
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw new ChimeraError('INTERNAL', `backend "${kind}" has no name on the wire (add it to BACKEND_KINDS in src/shared/types.ts)`);
  return kind as BackendKind;
}
