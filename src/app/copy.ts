/**
 * Copying a whole state from one store to another (`chimera copy FROM TO`): campaigns, tasks
 * with their outputs, the audit chains (every sealed event with its seq, chain_seq and hash),
 * idempotency keys, both queue spaces (items with their attempts and times; a lease becomes the
 * redelivery it would be), the persona cache, persona memories where both sides keep them, and
 * the run (header, progress, events).
 *
 * Streaming: sections are read from the source a page at a time (STATE_PAGE rows; tasks and
 * idempotency keys by keyset, so the thousandth page costs what the first does) and written to the
 * target a page at a time, each page one unit of work; nothing holds the whole state, and the
 * event loop gets a turn after every page (the app serves requests while a copy runs).
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
 * target must verify. Persona memories are compared where both sides keep them; a side that keeps
 * none a copy can read (production without Weaviate: each process's own, for its run) says why,
 * and the result says they were not compared.
 *
 * Progress: the source's counts are read first (the plan), so every report carries the section's
 * numbers and the whole copy's (copying, then verifying both sides). A copy can be cancelled
 * (an AbortSignal) between pages: what it committed stays, and running it again resumes.
 */
import { canonicalJson } from '../domain/canonical-json.ts';
import { ChimeraError, ValidationError } from '../domain/errors.ts';
import type { AuditEvent, Task } from '../domain/schemas.ts';
import type { MemoryRecord } from '../ports/persona-memory.ts';
import type { QueueItem, WorkQueue } from '../ports/queue.ts';
import type { MemoryRows } from '../config/snapshot-files.ts';
import { countKeys, digestState, dumpOneQueue, keysAfter, listsKeys, STATE_PAGE, tasksAfter, turn, type StateDigest, type StatePorts } from './state-digest.ts';

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
  /** Why it keeps none (said in the result's notes). */
  readonly memoriesNote?: string;
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

/** The copy was cancelled between two pages: what it committed stays, and running it again resumes. */
export class CopyCancelledError extends Error {
  constructor(readonly pages: number) {
    super(`the copy was cancelled after ${pages} committed pages; start the same copy again to resume it`);
    this.name = 'CopyCancelledError';
  }
}

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

/** What a progress report says. */
export interface CopyProgress {
  /** Copying the sections, then verifying (digesting the source, then the target). */
  readonly phase: 'copy' | 'verify';
  /** The section being copied or digested (`tasks`, `audit`, `queues.task`, …). */
  readonly section: string;
  /** In the verify phase: the side being digested. */
  readonly side: 'source' | 'target' | null;
  /** Records of the section the target holds (copy) or digested so far (verify), and of how many. */
  readonly done: number;
  readonly total: number;
  /** The same over the whole copy: every section copied, then both sides digested. */
  readonly overall_done: number;
  readonly overall_total: number;
}

export interface CopyOptions {
  /** Told where the copy stands after every page. */
  readonly onProgress?: (p: CopyProgress) => void;
  /** Called once the target is accepted (empty, or this copy's to resume), before anything is written. */
  readonly onStarted?: (s: { resumed: boolean; already_finished: boolean }) => void;
  /** Called after every page the copy committed (a test's kill point). */
  readonly afterPage?: (section: string, pages: number) => void;
  /** Stops the copy at the next page boundary (CopyCancelledError). */
  readonly signal?: AbortSignal;
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
  /** The source's whole-state digest: equal to `digest` unless a section was left out of the comparison (persona memories one side does not keep). */
  readonly source_digest: string;
  readonly digests_equal: boolean;
  readonly sections: Readonly<Record<string, string>>;
  /** Sections one side could not list (digested as empty; not compared). */
  readonly unlisted: readonly string[];
  /** Persona memories were compared (both sides keep them). */
  readonly memories_compared: boolean;
  /** Audit chains of the target, every one verified link by link. */
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

/** How many items a queue space holds (waiting, delayed and leased). */
async function queueItems(q: WorkQueue<unknown>): Promise<number> {
  let n = 0;
  for (const name of await q.queues()) {
    const d = await q.depth(name);
    n += d.ready + d.delayed + d.leased;
  }
  return n;
}

/** The source's counts, per section: what the progress reports count against. */
interface Plan {
  readonly totals: Record<CopySection, number>;
  /** Records a digest of one side reads. */
  readonly digestTotal: number;
}

async function planOf(src: StatePorts, campaigns: number, memories: readonly MemoryRecord[] | null): Promise<Plan> {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const totals: Record<CopySection, number> = {
    campaigns,
    tasks: sum(await src.state.countTasks()),
    audit: (await src.state.auditHead())?.seq ?? 0,
    idempotency_keys: await countKeys(src),
    'queues.task': await queueItems(src.taskQueue as WorkQueue<unknown>),
    'queues.review': await queueItems(src.reviewQueue as WorkQueue<unknown>),
    persona_cache: (await src.personaCache.list()).length,
    persona_memories: memories?.length ?? 0,
    run: 0,
    run_events: await src.runLog.countEvents(),
  };
  return { totals, digestTotal: sum(totals) };
}

/** Keeps where the copy stands and tells onProgress. */
class Reporter {
  private readonly done = new Map<string, number>();
  private base = 0;
  private phase: CopyProgress['phase'] = 'copy';
  private side: CopyProgress['side'] = null;
  constructor(
    private readonly plan: Plan,
    private readonly fn: (p: CopyProgress) => void,
  ) {}

  private get total(): number {
    return this.plan.digestTotal * 3;
  }

  /** The section's records done so far in the current phase (and side). */
  report(section: string, done: number, total: number): void {
    this.done.set(section, done);
    let sum = this.base;
    for (const n of this.done.values()) sum += n;
    this.fn({ phase: this.phase, section, side: this.side, done, total, overall_done: Math.min(sum, this.total), overall_total: this.total });
  }

  /** Goes on to digesting a side: what came before counts whole. */
  verify(side: 'source' | 'target'): void {
    this.phase = 'verify';
    this.side = side;
    this.base = side === 'source' ? this.plan.digestTotal : this.plan.digestTotal * 2;
    this.done.clear();
  }
}

/**
 * Copies the state of `from` into `to` (empty, or holding the same copy from an earlier run),
 * then verifies it. Throws CopyRefusedError before writing anything into a target that holds
 * something else, CopyVerificationError when the two sides differ afterwards, CopyCancelledError
 * when `signal` stopped it.
 */
export async function copyState(from: CopyEndpoint, to: CopyEndpoint, opts: CopyOptions = {}): Promise<CopyResult> {
  const PAGE = opts.pageSize ?? STATE_PAGE;
  const now = opts.now ?? (() => new Date());
  const src = from.ports;
  const dst = to.ports;
  const notes: string[] = [];
  const written: Record<string, number> = Object.fromEntries(COPY_SECTIONS.map((s) => [s, 0]));
  let pages = 0;
  const checkCancelled = () => {
    if (opts.signal?.aborted) throw new CopyCancelledError(pages);
  };

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
  opts.onStarted?.({ resumed, already_finished });

  // the source's memories are listed whole (the stores list them so): read once, for the plan and the copy
  const memories: readonly MemoryRecord[] | null = from.memories ? await from.memories.read() : null;
  const campaigns = await src.state.listCampaigns();
  const plan = await planOf(src, campaigns.length, memories);
  const reporter = new Reporter(plan, opts.onProgress ?? (() => {}));
  const progress = (section: CopySection, done: number) => reporter.report(section, done, plan.totals[section]);

  const pageDone = async (section: CopySection, done: number, last?: string | number) => {
    // a turn of the event loop: a store that commits in batches when the process goes idle (SQLite) commits the page now,
    // so what it holds in memory stays one page and a kill loses at most the page in flight; and a process serving requests serves them
    await turn();
    record.sections[section] = last === undefined ? { done } : { done, last };
    await to.progress?.write(record);
    opts.afterPage?.(section, ++pages);
    progress(section, done);
    checkCancelled();
  };

  if (!already_finished) {
    // campaigns: the ones the target lacks, in the source's order
    const have = new Set((await dst.state.listCampaigns()).map((c) => c.id));
    const missing = campaigns.filter((c) => !have.has(c.id));
    let done = have.size;
    progress('campaigns', done);
    for (let i = 0; i < missing.length; i += PAGE) {
      const batch = missing.slice(i, i + PAGE);
      await dst.state.transaction(async (tx) => {
        for (const c of batch) await tx.insertCampaign(c);
      });
      done += batch.length;
      written.campaigns = (written.campaigns ?? 0) + batch.length;
      await pageDone('campaigns', done, (batch.at(-1) as { id: string }).id);
    }

    // tasks: the target holds the first n in (created_at, id) order; go on after the last of them
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    let tasksDone = sum(await dst.state.countTasks());
    let after: Task | null = tasksDone > 0 ? ((await dst.state.listTasks({ limit: 1, offset: tasksDone - 1 }))[0] ?? null) : null;
    progress('tasks', tasksDone);
    for (;;) {
      const batch = await tasksAfter(src, after, PAGE);
      if (!batch.length) break;
      await dst.state.transaction((tx) => tx.insertTasks(batch));
      tasksDone += batch.length;
      written.tasks = (written.tasks ?? 0) + batch.length;
      after = batch.at(-1) as Task;
      await pageDone('tasks', tasksDone, after.id);
      if (batch.length < PAGE) break;
    }

    // audit: sealed events after the target's head, re-sealed in the target: each must come out with its seq, chain_seq and hash
    let afterSeq = (await dst.state.auditHead())?.seq ?? 0;
    progress('audit', afterSeq);
    for (;;) {
      const batch: AuditEvent[] = await src.state.readAudit({ after_seq: afterSeq, limit: PAGE });
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
      afterSeq = (batch.at(-1) as AuditEvent).seq;
      written.audit = (written.audit ?? 0) + batch.length;
      await pageDone('audit', afterSeq, afterSeq);
      if (batch.length < PAGE) break;
    }

    // idempotency keys: in key order, a page at a time; the target holds a prefix, the record says how far
    // (claiming a key again changes nothing, so a record a page behind costs one page)
    if (!listsKeys(src)) {
      notes.push(`idempotency keys were not copied: ${from.label} cannot list them`);
    } else {
      const last = record.sections.idempotency_keys?.last;
      let afterKey = typeof last === 'string' ? last : null;
      let keysDone = listsKeys(dst) ? await countKeys(dst) : (record.sections.idempotency_keys?.done ?? 0);
      progress('idempotency_keys', keysDone);
      for (;;) {
        const batch = await keysAfter(src, afterKey, PAGE);
        if (!batch.length) break;
        let fresh = 0;
        await dst.state.transaction(async (tx) => {
          fresh = 0;
          for (const k of batch) if (await tx.claimIdempotencyKey(k)) fresh += 1;
        });
        keysDone += fresh;
        written.idempotency_keys = (written.idempotency_keys ?? 0) + fresh;
        afterKey = batch.at(-1) as string;
        await pageDone('idempotency_keys', keysDone, afterKey);
        if (batch.length < PAGE) break;
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
      progress(section, items);
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
      if (cached % PAGE === 0 || cached === ids.length) await pageDone('persona_cache', cached, id);
    }
    written.persona_cache = cached;

    // persona memories, where both sides keep them (upserted by id)
    const write = to.memories?.write?.bind(to.memories);
    if (memories && memories.length && write) {
      const sorted = [...memories].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (let i = 0; i < sorted.length; i += PAGE) {
        await write(sorted.slice(i, i + PAGE));
        written.persona_memories = Math.min(i + PAGE, sorted.length);
        await pageDone('persona_memories', written.persona_memories);
      }
    }

    // the run: its header and progress, then its events after the ones the target holds
    const run = await src.runLog.loadRun();
    if (run) {
      if (!(await dst.runLog.loadRun())) {
        await dst.runLog.startRun(run.header, run.progress);
        written.run = 1;
      }
      let skip = await dst.runLog.countEvents();
      let done = skip;
      progress('run_events', done);
      for (let afterEvent = 0; ; ) {
        const rows = await src.runLog.readEventsAfter(afterEvent, PAGE);
        if (!rows.length) break;
        afterEvent = (rows.at(-1) as { seq: number }).seq;
        const fresh = rows.slice(Math.min(skip, rows.length));
        skip = Math.max(0, skip - rows.length);
        if (fresh.length) {
          await dst.runLog.append(
            fresh.map((r) => r.event),
            run.progress,
          );
          done += fresh.length;
          written.run_events = (written.run_events ?? 0) + fresh.length;
          await pageDone('run_events', done, afterEvent);
        }
        if (rows.length < PAGE) break;
      }
    }
  }
  // persona memories one side does not keep: said, not passed over
  if (!from.memories) {
    if (from.memoriesNote) notes.push(from.memoriesNote);
  } else if (!to.memories?.write) {
    const why = to.memoriesNote ?? `${to.label} has no persona memory a copy can write`;
    if (memories?.length) notes.push(`${memories.length} persona memories were not copied: ${why}`);
    else if (to.memoriesNote) notes.push(to.memoriesNote);
  }

  // verification: the same digest on both sides, and every chain of the target
  const digestOf = async (side: 'source' | 'target', e: CopyEndpoint) => {
    reporter.verify(side);
    return digestState(e.ports, e.memories ?? null, 'copy', (section, done) => {
      reporter.report(section, done, plan.totals[section as CopySection] ?? done);
      checkCancelled();
    });
  };
  const a = await digestOf('source', from);
  const b = await digestOf('target', to);
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
  return {
    source: from.label,
    target: to.label,
    resumed,
    already_finished,
    written,
    counts: b.counts,
    digest,
    source_digest: a.whole,
    digests_equal: a.whole === b.whole,
    sections: b.sections,
    unlisted: [...skip].sort(),
    memories_compared: !skip.has('persona_memories'),
    chains: b.chains,
    notes,
  };
}
