/** Row ⇄ record mapping for the SQLite tables: JSON columns hold JSON text, undefined is NULL. */
import type { AuditEvent, Campaign, Task } from '../../domain/schemas.ts';

/** JSON text for a column, or null for undefined. */
export function toJson(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

/** The value of a JSON column (NULL reads back as undefined). */
export function fromJson(s: string | null): unknown {
  return s === null ? undefined : JSON.parse(s);
}

/** A `campaigns` row: the record as it is (no JSON columns). */
export type CampaignRow = Campaign;

/** A `tasks` row: JSON columns as text. */
export interface TaskRow {
  id: string;
  campaign_id: string;
  role: Task['role'];
  skill_name: string;
  input_data: string | null;
  output_data: string | null;
  confidence_score: number | null;
  status: Task['status'];
  attempts: number;
  idempotency_key: string;
  depends_on: string;
  branch: string;
  replans: number;
  supersedes: string | null;
  created_at: string;
  updated_at: string;
}

/** The `tasks` columns in TaskRow order. */
export const TASK_COLUMNS =
  'id, campaign_id, role, skill_name, input_data, output_data, confidence_score, status, attempts, idempotency_key, depends_on, branch, replans, supersedes, created_at, updated_at';

/**
 * What reads a task back: its row joined with its output (migration 0003 keeps outputs in
 * `task_outputs`; `tasks.output_data` is NULL unless written by an older build).
 */
export const TASK_SELECT = TASK_COLUMNS.split(', ')
  .map((c) => (c === 'output_data' ? 'coalesce(o.output_data, t.output_data) AS output_data' : `t.${c}`))
  .join(', ');
/** The FROM clause for TASK_SELECT (`t` is the task, `o` its output). */
export const TASK_FROM = 'tasks t LEFT JOIN task_outputs o ON o.seq = t.output_seq';

/** The columns a new task's row is inserted with: TASK_COLUMNS (output_data NULL) and output_seq. */
export const TASK_INSERT_COLUMNS = `${TASK_COLUMNS}, output_seq`;

/** An output column value that stores something (null and 'null' mean no output). */
export function hasOutput(text: unknown): text is string {
  return typeof text === 'string' && text !== 'null';
}

/** A task as its row. */
export function taskToRow(t: Task): TaskRow {
  return {
    id: t.id,
    campaign_id: t.campaign_id,
    role: t.role,
    skill_name: t.skill_name,
    input_data: toJson(t.input_data),
    output_data: toJson(t.output_data),
    confidence_score: t.confidence_score,
    status: t.status,
    attempts: t.attempts,
    idempotency_key: t.idempotency_key,
    depends_on: JSON.stringify(t.depends_on),
    branch: t.branch,
    replans: t.replans,
    supersedes: t.supersedes,
    created_at: t.created_at,
    updated_at: t.updated_at,
  };
}

/** The column value of one patched task field. */
export function taskColumn(key: string, value: unknown): unknown {
  switch (key) {
    case 'input_data':
    case 'output_data':
      return toJson(value);
    case 'depends_on':
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** A patched task field as its column reads back (the inverse of taskColumn). */
export function readBack(key: string, column: unknown): unknown {
  switch (key) {
    case 'input_data':
      return fromJson(column as string | null);
    case 'output_data':
      return fromJson(column as string | null) ?? null;
    case 'depends_on':
      return JSON.parse(column as string) as unknown;
    default:
      return column;
  }
}

/** A row as its task. */
export function rowToTask(r: TaskRow): Task {
  return {
    id: r.id,
    campaign_id: r.campaign_id,
    role: r.role,
    skill_name: r.skill_name,
    input_data: fromJson(r.input_data),
    output_data: (fromJson(r.output_data) ?? null) as Task['output_data'],
    confidence_score: r.confidence_score,
    status: r.status,
    attempts: r.attempts,
    idempotency_key: r.idempotency_key,
    depends_on: JSON.parse(r.depends_on) as string[],
    branch: r.branch,
    replans: r.replans,
    supersedes: r.supersedes,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** A row as its campaign (a fresh object with the record's keys only). */
export function rowToCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    title: r.title,
    goal: r.goal,
    status: r.status,
    state_version: r.state_version,
    created_at: r.created_at,
    updated_at: r.updated_at,
    persona_id: r.persona_id,
  };
}

/** An `audit_log` row: details as JSON text. */
export type AuditRow = Omit<AuditEvent, 'details'> & { details: string | null };

/** The `audit_log` columns. */
export const AUDIT_COLUMNS =
  'seq, id, actor, action, entity_type, entity_id, campaign_id, before_status, after_status, state_version, timestamp, details, prev_hash, hash, chain_seq';

/** An audit event as its row. */
export function auditToRow(e: AuditEvent): AuditRow {
  return { ...e, details: toJson(e.details) };
}

/** A row as its audit event. */
export function rowToAudit(r: AuditRow): AuditEvent {
  return { ...r, details: fromJson(r.details) };
}
