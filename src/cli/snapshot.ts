/**
 * Snapshots: a whole state (campaigns, tasks with their outputs, the audit chain, idempotency
 * keys, both queue spaces, persona cache, persona memories with their vectors, the run and its
 * event log) as one versioned JSON document, written by `chimera export` and read back by
 * `chimera import`. They work over the unguarded ports of any backend, so a state moves
 * memory ⇄ SQLite (and later Postgres).
 *
 * Version 2 is authenticated whole: every section has a SHA-256 over its canonical JSON, and a
 * whole digest covers the header (format, version, source, counts, audit head) and every
 * section digest (src/domain/digest.ts). Reading refuses any edit, naming the section that no
 * longer matches. The document is written as canonical JSON (keys sorted, records in a fixed
 * order), so export → import → export gives the same bytes.
 *
 * Import is a restore, not a replay: records go in as they are (versions and statuses
 * included), the audit chain is re-sealed event by event and must reproduce every hash, and
 * the target is read back and must give the snapshot's section digests.
 */
import { z } from 'zod';
import { auditLogHead, verifyAuditChain } from '../domain/audit.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { compareDigests, digestSections, DIGEST_ALGORITHM, type SectionDigests } from '../domain/digest.ts';
import { ChimeraError, ValidationError } from '../domain/errors.ts';
import {
  AuditEventSchema,
  CampaignSchema,
  PersonaMemorySchema,
  TaskSchema,
  WorkerTaskInputSchema,
  WorkerTaskOutputSchema,
  formatIssues,
  type AuditEvent,
  type Task,
} from '../domain/schemas.ts';
import type { MemoryRecord } from '../ports/persona-memory.ts';
import type { QueueItem, WorkQueue } from '../ports/queue.ts';
import type { RawPorts } from '../config/backends/types.ts';

/** The `format` every snapshot carries. */
export const SNAPSHOT_FORMAT = 'chimera-snapshot';
/** The snapshot version this build writes and reads (version 1 carried no digest and is refused). */
export const SNAPSHOT_VERSION = 2;
const BATCH = 500;
const HEX64 = /^[0-9a-f]{64}$/;

const QueueItemSchema = <T extends z.ZodType>(payload: T) =>
  z.strictObject({
    id: z.string().min(1),
    payload,
    attempts: z.int().min(0),
    enqueued_at_ms: z.number(),
    available_at_ms: z.number(),
  });
const QueueDumpSchema = <T extends z.ZodType>(payload: T) => z.array(z.strictObject({ queue: z.string().min(1), items: z.array(QueueItemSchema(payload)) }));

/** A persona memory with its model and vector (float32, little-endian, base64). */
const MemoryRowSchema = PersonaMemorySchema.extend({
  model_id: z.string().min(1),
  vector: z.base64().refine((s) => Buffer.from(s, 'base64').byteLength % 4 === 0, 'is not a whole number of float32 values'),
});

const CountsSchema = z.strictObject({
  campaigns: z.int().min(0),
  tasks: z.int().min(0),
  audit: z.int().min(0),
  idempotency_keys: z.int().min(0),
  queue_items: z.int().min(0),
  persona_cache: z.int().min(0),
  persona_memories: z.int().min(0),
  run_events: z.int().min(0),
});
/** How many records of each kind a snapshot (or a store) holds. */
export type SnapshotCounts = z.infer<typeof CountsSchema>;

const DigestSchema = z.strictObject({
  algorithm: z.literal(DIGEST_ALGORITHM),
  sections: z.record(z.string(), z.string().regex(HEX64, 'is not a SHA-256 in hex')),
  whole: z.string().regex(HEX64, 'is not a SHA-256 in hex'),
});

/**
 * The sections a digest covers, each a path into the document. With the header keys and
 * `digest` they are every key a snapshot may hold (the schema is strict), so nothing escapes.
 */
export const SNAPSHOT_SECTIONS = [
  'campaigns',
  'tasks',
  'audit',
  'idempotency_keys',
  'queues.task',
  'queues.review',
  'persona_cache',
  'persona_memories',
  'run',
  'run_events',
] as const;
/** One of SNAPSHOT_SECTIONS. */
export type SnapshotSection = (typeof SNAPSHOT_SECTIONS)[number];
/** The keys the whole digest covers directly. */
const HEADER_KEYS = ['format', 'version', 'source', 'counts', 'audit_head'] as const;

const BodySchema = z.strictObject({
  format: z.literal(SNAPSHOT_FORMAT),
  version: z.literal(SNAPSHOT_VERSION),
  source: z.strictObject({ backend: z.string() }),
  counts: CountsSchema,
  audit_head: z.strictObject({ seq: z.int().min(1), hash: z.string() }).nullable(),
  campaigns: z.array(CampaignSchema),
  tasks: z.array(TaskSchema),
  audit: z.array(AuditEventSchema),
  /** null when the source backend cannot list them (the in-memory port). */
  idempotency_keys: z.array(z.string().min(1)).nullable(),
  queues: z.strictObject({ task: QueueDumpSchema(WorkerTaskInputSchema), review: QueueDumpSchema(WorkerTaskOutputSchema) }),
  persona_cache: z.record(z.string(), z.record(z.string(), z.string())),
  /** null when the export had no access to persona memory (an in-process export without a memory source). */
  persona_memories: z.array(MemoryRowSchema).nullable(),
  run: z
    .strictObject({
      header: z.looseObject({ run_id: z.string().min(1), seed: z.number(), created_at: z.string() }),
      progress: z.strictObject({ step: z.int(), tick: z.int(), clock_ms: z.number() }),
    })
    .nullable(),
  run_events: z.array(z.looseObject({ step: z.int() })),
  digest: DigestSchema,
});

/** The snapshot document, version 2; `counts` must match what it holds, and records must fit together. */
export const SnapshotSchema = BodySchema.superRefine((s, ctx) => {
  const actual = countsOf(s);
  for (const k of Object.keys(actual) as (keyof SnapshotCounts)[]) {
    if (s.counts[k] !== actual[k]) {
      ctx.addIssue({ code: 'custom', path: ['counts', k], message: `says ${s.counts[k]} but the snapshot holds ${actual[k]}` });
    }
  }
  for (const p of consistencyProblems(s)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});
/** A parsed, valid snapshot. */
export type Snapshot = z.infer<typeof SnapshotSchema>;
type QueueDump = readonly { queue: string; items: readonly QueueItem<unknown>[] }[];
type DumpItem = QueueItem<unknown>;
type MemoryRow = NonNullable<Snapshot['persona_memories']>[number];

/** What a backend may offer beyond its ports so a snapshot is complete (the SQLite adapters do). */
interface StateExtras {
  listIdempotencyKeys?: () => Promise<string[]>;
}
interface QueueExtras {
  restore?: (queue: string, items: readonly QueueItem<unknown>[]) => Promise<number>;
}

/**
 * Persona memories with their vectors, where a snapshot reads them from and writes them to (the
 * PersonaMemoryStore port lists memories without vectors; the CLI uses the rows file beside the
 * database).
 */
export type { MemoryRows } from '../config/snapshot-files.ts';
import type { MemoryRows } from '../config/snapshot-files.ts';

/** Reports progress: what is being copied, how many of how many. */
export type SnapshotProgress = (what: string, done: number, total: number) => void;

function countsOf(s: Pick<Snapshot, 'campaigns' | 'tasks' | 'audit' | 'idempotency_keys' | 'queues' | 'persona_cache' | 'persona_memories' | 'run_events'>): SnapshotCounts {
  const items = (d: { items: unknown[] }[]) => d.reduce((n, q) => n + q.items.length, 0);
  return {
    campaigns: s.campaigns.length,
    tasks: s.tasks.length,
    audit: s.audit.length,
    idempotency_keys: s.idempotency_keys?.length ?? 0,
    queue_items: items(s.queues.task) + items(s.queues.review),
    persona_cache: Object.keys(s.persona_cache).length,
    persona_memories: s.persona_memories?.length ?? 0,
    run_events: s.run_events.length,
  };
}

/** What would make a restore fail half-way (duplicates, dangling references, mixed models), found before anything is written. */
function consistencyProblems(s: z.infer<typeof BodySchema>): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const unique = <T>(list: readonly T[], key: (x: T) => string, path: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      const k = key(x);
      if (seen.has(k)) out.push({ path: [path, i], message: `${k} appears twice` });
      seen.add(k);
    });
    return seen;
  };
  const campaigns = unique(s.campaigns, (c) => c.id, 'campaigns');
  unique(s.tasks, (t) => t.id, 'tasks');
  s.tasks.forEach((t, i) => {
    if (!campaigns.has(t.campaign_id)) out.push({ path: ['tasks', i, 'campaign_id'], message: `campaign ${t.campaign_id} is not in the snapshot` });
  });
  if (s.idempotency_keys) unique(s.idempotency_keys, (k) => k, 'idempotency_keys');
  for (const space of ['task', 'review'] as const) {
    const dump: QueueDump = s.queues[space];
    unique(dump, (q) => q.queue, `queues.${space}`);
    dump.forEach((q, i) => unique(q.items, (it) => it.id, `queues.${space}.${i}.items`));
  }
  if (s.persona_memories) {
    unique(s.persona_memories, (m) => m.id, 'persona_memories');
    const first = s.persona_memories[0];
    s.persona_memories.forEach((m, i) => {
      if (first && (m.model_id !== first.model_id || m.vector.length !== first.vector.length)) {
        out.push({ path: ['persona_memories', i], message: `embedded with ${m.model_id} (${vectorOf(m).length} dims), unlike ${first.id} (${first.model_id}, ${vectorOf(first).length} dims)` });
      }
    });
  }
  return out;
}

/** A section's value in a (parsed or raw) document. */
function sectionValue(doc: Record<string, unknown>, section: SnapshotSection): unknown {
  let v: unknown = doc;
  for (const k of section.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function headerOf(doc: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(HEADER_KEYS.map((k) => [k, doc[k]]));
}

/** The digests of a document's content (its recorded `digest` aside). */
export function computeDigests(doc: Omit<Snapshot, 'digest'> | Record<string, unknown>): SectionDigests {
  const d = doc as Record<string, unknown>;
  return digestSections(headerOf(d), Object.fromEntries(SNAPSHOT_SECTIONS.map((s) => [s, sectionValue(d, s)])));
}

/** The bytes of a snapshot: canonical JSON (keys sorted) and a newline. */
export function snapshotText(snap: Snapshot): string {
  return canonicalJson(snap) + '\n';
}

const vectorOf = (m: MemoryRow): Float32Array => {
  const b = Buffer.from(m.vector, 'base64');
  const v = new Float32Array(b.byteLength / 4);
  new Uint8Array(v.buffer).set(b);
  return v;
};
const memoryRow = (r: MemoryRecord): MemoryRow => ({
  id: r.id,
  persona_id: r.persona_id,
  content: r.content,
  category: r.category,
  timestamp: r.timestamp,
  model_id: r.model_id,
  vector: Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength).toString('base64'),
});
const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One queue space in canonical form: queues by name, each queue's items in claim order. A
 * lease at export time belongs to a process that is gone: it is written as the redelivery it
 * becomes (attempts + 1, waiting, at the head among items available at the same time), which
 * is what an import restores, so a snapshot re-exported after an import is the same.
 */
async function dumpQueue(q: WorkQueue<unknown>): Promise<{ queue: string; items: DumpItem[] }[]> {
  const out: { queue: string; items: DumpItem[] }[] = [];
  for (const name of [...(await q.queues())].sort()) {
    const d = await q.depth(name);
    const leased = (await q.leased(name, d.leased)).map((l) => l.item);
    const waiting = await q.peek(name, d.ready + d.delayed);
    const item = (i: QueueItem<unknown>, redelivered: boolean): DumpItem => ({
      id: i.id,
      payload: i.payload,
      attempts: redelivered ? i.attempts + 1 : i.attempts,
      enqueued_at_ms: i.enqueued_at_ms,
      available_at_ms: i.available_at_ms,
    });
    // a stable sort: redelivered leases first, then waiting items in claim order, by availability
    const items = [...leased.map((i) => item(i, true)), ...waiting.map((i) => item(i, false))].sort((a, b) => a.available_at_ms - b.available_at_ms);
    out.push({ queue: name, items });
  }
  return out;
}

/**
 * Reads the whole state behind `ports` into a snapshot (digests included). `memories` is where
 * the persona memories are (null in the snapshot without it).
 */
export async function exportSnapshot(
  ports: RawPorts,
  backend: string,
  opts: { onProgress?: SnapshotProgress; memories?: MemoryRows } = {},
): Promise<Snapshot> {
  const onProgress = opts.onProgress ?? (() => {});
  const campaigns = await ports.state.listCampaigns();
  onProgress('campaigns', campaigns.length, campaigns.length);
  const tasks: Task[] = [];
  for (let offset = 0; ; offset += BATCH) {
    const page = await ports.state.listTasks({ limit: BATCH, offset });
    tasks.push(...page);
    onProgress('tasks', tasks.length, tasks.length);
    if (page.length < BATCH) break;
  }
  const audit: AuditEvent[] = [];
  for (let after = 0; ; ) {
    const page = await ports.state.readAudit({ after_seq: after, limit: BATCH });
    audit.push(...page);
    onProgress('audit', audit.length, audit.length);
    if (page.length < BATCH) break;
    after = (page.at(-1) as AuditEvent).seq;
  }
  const stateExtras = ports.state as unknown as StateExtras;
  const idempotency_keys = stateExtras.listIdempotencyKeys ? [...(await stateExtras.listIdempotencyKeys())].sort() : null;
  const queues = {
    task: (await dumpQueue(ports.taskQueue as WorkQueue<unknown>)) as unknown as Snapshot['queues']['task'],
    review: (await dumpQueue(ports.reviewQueue as WorkQueue<unknown>)) as unknown as Snapshot['queues']['review'],
  };
  const persona_cache: Record<string, Record<string, string>> = {};
  for (const id of await ports.personaCache.list()) {
    const traits = await ports.personaCache.get(id);
    if (traits) persona_cache[id] = traits;
  }
  const persona_memories = opts.memories ? (await opts.memories.read()).map(memoryRow).sort(byId) : null;
  onProgress('persona memories', persona_memories?.length ?? 0, persona_memories?.length ?? 0);
  const stored = await ports.runLog.loadRun();
  const run = stored ? { header: stored.header as unknown as NonNullable<Snapshot['run']>['header'], progress: stored.progress } : null;
  const run_events = stored ? ((await ports.runLog.readEvents(Number.MIN_SAFE_INTEGER)) as Snapshot['run_events']) : [];
  onProgress('run events', run_events.length, run_events.length);
  const body = { campaigns, tasks, audit, idempotency_keys, queues, persona_cache, persona_memories, run_events };
  const doc = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    source: { backend },
    counts: countsOf(body),
    audit_head: auditLogHead(audit),
    ...body,
    run,
  } as const;
  const digest = computeDigests(doc);
  return { ...doc, digest: { algorithm: digest.algorithm, sections: { ...digest.sections }, whole: digest.whole } };
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function recordsIn(section: string, v: unknown): string {
  if (section.startsWith('queues.') && Array.isArray(v)) {
    const items = v.reduce((n: number, q: { items?: unknown }) => n + (Array.isArray(q?.items) ? q.items.length : 0), 0);
    return `${plural(v.length, 'queue')}, ${plural(items, 'item')}`;
  }
  if (Array.isArray(v)) return plural(v.length, 'record');
  if (v !== null && typeof v === 'object') return plural(Object.keys(v).length, 'entry');
  return v === null ? 'null' : 'missing';
}

/**
 * Checks a raw document against its recorded digests, before its schema: any edit is named by
 * the section it touched, whatever it did to the shape. Throws a ValidationError naming `where`.
 */
function checkDigests(raw: Record<string, unknown>, where: string, expect_whole?: string): void {
  const d = DigestSchema.safeParse(raw.digest);
  if (!d.success) throw new ValidationError(`${where} has no valid digest: ${formatIssues(d.error)}`, d.error.issues);
  const recorded = d.data;
  const computed = computeDigests(raw);
  const cmp = compareDigests(headerOf(raw), recorded, computed);
  const parts: string[] = [];
  if (cmp.sections.length) {
    const named = cmp.sections.map((s) =>
      (SNAPSHOT_SECTIONS as readonly string[]).includes(s) ? `${s} (${recordsIn(s, sectionValue(raw, s as SnapshotSection))})` : `${s} (not a section this build knows)`,
    );
    parts.push(`section ${named.join(', ')} ${cmp.sections.length === 1 ? 'does' : 'do'} not match the digest recorded for it`);
  }
  if (cmp.whole) parts.push('the whole digest does not match the header and the section digests recorded beside it (one of them was edited)');
  if (parts.length) throw new ValidationError(`${where} does not match its digest: ${parts.join('; ')}; nothing was imported`);
  if (expect_whole !== undefined && recorded.whole !== expect_whole) {
    throw new ValidationError(`${where} has digest ${recorded.whole}, not the expected ${expect_whole}; nothing was imported`);
  }
}

/**
 * Parses snapshot text: not JSON, an old or unknown version, any edit (digests), a wrong shape,
 * wrong counts, records that do not fit together or a broken chain are errors naming `where`.
 * `expect_digest` (the whole digest, from the export) also refuses a snapshot whose digests were
 * all recomputed.
 */
export function parseSnapshot(text: string, where: string, opts: { expect_digest?: string } = {}): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || (raw as { format?: unknown }).format !== SNAPSHOT_FORMAT) {
    throw new ValidationError(`${where} is not a Chimera snapshot (expected "format": "${SNAPSHOT_FORMAT}")`);
  }
  const version = (raw as { version?: unknown }).version;
  if (version === 1) {
    throw new ValidationError(
      `${where} is snapshot version 1, which carries no digest; this build reads version ${SNAPSHOT_VERSION} only (export the state again with this build)`,
    );
  }
  if (version !== SNAPSHOT_VERSION) throw new ValidationError(`${where} is snapshot version ${String(version)}; this build reads version ${SNAPSHOT_VERSION}`);
  checkDigests(raw as Record<string, unknown>, where, opts.expect_digest);
  const r = SnapshotSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(`${where} is not a valid snapshot: ${formatIssues(r.error)}`, r.error.issues);
  const chain = verifyAuditChain(r.data.audit);
  if (!chain.ok) throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${where}: the audit chain is broken at seq ${chain.broken_at}: ${chain.reason}`);
  if (canonicalJson(auditLogHead(r.data.audit)) !== canonicalJson(r.data.audit_head)) {
    throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${where}: audit_head does not match the last audit event`);
  }
  return r.data;
}

/** Refuses a target that already holds state: a restore goes into an empty store. */
async function assertEmpty(ports: RawPorts, where: string): Promise<void> {
  const held: string[] = [];
  const c = (await ports.state.listCampaigns()).length;
  if (c) held.push(`${c} campaigns`);
  if ((await ports.state.listTasks({ limit: 1 })).length) held.push('tasks');
  if (await ports.state.auditHead()) held.push('audit events');
  if ((await ports.taskQueue.queues()).length || (await ports.reviewQueue.queues()).length) held.push('queue items');
  if ((await ports.personaCache.list()).length) held.push('cached personas');
  if (await ports.runLog.loadRun()) held.push('a run');
  if (held.length) throw new ValidationError(`${where} is not empty (it holds ${held.join(', ')}); import into a new database file`);
}

async function restoreQueue(q: WorkQueue<unknown>, dump: QueueDump, now_ms: number): Promise<void> {
  const extras = q as unknown as QueueExtras;
  for (const { queue, items } of dump) {
    if (extras.restore) {
      await extras.restore(queue, items);
      continue;
    }
    // a queue that cannot restore items as they were gets them enqueued (attempts and enqueue times are then lost: the check after import says so)
    for (const i of items) {
      await q.enqueue(queue, [{ id: i.id, payload: i.payload }], { delay_ms: Math.max(0, i.available_at_ms - now_ms) });
    }
  }
}

/**
 * Writes a valid snapshot into empty ports (and its persona memories into `memories`), then
 * reads the target back and checks it against the snapshot's digests; returns the target's
 * counts. Throwing leaves a half-written target: callers write into a scratch store and move
 * it into place only when this returns (the CLI does).
 */
export async function importSnapshot(
  ports: RawPorts,
  snap: Snapshot,
  opts: { where: string; now_ms: number; onProgress?: SnapshotProgress; memories?: MemoryRows },
): Promise<SnapshotCounts> {
  const progress = opts.onProgress ?? (() => {});
  await assertEmpty(ports, opts.where);
  if (snap.persona_memories?.length && !opts.memories?.write) {
    throw new ValidationError(`${opts.where} has no place for the snapshot's ${snap.persona_memories.length} persona memories`);
  }
  const total = snap.campaigns.length + snap.tasks.length + snap.audit.length;
  let done = 0;
  const step = (n: number) => progress('records', (done += n), total);
  for (let i = 0; i < snap.campaigns.length; i += BATCH) {
    const batch = snap.campaigns.slice(i, i + BATCH);
    await ports.state.transaction(async (tx) => {
      for (const c of batch) await tx.insertCampaign(c);
    });
    step(batch.length);
  }
  for (let i = 0; i < snap.tasks.length; i += BATCH) {
    const batch = snap.tasks.slice(i, i + BATCH);
    await ports.state.transaction((tx) => tx.insertTasks(batch));
    step(batch.length);
  }
  for (let i = 0; i < snap.audit.length; i += BATCH) {
    const batch = snap.audit.slice(i, i + BATCH);
    await ports.state.transaction(async (tx) => {
      for (const e of batch) {
        const { seq: _seq, prev_hash: _prev, hash, ...draft } = e;
        const sealed = await tx.appendAudit(draft);
        if (sealed.hash !== hash || sealed.seq !== e.seq) {
          throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${opts.where}: audit event ${e.seq} re-sealed to a different hash; nothing of this batch was kept`);
        }
      }
    });
    step(batch.length);
  }
  if (snap.idempotency_keys?.length) {
    const keys = snap.idempotency_keys;
    await ports.state.transaction(async (tx) => {
      for (const k of keys) await tx.claimIdempotencyKey(k);
    });
  }
  await restoreQueue(ports.taskQueue as WorkQueue<unknown>, snap.queues.task, opts.now_ms);
  await restoreQueue(ports.reviewQueue as WorkQueue<unknown>, snap.queues.review, opts.now_ms);
  for (const [id, traits] of Object.entries(snap.persona_cache)) await ports.personaCache.set(id, traits);
  if (snap.persona_memories?.length && opts.memories?.write) {
    const rows = snap.persona_memories;
    for (let i = 0; i < rows.length; i += BATCH) {
      await opts.memories.write(
        rows.slice(i, i + BATCH).map((m) => {
          const { vector: _v, ...mem } = m;
          return { ...mem, vector: vectorOf(m) };
        }),
      );
      progress('persona memories', Math.min(i + BATCH, rows.length), rows.length);
    }
  }
  if (snap.run) {
    await ports.runLog.startRun(snap.run.header as never, snap.run.progress);
    for (let i = 0; i < snap.run_events.length; i += 5 * BATCH) {
      await ports.runLog.append(snap.run_events.slice(i, i + 5 * BATCH), snap.run.progress);
      progress('run events', Math.min(i + 5 * BATCH, snap.run_events.length), snap.run_events.length);
    }
  }
  return verifyImport(ports, snap, opts.where, opts.memories);
}

/**
 * Re-reads the target and digests it: every section must give the snapshot's digest (so every
 * record came back as it was), except what the target cannot list (idempotency keys on the
 * in-memory port) or the snapshot did not carry. Names the sections that differ.
 */
export async function verifyImport(ports: RawPorts, snap: Snapshot, where: string, memories?: MemoryRows): Promise<SnapshotCounts> {
  const back = await exportSnapshot(ports, 'target', memories ? { memories } : {});
  const got = back.digest.sections;
  const skip = new Set<string>();
  if (snap.idempotency_keys === null || back.idempotency_keys === null) skip.add('idempotency_keys');
  if (snap.persona_memories === null || back.persona_memories === null) skip.add('persona_memories');
  const off = SNAPSHOT_SECTIONS.filter((s) => !skip.has(s) && got[s] !== snap.digest.sections[s]);
  if (off.length) {
    throw new ChimeraError('INTERNAL', `${where}: after import, section ${off.join(', ')} ${off.length === 1 ? 'differs' : 'differ'} from the snapshot (counts now ${JSON.stringify(back.counts)})`);
  }
  const chain = verifyAuditChain(back.audit);
  if (!chain.ok) throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${where}: after import the audit chain is broken at seq ${chain.broken_at}: ${chain.reason}`);
  return { ...back.counts, idempotency_keys: skip.has('idempotency_keys') ? back.counts.idempotency_keys : snap.counts.idempotency_keys };
}
