/**
 * The studio service: everything the UI can ask of the core, one method per contract channel
 * (src/shared/contract.ts), over a Simulation and its ports. Transports (Electron IPC, the
 * browser-mode HTTP server) call `invoke(channel, rawArgs)`; it validates the argument with
 * the channel's schema and returns the result, or throws a ChimeraError whose code crosses
 * the bridge.
 *
 * The handlers live with their namespace in src/app/studio/ (sim-, campaigns-, review-,
 * memory-, audit-, metrics-, backend-, settings-channels.ts), each built from a small context
 * (studio/context.ts); the session type and what the namespaces do with a session are in
 * studio/session.ts. This file keeps what they share: the session's lifecycle (open, replace,
 * recover, scrub, close), the exclusive lock, background runs and the status read-out.
 *
 * One session at a time: a Simulation on the active backend profile. A new run, a backend
 * switch or a timeline scrub closes it and opens the next. The service is an instance owned by
 * whoever starts it (server, Electron's core process, tests), never a global.
 *
 * Long runs go in chunks: each chunk runs for a few milliseconds, then yields to the event
 * loop (setImmediate), so requests keep being served while a run is in progress.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type ChimeraConfig } from '../config/config.ts';
import { composePorts } from '../config/compose.ts';
import { backendByKind, configForBackend } from '../config/backends/index.ts';
import { ChimeraError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { GENESIS_HASH } from '../domain/audit.ts';
import { VirtualClock } from '../sim/clock.ts';
import { loadScenario, type LoadedScenario } from '../scenarios/load.ts';
import { Mutex } from '../util/mutex.ts';
import { Simulation, type RunFileHeader } from './simulation.ts';
import { replay } from './replay.ts';
import { MetricsFold } from './studio-metrics.ts';
import { SettingsFile } from './studio-settings.ts';
import { CHANNELS, parseArgs, isChannelName, type ChannelName, type ChimeraHandlers, type ParsedArgsOf, type ResultOf } from '../shared/contract.ts';
import type { BackendProfile, FaultRates, PushMessage, SimStatus } from '../shared/types.ts';
import type { StudioContext } from './studio/context.ts';
import { inMemoryProfile, readStoredRun, stepOnce, type RunRequest, type Session, type SessionRun } from './studio/session.ts';
import { simChannels } from './studio/sim-channels.ts';
import { campaignsChannels } from './studio/campaigns-channels.ts';
import { reviewChannels } from './studio/review-channels.ts';
import { memoryChannels } from './studio/memory-channels.ts';
import { auditChannels } from './studio/audit-channels.ts';
import { metricsChannels } from './studio/metrics-channels.ts';
import { backendChannels } from './studio/backend-channels.ts';
import { settingsChannels } from './studio/settings-channels.ts';

export const DEFAULT_SCENARIO = 'review-queue';
/** How long one run chunk may hold the event loop. */
const CHUNK_MS = 12;

export interface StudioServiceOptions {
  /** App config; its data_dir holds settings and SQLite profiles. Defaults to loadConfig(). */
  readonly config?: ChimeraConfig;
  /** Receives pushed updates (the server broadcasts them over WebSocket). */
  readonly onPush?: (msg: PushMessage) => void;
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
    // what the namespaces' handlers may use of the service (see src/app/studio/context.ts)
    const ctx: StudioContext = {
      config: this.config,
      settings: this.settings,
      current: () => this.current(),
      exclusive: (fn) => this.exclusive(fn),
      status: () => this.status(),
      replaceSession: (profile, run) => this.replaceSession(profile, run),
      scrub: (step) => this.scrub(step),
      startRun: (req) => this.startRun(req),
      stopRun: () => this.stopRun(),
    };
    this.handlers = {
      ...simChannels(ctx),
      ...campaignsChannels(ctx),
      ...reviewChannels(ctx),
      ...memoryChannels(ctx),
      ...auditChannels(ctx),
      ...metricsChannels(ctx),
      ...backendChannels(ctx),
      ...settingsChannels(ctx),
    };
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

  /** Every channel's handler, built per namespace in src/app/studio/*-channels.ts over this service's context. */
  readonly handlers: ChimeraHandlers;

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

  private configFor(profile: BackendProfile): ChimeraConfig {
    // persona memory must outlive the process on a durable profile, so those use the exact
    // adapter, whose rows sit in persona-memory/ beside the profile's store
    const durable = backendByKind(profile.kind).capabilities.durable;
    const memory = { ...this.config.memory, adapter: durable ? ('exact' as const) : ('memory' as const) };
    return { ...this.config, memory };
  }

  private async replaceSession(profile: BackendProfile, run: SessionRun): Promise<void> {
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

  private async openSession(profile: BackendProfile, run: SessionRun): Promise<void> {
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
          if (!(await stepOnce(s))) return true;
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
