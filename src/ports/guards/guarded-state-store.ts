/**
 * What every state store needs, written once around any adapter: schema validation of what
 * goes in, and the status machines (an illegal status change is refused before it reaches
 * storage). Adapters implement storage and compare-and-set; this wrapper owns the rules.
 */
import { z } from 'zod';
// hot writes pass a fast check that is stricter than the schema; anything else meets zod
import { ValidationError } from '../../domain/errors.ts';
import {
  AuditEventSchema,
  CampaignSchema,
  TaskSchema,

  TASK_STATUSES,
  parseOrThrow,
  type AuditDraft,
  type AuditEvent,
  type Campaign,
  type Task,
  type TaskStatus,
} from '../../domain/schemas.ts';
import { assertCampaignTransition, assertTaskTransition } from '../../domain/status.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { fastAuditDraft, fastCampaignPatch, fastTask, fastTaskPatch, isTaskStatus } from './fast-checks.ts';
import type { CampaignPatch, StateStore, StateTransaction, TaskPatch } from '../state-store.ts';

const CampaignPatchSchema = CampaignSchema.pick({ status: true, title: true, goal: true, updated_at: true }).partial().strict();
const TaskPatchSchema = TaskSchema.pick({
  status: true,
  output_data: true,
  confidence_score: true,
  attempts: true,
  depends_on: true,
  input_data: true,
  updated_at: true,
})
  .partial()
  .strict();
const AuditDraftSchema = AuditEventSchema.omit({ seq: true, chain_seq: true, prev_hash: true, hash: true });
const TaskStatusSchema = z.enum(TASK_STATUSES);


class GuardedTx implements StateTransaction {
  constructor(private readonly inner: StateTransaction) {}

  getCampaign(id: string): Promise<Campaign | null> {
    return this.inner.getCampaign(id);
  }
  getTask(id: string): Promise<Task | null> {
    return this.inner.getTask(id);
  }
  campaignTasks(campaign_id: string): Promise<Task[]> {
    return this.inner.campaignTasks(campaign_id);
  }
  async insertCampaign(campaign: Campaign): Promise<void> {
    const c = parseOrThrow(CampaignSchema, campaign, 'campaign');
    if (c.state_version !== 1) throw new ValidationError(`invalid campaign: a new campaign starts at state_version 1, got ${c.state_version}`);
    return this.inner.insertCampaign(c);
  }
  updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign> {
    try {
      const p = fastCampaignPatch(patch) ? patch : parseOrThrow(CampaignPatchSchema, patch, 'campaign patch');
      if (!Number.isInteger(expected_version) || expected_version < 1) {
        throw new ValidationError(`invalid expected state_version ${expected_version} for campaign ${id}`);
      }
      if (p.status !== undefined) return this.checkedCampaignUpdate(id, expected_version, p, p.status);
      return this.inner.updateCampaign(id, expected_version, p);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  private async checkedCampaignUpdate(id: string, expected_version: number, p: CampaignPatch, to: Campaign['status']): Promise<Campaign> {
    const cur = await this.inner.getCampaign(id);
    if (!cur) throw new NotFoundError('campaign', id);
    // a stale version is a conflict, reported by the adapter, before any transition check
    if (cur.state_version === expected_version) assertCampaignTransition(id, cur.status, to);
    return this.inner.updateCampaign(id, expected_version, p);
  }
  async insertTasks(tasks: readonly Task[]): Promise<void> {
    const checked = tasks.map((t, i) => (fastTask(t) ? t : parseOrThrow(TaskSchema, t, `task [${i}]`)));
    const ids = new Set<string>();
    for (const t of checked) {
      if (ids.has(t.id)) throw new ValidationError(`invalid tasks: id ${t.id} appears twice in one insert`);
      ids.add(t.id);
    }
    return this.inner.insertTasks(checked);
  }
  updateTask(id: string, patch: TaskPatch, expected_status?: TaskStatus): Promise<Task> {
    try {
      const p = fastTaskPatch(patch) ? patch : parseOrThrow(TaskPatchSchema, patch, 'task patch');
      if (expected_status !== undefined && !isTaskStatus(expected_status)) parseOrThrow(TaskStatusSchema, expected_status, 'expected task status');
      if (p.status !== undefined) {
        // the transition is checked from the status the unit read (its expected status), which
        // the adapter's compare-and-set then holds it to: no second, unlocked read decides
        if (expected_status !== undefined) assertTaskTransition(id, expected_status, p.status);
        else return this.checkedTaskUpdate(id, p, p.status);
      }
      return this.inner.updateTask(id, p, expected_status);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  /** A status change without an expected status: checked from the status read here, and held to it. */
  private async checkedTaskUpdate(id: string, p: TaskPatch, to: TaskStatus): Promise<Task> {
    const cur = await this.inner.getTask(id);
    if (!cur) throw new NotFoundError('task', id);
    assertTaskTransition(id, cur.status, to);
    return this.inner.updateTask(id, p, cur.status);
  }
  claimIdempotencyKey(key: string): Promise<boolean> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
      return Promise.reject(new ValidationError('invalid idempotency key: must be 1..256 characters'));
    }
    return this.inner.claimIdempotencyKey(key);
  }
  auditHeads(): ReturnType<StateTransaction['auditHeads']> {
    return this.inner.auditHeads();
  }
  appendAudit(draft: AuditDraft): Promise<AuditEvent> {
    try {
      return this.inner.appendAudit(fastAuditDraft(draft) ? draft : parseOrThrow(AuditDraftSchema, draft, 'audit event'));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** A page of idempotency keys: the ones after `after`, at most `limit`. */
type KeyPage = { after?: string | null; limit?: number };

/** Wraps a state store so every write is validated and every status change checked. */
export function guardStateStore(inner: StateStore): StateStore {
  return {
    kind: inner.kind,
    capabilities: inner.capabilities,
    transaction: (fn) => inner.transaction((tx) => fn(new GuardedTx(tx))),
    getCampaign: (id) => inner.getCampaign(id),
    listCampaigns: (status) => inner.listCampaigns(status),
    getTask: (id) => inner.getTask(id),
    listTasks: (q) => inner.listTasks(q),
    countTasks: (id) => inner.countTasks(id),
    readAudit: (q) => inner.readAudit(q),
    auditHead: () => inner.auditHead(),
    auditHeads: () => inner.auditHeads(),
    close: () => inner.close(),
    // what an export or a copy lists beside the port, when the store has it
    ...(typeof (inner as { listIdempotencyKeys?: unknown }).listIdempotencyKeys === 'function'
      ? { listIdempotencyKeys: (page?: KeyPage) => (inner as unknown as { listIdempotencyKeys(page?: KeyPage): Promise<string[]> }).listIdempotencyKeys(page) }
      : {}),
    ...(typeof (inner as { countIdempotencyKeys?: unknown }).countIdempotencyKeys === 'function'
      ? { countIdempotencyKeys: () => (inner as unknown as { countIdempotencyKeys(): Promise<number> }).countIdempotencyKeys() }
      : {}),
  };
}
