/**
 * Fast accept-checks for the writes the engine makes thousands of times a second. Each is
 * STRICTER than its zod schema (it accepts a subset of what the schema accepts: lower-case
 * v4 UUIDs, `toISOString()` timestamps, exactly the known keys), so the guard can skip zod when
 * a check passes and still refuse exactly what the schema refuses: when a check fails, the
 * guard runs the schema, which either accepts the value or names what is wrong. A test feeds
 * both the same seeded values and checks that fast ⇒ schema.
 */
import { CAMPAIGN_STATUSES, MEMORY_CATEGORIES, TASK_STATUSES, personaIdProblem } from '../../domain/schemas.ts';

const ISO_MS = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
const ENTITY_TYPES: readonly string[] = ['campaign', 'task', 'persona', 'memory', 'system'];
const AUDIT_DRAFT_KEYS: readonly string[] = [
  'id',
  'actor',
  'action',
  'entity_type',
  'entity_id',
  'campaign_id',
  'before_status',
  'after_status',
  'state_version',
  'timestamp',
  'details',
];
const TASK_PATCH_KEYS = new Set(['status', 'output_data', 'confidence_score', 'attempts', 'depends_on', 'input_data', 'updated_at']);
const CAMPAIGN_PATCH_KEYS = new Set(['status', 'title', 'goal', 'updated_at']);

const str = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const nullableStr = (v: unknown): boolean => v === null || typeof v === 'string';
let lastIso = '';
/**
 * A real instant in the exact form toISOString() writes (so 2026-02-30 is refused). The last
 * accepted string is remembered: virtual time stands still within a tick, so most calls repeat it.
 */
export function isIsoMs(v: unknown): boolean {
  if (v === lastIso && v !== '') return true;
  if (typeof v !== 'string' || !ISO_MS.test(v) || new Date(v).toISOString() !== v) return false;
  lastIso = v;
  return true;
}
/**
 * A lower-case version-4 UUID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
 * checked by character codes (a few times faster than the regex on the hot path).
 */
function isUuid(v: unknown): boolean {
  if (typeof v !== 'string' || v.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = v.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (i === 14) {
      if (c !== 52) return false;
    } else if (i === 19) {
      if (c !== 56 && c !== 57 && c !== 97 && c !== 98) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** How many own enumerable keys a plain object has; -1 if an enumerable key is inherited. */
function ownKeyCount(o: Record<string, unknown>): number {
  let n = 0;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) return -1;
    n += 1;
  }
  return n;
}

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

export function fastAuditDraft(d: unknown): boolean {
  if (!plainObject(d)) return false;
  if (ownKeyCount(d) !== AUDIT_DRAFT_KEYS.length) return false;
  for (const k of AUDIT_DRAFT_KEYS) if (!(k in d)) return false;
  return (
    isUuid(d.id) &&
    str(d.actor, 1, 128) &&
    str(d.action, 1, 64) &&
    typeof d.entity_type === 'string' &&
    ENTITY_TYPES.includes(d.entity_type) &&
    str(d.entity_id, 1, 200) &&
    (d.campaign_id === null || isUuid(d.campaign_id)) &&
    nullableStr(d.before_status) &&
    nullableStr(d.after_status) &&
    (d.state_version === null || Number.isSafeInteger(d.state_version)) &&
    isIsoMs(d.timestamp) &&
    d.details !== undefined
  );
}

export function fastTaskPatch(p: unknown): boolean {
  if (!plainObject(p)) return false;
  for (const k in p) {
    if (!TASK_PATCH_KEYS.has(k) || !Object.prototype.hasOwnProperty.call(p, k)) return false;
    const v = p[k];
    if (v === undefined) return false;
    switch (k) {
      case 'status':
        if (!(TASK_STATUSES as readonly unknown[]).includes(v)) return false;
        break;
      case 'confidence_score':
        if (!(v === null || (typeof v === 'number' && v >= 0 && v <= 1))) return false;
        break;
      case 'attempts':
        if (!(Number.isSafeInteger(v) && (v as number) >= 0)) return false;
        break;
      case 'depends_on':
        if (!(Array.isArray(v) && v.every(isUuid))) return false;
        break;
      case 'updated_at':
        if (!isIsoMs(v)) return false;
        break;
      default: // input_data, output_data: any JSON value
        break;
    }
  }
  return true;
}

const ROLES: readonly unknown[] = ['PLANNER', 'WORKER', 'JUDGE'];
const TASK_KEYS: readonly string[] = [
  'id',
  'campaign_id',
  'role',
  'skill_name',
  'input_data',
  'output_data',
  'confidence_score',
  'status',
  'attempts',
  'idempotency_key',
  'depends_on',
  'branch',
  'replans',
  'supersedes',
  'created_at',
  'updated_at',
];

/** A whole new task (what the Planner inserts): exactly the schema's keys, each checked. */
export function fastTask(t: unknown): boolean {
  if (!plainObject(t)) return false;
  if (ownKeyCount(t) !== TASK_KEYS.length) return false;
  for (const k of TASK_KEYS) if (!(k in t) || t[k] === undefined) return false;
  return (
    isUuid(t.id) &&
    isUuid(t.campaign_id) &&
    ROLES.includes(t.role) &&
    str(t.skill_name, 1, 64) &&
    (t.confidence_score === null || (typeof t.confidence_score === 'number' && t.confidence_score >= 0 && t.confidence_score <= 1)) &&
    (TASK_STATUSES as readonly unknown[]).includes(t.status) &&
    Number.isSafeInteger(t.attempts) &&
    (t.attempts as number) >= 0 &&
    str(t.idempotency_key, 1, 200) &&
    Array.isArray(t.depends_on) &&
    t.depends_on.every(isUuid) &&
    str(t.branch, 1, 64) &&
    Number.isSafeInteger(t.replans) &&
    (t.replans as number) >= 0 &&
    (t.supersedes === null || isUuid(t.supersedes)) &&
    isIsoMs(t.created_at) &&
    isIsoMs(t.updated_at)
  );
}

let lastPersonaId = '';
/** A valid persona id (the domain's rule); the last one accepted is remembered, as most writes repeat it. */
function isPersonaId(v: unknown): boolean {
  if (v === lastPersonaId && v !== '') return true;
  if (typeof v !== 'string' || personaIdProblem(v) !== null) return false;
  lastPersonaId = v;
  return true;
}

/**
 * A memory record (vector and model id aside, which the guard checks on its own): exactly the
 * schema's keys plus `vector` and `model_id`.
 */
export function fastMemoryRecord(r: unknown): boolean {
  if (!plainObject(r)) return false;
  return (
    ownKeyCount(r) === 7 &&
    'vector' in r &&
    'model_id' in r &&
    str(r.id, 1, 200) &&
    isPersonaId(r.persona_id) &&
    typeof r.content === 'string' &&
    r.content.length >= 1 &&
    (MEMORY_CATEGORIES as readonly unknown[]).includes(r.category) &&
    isIsoMs(r.timestamp)
  );
}

/** One of the task statuses (the expected status of a compare-and-set). */
export const isTaskStatus = (v: unknown): boolean => (TASK_STATUSES as readonly unknown[]).includes(v);

export function fastCampaignPatch(p: unknown): boolean {
  if (!plainObject(p)) return false;
  for (const k in p) {
    if (!CAMPAIGN_PATCH_KEYS.has(k) || !Object.prototype.hasOwnProperty.call(p, k)) return false;
    const v = p[k];
    if (v === undefined) return false;
    if (k === 'status' && !(CAMPAIGN_STATUSES as readonly unknown[]).includes(v)) return false;
    if (k === 'title' && !str(v, 1, 255)) return false;
    if (k === 'goal' && !str(v, 1, 10_000)) return false;
    if (k === 'updated_at' && !isIsoMs(v)) return false;
  }
  return true;
}
