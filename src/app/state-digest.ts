/**
 * The whole-state digest of a store, computed page by page: the same section digests a snapshot
 * of it carries (src/cli/snapshot.ts, src/domain/digest.ts), without holding the state in memory.
 * A section's digest is the SHA-256 of its canonical JSON; an array's canonical JSON is `[`, its
 * elements' canonical JSON joined by `,`, and `]`, so a hash fed element by element gives the
 * digest of the whole array. `chimera copy` digests both sides this way and compares them.
 *
 * Read a page at a time: tasks (keyset by (created_at, id), so every page costs the same however
 * deep it is), audit events (by seq), idempotency keys (by key) and run events. Held in memory
 * whole: the campaigns list, one queue at a time, the persona cache and the persona memories
 * (the ports list them whole). Between pages the event loop gets a turn, so a process that serves
 * requests (the app) goes on serving them while a digest runs.
 */
import { createHash, type Hash } from 'node:crypto';
import { verifyAuditChain, type AuditHeads } from '../domain/audit.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { canonicalSha256, wholeDigest, DIGEST_ALGORITHM, type SectionDigests } from '../domain/digest.ts';
import type { AuditEvent, Task } from '../domain/schemas.ts';
import type { MemoryRecord } from '../ports/persona-memory.ts';
import type { QueueItem, WorkQueue } from '../ports/queue.ts';
import type { RawPorts } from '../config/backends/types.ts';
import type { MemoryRows } from '../config/snapshot-files.ts';

/** What a snapshot's header says (src/cli/snapshot.ts): the digests here are a snapshot's. */
const SNAPSHOT_FORMAT = 'chimera-snapshot';
const SNAPSHOT_VERSION = 2;

/** How many records of each kind a store holds (a snapshot's `counts`). */
export interface SnapshotCounts {
  campaigns: number;
  tasks: number;
  audit: number;
  idempotency_keys: number;
  queue_items: number;
  persona_cache: number;
  persona_memories: number;
  run_events: number;
}

/** The ports a copy and a digest read and write. */
export type StatePorts = Pick<RawPorts, 'state' | 'taskQueue' | 'reviewQueue' | 'personaCache' | 'runLog'>;

/** Pages a digest or a copy reads. */
export const STATE_PAGE = 1000;

/** A store's digests, counts, and its audit chains' verification. */
export interface StateDigest extends SectionDigests {
  readonly counts: SnapshotCounts;
  readonly audit_head: { seq: number; hash: string } | null;
  /** Sections this store could not list (idempotency keys on a store without a listing; persona memories where it keeps none a copy can read): digested as empty, left out of comparisons. */
  readonly unlisted: readonly string[];
  /** The audit chains verified link by link (null: they verify), else where and why they broke. */
  readonly chain_problem: string | null;
  readonly chains: number;
}

/** A SHA-256 fed the canonical JSON of an array one element at a time. */
class ArrayHash {
  private readonly h: Hash = createHash('sha256');
  count = 0;
  constructor() {
    this.h.update('[');
  }
  add(v: unknown): void {
    if (this.count++ > 0) this.h.update(',');
    this.h.update(canonicalJson(v));
  }
  raw(text: string): void {
    if (this.count++ > 0) this.h.update(',');
    this.h.update(text);
  }
  end(): string {
    this.h.update(']');
    return this.h.digest('hex');
  }
}

/** A turn of the event loop (a better-sqlite3 read resolves without one). */
export const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

interface StateExtras {
  listIdempotencyKeys?: (page?: { after?: string | null; limit?: number }) => Promise<string[]>;
  countIdempotencyKeys?: () => Promise<number>;
}

/** Whether a store can list its idempotency keys (the adapters do beside the port). */
export function listsKeys(ports: StatePorts): boolean {
  return typeof (ports.state as unknown as StateExtras).listIdempotencyKeys === 'function';
}

/** A page of a store's idempotency keys in key order: the ones after `after`. */
export function keysAfter(ports: StatePorts, after: string | null, limit: number): Promise<string[]> {
  const x = ports.state as unknown as StateExtras;
  return (x.listIdempotencyKeys as NonNullable<StateExtras['listIdempotencyKeys']>)({ after, limit });
}

/** How many idempotency keys a store holds (0 when it cannot list them). */
export async function countKeys(ports: StatePorts): Promise<number> {
  const x = ports.state as unknown as StateExtras;
  if (typeof x.countIdempotencyKeys === 'function') return x.countIdempotencyKeys();
  return typeof x.listIdempotencyKeys === 'function' ? (await x.listIdempotencyKeys()).length : 0;
}

/** A page of tasks in (created_at, id) order after `after` (null: from the first). */
export function tasksAfter(ports: StatePorts, after: Task | null, limit: number): Promise<Task[]> {
  return ports.state.listTasks(after ? { limit, after: { created_at: after.created_at, id: after.id } } : { limit });
}

/**
 * One queue in a snapshot's form: a lease is written as the redelivery it becomes (attempts + 1,
 * waiting), leased items first among those available at the same time, then waiting items in
 * claim order (as src/cli/snapshot.ts dumps it).
 */
export async function dumpOneQueue(q: WorkQueue<unknown>, name: string): Promise<QueueItem<unknown>[]> {
  const d = await q.depth(name);
  const leased = (await q.leased(name, d.leased)).map((l) => l.item);
  const waiting = await q.peek(name, d.ready + d.delayed);
  const item = (i: QueueItem<unknown>, redelivered: boolean): QueueItem<unknown> => ({
    id: i.id,
    payload: i.payload,
    attempts: redelivered ? i.attempts + 1 : i.attempts,
    enqueued_at_ms: i.enqueued_at_ms,
    available_at_ms: i.available_at_ms,
  });
  return [...leased.map((i) => item(i, true)), ...waiting.map((i) => item(i, false))].sort((a, b) => a.available_at_ms - b.available_at_ms);
}

/** A persona memory as a snapshot holds it (its vector in base64). */
export function memoryRow(r: MemoryRecord): Record<string, unknown> {
  return {
    id: r.id,
    persona_id: r.persona_id,
    content: r.content,
    category: r.category,
    timestamp: r.timestamp,
    model_id: r.model_id,
    vector: Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength).toString('base64'),
  };
}

/**
 * Digests the state behind `ports` section by section (persona memories from `memories`; null:
 * the store has none to list), verifying every audit chain on the way. `backend` goes into the
 * header the whole digest covers (a snapshot's `source.backend`). `onPage` is told each section's
 * records digested so far; it may throw to stop the digest (a cancelled copy).
 */
export async function digestState(ports: StatePorts, memories: MemoryRows | null, backend: string, onPage?: (section: string, done: number) => void): Promise<StateDigest> {
  const page = async (section: string, done: number) => {
    onPage?.(section, done);
    await turn();
  };
  const sections: Record<string, string> = {};
  const campaigns = await ports.state.listCampaigns();
  sections.campaigns = canonicalSha256(campaigns);
  await page('campaigns', campaigns.length);

  const tasks = new ArrayHash();
  for (let after: Task | null = null; ; ) {
    const rows = await tasksAfter(ports, after, STATE_PAGE);
    for (const t of rows) tasks.add(t);
    await page('tasks', tasks.count);
    if (rows.length < STATE_PAGE) break;
    after = rows.at(-1) as Task;
  }
  const taskCount = tasks.count;
  sections.tasks = tasks.end();

  const audit = new ArrayHash();
  let heads: AuditHeads | null = null;
  let chain_problem: string | null = null;
  let chains = 0;
  let last: AuditEvent | null = null;
  for (let after = 0; ; ) {
    const rows = await ports.state.readAudit({ after_seq: after, limit: STATE_PAGE });
    for (const e of rows) audit.add(e);
    if (rows.length) last = rows.at(-1) as AuditEvent;
    if (chain_problem === null && rows.length) {
      const v = verifyAuditChain(rows, heads);
      if (!v.ok) chain_problem = `broken at seq ${v.broken_at}: ${v.reason}`;
      heads = v.heads;
      chains = v.chains;
    }
    await page('audit', audit.count);
    if (rows.length < STATE_PAGE) break;
    after = (last as AuditEvent).seq;
  }
  const auditCount = audit.count;
  sections.audit = audit.end();

  const unlisted: string[] = [];
  const keys = new ArrayHash();
  if (!listsKeys(ports)) unlisted.push('idempotency_keys');
  else {
    for (let after: string | null = null; ; ) {
      const rows = await keysAfter(ports, after, STATE_PAGE);
      for (const k of rows) keys.add(k);
      await page('idempotency_keys', keys.count);
      if (rows.length < STATE_PAGE) break;
      after = rows.at(-1) as string;
    }
  }
  const keyCount = keys.count;
  sections.idempotency_keys = keys.end();

  let queueItems = 0;
  for (const [space, q] of [
    ['task', ports.taskQueue],
    ['review', ports.reviewQueue],
  ] as const) {
    const h = new ArrayHash();
    let items = 0;
    for (const name of [...(await q.queues())].sort()) {
      const dumped = await dumpOneQueue(q as WorkQueue<unknown>, name);
      items += dumped.length;
      // {"items":[…],"queue":"…"}: keys in canonical order
      h.raw(`{"items":${canonicalJson(dumped)},"queue":${canonicalJson(name)}}`);
      await page(`queues.${space}`, items);
    }
    queueItems += items;
    sections[`queues.${space}`] = h.end();
  }

  const cache: Record<string, Record<string, string>> = {};
  for (const id of await ports.personaCache.list()) {
    const traits = await ports.personaCache.get(id);
    if (traits) cache[id] = traits;
  }
  sections.persona_cache = canonicalSha256(cache);
  await page('persona_cache', Object.keys(cache).length);

  let memoryCount = 0;
  if (memories) {
    const rows = (await memories.read()).map(memoryRow).sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : (a.id as string) > (b.id as string) ? 1 : 0));
    memoryCount = rows.length;
    sections.persona_memories = canonicalSha256(rows);
    await page('persona_memories', memoryCount);
  } else {
    // none this side can list: digested as none, so stores that keep no memories agree (and marked, so a comparison leaves the section out)
    unlisted.push('persona_memories');
    sections.persona_memories = canonicalSha256([]);
  }

  const stored = await ports.runLog.loadRun();
  sections.run = canonicalSha256(stored ? { header: stored.header, progress: stored.progress } : null);
  const events = new ArrayHash();
  if (stored) {
    for (let after = 0; ; ) {
      const rows = await ports.runLog.readEventsAfter(after, STATE_PAGE);
      for (const r of rows) events.add(r.event);
      await page('run_events', events.count);
      if (rows.length < STATE_PAGE) break;
      after = (rows.at(-1) as { seq: number }).seq;
    }
  }
  sections.run_events = events.end();

  const counts: SnapshotCounts = {
    campaigns: campaigns.length,
    tasks: taskCount,
    audit: auditCount,
    idempotency_keys: keyCount,
    queue_items: queueItems,
    persona_cache: Object.keys(cache).length,
    persona_memories: memoryCount,
    run_events: events.count,
  };
  const audit_head = last ? { seq: last.seq, hash: last.hash } : null;
  const header = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, source: { backend }, counts, audit_head };
  const sorted = Object.fromEntries(Object.keys(sections).sort().map((k) => [k, sections[k] as string]));
  return { algorithm: DIGEST_ALGORITHM, sections: sorted, whole: wholeDigest(header, sorted), counts, audit_head, unlisted, chain_problem, chains };
}
