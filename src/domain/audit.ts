/**
 * The audit hash chains. One chain per campaign, plus one for run-level events: each event
 * stores the hash of the previous event *of its chain* (`prev_hash`) and its place in it
 * (`chain_seq`), and its own `hash` is the SHA-256 of its canonical JSON without `hash` and
 * without the store-wide `seq`, so a chain's hashes do not depend on how writers on other
 * campaigns interleave with it: writers on different campaigns never wait on one head.
 * Periodic anchor events in the run chain (action `audit.anchor`) record the heads of every
 * campaign chain, binding them together: dropping or rewriting a whole chain's tail is caught
 * where an anchor vouched for it. Editing, dropping or reordering any event breaks its chain
 * at that point, and `verifyAuditChain` says where.
 *
 * Events written before chains were per campaign have `chain_seq` 0: they form one global
 * chain ordered by `seq`, hashed with `seq` and without `chain_seq`, and verify as before.
 */
import crypto, { createHash } from 'node:crypto';
import { canonicalJson, sortedForJson, UNSORTABLE } from './canonical-json.ts';
import type { AuditDraft, AuditEvent } from './schemas.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** The action of an anchor event (run chain; details.heads names each campaign chain's head). */
export const ANCHOR_ACTION = 'audit.anchor';

/** The audit action of a person's decision on an escalated task: one per decision, so the log tells approve, edit and reject apart. */
export const HUMAN_DECISION_ACTIONS = { approve: 'human.approved', edit: 'human.edited', reject: 'human.rejected' } as const;
/** Whether an audit action records a human decision (any of HUMAN_DECISION_ACTIONS). */
export function isHumanDecisionAction(action: string): boolean {
  return (Object.values(HUMAN_DECISION_ACTIONS) as string[]).includes(action);
}

/** The last event of one chain. */
export interface ChainHead {
  readonly chain_seq: number;
  readonly hash: string;
}

/** The chain an event belongs to: its campaign's, or '' for run-level events. */
export const chainOf = (e: { campaign_id: string | null }): string => e.campaign_id ?? '';

/** SHA-256 of the event's canonical JSON (without `hash`; without `seq` unless a legacy event). */
export function hashAuditEvent(e: Omit<AuditEvent, 'hash'>): string {
  const { seq, chain_seq, ...rest } = e;
  const rec = (chain_seq === 0 ? { ...rest, seq } : { ...rest, chain_seq }) as Record<string, unknown>;
  return sha256Hex(chain_seq === 0 ? canonicalJson(rec) : auditJson(rec));
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
  'chain_seq',
  'details',
  'entity_id',
  'entity_type',
  'id',
  'prev_hash',
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
    chain_seq: r.chain_seq,
    details,
    entity_id: r.entity_id,
    entity_type: r.entity_type,
    id: r.id,
    prev_hash: r.prev_hash,
    state_version: r.state_version,
    timestamp: r.timestamp,
  });
}

/** Seals a draft into the event that follows `head` in its chain (null: the chain's first), at store position `seq`. */
export function sealAuditEvent(head: ChainHead | null, draft: AuditDraft, seq: number): AuditEvent {
  // one object literal, its keys in canonical (sorted) order: with every field present it is its own canonical JSON
  const e = {
    action: draft.action,
    actor: draft.actor,
    after_status: draft.after_status,
    before_status: draft.before_status,
    campaign_id: draft.campaign_id,
    chain_seq: head ? head.chain_seq + 1 : 1,
    details: draft.details,
    entity_id: draft.entity_id,
    entity_type: draft.entity_type,
    id: draft.id,
    prev_hash: head ? head.hash : GENESIS_HASH,
    state_version: draft.state_version,
    timestamp: draft.timestamp,
  };
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
  const hash = sha256Hex(plain ? JSON.stringify(e) : auditJson(e as unknown as Record<string, unknown>));
  // added after hashing (seq is not hashed), as properties rather than a spread copy: the hot path
  const sealed = e as typeof e & { seq: number; hash: string };
  sealed.seq = seq;
  sealed.hash = hash;
  return sealed as AuditEvent;
}

/** The heads of every chain, as a verifier leaves them (to go on verifying from there). */
export interface AuditHeads {
  /** Each chain's head; '' is the run chain. */
  readonly chains: Readonly<Record<string, ChainHead>>;
  /** The legacy global chain's last event (events with chain_seq 0), or null. */
  readonly legacy: { readonly seq: number; readonly hash: string } | null;
  /** The last event's seq (events must come in increasing seq). */
  readonly seq: number;
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
  /** seq of the first event that breaks a chain, when not ok. */
  readonly broken_at: number | null;
  readonly reason: string | null;
  /** The last verified event's hash (the genesis hash when none). */
  readonly head_hash: string;
  /** How many chains (campaigns, the run chain, the legacy chain) the events span. */
  readonly chains: number;
  /** Anchor events checked against the chains they vouch for. */
  readonly anchors: number;
  /** Where verification stands: pass it back as `from` to verify the events that follow. */
  readonly heads: AuditHeads;
}

/**
 * Verifies events in increasing `seq` (the order stores read them). `from` is where an earlier
 * call stopped (verifying a long log page by page), or null from the start. Every chain is
 * checked link by link, and every anchor against the chains it names: each named head must be
 * an event already seen with that hash, and an anchor never names an older head than the one before.
 */
export function verifyAuditChain(events: Iterable<AuditEvent>, from: AuditHeads | null = null): AuditVerification {
  const chains = new Map<string, ChainHead>(Object.entries(from?.chains ?? {}));
  // every hash of every chain, to check anchors (chain -> hash by chain_seq); a page verified
  // on its own knows the heads it started from
  const seen = new Map<string, string[]>();
  for (const [k, h] of chains) {
    const arr: string[] = [];
    arr[h.chain_seq] = h.hash;
    seen.set(k, arr);
  }
  const anchored = new Map<string, number>();
  let legacy = from?.legacy ?? null;
  let lastSeq = from?.seq ?? 0;
  let lastHash = GENESIS_HASH;
  let checked = 0;
  let anchors = 0;
  const state = (): AuditHeads => ({ chains: Object.fromEntries(chains), legacy, seq: lastSeq });
  const count = () => chains.size + (legacy ? 1 : 0);
  for (const e of events) {
    const fail = (reason: string): AuditVerification => ({
      ok: false,
      checked,
      broken_at: e.seq,
      reason: `event ${e.seq}: ${reason}`,
      head_hash: lastHash,
      chains: count(),
      anchors,
      heads: state(),
    });
    if (!(e.seq > lastSeq)) return fail(`out of order (after seq ${lastSeq})`);
    const { hash, ...rest } = e;
    if (e.chain_seq === 0) {
      // the legacy global chain: consecutive seqs, each after the previous legacy event
      const expectedSeq = legacy ? legacy.seq + 1 : 1;
      if (e.seq !== expectedSeq) return fail(`expected seq ${expectedSeq} in the global chain`);
      if (e.prev_hash !== (legacy ? legacy.hash : GENESIS_HASH)) return fail("prev_hash does not match the previous event's hash");
      if (hashAuditEvent(rest) !== hash) return fail('contents do not match its hash (edited?)');
      legacy = { seq: e.seq, hash };
    } else {
      const key = chainOf(e);
      const head = chains.get(key) ?? null;
      const what = key ? `campaign ${key}'s chain` : 'the run chain';
      const expected = head ? head.chain_seq + 1 : 1;
      if (e.chain_seq !== expected) return fail(`expected place ${expected} in ${what}, found ${e.chain_seq} (an event is missing or moved)`);
      if (e.prev_hash !== (head ? head.hash : GENESIS_HASH)) return fail(`prev_hash does not match the previous event of ${what}`);
      if (hashAuditEvent(rest) !== hash) return fail('contents do not match its hash (edited?)');
      chains.set(key, { chain_seq: e.chain_seq, hash });
      let arr = seen.get(key);
      if (!arr) seen.set(key, (arr = []));
      arr[e.chain_seq] = hash;
      if (e.action === ANCHOR_ACTION && e.campaign_id === null) {
        const heads = (e.details as { heads?: Record<string, { chain_seq?: unknown; hash?: unknown }> } | null)?.heads;
        if (!heads || typeof heads !== 'object') return fail('an anchor without heads');
        for (const [c, h] of Object.entries(heads)) {
          const at = typeof h?.chain_seq === 'number' ? h.chain_seq : NaN;
          const known = seen.get(c)?.[at];
          if (known === undefined) return fail(`the anchor names event ${at} of campaign ${c}'s chain, which is not in the log before it`);
          if (known !== h.hash) return fail(`the anchor's head of campaign ${c}'s chain (event ${at}) does not match that event's hash`);
          if (at < (anchored.get(c) ?? 0)) return fail(`the anchor names an older head of campaign ${c}'s chain than the anchor before it`);
          anchored.set(c, at);
        }
        anchors += 1;
      }
    }
    lastSeq = e.seq;
    lastHash = hash;
    checked += 1;
  }
  return { ok: true, checked, broken_at: null, reason: null, head_hash: lastHash, chains: count(), anchors, heads: state() };
}
