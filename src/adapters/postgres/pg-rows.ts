/**
 * Row ⇄ record mapping for the Postgres tables. Timestamps are read as the server's text (the
 * pool's type parsers) and written as the domain's ISO strings, so they round-trip exactly in
 * the clock's form (`YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC) without a Date. JSON the studio wrote is
 * read back from its text twin (`input_json`, `output_json`) while that still equals the seed's
 * jsonb column, so key order and numbers come back as written; a row written with only the
 * seed's columns reads its jsonb.
 */
import { isDeepStrictEqual } from 'node:util';
import { ValidationError } from '../../domain/errors.ts';
import type { AuditEvent, Campaign, Task } from '../../domain/schemas.ts';

/** Whether `s` is a uuid in the canonical lowercase form Postgres prints (the only form looked up). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

/** Refuses an id a uuid column cannot keep as given. */
export function assertUuid(what: string, id: string): void {
  if (!isUuid(id)) throw new ValidationError(`${what} ${JSON.stringify(id)}: Postgres keeps ids as uuid; give one in lowercase 8-4-4-4-12 form`);
}

const PG_TIMESTAMP = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;

/** A `timestamp` column's text as the domain's ISO string (milliseconds, or microseconds when stored). */
export function isoFromPg(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  const m = PG_TIMESTAMP.exec(s);
  if (!m) return s; // BC, infinity: left as stored (a reader marks it)
  const frac = m[7] ?? '';
  const f = frac.length <= 3 ? frac.padEnd(3, '0') : frac.padEnd(6, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${f}Z`;
}

/** JSON text for a column, or null for undefined. */
export function toJson(v: unknown): string | null {
  return v === undefined ? null : (JSON.stringify(v) ?? null);
}

/** The value of a JSON text column (NULL reads back as undefined). */
export function fromJson(s: string | null | undefined): unknown {
  return s === null || s === undefined ? undefined : JSON.parse(s);
}

/** The columns of a campaign as read. */
export const CAMPAIGN_SELECT = 'id, title, goal, status, state_version, created_at, updated_at, persona_id';

export interface CampaignRow {
  id: string;
  title: string | null;
  goal: string | null;
  status: string | null;
  state_version: number | null;
  created_at: string | null;
  updated_at: string | null;
  persona_id: string | null;
}

/** A row as its campaign (a row with only the seed's columns takes updated_at from created_at). */
export function rowToCampaign(r: CampaignRow): Campaign {
  const created = isoFromPg(r.created_at);
  return {
    id: r.id,
    title: r.title,
    goal: r.goal,
    status: r.status,
    state_version: r.state_version,
    created_at: created,
    updated_at: isoFromPg(r.updated_at) ?? created,
    persona_id: r.persona_id,
  } as Campaign;
}

/** The columns of a task as read (usable in SELECT … FROM tasks and in RETURNING): each jsonb column as text beside its text twin. */
export const TASK_SELECT = [
  'id',
  'campaign_id',
  'role',
  'skill_name',
  'input_data::text AS input_data',
  'input_json',
  'output_data::text AS output_data',
  'output_json',
  'confidence_score',
  'status',
  'attempts',
  'idempotency_key',
  'depends_on::text AS depends_on',
  'branch',
  'replans',
  'supersedes',
  'created_at',
  'updated_at',
].join(', ');

/**
 * A jsonb column's value: its text twin's (key order and number forms as the studio wrote
 * them) while the twin still says the same as the jsonb (a service that rewrote the jsonb,
 * or a damaged twin, loses to the jsonb). NULL reads as undefined.
 */
export function jsonOf(jsonb: string | null, twin: string | null | undefined): unknown {
  if (jsonb === null) return undefined;
  const value = JSON.parse(jsonb) as unknown;
  if (twin === null || twin === undefined) return value;
  let written: unknown;
  try {
    written = JSON.parse(twin);
  } catch {
    return value;
  }
  // jsonb equality ignores key order, as isDeepStrictEqual does for plain objects
  return isDeepStrictEqual(written, value) ? written : value;
}

export interface TaskRow {
  id: string;
  campaign_id: string | null;
  role: string | null;
  skill_name: string | null;
  input_data: string | null;
  input_json?: string | null;
  output_data: string | null;
  output_json?: string | null;
  confidence_score: number | null;
  status: string | null;
  /** Null (as replans and depends_on) only where the table lacks the column (a table with only the seed's columns; the readers select NULL). */
  attempts: number | null;
  idempotency_key: string | null;
  depends_on: string | null;
  branch: string | null;
  replans: number | null;
  supersedes: string | null;
  created_at: string | null;
  updated_at: string | null;
}

/** A row as its task (JSON parsed; NULL input reads as undefined, NULL output as null; a column the table lacks as null). */
export function rowToTask(r: TaskRow): Task {
  const created = isoFromPg(r.created_at);
  return {
    id: r.id,
    campaign_id: r.campaign_id,
    role: r.role,
    skill_name: r.skill_name,
    input_data: jsonOf(r.input_data, r.input_json),
    output_data: jsonOf(r.output_data, r.output_json) ?? null,
    confidence_score: r.confidence_score,
    status: r.status,
    attempts: r.attempts,
    idempotency_key: r.idempotency_key,
    depends_on: r.depends_on === null ? null : (JSON.parse(r.depends_on) as string[]),
    branch: r.branch,
    replans: r.replans,
    supersedes: r.supersedes,
    created_at: created,
    updated_at: isoFromPg(r.updated_at) ?? created,
  } as Task;
}

/** The task columns written on insert, in order, and each task's values for them. */
export const TASK_INSERT_COLUMNS = [
  'id', 'campaign_id', 'role', 'skill_name', 'input_data', 'input_json', 'output_data', 'output_json', 'confidence_score', 'status',
  'attempts', 'idempotency_key', 'depends_on', 'branch', 'replans', 'supersedes', 'created_at', 'updated_at',
] as const;
/** The SQL type of each insert column (for casts of parameters). */
export const TASK_INSERT_TYPES = [
  'uuid', 'uuid', 'text', 'text', 'jsonb', 'text', 'jsonb', 'text', 'float8', 'text',
  'int4', 'text', 'jsonb', 'text', 'int4', 'uuid', 'timestamp', 'timestamp',
] as const;

/** JSON of an output: null and undefined store SQL NULL (both read back as null). */
const outputJson = (v: unknown): string | null => (v === null || v === undefined ? null : toJson(v));

export function taskValues(t: Task): unknown[] {
  const input = toJson(t.input_data);
  const output = outputJson(t.output_data);
  return [
    t.id, t.campaign_id, t.role, t.skill_name, input, input, output, output, t.confidence_score, t.status,
    t.attempts, t.idempotency_key, JSON.stringify(t.depends_on), t.branch, t.replans, t.supersedes, t.created_at, t.updated_at,
  ];
}

/** The SET assignments and values of one patched task field (JSON fields write their twin too). */
export function taskPatchColumns(key: string, value: unknown): [string, string, unknown][] {
  switch (key) {
    case 'input_data': {
      const j = toJson(value);
      return [['input_data', 'jsonb', j], ['input_json', 'text', j]];
    }
    case 'output_data': {
      const j = outputJson(value);
      return [['output_data', 'jsonb', j], ['output_json', 'text', j]];
    }
    case 'depends_on':
      return [['depends_on', 'jsonb', JSON.stringify(value)]];
    case 'status':
      return [['status', 'text', value]];
    case 'confidence_score':
      return [['confidence_score', 'float8', value]];
    case 'attempts':
      return [['attempts', 'int4', value]];
    case 'updated_at':
      return [['updated_at', 'timestamp', value]];
    default:
      throw new Error(`task patch: unknown column ${key}`);
  }
}

/** The audit columns, in insert order. */
export const AUDIT_COLUMNS = [
  'seq', 'chain_seq', 'id', 'actor', 'action', 'entity_type', 'entity_id', 'campaign_id', 'before_status', 'after_status', 'state_version', 'timestamp', 'details', 'prev_hash', 'hash',
] as const;
export const AUDIT_TYPES = ['int8', 'int4', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'int4', 'text', 'text', 'text', 'text'] as const;

export interface AuditRow {
  seq: number;
  chain_seq: number;
  id: string;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  campaign_id: string | null;
  before_status: string | null;
  after_status: string | null;
  state_version: number | null;
  timestamp: string;
  details: string | null;
  prev_hash: string;
  hash: string;
}

export function auditValues(e: AuditEvent): unknown[] {
  return [e.seq, e.chain_seq, e.id, e.actor, e.action, e.entity_type, e.entity_id, e.campaign_id, e.before_status, e.after_status, e.state_version, e.timestamp, toJson(e.details), e.prev_hash, e.hash];
}

/** A row as its audit event. */
export function rowToAudit(r: AuditRow): AuditEvent {
  return {
    seq: r.seq,
    chain_seq: r.chain_seq,
    id: r.id,
    actor: r.actor,
    action: r.action,
    entity_type: r.entity_type as AuditEvent['entity_type'],
    entity_id: r.entity_id,
    campaign_id: r.campaign_id,
    before_status: r.before_status,
    after_status: r.after_status,
    state_version: r.state_version,
    timestamp: r.timestamp,
    details: fromJson(r.details),
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Column-wise arrays of `rows` for an `INSERT … SELECT * FROM unnest($1::t1[], $2::t2[], …)`:
 * one statement and one parameter per column, whatever the number of rows.
 */
export function unnestInsert(table: string, columns: readonly string[], types: readonly string[], rows: readonly unknown[][], suffix = ''): { text: string; values: unknown[][] } {
  const values = columns.map((_, i) => rows.map((r) => r[i] ?? null));
  const params = types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
  return { text: `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${params}) ${suffix}`, values };
}
