/**
 * Replay: re-executes a recorded run on a fresh backend (in-memory unless told otherwise) with
 * the same seed, config, scenario and personas, re-applying the recorded outside commands at the
 * steps they came, and checks every event against the recording. Stops at `to` (a step) or the
 * recording's end.
 *
 * `Replayer` does the same a stretch at a time (advanceTo), so the studio can keep a replayed
 * copy of a run parked at a step and move it on later (the state at any step, src/app/studio/step-states.ts).
 */
import { canonicalJson } from '../domain/canonical-json.ts';
import type { EngineEvent } from '../engine/events.ts';
import type { ExternalCommand } from '../engine/engine.ts';
import type { RunSummary } from '../engine/summary.ts';
import { Simulation, type RunFile } from './simulation.ts';
import { parseConfig, type ChimeraConfig } from '../config/config.ts';
import { defaultBackend } from '../config/backends/index.ts';

export interface ReplayResult {
  readonly summary: RunSummary;
  /** Step of the first event that differs from the recording, or null. */
  readonly divergedAt: number | null;
  readonly detail: string | null;
  readonly sim: Simulation;
}

export interface ReplayOptions {
  readonly to?: number;
  readonly onProgress?: (done: number, total: number) => void;
  readonly config?: ChimeraConfig;
  /** The registry backend to replay onto (default: the default backend, in memory). */
  readonly backend?: string;
  /** Its file, for a backend that keeps one. */
  readonly db?: string;
}

/** A recorded run re-executed a stretch at a time; `events` is the recording (it may grow). */
export class Replayer {
  /** Index of the next recorded event to check. */
  private i = 0;
  /** Why the replay stopped agreeing with the recording, or null. */
  detail: string | null = null;

  private constructor(
    readonly sim: Simulation,
    private readonly events: readonly EngineEvent[],
  ) {}

  static async open(file: { readonly header: RunFile['header']; readonly events: readonly EngineEvent[] }, opts: Pick<ReplayOptions, 'config' | 'backend' | 'db'> = {}): Promise<Replayer> {
    const { header } = file;
    const sim = await Simulation.open({
      scenario: { scenario: header.scenario, personas: [...header.personas], source: 'run file' },
      backend: opts.backend ?? defaultBackend().kind,
      ...(opts.db ? { db: opts.db } : {}),
      engine: header.config as unknown as Record<string, unknown>,
      // a replay never touches the user's files: a fresh in-memory profile unless told otherwise
      config: opts.config ?? parseConfig({}),
    });
    const r = new Replayer(sim, file.events);
    r.detail = r.check(sim.engine.log.all());
    return r;
  }

  /** The step the replayed copy stands at. */
  get step(): number {
    return this.sim.engine.stepNo;
  }

  /** Whether the whole recording has been re-executed. */
  get atEnd(): boolean {
    return this.i >= this.events.length;
  }

  private check(got: readonly EngineEvent[]): string | null {
    for (const e of got) {
      const want = this.events[this.i];
      if (!want) return `step ${e.step}: the replay produced an event the recording does not have (${e.type})`;
      if (canonicalJson(want) !== canonicalJson(e)) {
        return `step ${e.step}: recorded ${want.type} by ${want.agent}, replay produced ${e.type} by ${e.agent}`;
      }
      this.i += 1;
    }
    return null;
  }

  /** Re-executes recorded steps until the copy stands at `limit` (or the recording ends, or it diverges). */
  async advanceTo(limit: number, onProgress?: (done: number) => void): Promise<void> {
    const { sim, events } = this;
    while (!this.detail && this.i < events.length && sim.engine.stepNo < limit) {
      const next = events[this.i] as EngineEvent;
      let got: readonly EngineEvent[];
      if (next.agent === 'ui') {
        let rec: { command?: ExternalCommand; at?: { tick: number; cursor: number } } | undefined;
        for (let j = this.i; j < events.length && (events[j] as EngineEvent).step === next.step; j++) {
          const d = (events[j] as EngineEvent).data as typeof rec;
          if (d?.command) {
            rec = d;
            break;
          }
        }
        const cmd = rec?.command;
        if (!cmd) {
          this.detail = `step ${next.step}: an outside command was recorded without its arguments`;
          break;
        }
        try {
          got = (await sim.command(cmd, rec?.at)).events;
        } catch (e) {
          this.detail = `step ${next.step}: ${(e as Error).message}`;
          break;
        }
      } else {
        const r = await sim.step();
        if (!r) {
          this.detail = `step ${next.step}: the recording goes on but the replay finished (${sim.engine.finished})`;
          break;
        }
        got = r.events;
      }
      this.detail = this.check(got);
      if (onProgress && sim.engine.stepNo % 500 === 0) onProgress(sim.engine.stepNo);
    }
  }

  /** Checks a step taken outside advanceTo (a lookahead) against the recording, once the recording has it; false if they differ. */
  accept(got: readonly EngineEvent[]): boolean {
    this.detail ??= this.check(got);
    return this.detail === null;
  }

  /** Step of the first event that differs from the recording, or null. */
  get divergedAt(): number | null {
    return this.detail ? Number(/step (\d+)/.exec(this.detail)?.[1] ?? this.sim.engine.stepNo) : null;
  }
}

export async function replay(file: RunFile, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const r = await Replayer.open(file, opts);
  const limit = opts.to ?? Infinity;
  const total = Math.min(limit, file.events.at(-1)?.step ?? 0);
  const { onProgress } = opts;
  await r.advanceTo(limit, onProgress ? (done) => onProgress(done, total) : undefined);
  // a finished recording ends with the engine noticing it is done, which emits nothing
  if (!r.detail && r.atEnd && opts.to === undefined && file.summary?.finished) {
    const extra = await r.sim.step();
    if (extra) r.detail = `step ${extra.step}: the replay produced an event the recording does not have (${extra.events[0]?.type})`;
  }
  return { summary: r.sim.summary(), divergedAt: r.divergedAt, detail: r.detail, sim: r.sim };
}
