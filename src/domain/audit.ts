/**
 * The audit hash chain: each event stores the SHA-256 of the previous event (its `hash`), and
 * its own `hash` is the SHA-256 of its canonical JSON without `hash`. Editing, dropping or
 * reordering any event breaks the chain at that point, and `verifyAuditChain` says where.
 */
import crypto, { createHash } from 'node:crypto';
import { canonicalJson, sortedForJson, UNSORTABLE } from './canonical-json.ts';
import type { AuditDraft, AuditEvent } from './schemas.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** SHA-256 of the event's canonical JSON (without `hash`). */
export function hashAuditEvent(e: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(auditJson(e as unknown as Record<string, unknown>));
}

// crypto.hash (Node ≥ 20.12) is the one-shot form: no Hash object per event
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
function sha256Hex(data: string): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** Keys of an audit event without `hash`, in canonical (sorted) order. */
const AUDIT_KEYS = [
  'action',
  'actor',
  'after_status',
  'before_status',
  'campaign_id',
  'details',
  'entity_id',
  'entity_type',
  'id',
  'prev_hash',
  'seq',
  'state_version',
  'timestamp',
] as const;

/**
 * The canonical JSON of an audit event given without `hash`. With exactly the known keys, the
 * native JSON.stringify writes it: of the record itself when its keys are already in sorted
 * order and its details canonical (as `sealAuditEvent` builds it), else of a sorted literal;
 * anything else takes the general path.
 */
function auditJson(rec: Record<string, unknown>): string {
  let n = 0;
  let inOrder = true;
  let prev = '';
  for (const k in rec) {
    if (rec[k] === undefined) continue;
    n += 1;
    if (k <= prev) inOrder = false;
    prev = k;
  }
  if (n !== AUDIT_KEYS.length || !AUDIT_KEYS.every((k) => rec[k] !== undefined)) return canonicalJson(rec);
  const d = rec.details;
  const details = d !== null && typeof d === 'object' ? sortedForJson(d) : d;
  if (details === UNSORTABLE) return canonicalJson(rec);
  return inOrder && details === d ? JSON.stringify(rec) : stringifySorted(rec, details);
}

// keys in AUDIT_KEYS order (sorted): JSON.stringify keeps insertion order for string keys
function stringifySorted(r: Record<string, unknown>, details: unknown): string {
  return JSON.stringify({
    action: r.action,
    actor: r.actor,
    after_status: r.after_status,
    before_status: r.before_status,
    campaign_id: r.campaign_id,
    details,
    entity_id: r.entity_id,
    entity_type: r.entity_type,
    id: r.id,
    prev_hash: r.prev_hash,
    seq: r.seq,
    state_version: r.state_version,
    timestamp: r.timestamp,
  });
}

/** Seals a draft into the event that follows `prev` (null for the first event). */
export function sealAuditEvent(prev: { seq: number; hash: string } | null, draft: AuditDraft): AuditEvent {
  // one object literal, its keys in canonical (sorted) order, `hash` added last
  const e = {
    action: draft.action,
    actor: draft.actor,
    after_status: draft.after_status,
    before_status: draft.before_status,
    campaign_id: draft.campaign_id,
    details: draft.details,
    entity_id: draft.entity_id,
    entity_type: draft.entity_type,
    id: draft.id,
    prev_hash: prev ? prev.hash : GENESIS_HASH,
    seq: prev ? prev.seq + 1 : 1,
    state_version: draft.state_version,
    timestamp: draft.timestamp,
  } as Omit<AuditEvent, 'hash'> & { hash?: string };
  // the common case, checked by name (a third cheaper than auditJson's generic loop): every
  // field present and canonical details, so the literal above is its own canonical JSON
  const plain =
    e.action !== undefined &&
    e.actor !== undefined &&
    e.after_status !== undefined &&
    e.before_status !== undefined &&
    e.campaign_id !== undefined &&
    e.entity_id !== undefined &&
    e.entity_type !== undefined &&
    e.id !== undefined &&
    e.state_version !== undefined &&
    e.timestamp !== undefined &&
    (e.details === null || (e.details !== undefined && (typeof e.details !== 'object' || sortedForJson(e.details) === e.details)));
  e.hash = sha256Hex(plain ? JSON.stringify(e) : auditJson(e as unknown as Record<string, unknown>));
  return e as AuditEvent;
}

/**
 * The head of a whole audit log (events in seq order), as snapshots record and compare it:
 * the last event's seq and hash, or null while the log is empty. (One place to change when
 * the log becomes one chain per campaign.)
 */
export function auditLogHead(events: readonly AuditEvent[]): { seq: number; hash: string } | null {
  const last = events.at(-1);
  return last ? { seq: last.seq, hash: last.hash } : null;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly checked: number;
  /** seq of the first event that breaks the chain, when not ok. */
  readonly broken_at: number | null;
  readonly reason: string | null;
  readonly head_hash: string;
}

/**
 * Verifies events in order. `prev` is the event before the first one given (for verifying a
 * page of a long chain), or null when the page starts at seq 1.
 */
export function verifyAuditChain(
  events: Iterable<AuditEvent>,
  prev: { seq: number; hash: string } | null = null,
): AuditVerification {
  let expectedPrev = prev ? prev.hash : GENESIS_HASH;
  let expectedSeq = prev ? prev.seq + 1 : 1;
  let checked = 0;
  for (const e of events) {
    const fail = (reason: string): AuditVerification => ({
      ok: false,
      checked,
      broken_at: e.seq,
      reason,
      head_hash: expectedPrev,
    });
    if (e.seq !== expectedSeq) return fail(`expected seq ${expectedSeq}, found ${e.seq}`);
    if (e.prev_hash !== expectedPrev) return fail(`event ${e.seq}: prev_hash does not match the previous event's hash`);
    const { hash, ...rest } = e;
    if (hashAuditEvent(rest) !== hash) return fail(`event ${e.seq}: contents do not match its hash (edited?)`);
    expectedPrev = hash;
    expectedSeq += 1;
    checked += 1;
  }
  return { ok: true, checked, broken_at: null, reason: null, head_hash: expectedPrev };
}
