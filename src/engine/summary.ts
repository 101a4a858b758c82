/** A run's summary, folded from its event log, so a replay rebuilds exactly the same figures. */
import type { EngineEvent } from './events.ts';

/**
 * What the UI shows of a run (the app copies these fields into src/shared's RunSummaryView;
 * the engine does not import the UI's wire types) plus what only a finished command-line run
 * knows (seed, backend, scenario, elapsedMs, tasksPerSecond).
 */
export interface RunSummary {
  readonly steps: number;
  readonly ticks: number;
  readonly finished: string | null;
  readonly campaigns: { readonly total: number; readonly completed: number };
  readonly tasks: { readonly total: number; readonly completed: number; readonly failed: number; readonly escalated: number };
  readonly hitlPending: number;
  readonly conflicts: number;
  readonly retries: number;
  readonly replans: number;
  readonly redeliveries: number;
  readonly duplicatesSkipped: number;
  readonly humanDecisions: number;
  readonly eventLogSha256: string;
  readonly seed: number;
  readonly backend: string;
  readonly scenario: string;
  readonly elapsedMs: number;
  readonly tasksPerSecond: number;
}

export interface EventFold {
  steps: number;
  ticks: number;
  campaigns: number;
  campaignsCompleted: number;
  tasks: number;
  completed: number;
  failed: number;
  escalated: number;
  hitl: Set<string>;
  conflicts: number;
  retries: number;
  replans: number;
  redeliveries: number;
  duplicates: number;
  human: number;
}

export function newFold(): EventFold {
  return { steps: 0, ticks: 0, campaigns: 0, campaignsCompleted: 0, tasks: 0, completed: 0, failed: 0, escalated: 0, hitl: new Set(), conflicts: 0, retries: 0, replans: 0, redeliveries: 0, duplicates: 0, human: 0 };
}

/** Adds one event to the fold. */
export function foldEvent(f: EventFold, e: EngineEvent): void {
  f.steps = Math.max(f.steps, e.step);
  f.ticks = Math.max(f.ticks, e.tick);
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'campaign.created':
      f.campaigns += 1;
      break;
    case 'campaign.completed':
      f.campaignsCompleted += 1;
      break;
    case 'campaign.planned':
      f.tasks += Number(d.tasks ?? 0);
      break;
    case 'task.replanned':
      f.tasks += 1;
      f.replans += 1;
      break;
    case 'task.retry':
      f.retries += 1;
      break;
    case 'lease.expired':
      f.redeliveries += Array.isArray(d.ids) ? d.ids.length : 0;
      break;
    case 'task.duplicate':
      f.duplicates += 1;
      break;
    case 'occ.conflict':
      f.conflicts += 1;
      break;
    case 'judge.decided':
      if (d.phase === 'read') break;
      if (d.route === 'COMPLETED') f.completed += 1;
      if (d.route === 'FAILED') f.failed += 1;
      if (d.route === 'ESC_HITL' && e.task_id) {
        f.escalated += 1;
        f.hitl.add(e.task_id);
      }
      break;
    case 'human.decided':
      f.human += 1;
      if (e.task_id) f.hitl.delete(e.task_id);
      if (d.decision === 'reject') f.failed += 1;
      else f.completed += 1;
      break;
    default:
      break;
  }
}

export function summarize(
  f: EventFold,
  meta: { seed: number; backend: string; scenario: string; finished: string | null; sha256: string; elapsedMs: number; ticks?: number },
): RunSummary {
  return {
    seed: meta.seed,
    backend: meta.backend,
    scenario: meta.scenario,
    steps: f.steps,
    ticks: meta.ticks ?? f.ticks,
    finished: meta.finished,
    campaigns: { total: f.campaigns, completed: f.campaignsCompleted },
    tasks: { total: f.tasks, completed: f.completed, failed: f.failed, escalated: f.escalated },
    hitlPending: f.hitl.size,
    conflicts: f.conflicts,
    retries: f.retries,
    replans: f.replans,
    redeliveries: f.redeliveries,
    duplicatesSkipped: f.duplicates,
    humanDecisions: f.human,
    eventLogSha256: meta.sha256,
    elapsedMs: Math.round(meta.elapsedMs),
    tasksPerSecond: meta.elapsedMs > 0 ? Math.round((f.completed / meta.elapsedMs) * 1000) : 0,
  };
}
