/**
 * Copying a whole state from one store to another (`chimera copy FROM TO`): campaigns, tasks
 * with their outputs, the audit chains (every sealed event with its seq, chain_seq and hash),
 * idempotency keys, both queue spaces (items with their attempts and times; a lease becomes the
 * redelivery it would be), the persona cache, persona memories where both sides keep them, and
 * the run (header, progress, events).
 *
 * Streaming: sections are read from the source a page at a time (STATE_PAGE rows) and written
 * to the target a page at a time, each page one unit of work; nothing holds the whole state.
 *
 * Resumable and idempotent: every section is written in the source's own order (campaigns,
 * tasks by (created_at, id), audit events by seq, keys sorted, run events in append order), one
 * page per unit of work, so after a kill the target holds a prefix of each section; a re-run
 * reads where the target stands (its task count, its audit head, its event count, …) and goes on
 * from there, and what is written twice (queue items, cached personas, memories) is written by
 * id, so writing it again changes nothing. The target keeps a progress record (the source's
 * identity and audit head, each section's count, whether it finished) beside its state: a re-run
 * of the same copy resumes, a finished one only verifies again, and a target holding anything
 * else is refused.
 *
 * Verified at the end: both sides are digested the same way (src/app/state-digest.ts, a
 * snapshot's section digests) and must match section by section, and every audit chain of the
 * target must verify.
 */
import { canonicalJson } from '../domain/canonical-json.ts';
import { ChimeraError, ValidationError } from '../domain/errors.ts';
import type { AuditEvent, Task } from '../domain/schemas.ts';
import type { MemoryRecord } from '../ports/persona-memory.ts';
import type { QueueItem, WorkQueue } from '../ports/queue.ts';
import type { MemoryRows } from '../config/snapshot-files.ts';
import { digestState, dumpOneQueue, listKeys, STATE_PAGE, type StateDigest, type StatePorts } from './state-digest.ts';

export type { StatePorts } from './state-digest.ts';

/** Where a copy keeps its record in the target. */
export interface CopyProgressStore {
  read(): Promise<unknown>;
  write(record: CopyRecord): Promise<void>;
}

/** One side of a copy. */
export interface CopyEndpoint {
  /** How messages name it (`sqlite:/path/chimera.db`, `production (…)`, `memory`). */
  readonly label: string;
  readonly ports: StatePorts;
  /** Its persona memories with their vectors; null or absent: it keeps none a copy can read or write. */
  readonly memories?: MemoryRows | null;
  /** The target's progress record (a target without one cannot resume). */
  readonly progress?: CopyProgressStore;
}

/** The record a copy keeps in its target. */
export interface CopyRecord {
  readonly format: 'chimera-copy';
  readonly version: 1;
  /** The source's label and its audit head when the copy began: the copy's identity. */
  readonly source: string;
  readonly source_head: { seq: number; hash: string } | null;
  readonly started_at: string;
  finished_at: string | null;
  /** Per section: how many records the target holds of it, and the last key written. */
  sections: Record<string, { done: number; last?: string | number }>;
  /** The state digest both sides gave, once verified. */
  digest?: string;
}

/** The copy's sections, in the order they are written. */
export const COPY_SECTIONS = ['campaigns', 'tasks', 'audit', 'idempotency_keys', 'queues.task', 'queues.review', 'persona_cache', 'persona_memories', 'run', 'run_events'] as const;
export type CopySection = (typeof COPY_SECTIONS)[number];

/** The target holds something else: nothing was written (exit 2 in the CLI). */
export class CopyRefusedError extends ValidationError {}

/** The copy finished but the two sides differ, or the target's chains do not verify (exit 1 in the CLI). */
export class CopyVerificationError extends Error {
  constructor(
    message: string,
    readonly sections: readonly string[],
  ) {
    super(message);
    this.name = 'CopyVerificationError';
  }
}

export interface CopyOptions {
  /** Told the section being written, how many of it the target holds, and of how many. */
  readonly onProgress?: (section: string, done: number, total: number) => void;
  /** Called after every page the copy committed (a test's kill point). */
  readonly afterPage?: (section: string, pages: number) => void;
  /** Rows per page (default STATE_PAGE). */
  readonly pageSize?: number;
  /** The time the record says (default: now). */
  readonly now?: () => Date;
}

export interface CopyResult {
  readonly source: string;
  readonly target: string;
  /** The copy went on from a record an earlier run left. */
  readonly resumed: boolean;
  /** The copy had finished before: nothing was written, only verified again. */
  readonly already_finished: boolean;
  /** Records written by this run, per section. */
  readonly written: Record<string, number>;
  /** What the target holds after the copy. */
  readonly counts: StateDigest['counts'];
  /** The target's whole-state digest (a snapshot's whole digest with source backend "copy"); every section compared equals the source's. */
  readonly digest: string;
  readonly sections: Readonly<Record<string, string>>;
  /** Sections one side could not list (digested as empty; not compared). */
  readonly unlisted: readonly string[];
  readonly chains: number;
  /** What was not copied and why. */
  readonly notes: readonly string[];
}

const isRecord = (x: unknown): x is CopyRecord => !!x && typeof x === 'object' && (x as { format?: unknown }).format === 'chimera-copy';

/** What a store holds, for the refusal message (empty: it holds nothing). */
export async function holdings(ports: StatePorts, memories?: MemoryRows | null): Promise<string[]> {
  const held: string[] = [];
  const c = (await ports.state.listCampaigns()).length;
  if (c) held.push(`${c} campaigns`);
  if ((await ports.state.listTasks({ limit: 1 })).length) held.push('tasks');
  if (await ports.state.auditHead()) held.push('audit events');
  if ((await ports.taskQueue.queues()).length || (await ports.reviewQueue.queues()).length) held.push('queue items');
  if ((await ports.personaCache.list()).length) held.push('cached personas');
  if (await ports.runLog.loadRun()) held.push('a run');
  if (memories && (await memories.read()).length) held.push('persona memories');
  return held;
}

interface QueueExtras {
  restore?: (queue: string, items: readonly QueueItem<unknown>[]) => Promise<number>;
}

/**
 * Copies the state of `from` into `to` (empty, or holding the same copy from an earlier run),
 * then verifies it. Throws CopyRefusedError before writing anything into a target that holds
 * something else, CopyVerificationError when the two sides differ afterwards.
 */
export async function copyState(from: CopyEndpoint, to: CopyEndpoint, opts: CopyOptions = {}): Promise<CopyResult> {
  const PAGE = opts.pageSize ?? STATE_PAGE;
  const now = opts.now ?? (() => new Date());
  const progress = opts.onProgress ?? (() => {});
  const src = from.ports;
  const dst = to.ports;
  const notes: string[] = [];
  const written: Record<string, number> = Object.fromEntries(COPY_SECTIONS.map((s) => [s, 0]));

  const srcHead = await src.state.auditHead();
  const head = srcHead ? { seq: srcHead.seq, hash: srcHead.hash } : null;
  const found = to.progress ? await to.progress.read() : null;
  let record: CopyRecord;
  let resumed = false;
  if (found !== null && found !== undefined) {
    if (!isRecord(found)) throw new CopyRefusedError(`${to.label} holds a copy record this build does not read; copy into an empty target`);
    if (found.source !== from.label) throw new CopyRefusedError(`${to.label} holds a copy of ${found.source}, not of ${from.label}; copy into an empty target`);
    if (canonicalJson(found.source_head) !== canonicalJson(head)) {
      throw new CopyRefusedError(`${to.label} holds a copy of ${from.label} begun when its audit head was ${found.source_head?.seq ?? 'empty'}; the source has changed since (head ${head?.seq ?? 'empty'}); copy into an empty target`);
    }
    record = found;
    resumed = true;
  } else {
    const held = await holdings(dst, to.memories);
    if (held.length) throw new CopyRefusedError(`${to.label} is not empty (it holds ${held.join(', ')}); copy into an empty target`);
    record = { format: 'chimera-copy', version: 1, source: from.label, source_head: head, started_at: now().toISOString(), finished_at: null, sections: {} };
    await to.progress?.write(record);
  }
  const already_finished = record.finished_at !== null;
  let pages = 0;
  const pageDone = async (section: CopySection, done: number, last?: string | number) => {
    // a turn of the event loop: a store that commits in batches when the process goes idle (SQLite) commits the page now,
    // so what it holds in memory stays one page and a kill loses at most the page in flight
    await new Promise<void>((resolve) => setImmediate(resolve));
    record.sections[section] = last === undefined ? { done } : { done, last };
    await to.progress?.write(record);
    opts.afterPage?.(section, ++pages);
  };

  if (!already_finished) {
    // campaigns: the ones the target lacks, in the source's order
    const campaigns = await src.state.listCampaigns();
    const have = new Set((await dst.state.listCampaigns()).map((c) => c.id));
    const missing = campaigns.filter((c) => !have.has(c.id));
    let done = have.size;
    progress('campaigns', done, campaigns.length);
    for (let i = 0; i < missing.length; i += PAGE) {
      const batch = missing.slice(i, i + PAGE);
      await dst.state.transaction(async (tx) => {
        for (const c of batch) await tx.insertCampaign(c);
      });
      done += batch.length;
      written.campaigns = (written.campaigns ?? 0) + batch.length;
      progress('campaigns', done, campaigns.length);
      await pageDone('campaigns', done, (batch.at(-1) as { id: string }).id);
    }

    // tasks: the target holds the first n in (created_at, id) order; go on after them
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    const totalTasks = sum(await src.state.countTasks());
    let tasksDone = sum(await dst.state.countTasks());
    progress('tasks', tasksDone, totalTasks);
    for (;;) {
      const batch: Task[] = await src.state.listTasks({ limit: PAGE, offset: tasksDone });
      if (!batch.length) break;
      await dst.state.transaction((tx) => tx.insertTasks(batch));
      tasksDone += batch.length;
      written.tasks = (written.tasks ?? 0) + batch.length;
      progress('tasks', tasksDone, totalTasks);
      await pageDone('tasks', tasksDone, (batch.at(-1) as Task).id);
      if (batch.length < PAGE) break;
    }

    // audit: sealed events after the target's head, re-sealed in the target: each must come out with its seq, chain_seq and hash
    let after = (await dst.state.auditHead())?.seq ?? 0;
    const totalAudit = head?.seq ?? 0;
    progress('audit', after, totalAudit);
    for (;;) {
      const batch: AuditEvent[] = await src.state.readAudit({ after_seq: after, limit: PAGE });
      if (!batch.length) break;
      await dst.state.transaction(async (tx) => {
        for (const e of batch) {
          const { seq: _seq, prev_hash: _prev, hash, ...draft } = e;
          const sealed = await tx.appendAudit(draft);
          if (sealed.hash !== hash || sealed.seq !== e.seq || sealed.chain_seq !== e.chain_seq) {
            throw new ChimeraError(
              'AUDIT_CHAIN_BROKEN',
              `${to.label}: audit event ${e.seq} (place ${e.chain_seq} of its chain) was sealed as seq ${sealed.seq}, place ${sealed.chain_seq}${sealed.hash !== hash ? ', with another hash' : ''}; nothing of this page was kept`,
            );
          }
        }
      });
      after = (batch.at(-1) as AuditEvent).seq;
      written.audit = (written.audit ?? 0) + batch.length;
      progress('audit', after, totalAudit);
      await pageDone('audit', after, after);
      if (batch.length < PAGE) break;
    }

    // idempotency keys: sorted; the target holds a prefix (claiming one again changes nothing)
    const keys = await listKeys(src);
    if (keys === null) {
      notes.push(`idempotency keys were not copied: ${from.label} cannot list them`);
    } else {
      const haveKeys = (await listKeys(dst))?.length ?? 0;
      progress('idempotency_keys', haveKeys, keys.length);
      for (let i = haveKeys; i < keys.length; i += PAGE) {
        const batch = keys.slice(i, i + PAGE);
        await dst.state.transaction(async (tx) => {
          for (const k of batch) await tx.claimIdempotencyKey(k);
        });
        written.idempotency_keys = (written.idempotency_keys ?? 0) + batch.length;
        progress('idempotency_keys', i + batch.length, keys.length);
        await pageDone('idempotency_keys', i + batch.length, batch.at(-1));
      }
    }

    // queues: one at a time, restored by id (an item already there is skipped)
    for (const [space, sq, dq] of [
      ['task', src.taskQueue, dst.taskQueue],
      ['review', src.reviewQueue, dst.reviewQueue],
    ] as const) {
      const section = `queues.${space}` as CopySection;
      const restore = (dq as unknown as QueueExtras).restore?.bind(dq);
      if (!restore) notes.push(`${to.label}'s ${space} queue cannot restore items as they were: they were enqueued anew (attempts and times not kept)`);
      let items = 0;
      for (const name of [...(await sq.queues())].sort()) {
        const all = await dumpOneQueue(sq as WorkQueue<unknown>, name);
        for (let i = 0; i < all.length; i += PAGE) {
          const batch = all.slice(i, i + PAGE);
          if (restore) {
            written[section] = (written[section] ?? 0) + (await restore(name, batch));
          } else {
            for (const it of batch) written[section] = (written[section] ?? 0) + (await (dq as WorkQueue<unknown>).enqueue(name, [{ id: it.id, payload: it.payload }]));
          }
          items += batch.length;
          progress(section, items, items);
        }
        await pageDone(section, items, name);
      }
    }

    // the persona cache, by id
    const ids = await src.personaCache.list();
    let cached = 0;
    for (const id of ids) {
      const traits = await src.personaCache.get(id);
      if (traits) await dst.personaCache.set(id, traits);
      cached += 1;
      if (cached % PAGE === 0 || cached === ids.length) {
        progress('persona_cache', cached, ids.length);
        await pageDone('persona_cache', cached, id);
      }
    }
    written.persona_cache = cached;

    // persona memories, where both sides keep them (upserted by id)
    if (from.memories) {
      const rows: readonly MemoryRecord[] = await from.memories.read();
      if (rows.length && !to.memories?.write) {
        notes.push(`${rows.length} persona memories were not copied: ${to.label} has no persona memory a copy can write`);
      } else if (rows.length && to.memories?.write) {
        const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        for (let i = 0; i < sorted.length; i += PAGE) {
          await to.memories.write(sorted.slice(i, i + PAGE));
          written.persona_memories = Math.min(i + PAGE, sorted.length);
          progress('persona_memories', written.persona_memories, sorted.length);
          await pageDone('persona_memories', written.persona_memories);
        }
      }
    }

    // the run: its header and progress, then its events after the ones the target holds
    const run = await src.runLog.loadRun();
    if (run) {
      if (!(await dst.runLog.loadRun())) {
        await dst.runLog.startRun(run.header, run.progress);
        written.run = 1;
      }
      const total = await src.runLog.countEvents();
      let skip = await dst.runLog.countEvents();
      let done = skip;
      progress('run_events', done, total);
      for (let afterSeq = 0; ; ) {
        const rows = await src.runLog.readEventsAfter(afterSeq, PAGE);
        if (!rows.length) break;
        afterSeq = (rows.at(-1) as { seq: number }).seq;
        const fresh = rows.slice(Math.min(skip, rows.length));
        skip = Math.max(0, skip - rows.length);
        if (fresh.length) {
          await dst.runLog.append(
            fresh.map((r) => r.event),
            run.progress,
          );
          done += fresh.length;
          written.run_events = (written.run_events ?? 0) + fresh.length;
          progress('run_events', done, total);
          await pageDone('run_events', done, afterSeq);
        }
        if (rows.length < PAGE) break;
      }
    }
  }

  // verification: the same digest on both sides, and every chain of the target
  const [a, b] = [await digestState(src, from.memories ?? null, 'copy'), await digestState(dst, to.memories ?? null, 'copy')];
  const skip = new Set([...a.unlisted, ...b.unlisted]);
  const differ = Object.keys(a.sections).filter((s) => !skip.has(s) && a.sections[s] !== b.sections[s]);
  if (differ.length) {
    throw new CopyVerificationError(
      `after the copy, section ${differ.join(', ')} of ${to.label} ${differ.length === 1 ? 'differs' : 'differ'} from ${from.label} (source counts ${JSON.stringify(a.counts)}, target ${JSON.stringify(b.counts)})`,
      differ,
    );
  }
  if (b.chain_problem) throw new CopyVerificationError(`after the copy, an audit chain of ${to.label} does not verify: ${b.chain_problem}`, ['audit']);
  const digest = b.whole;
  if (record.finished_at === null) {
    record.finished_at = now().toISOString();
    record.digest = digest;
    await to.progress?.write(record);
  }
  return { source: from.label, target: to.label, resumed, already_finished, written, counts: b.counts, digest, sections: b.sections, unlisted: [...skip].sort(), chains: b.chains, notes };
}
