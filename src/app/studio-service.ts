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
import { join, resolve } from 'node:path';
import { configWithConnection, findConnection, loadConfig, type ChimeraConfig } from '../config/config.ts';
import { ConnectionsFile, resolveConnection, type SecretVault } from '../config/connections.ts';
import { connectionsChannels, listConnections, readOnlyProfileError } from './studio/connections-channels.ts';
import { composePorts } from '../config/compose.ts';
import { backendByKind, configForBackend, profileConfig } from '../config/backends/index.ts';
import { ChimeraError, NotFoundError, ValidationError } from '../domain/errors.ts';
import { GENESIS_HASH } from '../domain/audit.ts';
import { VirtualClock } from '../sim/clock.ts';
import { loadScenario, type LoadedScenario } from '../scenarios/load.ts';
import { Mutex } from '../util/mutex.ts';
import { Simulation } from './simulation.ts';
import { Replayer } from './replay.ts';
import { MetricsFold } from './studio-metrics.ts';
import { SettingsFile } from './studio-settings.ts';
import { CHANNELS, parseArgs, isChannelName, type ChannelName, type ChimeraHandlers, type ParsedArgsOf, type ResultOf } from '../shared/contract.ts';
import type { BackendProfile, BranchView, Breakpoint, FaultRates, PushMessage, SimStatus, StepStateView } from '../shared/types.ts';
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
import { inspectChannels } from './studio/inspect-channels.ts';
import { InspectReaderPool, unpooledReaders, type InspectReaderPoolOptions, type InspectReaderSource } from './studio/inspect-pool.ts';
import { copyChannels } from './studio/copy-channels.ts';
import { Branches, type BranchRecord } from './studio/branches.ts';
import { StepStates, firstStep, headerOf } from './studio/step-states.ts';
import { agentKind, matchBefore, matchOn } from './studio/breakpoints.ts';

export const DEFAULT_SCENARIO = 'review-queue';
/** Channels that read through stores they open themselves (a failure there leaves the session alone). */
const OWN_STORES = /^(inspect|connections)\//;
/** How long one run chunk may hold the event loop. */
const CHUNK_MS = 12;

export interface StudioServiceOptions {
  /** App config; its data_dir holds settings and SQLite profiles. Defaults to loadConfig(). */
  readonly config?: ChimeraConfig;
  /** Receives pushed updates (the server broadcasts them over WebSocket). */
  readonly onPush?: (msg: PushMessage) => void;
  /** Seals typed secrets of connection profiles (Electron's safeStorage); none in browser mode. */
  readonly vault?: SecretVault | null;
  /**
   * The pool of inspection readers (studio/inspect-pool.ts): its idle time and timers (tests
   * advance them by hand), or false for none (each inspection opens and closes its readers, as
   * before the pool: the bench compares the two).
   */
  readonly inspectReaders?: InspectReaderPoolOptions | false;
}

export class StudioService {
  readonly config: ChimeraConfig;
  readonly settings: SettingsFile;
  /** The app's connection profiles (connections.json) and the vault that seals their typed secrets. */
  readonly connections: ConnectionsFile;
  private readonly vault: SecretVault | null;
  /** The inspection readers kept open between 'inspect/…' calls; every one is closed on a profile switch and on close. */
  readonly inspectReaders: InspectReaderSource;
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
  /** Every branch of the run's history (studio/branches.ts) and the one the session is. */
  private readonly branches: Branches;
  private activeBranch: BranchRecord | null = null;
  /** The session's run at any step (studio/step-states.ts), made on first use. */
  private steps: StepStates | null = null;
  private breakpoints: readonly Breakpoint[] = [];
  /** Why the last run stopped before it was asked to, shown until the next run or step. */
  private stopReason: string | null = null;
  /** The step a "before an agent kind" breakpoint stopped before (the next run takes that step). */
  private pausedBefore: number | null = null;
  /** A run that stopped waiting only on human decisions: it goes on once they are made. */
  private resumeAfterHumans: RunRequest | null = null;
  /** What the namespaces stop when the service closes (a copy in the background). */
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(config: ChimeraConfig, onPush?: (msg: PushMessage) => void, vault: SecretVault | null = null, readers: InspectReaderPoolOptions | false = {}) {
    this.config = config;
    this.inspectReaders = readers === false ? unpooledReaders() : new InspectReaderPool(readers);
    this.settings = new SettingsFile(resolve(config.data_dir));
    this.connections = new ConnectionsFile(resolve(config.data_dir));
    this.vault = vault;
    this.branches = new Branches(resolve(config.data_dir));
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
      branches: () => this.branchList(),
      switchBranch: (id) => this.switchBranch(id),
      stateAt: (step, campaign_id) => this.stateAt(step, campaign_id),
      setBreakpoints: (bps) => this.setBreakpoints(bps),
      connectionConfig: (name) => this.connectionConfig(name),
      inspectReaders: this.inspectReaders,
      dropInspectReaders: () => this.inspectReaders.dropAll(),
      push: (msg) => this.push(msg),
      onClose: (fn) => this.closers.push(fn),
    };
    this.handlers = {
      ...simChannels(ctx),
      ...campaignsChannels(ctx),
      ...reviewChannels(ctx),
      ...memoryChannels(ctx),
      ...auditChannels(ctx),
      ...metricsChannels(ctx),
      ...backendChannels({ ...ctx, connections: this.connections }),
      ...settingsChannels(ctx),
      ...inspectChannels(ctx),
      ...connectionsChannels({ ...ctx, connections: this.connections, vault: this.vault }),
      ...copyChannels({ ...ctx, connections: () => listConnections(this.config, this.connections, this.vault) }),
    };
  }

  /** Opens the service and its first session (the saved backend profile and run settings). */
  static async open(opts: StudioServiceOptions = {}): Promise<StudioService> {
    const s = new StudioService(opts.config ?? loadConfig(), opts.onPush, opts.vault ?? null, opts.inspectReaders ?? {});
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
      // the inspector and connection checks open stores of their own: their failure says nothing of the session's
      throw !OWN_STORES.test(channel) && this.isStorageFailure(e) ? await this.recover(e) : e;
    }
    if (CHANNELS[channel].mutates) this.push({ type: 'changed', what: channel.startsWith('settings/') ? 'settings' : 'data' });
    // a run that waited only on people goes on once a decision (or anything else) gave it work
    const waiting = this.resumeAfterHumans;
    if (waiting && CHANNELS[channel].mutates && !this.running && this.session && !this.session.sim.engine.finished) {
      this.resumeAfterHumans = null;
      this.startRun(waiting);
    }
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
    if (!s || !s.sim.ports.backend.capabilities.durable) {
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

  /**
   * The config a session on `profile` opens: a named production profile is a connection
   * profile, its secrets resolved now (in memory only). A read-only one is refused: a
   * simulation writes; the Inspector reads such a profile without making it the session.
   */
  private async sessionConfig(profile: BackendProfile): Promise<ChimeraConfig> {
    const base = this.configFor(profile);
    if (profile.kind !== 'production' || profile.name === null) return base;
    const { profile: conn } = findConnection(this.config, profile.name, this.connections);
    if (conn.read_only) throw readOnlyProfileError(profile.name);
    return configWithConnection(base, profile.name, await resolveConnection(profile.name, conn, { vault: this.vault }));
  }

  /** The config of a named connection profile, its secrets resolved (the Inspector and copy open it read-only where they only read). */
  async connectionConfig(name: string): Promise<ChimeraConfig> {
    const { profile: conn } = findConnection(this.config, name, this.connections);
    return configWithConnection(this.config, name, await resolveConnection(name, conn, { vault: this.vault }));
  }

  private async replaceSession(profile: BackendProfile, run: SessionRun): Promise<void> {
    await this.stopRunLocked();
    const old = this.session;
    this.session = null;
    if (old) await this.shelve(old);
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
    const config = await this.sessionConfig(profile);
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
    this.session = this.newSession(sim, profile, null, null);
    const info = { scenario: sim.loaded.scenario.name, seed: sim.engineConfig.seed, step: sim.engine.stepNo };
    this.activeBranch = profile.path !== null ? this.branches.forFile(profile, info, !!run?.fresh) : this.branches.newMemory(profile, info, null, null);
  }

  private newSession(sim: Simulation, profile: BackendProfile, replayed_from: number | null, depths: MetricsFold['depths'] | null): Session {
    const metrics = new MetricsFold();
    if (depths) metrics.depths = depths;
    metrics.update(sim.engine.log.all());
    return {
      sim,
      profile,
      metrics,
      replayed_from,
      audit: [],
      verification: { ok: true, checked: 0, broken_at: null, reason: null, head_hash: GENESIS_HASH },
      auditHeads: null,
      lastSampledTick: depths ? sim.engine.tickNo : -1,
    };
  }

  /**
   * Closes a session that another replaces, keeping its branch: a file branch is in its file; an
   * in-memory one keeps its run (settings and event log) to be rebuilt when switched back to. An
   * in-memory run that never went past its start-up has nothing to keep and leaves the list.
   */
  private async shelve(old: Session): Promise<void> {
    // pooled inspection readers may hold the profile's file (and keep its -wal from being folded
    // in on close), or read a store the next session replaces: all go, the next call opens afresh
    await this.inspectReaders.dropAll();
    this.stopReason = null;
    this.pausedBefore = null;
    this.resumeAfterHumans = null;
    const steps = this.steps;
    this.steps = null;
    await steps?.close();
    // a session whose storage failed may fail to flush and close too: the new one opens anyway
    await old.sim.engine.flush().catch(() => undefined);
    const rec = this.activeBranch;
    this.activeBranch = null;
    if (rec) {
      rec.step = old.sim.engine.stepNo;
      if (old.profile.path === null) {
        const events = old.sim.engine.log.all();
        if (rec.parent === null && old.sim.engine.stepNo <= firstStep(events) && !this.branches.hasChildren(rec.id)) this.branches.remove(rec.id);
        else rec.stored = { header: headerOf(old.sim), events, depths: old.metrics.depths };
      }
      this.branches.update(rec);
    }
    await old.sim.close().catch(() => undefined);
  }

  /**
   * Replays the run up to `step` as a new branch and continues from there; the branch it came
   * from is kept (sim/branches). The new branch stays on the backend of the old one: in memory,
   * or a new file profile beside the original (`<name>-at-<step>`) for a backend that keeps one.
   */
  private async scrub(step: number): Promise<SimStatus> {
    await this.stopRunLocked();
    const s = this.current();
    const last = s.sim.engine.stepNo;
    if (step > last) throw new ValidationError(`step: the run has ${last} steps; cannot scrub to ${step}`);
    const first = firstStep(s.sim.engine.log.all());
    if (step < first) throw new ValidationError(`step: steps 1–${first} are the run's start-up (personas and campaigns loaded); the earliest step to replay to is ${first}`);
    await s.sim.engine.flush();
    const file = { header: headerOf(s.sim), events: [...s.sim.engine.log.all()] };
    const parent = this.activeBranch;
    let profile: BackendProfile = inMemoryProfile();
    if (s.profile.path !== null && s.profile.name !== null) profile = this.branchProfile(s.profile, step);
    if (profile.path !== null) mkdirSync(resolve(profile.path, '..'), { recursive: true });
    const r = await Replayer.open(file, { config: this.configFor(profile), backend: profile.kind, ...(profile.path ? { db: profile.path } : {}) });
    try {
      await r.advanceTo(step);
      if (r.detail) throw new ChimeraError('INTERNAL', `the replay diverged from the recording: ${r.detail}`);
      if (r.step !== step) throw new ChimeraError('INTERNAL', `the replay stopped at step ${r.step}, not ${step}`);
      await r.sim.engine.flush();
    } catch (e) {
      await r.sim.close();
      if (profile.path !== null) rmSync(resolve(profile.path, '..'), { recursive: true, force: true });
      throw e;
    }
    const depths = s.metrics.depths.filter((d) => d.tick <= r.sim.engine.tickNo);
    this.session = null;
    await this.shelve(s);
    this.session = this.newSession(r.sim, profile, r.sim.engine.stepNo, depths);
    const info = { scenario: r.sim.loaded.scenario.name, seed: r.sim.engineConfig.seed, step: r.sim.engine.stepNo };
    if (profile.path !== null && parent) {
      this.activeBranch = this.branches.newFile(profile, info, parent, step);
      this.settings.update({ backend: profile });
    } else {
      this.activeBranch = this.branches.newMemory(profile, info, parent, step);
      if (s.profile.path !== null) this.settings.update({ backend: profile });
    }
    this.push({ type: 'changed', what: 'session' });
    return this.status();
  }

  /** A new file profile for a branch of `of` at `step`: `<name>-at-<step>` (made unique), beside the original. */
  private branchProfile(of: BackendProfile, step: number): BackendProfile {
    const dir = join(resolve(this.config.data_dir), 'profiles');
    const suffix = `-at-${step}`;
    const base = `${(of.name ?? 'run').slice(0, 64 - suffix.length - 4)}${suffix}`;
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      if (existsSync(join(dir, name))) continue;
      return { kind: of.kind, name, path: profileConfig(this.config, of.kind, join(dir, name)).file };
    }
  }

  private branchList(): BranchView[] {
    const s = this.current();
    return this.branches.list(this.activeBranch?.id ?? null, s.sim.engine.stepNo);
  }

  /** Makes another branch the session: a file branch reopens its file; an in-memory one is rebuilt by replaying its run. */
  private async switchBranch(id: string): Promise<SimStatus> {
    const target = this.branches.get(id);
    if (!target) throw new NotFoundError('branch', id);
    if (target === this.activeBranch) return this.status();
    if (target.profile.path !== null) {
      await this.replaceSession(target.profile, null);
      this.settings.update({ backend: target.profile });
      return this.status();
    }
    const stored = target.stored;
    if (!stored) throw new ChimeraError('INTERNAL', `branch ${id} has no run to rebuild`);
    await this.stopRunLocked();
    const r = await Replayer.open(stored, { config: this.configFor(target.profile) });
    await r.advanceTo(Infinity);
    if (r.detail) {
      await r.sim.close();
      throw new ChimeraError('INTERNAL', `rebuilding branch "${target.label}" diverged from its log: ${r.detail}`);
    }
    const old = this.session;
    this.session = null;
    if (old) await this.shelve(old);
    this.session = this.newSession(r.sim, target.profile, null, stored.depths);
    target.stored = null;
    this.activeBranch = target;
    this.settings.update({ backend: target.profile });
    this.push({ type: 'changed', what: 'session' });
    return this.status();
  }

  private stepStates(): StepStates {
    const s = this.current();
    this.steps ??= new StepStates(s.sim, this.configFor(inMemoryProfile()));
    return this.steps;
  }

  private stateAt(step: number, campaign_id?: string): Promise<StepStateView> {
    return this.stepStates().at(step, campaign_id);
  }

  private setBreakpoints(bps: readonly Breakpoint[]): SimStatus {
    this.breakpoints = bps;
    return this.status();
  }

  // ---------------------------------------------------------------- stepping and runs

  private startRun(req: RunRequest): void {
    this.stopReason = null;
    this.resumeAfterHumans = null;
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
        const bps = this.breakpoints;
        const before = bps.some((b) => b.kind === 'agent');
        for (let n = 0; n < budget; n++) {
          if (e.finished) return true;
          if (req.until_tick !== undefined && e.tickNo >= req.until_tick) return true;
          if (req.max_steps !== undefined && steps >= req.max_steps) return true;
          if (req.until_escalated && s.sim.fold.hitl.size > escalatedAtStart) {
            this.stopReason = `stopped at step ${e.stepNo}: the Judge escalated a task to human review`;
            return true;
          }
          // a breakpoint before an agent kind: see the next step on a copy one step ahead (the
          // run goes past the one it stopped before when asked to go on)
          if (before && this.pausedBefore !== e.stepNo) {
            const next = await this.stepStates().lookahead();
            const why = next ? matchBefore(bps, agentKind(e.agents, next.agent), next.agent, next.step) : null;
            if (why) {
              this.pausedBefore = e.stepNo;
              this.stopReason = `paused at step ${e.stepNo}: ${why}`;
              return true;
            }
          }
          const r = await stepOnce(s);
          if (!r) return true;
          this.pausedBefore = null;
          steps += 1;
          const on = bps.length ? matchOn(bps, r.events) : null;
          if (on) {
            this.stopReason = `paused at step ${r.step}: ${on}`;
            return true;
          }
          if (speed === 0 && performance.now() - t0 > CHUNK_MS) break;
        }
        await e.flush();
        return false;
      });
      // a run that ends waiting only on people goes on by itself once they decide
      if (stop && gen === this.runGeneration && this.session?.sim.engine.finished && this.waitingOnHumans(this.session) > 0) {
        this.resumeAfterHumans = { ...req, ...(req.max_steps !== undefined ? { max_steps: Math.max(1, req.max_steps - steps) } : {}) };
      }
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
    this.resumeAfterHumans = null;
    this.runGeneration += 1;
    // not running from now on, so the loop's last pushed status already says so
    this.running = false;
    await this.runDone;
  }

  /** Inside the lock: ask the loop to stop; it sees the new generation at its next chunk. */
  private async stopRunLocked(): Promise<void> {
    this.resumeAfterHumans = null;
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

  /** How many human decisions a finished run waits on (a run that stopped with only escalated items left and no simulated reviewer), or 0. */
  private waitingOnHumans(s: Session, hitlPending?: number): number {
    const e = s.sim.engine;
    if (e.finished !== 'quiescent' || s.sim.engineConfig.human.enabled) return 0;
    return hitlPending ?? s.sim.summary().hitlPending;
  }

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
      extras: {
        first_step: firstStep(s.sim.engine.log.all()),
        branch_id: this.activeBranch?.id ?? '',
        breakpoints: this.breakpoints,
        stop_reason: this.stopReason,
        waiting_on_humans: this.waitingOnHumans(s, sum.hitlPending),
        resume_after_humans: this.resumeAfterHumans !== null,
      },
    };
  }

  // ---------------------------------------------------------------- shutdown

  async close(): Promise<void> {
    if (this.closed) return;
    for (const fn of this.closers) await fn().catch(() => undefined);
    await this.stopRun();
    await this.lock.run(async () => {
      this.closed = true;
      await this.inspectReaders.close();
      const s = this.session;
      this.session = null;
      await this.steps?.close();
      this.steps = null;
      if (s) {
        await s.sim.engine.flush().catch(() => undefined);
        await s.sim.close();
      }
    });
    this.listeners.clear();
  }
}
