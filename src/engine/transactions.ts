/**
 * Every unit of work the engine commits, in one place, and where retry lives.
 *
 * The state store's model is read committed plus compare-and-set (src/ports/state-store.ts). A
 * body that reads what it compares inside the unit runs again on a ConflictError: another
 * writer committed between its read and its write, and a fresh read decides again
 * (`retryingUnit`, UNIT_ATTEMPTS runs). A compare-and-set on a version read *outside* the unit
 * (a Judge that deliberated, a human looking at a page) is not retried here: its caller
 * re-reads and re-decides, or reports the conflict. Every body touches only its transaction,
 * since it may run more than once.
 */
import { ANCHOR_ACTION } from '../domain/audit.ts';
import { ConflictError, ValidationError } from '../domain/errors.ts';
import type { AuditDraft, Campaign, CampaignStatus, Task, TaskStatus } from '../domain/schemas.ts';
import type { StateStore, StateTransaction } from '../ports/state-store.ts';

/** How many times a unit of work runs before its conflict is reported. */
export const UNIT_ATTEMPTS = 5;

/** Runs a unit whose body reads what it compares inside it, again on a conflict (at most `attempts` runs). */
export async function retryingUnit<T>(state: StateStore, fn: (tx: StateTransaction) => Promise<T>, attempts = UNIT_ATTEMPTS): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await state.transaction(fn);
    } catch (e) {
      if (!(e instanceof ConflictError) || i >= attempts) throw e;
    }
  }
}

/** What a unit needs from the engine: audit drafts (ids, actor, time) and the time of the change. */
export interface UnitContext {
  audit(fields: Omit<AuditDraft, 'id' | 'timestamp' | 'actor'> & { actor?: string }): AuditDraft;
  iso(): string;
}

/** Bumps the campaign's version (compare-and-set on what the actor read), setting its status if given. */
function bump(tx: StateTransaction, u: UnitContext, c: Campaign, status?: CampaignStatus): Promise<Campaign> {
  return tx.updateCampaign(c.id, c.state_version, status ? { status, updated_at: u.iso() } : { updated_at: u.iso() });
}

async function campaignIn(tx: StateTransaction, id: string): Promise<Campaign> {
  const c = await tx.getCampaign(id);
  if (!c) throw new ValidationError(`campaign ${id} vanished`);
  return c;
}

/** A new campaign (PLANNING, version 1) and its audit event. */
export function createCampaign(state: StateStore, u: UnitContext, c: Campaign): Promise<void> {
  return state.transaction(async (tx) => {
    await tx.insertCampaign(c);
    await tx.appendAudit(
      u.audit({ action: 'campaign.created', entity_type: 'campaign', entity_id: c.id, campaign_id: c.id, before_status: null, after_status: 'PLANNING', state_version: 1, details: { title: c.title, persona_id: c.persona_id } }),
    );
  });
}

/**
 * Pauses or resumes a campaign; resuming one whose every task was decided while it was paused
 * completes it. Without `expected_version` the version is read in the unit (a conflict runs it
 * again); a version the caller read is the caller's to re-read, and its conflict is reported.
 */
export function setCampaignStatus(
  state: StateStore,
  u: UnitContext,
  a: { id: string; status: 'PAUSED' | 'ACTIVE'; expected_version?: number; completes: boolean },
): Promise<Campaign> {
  return retryingUnit(
    state,
    async (tx) => {
      const cur = await tx.getCampaign(a.id);
      if (!cur) throw new ValidationError(`unknown campaign ${a.id}`);
      const read = a.expected_version === undefined ? cur : { ...cur, state_version: a.expected_version };
      let next = await bump(tx, u, read, a.status);
      await tx.appendAudit(
        u.audit({ action: a.status === 'PAUSED' ? 'campaign.paused' : 'campaign.resumed', entity_type: 'campaign', entity_id: a.id, campaign_id: a.id, before_status: cur.status, after_status: a.status, state_version: next.state_version, details: null }),
      );
      if (a.completes) {
        next = await bump(tx, u, next, 'COMPLETED');
        await tx.appendAudit(
          u.audit({ action: 'campaign.completed', entity_type: 'campaign', entity_id: a.id, campaign_id: a.id, before_status: 'ACTIVE', after_status: 'COMPLETED', state_version: next.state_version, details: null }),
        );
      }
      return next;
    },
    a.expected_version === undefined ? UNIT_ATTEMPTS : 1,
  );
}

/** A campaign's plan: the planner task and the worker tasks, and the campaign becomes ACTIVE (null: it was planned already). */
export function plan(state: StateStore, u: UnitContext, a: { campaign_id: string; planner: Task; tasks: readonly Task[] }): Promise<Campaign | null> {
  return retryingUnit(state, async (tx) => {
    const cur = await campaignIn(tx, a.campaign_id);
    if (cur.status !== 'PLANNING') return null; // another planner (live mode) planned it first
    // the compare-and-set first: a planner racing this one (live mode) waits on the campaign's row
    // and then fails on its version, and its rerun finds the campaign planned; inserting first
    // would fail on the other's task ids instead (a duplicate, not a conflict)
    const next = await bump(tx, u, cur, 'ACTIVE');
    await tx.insertTasks([a.planner, ...a.tasks]);
    await tx.appendAudit(
      u.audit({ action: 'campaign.planned', entity_type: 'campaign', entity_id: a.campaign_id, campaign_id: a.campaign_id, before_status: cur.status, after_status: 'ACTIVE', state_version: next.state_version, details: { tasks: a.tasks.length } }),
    );
    return next;
  });
}

/** A failed task's replacement on the same branch, with its dependents re-pointed at it (false: it was re-planned already). */
export function replan(
  state: StateStore,
  u: UnitContext,
  a: { campaign_id: string; failed: Task; replacement: Task; dependents: readonly string[]; live?: boolean },
): Promise<boolean> {
  return retryingUnit(state, async (tx) => {
    const cur = await campaignIn(tx, a.campaign_id);
    // live mode: another planner may have replaced it first (with its own replacement)
    if (a.live && (await tx.campaignTasks(a.campaign_id)).some((t) => t.supersedes === a.failed.id)) return false;
    // the compare-and-set first (see plan): two replanners of one failure never both commit, and
    // neither re-points a dependent from a stale read
    const next = await bump(tx, u, cur);
    await tx.insertTasks([a.replacement]);
    for (const d of a.dependents) {
      const dt = await tx.getTask(d);
      if (dt) await tx.updateTask(d, { depends_on: dt.depends_on.map((x) => (x === a.failed.id ? a.replacement.id : x)), updated_at: u.iso() });
    }
    await tx.appendAudit(
      u.audit({ action: 'task.replanned', entity_type: 'task', entity_id: a.replacement.id, campaign_id: a.campaign_id, before_status: null, after_status: 'PENDING', state_version: next.state_version, details: { supersedes: a.failed.id, branch: a.failed.branch, replans: a.replacement.replans } }),
    );
    return true;
  });
}

/**
 * A worker's claim of a delivered task: PROCESSING, with attempts + 1 for a fresh claim (a
 * redelivery of a PROCESSING task is the same attempt). The status is read in the unit that
 * changes it; a task already decided is a duplicate delivery.
 */
export function claimTask(
  state: StateStore,
  u: UnitContext,
  a: { campaign_id: string; task_id: string },
): Promise<{ readonly duplicate: TaskStatus | 'missing' } | { readonly task: Task; readonly updated: Task }> {
  return retryingUnit(state, async (tx) => {
    const task = await tx.getTask(a.task_id);
    if (!task || (task.status !== 'PENDING' && task.status !== 'PROCESSING')) return { duplicate: task?.status ?? 'missing' } as const;
    const c = await campaignIn(tx, a.campaign_id);
    const attempts = task.status === 'PENDING' ? task.attempts + 1 : task.attempts;
    const t = await tx.updateTask(a.task_id, { status: 'PROCESSING', attempts, updated_at: u.iso() }, task.status);
    const next = await bump(tx, u, c);
    await tx.appendAudit(
      u.audit({ action: 'task.claimed', entity_type: 'task', entity_id: a.task_id, campaign_id: a.campaign_id, before_status: task.status, after_status: 'PROCESSING', state_version: next.state_version, details: { attempt: t.attempts } }),
    );
    return { task, updated: t } as const;
  });
}

/** Level 1 escalation: a transient error puts the task back to PENDING (unless someone else moved it on). */
export function retryTask(state: StateStore, u: UnitContext, a: { campaign_id: string; task_id: string; attempt: number; reason: string }): Promise<void> {
  return retryingUnit(state, async (tx) => {
    const c = await campaignIn(tx, a.campaign_id);
    const cur = await tx.getTask(a.task_id);
    if (cur?.status !== 'PROCESSING') return;
    await tx.updateTask(a.task_id, { status: 'PENDING', updated_at: u.iso() }, 'PROCESSING');
    const next = await bump(tx, u, c);
    await tx.appendAudit(
      u.audit({ action: 'task.retry', entity_type: 'task', entity_id: a.task_id, campaign_id: a.campaign_id, before_status: 'PROCESSING', after_status: 'PENDING', state_version: next.state_version, details: { attempt: a.attempt, reason: a.reason } }),
    );
  });
}

export type DecisionOutcome = { outcome: 'ok' | 'completed' | 'duplicate'; written: Task | null };

/**
 * The one commit of a decision on a task (the Judge's or a human's), on the campaign version
 * the decider read (`version`: a conflict is the caller's to handle). The idempotency key
 * makes a redelivered decision commit at most once ('duplicate'); the campaign's last open task
 * completes the campaign in the same unit when it is active (`lastOutstanding`: the caller's mirror says; null: read in the unit).
 */
export async function decide(
  state: StateStore,
  u: UnitContext,
  a: {
    campaign_id: string;
    task_id: string;
    version: number;
    route: TaskStatus;
    output_data: unknown;
    score: number | null;
    action: string;
    details: Record<string, unknown>;
    expected_status: TaskStatus;
    /** Whether this decides the campaign's last open task, as the caller's mirror knows; null: read it in the unit (live mode). */
    lastOutstanding: boolean | null;
  },
): Promise<DecisionOutcome> {
  try {
    return await state.transaction(async (tx) => {
      const task = await tx.getTask(a.task_id);
      if (!task) throw new ValidationError(`task ${a.task_id} vanished`);
      const key = `${task.idempotency_key}:${a.expected_status === 'PROCESSING' ? 'judged' : 'human'}`;
      const c = await campaignIn(tx, a.campaign_id);
      const last = a.lastOutstanding ?? (a.route === 'COMPLETED' && (await openWorkerTasks(tx, a.campaign_id, a.task_id)) === 0);
      // a paused campaign (a human may decide during a pause) completes when it is resumed
      const completesCampaign = last && c.status === 'ACTIVE';
      const next = await tx.updateCampaign(a.campaign_id, a.version, { updated_at: u.iso(), ...(completesCampaign ? { status: 'COMPLETED' as const } : {}) });
      if (!(await tx.claimIdempotencyKey(key))) throw new DuplicateCommit();
      const written = await tx.updateTask(a.task_id, { status: a.route, output_data: a.output_data, confidence_score: a.score, updated_at: u.iso() }, a.expected_status);
      await tx.appendAudit(
        u.audit({ action: a.action, entity_type: 'task', entity_id: a.task_id, campaign_id: a.campaign_id, before_status: a.expected_status, after_status: a.route, state_version: next.state_version, details: { ...a.details, score: a.score } }),
      );
      if (completesCampaign) {
        await tx.appendAudit(
          u.audit({ action: 'campaign.completed', entity_type: 'campaign', entity_id: a.campaign_id, campaign_id: a.campaign_id, before_status: c.status, after_status: 'COMPLETED', state_version: next.state_version, details: null }),
        );
      }
      return { outcome: completesCampaign ? ('completed' as const) : ('ok' as const), written };
    });
  } catch (e) {
    if (e instanceof DuplicateCommit) return { outcome: 'duplicate', written: null };
    throw e;
  }
}

/**
 * An anchor event in the run's audit chain naming the head of every campaign's chain as this
 * unit reads them (src/domain/audit.ts verifies it); returns how many chains it names.
 */
export function anchorAudit(state: StateStore, u: UnitContext, a: { tick: number }): Promise<number> {
  return retryingUnit(state, async (tx) => {
    const heads = await tx.auditHeads();
    delete heads[''];
    const sorted = Object.fromEntries(Object.keys(heads).sort().map((k) => [k, heads[k]]));
    await tx.appendAudit(
      u.audit({ action: ANCHOR_ACTION, entity_type: 'system', entity_id: `tick-${a.tick}`, campaign_id: null, before_status: null, after_status: null, state_version: null, details: { heads: sorted } }),
    );
    return Object.keys(sorted).length;
  });
}

/** The campaign's worker tasks still open (neither COMPLETED nor FAILED and replaced), `except` one, as the unit reads them. */
async function openWorkerTasks(tx: StateTransaction, campaign_id: string, except: string): Promise<number> {
  const tasks = await tx.campaignTasks(campaign_id);
  const superseded = new Set(tasks.map((t) => t.supersedes).filter((x): x is string => x !== null));
  let open = 0;
  for (const t of tasks) if (t.role === 'WORKER' && t.id !== except && t.status !== 'COMPLETED' && !(t.status === 'FAILED' && superseded.has(t.id))) open += 1;
  return open;
}

class DuplicateCommit extends Error {}
