/**
 * Snapshots: a whole state (campaigns, tasks, the audit chain, idempotency keys, queues,
 * persona cache, the run and its event log) as one versioned JSON document, written by
 * `chimera export` and read back (validated with zod) by `chimera import`. They work over the
 * unguarded ports of any backend, so a state moves memory ⇄ SQLite (and later Postgres).
 * Import is a restore, not a replay: records go in as they are (versions and statuses
 * included), and the audit chain is re-sealed event by event and must reproduce every hash.
 */
import { z } from 'zod';
import { verifyAuditChain } from '../domain/audit.ts';
import { ChimeraError, ValidationError } from '../domain/errors.ts';
import {
  AuditEventSchema,
  CampaignSchema,
  TaskSchema,
  WorkerTaskInputSchema,
  WorkerTaskOutputSchema,
  formatIssues,
  type AuditEvent,
  type Task,
} from '../domain/schemas.ts';
import type { QueueItem, WorkQueue } from '../ports/queue.ts';
import type { RawPorts } from '../config/backends/types.ts';

/** The `format` every snapshot carries. */
export const SNAPSHOT_FORMAT = 'chimera-snapshot';
/** The snapshot version this build writes and reads. */
export const SNAPSHOT_VERSION = 1;
const BATCH = 500;

const QueueItemSchema = <T extends z.ZodType>(payload: T) =>
  z.strictObject({
    id: z.string().min(1),
    payload,
    attempts: z.int().min(0),
    enqueued_at_ms: z.number(),
    available_at_ms: z.number(),
    /** Was leased when exported; restored as waiting (its lease belonged to a process that is gone). */
    leased: z.boolean(),
  });
const QueueDumpSchema = <T extends z.ZodType>(payload: T) => z.array(z.strictObject({ queue: z.string().min(1), items: z.array(QueueItemSchema(payload)) }));

const CountsSchema = z.strictObject({
  campaigns: z.int().min(0),
  tasks: z.int().min(0),
  audit: z.int().min(0),
  idempotency_keys: z.int().min(0),
  queue_items: z.int().min(0),
  persona_cache: z.int().min(0),
  run_events: z.int().min(0),
});
/** How many records of each kind a snapshot (or a store) holds. */
export type SnapshotCounts = z.infer<typeof CountsSchema>;

/** The snapshot document, version 1; `counts` must match what it holds. */
export const SnapshotSchema = z
  .strictObject({
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
    run: z
      .strictObject({
        header: z.looseObject({ run_id: z.string().min(1), seed: z.number(), created_at: z.string() }),
        progress: z.strictObject({ step: z.int(), tick: z.int(), clock_ms: z.number() }),
      })
      .nullable(),
    run_events: z.array(z.looseObject({ step: z.int() })),
  })
  .superRefine((s, ctx) => {
    const actual = countsOf(s);
    for (const k of Object.keys(actual) as (keyof SnapshotCounts)[]) {
      if (s.counts[k] !== actual[k]) {
        ctx.addIssue({ code: 'custom', path: ['counts', k], message: `says ${s.counts[k]} but the snapshot holds ${actual[k]}` });
      }
    }
  });
/** A parsed, valid snapshot. */
export type Snapshot = z.infer<typeof SnapshotSchema>;
type DumpItem = Omit<Snapshot['queues']['task'][number]['items'][number], 'payload'> & { payload: unknown };

/** What a backend may offer beyond its ports so a snapshot is complete (the SQLite adapters do). */
interface StateExtras {
  listIdempotencyKeys?: () => Promise<string[]>;
}
interface QueueExtras {
  restore?: (queue: string, items: readonly QueueItem<unknown>[]) => Promise<number>;
}

/** Reports progress: what is being copied, how many of how many. */
export type SnapshotProgress = (what: string, done: number, total: number) => void;

function countsOf(s: Pick<Snapshot, 'campaigns' | 'tasks' | 'audit' | 'idempotency_keys' | 'queues' | 'persona_cache' | 'run_events'>): SnapshotCounts {
  const items = (d: { items: unknown[] }[]) => d.reduce((n, q) => n + q.items.length, 0);
  return {
    campaigns: s.campaigns.length,
    tasks: s.tasks.length,
    audit: s.audit.length,
    idempotency_keys: s.idempotency_keys?.length ?? 0,
    queue_items: items(s.queues.task) + items(s.queues.review),
    persona_cache: Object.keys(s.persona_cache).length,
    run_events: s.run_events.length,
  };
}

async function dumpQueue(q: WorkQueue<unknown>): Promise<{ queue: string; items: DumpItem[] }[]> {
  const out: { queue: string; items: DumpItem[] }[] = [];
  for (const name of await q.queues()) {
    const d = await q.depth(name);
    const leased = (await q.leased(name, d.leased)).map((l) => l.item);
    const waiting = await q.peek(name, d.ready + d.delayed);
    const item = (i: QueueItem<unknown>, isLeased: boolean): DumpItem => ({
      id: i.id,
      payload: i.payload,
      attempts: i.attempts,
      enqueued_at_ms: i.enqueued_at_ms,
      available_at_ms: i.available_at_ms,
      leased: isLeased,
    });
    out.push({ queue: name, items: [...leased.map((i) => item(i, true)), ...waiting.map((i) => item(i, false))] });
  }
  return out;
}

/** Reads the whole state behind `ports` into a snapshot. */
export async function exportSnapshot(ports: RawPorts, backend: string, onProgress: SnapshotProgress = () => {}): Promise<Snapshot> {
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
  const idempotency_keys = stateExtras.listIdempotencyKeys ? await stateExtras.listIdempotencyKeys() : null;
  const queues = {
    task: (await dumpQueue(ports.taskQueue as WorkQueue<unknown>)) as unknown as Snapshot['queues']['task'],
    review: (await dumpQueue(ports.reviewQueue as WorkQueue<unknown>)) as unknown as Snapshot['queues']['review'],
  };
  const persona_cache: Record<string, Record<string, string>> = {};
  for (const id of await ports.personaCache.list()) {
    const traits = await ports.personaCache.get(id);
    if (traits) persona_cache[id] = traits;
  }
  const run = await ports.runLog.loadRun();
  const run_events = run ? ((await ports.runLog.readEvents(Number.MIN_SAFE_INTEGER)) as Snapshot['run_events']) : [];
  onProgress('run events', run_events.length, run_events.length);
  const body = { campaigns, tasks, audit, idempotency_keys, queues, persona_cache, run_events };
  const head = audit.at(-1);
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    source: { backend },
    counts: countsOf(body),
    audit_head: head ? { seq: head.seq, hash: head.hash } : null,
    ...body,
    run: run ? { header: run.header as unknown as NonNullable<Snapshot['run']>['header'], progress: run.progress } : null,
  };
}

/** Parses snapshot text: not JSON, a wrong shape, wrong counts or a broken chain are ValidationErrors naming `where`. */
export function parseSnapshot(text: string, where: string): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (raw && typeof raw === 'object' && (raw as { format?: unknown }).format !== SNAPSHOT_FORMAT) {
    throw new ValidationError(`${where} is not a Chimera snapshot (expected "format": "${SNAPSHOT_FORMAT}")`);
  }
  if (raw && typeof raw === 'object' && (raw as { version?: unknown }).version !== SNAPSHOT_VERSION) {
    throw new ValidationError(`${where} is snapshot version ${String((raw as { version?: unknown }).version)}; this build reads version ${SNAPSHOT_VERSION}`);
  }
  const r = SnapshotSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(`${where} is not a valid snapshot: ${formatIssues(r.error)}`, r.error.issues);
  const chain = verifyAuditChain(r.data.audit);
  if (!chain.ok) throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${where}: the audit chain is broken at seq ${chain.broken_at}: ${chain.reason}`);
  const head = r.data.audit.at(-1);
  if ((head?.hash ?? null) !== (r.data.audit_head?.hash ?? null)) {
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

async function restoreQueue(q: WorkQueue<unknown>, dump: Snapshot['queues']['task' | 'review'], now_ms: number): Promise<void> {
  const extras = q as unknown as QueueExtras;
  for (const { queue, items } of dump) {
    // a lease in a snapshot belongs to a process that is gone: the item comes back as redelivered
    const restored: QueueItem<unknown>[] = items.map((i) => ({
      id: i.id,
      payload: i.payload,
      attempts: i.leased ? i.attempts + 1 : i.attempts,
      enqueued_at_ms: i.enqueued_at_ms,
      available_at_ms: i.available_at_ms,
    }));
    if (extras.restore) {
      await extras.restore(queue, restored);
      continue;
    }
    for (const i of restored) {
      await q.enqueue(queue, [{ id: i.id, payload: i.payload }], { delay_ms: Math.max(0, i.available_at_ms - now_ms) });
    }
  }
}

/** Writes a snapshot into empty ports and checks the result; returns the target's counts. */
export async function importSnapshot(
  ports: RawPorts,
  snap: Snapshot,
  opts: { where: string; now_ms: number; onProgress?: SnapshotProgress },
): Promise<SnapshotCounts> {
  const progress = opts.onProgress ?? (() => {});
  await assertEmpty(ports, opts.where);
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
  if (snap.run) {
    await ports.runLog.startRun(snap.run.header as never, snap.run.progress);
    for (let i = 0; i < snap.run_events.length; i += 5 * BATCH) {
      await ports.runLog.append(snap.run_events.slice(i, i + 5 * BATCH), snap.run.progress);
      progress('run events', Math.min(i + 5 * BATCH, snap.run_events.length), snap.run_events.length);
    }
  }
  return verifyImport(ports, snap, opts.where);
}

/** Re-reads the target: every count must match the snapshot, and the audit chain must verify up to the same head. */
export async function verifyImport(ports: RawPorts, snap: Snapshot, where: string): Promise<SnapshotCounts> {
  const back = await exportSnapshot(ports, 'target');
  const got = back.counts;
  const want = { ...snap.counts, idempotency_keys: back.idempotency_keys === null ? 0 : snap.counts.idempotency_keys };
  const off = (Object.keys(want) as (keyof SnapshotCounts)[]).filter((k) => want[k] !== got[k]);
  if (off.length) {
    throw new ChimeraError('INTERNAL', `${where}: after import ${off.map((k) => `${k} is ${got[k]}, expected ${want[k]}`).join('; ')}`);
  }
  const chain = verifyAuditChain(back.audit);
  if (!chain.ok) throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${where}: after import the audit chain is broken at seq ${chain.broken_at}: ${chain.reason}`);
  if ((back.audit_head?.hash ?? null) !== (snap.audit_head?.hash ?? null)) {
    throw new ChimeraError('AUDIT_CHAIN_BROKEN', `${where}: after import the audit head differs from the snapshot's`);
  }
  return got;
}
