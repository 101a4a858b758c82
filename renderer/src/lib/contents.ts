/**
 * What the contents drawer (components/ContentsDrawer.tsx) can show, and the pure parts of
 * showing it: its name, whether a thing on screen is the one open, an audit row's fields in
 * order, a value as readable text. Kept apart from React so they are unit-tested
 * (test/ui/contents-logic.test.ts).
 */
import type { AuditRow, BackendKind, EngineEventView } from '../../../src/shared/types.ts';

/** What an inspection reads (the Inspector's 'Inspected store'): the session's profile (empty), a deployment, or a connection profile. */
export interface InspectAt {
  readonly target?: BackendKind;
  readonly connection?: string;
}

/** A task by id (any view; `at` where the Inspector read it), or node `index` of a campaign's task graph (the DAG: the graph knows indexes, not ids). */
export type TaskRef = { readonly id: string; readonly at?: InspectAt } | { readonly campaign_id: string; readonly index: number; readonly count: number };

/** An audit row as a view has it: the audit log's wire row, or a row an inspection read (its fields as stored). */
export type AuditRecord = AuditRow | Readonly<Record<string, unknown>>;

export type Contents =
  | { readonly kind: 'task'; readonly task: TaskRef }
  | { readonly kind: 'event'; readonly event: EngineEventView }
  | { readonly kind: 'audit'; readonly row: AuditRecord };

/** The drawer's accessible name (its role is complementary): what kind of thing it shows. */
export function contentsLabel(c: Contents): string {
  return c.kind === 'task' ? 'Task contents' : c.kind === 'event' ? 'Event contents' : 'Audit row contents';
}

/** The node of `campaign_id`'s graph (of `count` nodes) the drawer shows, or null: the graph marks it. */
export function shownNode(c: Contents | null, campaign_id: string, count: number): number | null {
  if (c?.kind !== 'task' || !('index' in c.task) || c.task.campaign_id !== campaign_id) return null;
  return c.task.index < count ? c.task.index : null;
}

/** Whether the drawer shows the task with this id (opened by id). */
export function showsTask(c: Contents | null, id: string): boolean {
  return c?.kind === 'task' && 'id' in c.task && c.task.id === id;
}

/** Whether the drawer shows this event (the same step, agent, type and task: one step's events differ in these). */
export function showsEvent(c: Contents | null, e: EngineEventView): boolean {
  return c?.kind === 'event' && c.event.step === e.step && c.event.type === e.type && c.event.agent === e.agent && c.event.task_id === e.task_id && c.event.campaign_id === e.campaign_id;
}

/** Whether the drawer shows the audit row with this seq. */
export function showsAudit(c: Contents | null, seq: number): boolean {
  return c?.kind === 'audit' && c.row.seq === seq;
}

/** An audit row's fields in reading order (the ones every row has first, then any other it carries), details apart: they are shown as JSON. */
const AUDIT_ORDER = ['seq', 'id', 'timestamp', 'actor', 'action', 'entity_type', 'entity_id', 'campaign_id', 'before_status', 'after_status', 'state_version', 'chain_seq', 'prev_hash', 'hash'];

export function auditFields(row: AuditRecord): [string, string][] {
  const r = row as Readonly<Record<string, unknown>>;
  const keys = [...AUDIT_ORDER.filter((k) => k in r), ...Object.keys(r).filter((k) => !AUDIT_ORDER.includes(k) && k !== 'details')];
  return keys.map((k) => [k, plain(r[k])]);
}

/** The task an audit row is about, or null (its entity is a campaign, the run, …). */
export function auditTaskId(row: AuditRecord): string | null {
  const r = row as Readonly<Record<string, unknown>>;
  return r.entity_type === 'task' && typeof r.entity_id === 'string' && r.entity_id !== '' ? r.entity_id : null;
}

/** A value in one line for a field list: text as it is, null as ∅, anything else as JSON. */
export function plain(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A value as readable JSON: indented two spaces (undefined: '(none)'). */
export function readableJson(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v, null, 2);
}

/** Whether a key press opens what has focus (Enter or Space), for elements that are not buttons (an SVG node). */
export function isActivation(key: string): boolean {
  return key === 'Enter' || key === ' ';
}
