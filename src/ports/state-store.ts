/**
 * The transactional state store: campaigns, tasks, the audit log, idempotency keys.
 * Served by memory, SQLite and (later) Postgres adapters. All methods are async.
 *
 * Orderings are part of the contract, so every backend returns the same sequence:
 * campaigns by (created_at, id), tasks by (created_at, id), audit events by seq.
 */
import type { ChainHead } from '../domain/audit.ts';
import type { AuditDraft, AuditEvent, Campaign, CampaignStatus, Task, TaskStatus } from '../domain/schemas.ts';

export type CampaignPatch = Partial<Pick<Campaign, 'status' | 'title' | 'goal' | 'updated_at'>>;
export type TaskPatch = Partial<
  Pick<Task, 'status' | 'output_data' | 'confidence_score' | 'attempts' | 'depends_on' | 'input_data' | 'updated_at'>
>;

export interface TaskQuery {
  readonly campaign_id?: string;
  readonly status?: TaskStatus | readonly TaskStatus[];
  readonly limit?: number;
  readonly offset?: number;
  /** Only tasks after this one in (created_at, id) order: keyset paging, which costs the same on every page (offset counts from there). */
  readonly after?: { readonly created_at: string; readonly id: string };
}

export interface AuditQuery {
  /** Only events with seq > after_seq. */
  readonly after_seq?: number;
  readonly campaign_id?: string;
  readonly limit?: number;
}

export interface StateStoreCapabilities {
  /** Writes in a unit of work commit together or not at all (false: best effort, said in the UI). */
  readonly transactions: boolean;
  /** State survives a restart of the process. */
  readonly durable: boolean;
}

/** The reads and writes allowed inside one unit of work. */
export interface StateTransaction {
  /** The campaign as this unit of work sees it. */
  getCampaign(id: string): Promise<Campaign | null>;
  /** The task as this unit of work sees it. */
  getTask(id: string): Promise<Task | null>;
  /** Every task of one campaign as this unit of work sees it, by (created_at, id): for decisions that depend on the whole DAG (completion in live mode). */
  campaignTasks(campaign_id: string): Promise<Task[]>;
  /** Inserts a new campaign (state_version 1); DuplicateError if the id exists. */
  insertCampaign(campaign: Campaign): Promise<void>;
  /**
   * Compare-and-set: applies the patch and bumps state_version by one, only if the stored
   * state_version equals `expected_version`; otherwise ConflictError and nothing changes.
   */
  updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign>;
  /** Inserts new tasks; DuplicateError if an id exists. */
  insertTasks(tasks: readonly Task[]): Promise<void>;
  /**
   * Applies the patch to a task. With `expected_status`, only if the stored status equals it
   * (ConflictError otherwise). Status changes must be legal (IllegalTransitionError).
   */
  updateTask(id: string, patch: TaskPatch, expected_status?: TaskStatus): Promise<Task>;
  /** Records an idempotency key; false when it was recorded before (the guarded work already committed). */
  claimIdempotencyKey(key: string): Promise<boolean>;
  /**
   * Appends an audit event after the head of its chain (its campaign's, or the run chain for an
   * event without one), sealing it into that chain. Writers on different campaigns never wait
   * on one head.
   */
  appendAudit(draft: AuditDraft): Promise<AuditEvent>;
  /** Every audit chain's head as this unit of work sees it ('' is the run chain); for anchor events. */
  auditHeads(): Promise<Record<string, ChainHead>>;
}

export interface StateStore {
  readonly kind: string;
  readonly capabilities: StateStoreCapabilities;
  /**
   * Runs `fn` as one unit of work: everything it wrote commits, or (if it throws) nothing does.
   *
   * The model is read committed plus compare-and-set: reads inside the unit see committed data
   * (and the unit's own writes), and take no locks; what must not have changed since it was read
   * is protected by the compare-and-set writes (`updateCampaign`'s expected version,
   * `updateTask`'s expected status), which fail with ConflictError. A body that reads what it
   * compares inside the unit may simply run again on a conflict (src/engine/transactions.ts does).
   *
   * `fn` may run more than once: an adapter retries it, a bounded number of times, on a
   * serialization failure or deadlock its backend reports. So `fn` touches only `tx` (no other
   * port, no state outside it that a second run would see twice), and the units of work of one
   * store never nest: a call made from inside `fn` on the store itself is an error or joins it,
   * depending on the adapter, and must not be relied on.
   */
  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T>;
  /** One campaign, or null. */
  getCampaign(id: string): Promise<Campaign | null>;
  /** Every campaign, optionally by status, ordered by (created_at, id). */
  listCampaigns(status?: CampaignStatus): Promise<Campaign[]>;
  /** One task, or null. */
  getTask(id: string): Promise<Task | null>;
  /** Tasks matching the query, ordered by (created_at, id). */
  listTasks(query?: TaskQuery): Promise<Task[]>;
  /** Task counts by status, for one campaign or all. */
  countTasks(campaign_id?: string): Promise<Record<TaskStatus, number>>;
  /** Audit events ordered by seq. */
  readAudit(query?: AuditQuery): Promise<AuditEvent[]>;
  /** The last audit event's seq and hash (of whichever chain), or null when the log is empty. */
  auditHead(): Promise<{ seq: number; hash: string } | null>;
  /** Every audit chain's head ('' is the run chain). */
  auditHeads(): Promise<Record<string, ChainHead>>;
  /** Releases connections and file handles; the store is unusable afterwards. */
  close(): Promise<void>;
}
