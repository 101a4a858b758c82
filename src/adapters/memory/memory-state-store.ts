/**
 * The in-memory state store: the seed's InMemoryState, and the reference model every other
 * backend is checked against. It follows the unit of work's specified model (read committed
 * + compare-and-set; `fn` may run more than once): a unit writes into an overlay, reads see
 * its own writes over what is committed, and the overlay is applied only when the callback
 * resolves, at once (synchronously), and only if nothing it wrote over changed since it read
 * it. Otherwise `fn` runs again on the new state (where a stale compare-and-set is then a
 * ConflictError). No lock is held while `fn` runs, so a unit that calls the store again
 * (re-entrantly) cannot deadlock, and two handles on one `MemoryStateData` (two processes on
 * one database, in miniature) check each other's writes exactly as one handle does.
 */
import { chainOf, sealAuditEvent, type ChainHead } from '../../domain/audit.ts';
import { ConflictError, DuplicateError, NotFoundError } from '../../domain/errors.ts';
import type { AuditDraft, AuditEvent, Campaign, CampaignStatus, Task, TaskStatus } from '../../domain/schemas.ts';

import type {
  AuditQuery,
  CampaignPatch,
  StateStore,
  StateTransaction,
  TaskPatch,
  TaskQuery,
} from '../../ports/state-store.ts';
import { byCreatedThenId, emptyStatusCounts, matchesTaskQuery } from '../shared/ordering.ts';

/** The committed state of one in-memory store; every handle opened on it shares it. */
export class MemoryStateData {
  readonly campaigns = new Map<string, Campaign>();
  readonly tasks = new Map<string, Task>();
  readonly keys = new Set<string>();
  readonly audit: AuditEvent[] = [];
  /** Each audit chain's head ('' is the run chain). */
  readonly heads = new Map<string, ChainHead>();
}

/**
 * How many times a unit of work runs before it gives up with a ConflictError. Each rerun means
 * another unit committed over what this one wrote, so with fewer than this many writers on the
 * same rows at once a unit always commits or fails on its own compare-and-set.
 */
export const MAX_UNIT_RUNS = 64;

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  readonly capabilities = Object.freeze({ transactions: true, durable: false });
  private closed = false;

  /** A handle on `data` (a fresh, empty store by default). */
  constructor(private readonly s: MemoryStateData = new MemoryStateData()) {}

  /** The committed state this handle works on, for readers over it (memory-readers.ts), which never write it. */
  get data(): MemoryStateData {
    return this.s;
  }

  async transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    for (let run = 1; ; run++) {
      const tx = new MemoryTx(this.s);
      const result = await fn(tx);
      this.assertOpen();
      if (tx.commitIfCurrent()) return result;
      if (run >= MAX_UNIT_RUNS) {
        throw new ConflictError(`unit of work: other units committed over its writes ${run} times in a row; giving up`);
      }
    }
  }


  async getCampaign(id: string): Promise<Campaign | null> {
    this.assertOpen();
    return this.s.campaigns.get(id) ?? null;
  }

  async listCampaigns(status?: CampaignStatus): Promise<Campaign[]> {
    this.assertOpen();
    const all = [...this.s.campaigns.values()].filter((c) => !status || c.status === status);
    return all.sort(byCreatedThenId);
  }

  async getTask(id: string): Promise<Task | null> {
    this.assertOpen();
    return this.s.tasks.get(id) ?? null;
  }

  async listTasks(query: TaskQuery = {}): Promise<Task[]> {
    this.assertOpen();
    const out = [...this.s.tasks.values()].filter((t) => matchesTaskQuery(t, query)).sort(byCreatedThenId);
    const offset = query.offset ?? 0;
    return out.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  }

  /** The recorded idempotency keys, sorted; a page of them after `page.after` (for export and copy; not part of the port). */
  async listIdempotencyKeys(page?: { after?: string | null; limit?: number }): Promise<string[]> {
    this.assertOpen();
    const all = [...this.s.keys].sort();
    if (!page) return all;
    const after = page.after ?? '';
    const from = all.findIndex((k) => k > after);
    return from < 0 ? [] : all.slice(from, page.limit === undefined ? undefined : from + page.limit);
  }

  /** How many idempotency keys are recorded (for copy; not part of the port). */
  async countIdempotencyKeys(): Promise<number> {
    this.assertOpen();
    return this.s.keys.size;
  }

  async countTasks(campaign_id?: string): Promise<Record<TaskStatus, number>> {
    this.assertOpen();
    const counts = emptyStatusCounts();
    for (const t of this.s.tasks.values()) if (!campaign_id || t.campaign_id === campaign_id) counts[t.status] += 1;
    return counts;
  }

  async readAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    this.assertOpen();
    const after = query.after_seq ?? 0;
    const out: AuditEvent[] = [];
    // seq n lives at index n-1
    if (query.limit !== undefined && query.limit <= 0) return out;
    for (let i = after; i < this.s.audit.length; i++) {
      const e = this.s.audit[i] as AuditEvent;
      if (query.campaign_id && e.campaign_id !== query.campaign_id) continue;
      out.push(e);
      if (query.limit !== undefined && out.length >= query.limit) break;
    }
    return out;
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    this.assertOpen();
    const last = this.s.audit.at(-1);
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  async auditHeads(): Promise<Record<string, ChainHead>> {
    this.assertOpen();
    return Object.fromEntries(this.s.heads);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('state store is closed');
  }
}


class MemoryTx implements StateTransaction {
  // overlays are made on first write: most units of work touch one or two of them
  private campaigns: Map<string, Campaign> | null = null;
  private tasks: Map<string, Task> | null = null;
  // a unit claims one key, if any: a list, not a Set
  private keys: string[] | null = null;
  private audit: AuditEvent[] | null = null;
  /** What each written campaign and task was when this unit first wrote it (undefined: absent). */
  // flat [id, row, id, row, …] lists: a unit writes one or two rows, and a list costs less than a Map
  private readCampaigns: (string | Campaign | undefined)[] | null = null;
  private readTasks: (string | Task | undefined)[] | null = null;
  /** Each audit chain this unit appended to: the committed head it chained after, and its own head now. */
  // [chain, committed head it chained after, its own head now, …]: most units append to one chain
  private chains: (string | ChainHead | undefined)[] | null = null;

  constructor(private readonly base: MemoryStateData) {}

  private writeCampaign(id: string, next: Campaign): void {
    const overlay = (this.campaigns ??= new Map());
    if (!overlay.has(id)) (this.readCampaigns ??= []).push(id, this.base.campaigns.get(id));
    overlay.set(id, next);
  }

  private writeTask(id: string, next: Task): void {
    const overlay = (this.tasks ??= new Map());
    if (!overlay.has(id)) (this.readTasks ??= []).push(id, this.base.tasks.get(id));
    overlay.set(id, next);
  }

  private campaign(id: string): Campaign | null {
    return this.campaigns?.get(id) ?? this.base.campaigns.get(id) ?? null;
  }

  private task(id: string): Task | null {
    return this.tasks?.get(id) ?? this.base.tasks.get(id) ?? null;
  }

  async getCampaign(id: string): Promise<Campaign | null> {
    return this.campaign(id);
  }

  async getTask(id: string): Promise<Task | null> {
    return this.task(id);
  }

  async campaignTasks(campaign_id: string): Promise<Task[]> {
    const all = new Map<string, Task>();
    for (const t of this.base.tasks.values()) if (t.campaign_id === campaign_id) all.set(t.id, t);
    if (this.tasks) for (const t of this.tasks.values()) if (t.campaign_id === campaign_id) all.set(t.id, t);
    return [...all.values()].sort(byCreatedThenId);
  }

  async insertCampaign(campaign: Campaign): Promise<void> {
    if (this.campaign(campaign.id)) throw new DuplicateError('campaign', campaign.id);
    this.writeCampaign(campaign.id, { ...campaign });
  }

  async updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign> {
    const cur = this.campaign(id);
    if (!cur) throw new NotFoundError('campaign', id);
    if (cur.state_version !== expected_version) {
      throw ConflictError.staleVersion(id, expected_version, cur.state_version);
    }
    const next: Campaign = { ...cur, ...patch, state_version: cur.state_version + 1 };
    this.writeCampaign(id, next);
    return next;
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    for (const t of tasks) {
      // the seed's foreign key: tasks.campaign_id REFERENCES campaigns(id)
      if (!this.campaign(t.campaign_id)) throw new NotFoundError('campaign', t.campaign_id);
      if (this.task(t.id)) throw new DuplicateError('task', t.id);
      this.writeTask(t.id, { ...t, depends_on: [...t.depends_on] });
    }
  }

  async updateTask(id: string, patch: TaskPatch, expected_status?: TaskStatus): Promise<Task> {
    const cur = this.task(id);
    if (!cur) throw new NotFoundError('task', id);
    if (expected_status !== undefined && cur.status !== expected_status) {
      throw ConflictError.taskStatus(id, expected_status, cur.status);
    }
    const next: Task = { ...cur, ...patch };
    this.writeTask(id, next);
    return next;
  }

  async claimIdempotencyKey(key: string): Promise<boolean> {
    if (this.base.keys.has(key) || this.keys?.includes(key)) return false;
    (this.keys ??= []).push(key);
    return true;
  }

  async appendAudit(draft: AuditDraft): Promise<AuditEvent> {
    const chain = chainOf(draft);
    const chains = (this.chains ??= []);
    let at = -1;
    for (let i = 0; i < chains.length; i += 3) if (chains[i] === chain) at = i;
    if (at < 0) {
      at = chains.length;
      const committed = this.base.heads.get(chain);
      chains.push(chain, committed, committed);
    }
    // seq (the store-wide position, not hashed) is final once the unit commits
    const e = sealAuditEvent((chains[at + 2] as ChainHead | undefined) ?? null, draft, this.base.audit.length + (this.audit?.length ?? 0) + 1);
    (this.audit ??= []).push(e);
    chains[at + 2] = { chain_seq: e.chain_seq, hash: e.hash };
    return e;
  }

  async auditHeads(): Promise<Record<string, ChainHead>> {
    const all = new Map(this.base.heads);
    const chains = this.chains ?? [];
    for (let i = 0; i < chains.length; i += 3) all.set(chains[i] as string, chains[i + 2] as ChainHead);
    return Object.fromEntries(all);
  }

  /**
   * Applies the overlay if nothing it wrote over changed since (a compare-and-set on every row it
   * wrote, the head of each audit chain it appended to and the keys it claimed); false, with
   * nothing applied, otherwise. Units on different campaigns' chains do not conflict: their
   * events take their store-wide seq here. Synchronous, so no other unit commits in between.
   */
  commitIfCurrent(): boolean {
    const rc = this.readCampaigns;
    if (rc) for (let i = 0; i < rc.length; i += 2) if (this.base.campaigns.get(rc[i] as string) !== rc[i + 1]) return false;
    const rt = this.readTasks;
    if (rt) for (let i = 0; i < rt.length; i += 2) if (this.base.tasks.get(rt[i] as string) !== rt[i + 1]) return false;
    if (this.keys) for (const k of this.keys) if (this.base.keys.has(k)) return false;
    const ch = this.chains;
    if (ch) for (let i = 0; i < ch.length; i += 3) if (this.base.heads.get(ch[i] as string) !== ch[i + 1]) return false;
    if (this.campaigns) for (const [k, v] of this.campaigns) this.base.campaigns.set(k, v);
    if (this.tasks) for (const [k, v] of this.tasks) this.base.tasks.set(k, v);
    if (this.keys) for (const k of this.keys) this.base.keys.add(k);
    if (this.audit) {
      for (const e of this.audit) {
        // the event this unit was handed back takes its final place (others may have committed since it was sealed)
        (e as { seq: number }).seq = this.base.audit.length + 1;
        this.base.audit.push(e);
      }
    }
    if (ch) for (let i = 0; i < ch.length; i += 3) this.base.heads.set(ch[i] as string, ch[i + 2] as ChainHead);
    return true;
  }
}
