/**
 * The audit hash chain: each event stores the SHA-256 of the previous event (its `hash`), and
 * its own `hash` is the SHA-256 of its canonical JSON without `hash`. Editing, dropping or
 * reordering any event breaks the chain at that point, and `verifyAuditChain` says where.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { AuditDraft, AuditEvent } from './schemas.ts';

export const GENESIS_HASH = '0'.repeat(64);

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
 * SHA-256 of the event's canonical JSON. The known keys are written in sorted order directly
 * (the same bytes canonicalJson gives, without sorting on every event); any other key falls
 * back to the general form.
 */
export function hashAuditEvent(e: Omit<AuditEvent, 'hash'>): string {
  const rec = e as unknown as Record<string, unknown>;
  let json: string;
  if (Object.keys(rec).length === AUDIT_KEYS.length && AUDIT_KEYS.every((k) => k in rec)) {
    json = '{';
    for (let i = 0; i < AUDIT_KEYS.length; i++) {
      const k = AUDIT_KEYS[i] as string;
      const v = rec[k];
      if (v === undefined) continue;
      json += `${json.length > 1 ? ',' : ''}"${k}":${canonicalJson(v)}`;
    }
    json += '}';
  } else {
    json = canonicalJson(e);
  }
  return createHash('sha256').update(json).digest('hex');
}

/** Seals a draft into the event that follows `prev` (null for the first event). */
export function sealAuditEvent(prev: { seq: number; hash: string } | null, draft: AuditDraft): AuditEvent {
  const unsealed = {
    ...draft,
    seq: prev ? prev.seq + 1 : 1,
    prev_hash: prev ? prev.hash : GENESIS_HASH,
  };
  return { ...unsealed, hash: hashAuditEvent(unsealed) };
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
