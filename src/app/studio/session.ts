/**
 * The studio session (one Simulation on one backend profile) and what every namespace does
 * with it: step it (sampling queue depths per tick), send it a command, turn a stale
 * state_version into a conflict that says what changed. The session's lifecycle (open,
 * replace, recover, scrub, close) belongs to the StudioService, which owns the one session.
 */
import { ConflictError, ChimeraError } from '../../domain/errors.ts';
import type { AuditHeads } from '../../domain/audit.ts';
import type { AuditEvent } from '../../domain/schemas.ts';
import { reviewQueueName, taskQueueName } from '../../ports/queue.ts';
import { ScenarioSchema } from '../../engine/config.ts';
import { VirtualClock } from '../../sim/clock.ts';
import type { ChimeraConfig } from '../../config/config.ts';
import { composePorts } from '../../config/compose.ts';
import { defaultBackend, readOnlyView } from '../../config/backends/index.ts';
import { loadPersona, type LoadedScenario } from '../../scenarios/load.ts';
import type { Simulation } from '../simulation.ts';
import type { MetricsFold } from '../studio-metrics.ts';
import type { AuditVerificationView, BackendProfile } from '../../shared/types.ts';
import { BACKEND_KINDS, type BackendKind } from '../../shared/types.ts';

export interface Session {
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

/** The run a new session starts (a scenario with engine overrides; `fresh` clears a file profile first), or null to open what the profile holds. */
export type SessionRun = { loaded: LoadedScenario; overrides: Record<string, unknown>; fresh: boolean } | null;

export interface RunRequest {
  readonly until_tick?: number;
  readonly until_escalated?: boolean;
  readonly max_steps?: number;
}

export async function stepOnce(s: Session) {
  const r = await s.sim.step();
  if (s.sim.engine.tickNo !== s.lastSampledTick || s.sim.engine.finished) await sampleDepths(s);
  return r;
}

async function sampleDepths(s: Session): Promise<void> {
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

/** Who the audit log names for everything a person does in the studio (decisions, pauses, memory edits). */
export const STUDIO_ACTOR = 'studio-user';

/** Why a studio change was refused as a conflict, for the UI to say it in the user's words (the error's details). */
export type ConflictReason = 'stale' | 'decided' | 'already' | 'status';

/** A CONFLICT the UI shows as a banner: nothing was written; `details.reason` says what happened. */
export function studioConflict(message: string, details: { reason: ConflictReason; entity: string; id: string } & Record<string, unknown>): ChimeraError {
  return new ChimeraError('CONFLICT', message, details);
}

export async function command(s: Session, cmd: Parameters<Simulation['command']>[0]): Promise<void> {
  await s.sim.command({ ...cmd, actor: STUDIO_ACTOR });
  await s.sim.engine.flush();
}

/** A stale state_version becomes a CONFLICT that says what was read and what is there now. */
export async function withConflictMessage(s: Session, campaign_id: string, expected: number, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    const c = await s.sim.ports.state.getCampaign(campaign_id);
    throw studioConflict(
      `campaign "${c?.title ?? campaign_id}" changed since you read it (you read state_version ${expected}, it is now ${c?.state_version ?? '?'}); nothing was written — re-read and decide again`,
      { reason: 'stale', entity: 'campaign', id: campaign_id, expected, actual: c?.state_version },
    );
  }
}

/** The run a profile's store holds (its scenario, personas and engine settings), or null; `config` points at the store. */
export async function readStoredRun(config: ChimeraConfig, file: string): Promise<{ loaded: LoadedScenario; config: Record<string, unknown> } | null> {
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
export function inMemoryProfile(): BackendProfile {
  return { kind: wireKind(defaultBackend().kind), name: null, path: null };
}

/** A registry backend as the wire names it (src/shared keeps a copy of the names; a test keeps them equal). */
export function wireKind(kind: string): BackendKind {
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw new ChimeraError('INTERNAL', `backend "${kind}" has no name on the wire (add it to BACKEND_KINDS in src/shared/types.ts)`);
  return kind as BackendKind;
}
