/**
 * Replay: re-executes a recorded run on a fresh in-memory backend with the same seed, config,
 * scenario and personas, re-applying the recorded outside commands at the steps they came,
 * and checks every event against the recording. Stops at `to` (a step) or the recording's end.
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

export async function replay(
  file: RunFile,
  opts: { to?: number; onProgress?: (done: number, total: number) => void; config?: ChimeraConfig } = {},
): Promise<ReplayResult> {
  const { header, events } = file;
  const sim = await Simulation.open({
    scenario: { scenario: header.scenario, personas: [...header.personas], source: 'run file' },
    backend: defaultBackend().kind,
    engine: header.config as unknown as Record<string, unknown>,
    // a replay never touches the user's files: a fresh in-memory profile unless told otherwise
    config: opts.config ?? parseConfig({}),
  });
  const produced = [...sim.engine.log.all()];
  let i = 0;
  const check = (got: readonly EngineEvent[]): string | null => {
    for (const e of got) {
      const want = events[i];
      if (!want) return `step ${e.step}: the replay produced an event the recording does not have (${e.type})`;
      if (canonicalJson(want) !== canonicalJson(e)) {
        return `step ${e.step}: recorded ${want.type} by ${want.agent}, replay produced ${e.type} by ${e.agent}`;
      }
      i += 1;
    }
    return null;
  };
  let detail = check(produced);
  const limit = opts.to ?? Infinity;
  const total = Math.min(limit, events.at(-1)?.step ?? 0);
  while (!detail && i < events.length && sim.engine.stepNo < limit) {
    const next = events[i] as EngineEvent;
    let got: readonly EngineEvent[];
    if (next.agent === 'ui') {
      const same = events.filter((e) => e.step === next.step);
      const rec = same.map((e) => e.data as { command?: ExternalCommand; at?: { tick: number; cursor: number } } | undefined).find((d) => d?.command);
      const cmd = rec?.command;
      if (!cmd) {
        detail = `step ${next.step}: an outside command was recorded without its arguments`;
        break;
      }
      try {
        got = (await sim.command(cmd, rec?.at)).events;
      } catch (e) {
        detail = `step ${next.step}: ${(e as Error).message}`;
        break;
      }
    } else {
      const r = await sim.step();
      if (!r) {
        detail = `step ${next.step}: the recording goes on but the replay finished (${sim.engine.finished})`;
        break;
      }
      got = r.events;
    }
    detail = check(got);
    if (opts.onProgress && sim.engine.stepNo % 500 === 0) opts.onProgress(sim.engine.stepNo, total);
  }
  // a finished recording ends with the engine noticing it is done, which emits nothing
  if (!detail && i === events.length && opts.to === undefined && file.summary?.finished) {
    const extra = await sim.step();
    if (extra) detail = `step ${extra.step}: the replay produced an event the recording does not have (${extra.events[0]?.type})`;
  }
  const divergedAt = detail ? Number(/step (\d+)/.exec(detail)?.[1] ?? sim.engine.stepNo) : null;
  return { summary: sim.summary(), divergedAt, detail, sim };
}
