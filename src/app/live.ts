/**
 * Live runs: engines in many processes (on many machines) sharing one set of stores, each in
 * the engine's live mode (src/engine/engine.ts, EngineInit.live). Two roles:
 *
 * - a **driver** (`chimera simulate --live`) plans the scenario's campaigns and drives them with
 *   its own agents, together with any workers that are running, until every campaign it created
 *   is COMPLETED;
 * - a **worker** (`chimera worker`) brings Workers and a Judge (and the planner and housekeeper
 *   every engine has) and serves whatever campaigns the stores hold, until it is told to stop.
 *
 * Time is the wall clock (leases lapse in real time; a killed process's work comes back when its
 * leases expire). An engine's round that finds nothing to do hands control back; the loop then
 * waits a little, longer while it stays idle (polling with backoff, bounded).
 */
import { hostname } from 'node:os';
import type { ChimeraConfig } from '../config/config.ts';
import { composePorts, type ComposedPorts } from '../config/compose.ts';
import { SwarmEngine } from '../engine/engine.ts';
import type { EngineEvent } from '../engine/events.ts';
import { engineConfigFor, type LoadedScenario } from '../scenarios/load.ts';
import { SystemClock } from '../sim/clock.ts';
import type { EngineConfig } from '../engine/config.ts';
import { ValidationError } from '../domain/errors.ts';

export interface LiveOptions {
  readonly config: ChimeraConfig;
  /** Names the run: campaign ids are derived from it and the seed, so a driver restarted with the same run id finds its campaigns again. */
  readonly run_id: string;
  /** The scenario whose campaigns a driver plans (its personas and engine block); a worker takes only its engine block. */
  readonly scenario: LoadedScenario;
  /** `driver` plans and drives until its campaigns complete; `worker` serves until stopped. */
  readonly role: 'driver' | 'worker';
  /** Engine settings over the scenario's (workers, judges, seed, …). */
  readonly engine?: Record<string, unknown>;
  /** Stops the loop after the step in progress (SIGTERM, SIGINT). */
  readonly signal?: AbortSignal;
  /** Called after every round of steps. */
  readonly onProgress?: (p: LiveProgress) => void;
  /** Waits between idle rounds: starts at `min`, doubles while idle, at most `max` (ms). */
  readonly idle?: { readonly min: number; readonly max: number };
  /** A driver gives up after this long (ms) without finishing; default: never. */
  readonly deadline_ms?: number;
  /** Steps per round before the loop looks at the signal and the store again. */
  readonly round_steps?: number;
  /** Called when a lost connection made the run build its engine again (the n-th time). */
  readonly onRetry?: (e: Error, n: number) => void;
  /** Called once the stores are open and the engine is built, before the first round. */
  readonly onReady?: (info: { consumer: string; backends: Readonly<Record<string, string>>; memory_backend: string }) => void;
  /** Opens the ports (tests pass their own namespaces); default: the config's profile. */
  readonly open?: (clock: SystemClock) => Promise<ComposedPorts>;
}

export interface LiveProgress {
  readonly steps: number;
  readonly rounds: number;
  readonly idle_rounds: number;
  /** Campaigns this process created, and how many of them are COMPLETED (driver). */
  readonly campaigns: number;
  readonly completed: number;
  /** What this process's agents did. */
  readonly claimed: number;
  readonly decided: number;
  readonly conflicts: number;
  /** Lapsed leases this process's housekeeper put back (work a dead process held). */
  readonly redelivered: number;
  /** Engines built again after lost connections. */
  readonly rebuilds: number;
}

export interface LiveSummary extends LiveProgress {
  readonly role: 'driver' | 'worker';
  readonly run_id: string;
  readonly consumer: string;
  /** Why the loop ended. */
  readonly ended: 'completed' | 'stopped' | 'deadline';
  readonly elapsed_ms: number;
  /** The backends that served the run (state, queues, cache) and persona memory's kind. */
  readonly backends: Readonly<Record<string, string>>;
  readonly memory_backend: string;
  /** Campaign ids this process created (driver). */
  readonly campaign_ids: readonly string[];
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The scenario a worker runs with: the engine block only (it plans no campaigns and runs no operator). */
function asWorker(loaded: LoadedScenario): LoadedScenario {
  return { ...loaded, scenario: { ...loaded.scenario, campaigns: [], operator: [] } };
}

/** How many times a run builds its engine again after lost connections before it gives up. */
const MAX_REBUILDS = 50;

/** Runs `fn` again on transient storage errors (bounded, with backoff). */
async function withRetries<T>(fn: () => Promise<T>, ports: ComposedPorts, opts: LiveOptions, counts: { rebuilds: number }): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (ports.backend.classify(e) !== 'transient' || counts.rebuilds >= MAX_REBUILDS || opts.signal?.aborted) throw e;
      counts.rebuilds += 1;
      opts.onRetry?.(e as Error, counts.rebuilds);
      await sleep(Math.min(2000, 50 * 2 ** Math.min(counts.rebuilds, 6)), opts.signal);
    }
  }
}

/** Runs one live engine until its role is done or it is stopped; returns what it did. */
export async function runLive(opts: LiveOptions): Promise<LiveSummary> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(opts.run_id)) {
    throw new ValidationError(`invalid run id "${opts.run_id}": use 1–100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`);
  }
  const loaded = opts.role === 'worker' ? asWorker(opts.scenario) : opts.scenario;
  const engineConfig: EngineConfig = engineConfigFor(loaded.scenario, opts.engine ?? {});
  const clock = new SystemClock();
  const ports = opts.open ? await opts.open(clock) : await composePorts(opts.config, clock);
  const started = performance.now();
  const consumer = `${hostname()}:${process.pid}`;
  let own: readonly string[] = [];
  const counts = { steps: 0, rounds: 0, idle_rounds: 0, claimed: 0, decided: 0, conflicts: 0, redelivered: 0, rebuilds: 0 };
  let completed = 0;
  let ended: LiveSummary['ended'] = 'stopped';
  // the engine never moves a live clock (EngineInit.live); set() exists for simulation mode only
  const engineClock = {
    now_ms: () => clock.now_ms(),
    iso: () => clock.iso(),
    set: () => {
      throw new Error('a live run runs on the wall clock');
    },
  };
  const build = (scenario: LoadedScenario['scenario']) =>
    SwarmEngine.create({ ports, clock: engineClock, scenario, personas: loaded.personas, config: engineConfig, keepEvents: false, live: { run_id: opts.run_id, process: consumer } });
  try {
    let engine = await withRetries(() => build(loaded.scenario), ports, opts, counts);
    own = engine.ownCampaigns;
    opts.onReady?.({ consumer, backends: { ...ports.backend.ports }, memory_backend: ports.memory.kind });
    const onEvent = (e: EngineEvent) => {
      if (e.type === 'task.claimed') counts.claimed += 1;
      else if (e.type === 'judge.decided' || e.type === 'human.decided') counts.decided += 1;
      else if (e.type === 'occ.conflict') counts.conflicts += 1;
      else if (e.type === 'lease.expired') counts.redelivered += 1;
    };
    const idle = opts.idle ?? { min: 20, max: 500 };
    let wait = idle.min;
    const progress = (): LiveProgress => ({ ...counts, campaigns: own.length, completed });
    for (;;) {
      if (opts.signal?.aborted) break;
      const before = engine.stepNo;
      try {
        await engine.run({
          max_steps: opts.round_steps ?? 200,
          shouldStop: () => opts.signal?.aborted === true,
          onStep: (r) => {
            for (const e of r.events) onEvent(e);
          },
        });
        counts.steps += engine.stepNo - before;
      } catch (e) {
        // a lost connection (a killed backend, a restarted server): the engine refuses to go on
        // after a failed write (its view may be ahead of the store), so a new one is built from
        // the store. What the old one held comes back when its leases lapse; its committed work
        // is in the store; the campaigns it created are taken up again (same run id, same ids);
        // operator actions not yet done are kept, at the same distance in ticks.
        // (a unit that kept conflicting after its retries is given up the same way: its work goes back to the queues)
        const cls = ports.backend.classify(e);
        if ((cls !== 'transient' && cls !== 'conflict') || counts.rebuilds >= MAX_REBUILDS) throw e;
        counts.rebuilds += 1;
        counts.steps += engine.stepNo - before;
        opts.onRetry?.(e as Error, counts.rebuilds);
        await sleep(Math.min(2000, 50 * 2 ** Math.min(counts.rebuilds, 6)), opts.signal);
        const old = engine;
        const rest = loaded.scenario.operator.slice(old.operatorDone).map((a) => ({ ...a, tick: Math.max(0, a.tick - old.tickNo) }));
        engine = await withRetries(() => build({ ...loaded.scenario, operator: rest }), ports, opts, counts);
        own = engine.ownCampaigns;
        continue;
      }
      counts.rounds += 1;
      if (opts.role === 'driver' && own.length > 0) {
        completed = 0;
        for (const id of own) if ((await ports.state.getCampaign(id))?.status === 'COMPLETED') completed += 1;
        if (completed === own.length) {
          ended = 'completed';
          opts.onProgress?.(progress());
          break;
        }
      }
      opts.onProgress?.(progress());
      if (opts.deadline_ms !== undefined && performance.now() - started > opts.deadline_ms) {
        ended = 'deadline';
        break;
      }
      // a round that ended on `finished` (every campaign in the store completed) is idle too: more may come
      if (engine.stepNo === before || engine.finished) {
        counts.idle_rounds += 1;
        await sleep(wait, opts.signal);
        wait = Math.min(idle.max, wait * 2);
        if (engine.finished) engine.finished = null;
      } else wait = idle.min;
    }
    return {
      role: opts.role,
      run_id: opts.run_id,
      consumer,
      ended,
      elapsed_ms: Math.round(performance.now() - started),
      ...progress(),
      backends: { ...ports.backend.ports },
      memory_backend: ports.memory.kind,
      campaign_ids: [...own],
    };
  } finally {
    await ports.close();
  }
}
