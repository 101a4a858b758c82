/**
 * The SQLite state store: campaigns, tasks, idempotency keys and the audit hash chain in one
 * file. A unit of work runs on the shared connection (see sqlite-database.ts);
 * compare-and-set is `UPDATE … WHERE id = ? AND state_version = ?`.
 *
 * Campaigns and tasks read by id come from a write-through cache of what the rows hold (JSON
 * columns as they read back), so the engine's many reads by id cost no row decoding. The cache
 * is safe because this process is the file's only writer (sqlite-database.ts); the ids a unit
 * of work wrote are dropped from it when the unit rolls back, and all of it when a batch does.
 */
import { chainOf, sealAuditEvent, type ChainHead } from '../../domain/audit.ts';
import { ConflictError, DuplicateError, NotFoundError } from '../../domain/errors.ts';
import type { AuditDraft, AuditEvent, Campaign, CampaignStatus, Task, TaskStatus } from '../../domain/schemas.ts';
import type { AuditQuery, CampaignPatch, StateStore, StateTransaction, TaskPatch, TaskQuery } from '../../ports/state-store.ts';
import type Database from 'better-sqlite3';
import { emptyStatusCounts } from '../shared/ordering.ts';
import type { PendingWrites, SqliteDatabase, UnitHooks } from './sqlite-database.ts';
import { MultiInsert } from './sqlite-multi-insert.ts';
import { AUDIT_COLUMNS, TASK_COLUMNS, TASK_FROM, TASK_INSERT_COLUMNS, TASK_SELECT, hasOutput, readBack, toJson, taskColumn, rowToAudit, rowToCampaign, rowToTask, taskToRow, type AuditRow, type CampaignRow, type TaskRow } from './sqlite-rows.ts';
import { prepareStatements, type Statements } from './sqlite-statements.ts';
import { SqliteHandle } from './sqlite-handle.ts';
import { ReadOnlyDatabaseError } from '../shared/sqlite-read-only.ts';

const PATCHABLE = new Set<string>(['status', 'output_data', 'confidence_score', 'attempts', 'depends_on', 'input_data', 'updated_at']);
const CAMPAIGN_PATCHABLE = new Set<string>(['status', 'title', 'goal', 'updated_at']);

/** The state store over one shared SQLite connection. */
export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite';
  readonly capabilities = Object.freeze({ transactions: true, durable: true });
  private readonly st: Statements;
  private readonly tx: SqliteTx;
  private readonly h: SqliteHandle;

  constructor(private readonly sdb: SqliteDatabase) {
    this.h = new SqliteHandle(sdb, 'state store');
    this.st = prepareStatements(sdb.db);
    this.tx = txFor(sdb, this.st);
  }

  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    this.h.assertOpen();
    if (this.sdb.readOnly) return Promise.reject(new ReadOnlyDatabaseError(this.sdb.file, 'a state store transaction'));
    return this.sdb.unitOfWork(() => fn(this.tx), this.tx);
  }

  getCampaign(id: string): Promise<Campaign | null> {
    return this.cached(() => this.tx.campaign(id));
  }

  listCampaigns(status?: CampaignStatus): Promise<Campaign[]> {
    return this.read(() =>
      ((status ? this.st.listCampaignsByStatus.all(status) : this.st.listCampaigns.all()) as CampaignRow[]).map(rowToCampaign),
    );
  }

  getTask(id: string): Promise<Task | null> {
    return this.cached(() => this.tx.task(id));
  }

  listTasks(query: TaskQuery = {}): Promise<Task[]> {
    return this.read(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.campaign_id) {
        where.push('t.campaign_id = ?');
        args.push(query.campaign_id);
      }
      if (query.after) {
        // a row value: the index tasks_by_created answers it as a range
        where.push('(t.created_at, t.id) > (?, ?)');
        args.push(query.after.created_at, query.after.id);
      }
      if (query.status !== undefined) {
        const list = typeof query.status === 'string' ? [query.status] : [...query.status];
        if (list.length === 1 && list[0] === 'ESC_HITL') {
          where.push(`t.status = 'ESC_HITL'`); // a literal, so the partial index tasks_escalated answers it
        } else {
          where.push(`t.status IN (${list.map(() => '?').join(', ') || 'NULL'})`);
          args.push(...list);
        }
      }
      const limit = query.limit === undefined ? -1 : Math.max(0, query.limit);
      const sql = `SELECT ${TASK_SELECT} FROM ${TASK_FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.created_at, t.id LIMIT ? OFFSET ?`;
      return (this.sdb.db.prepare(sql).all(...args, limit, query.offset ?? 0) as TaskRow[]).map(rowToTask);
    });
  }

  countTasks(campaign_id?: string): Promise<Record<TaskStatus, number>> {
    return this.read(() => {
      const counts = emptyStatusCounts();
      const rows = (campaign_id ? this.st.countTasksByCampaign.all(campaign_id) : this.st.countTasks.all()) as { status: TaskStatus; n: number }[];
      for (const r of rows) counts[r.status] = r.n;
      return counts;
    });
  }

  readAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    return this.read(() => {
      const after = query.after_seq ?? 0;
      const limit = query.limit === undefined ? -1 : Math.max(0, query.limit);
      const rows = (
        query.campaign_id ? this.st.readAuditByCampaign.all(query.campaign_id, after, limit) : this.st.readAudit.all(after, limit)
      ) as AuditRow[];
      return rows.map(rowToAudit);
    });
  }

  auditHead(): Promise<{ seq: number; hash: string } | null> {
    return this.cached(() => {
      const h = this.tx.head();
      return h ? { seq: h.seq, hash: h.hash } : null;
    });
  }

  auditHeads(): Promise<Record<string, ChainHead>> {
    return this.cached(() => Object.fromEntries(this.tx.chainHeads()));
  }

  /** The recorded idempotency keys, sorted; a page of them after `page.after` (for export and copy; not part of the port). */
  listIdempotencyKeys(page?: { after?: string | null; limit?: number }): Promise<string[]> {
    return this.read(() => {
      const rows = (page ? this.st.listKeysAfter.all(page.after ?? '', page.limit ?? -1) : this.st.listKeys.all()) as { key: string }[];
      return rows.map((r) => r.key);
    });
  }

  /** How many idempotency keys are recorded (for copy; not part of the port). */
  countIdempotencyKeys(): Promise<number> {
    return this.read(() => (this.st.countKeys.get() as { n: number }).n);
  }

  close(): Promise<void> {
    return this.h.close();
  }

  /** A read that SQL answers: what is held in memory is written into the open transaction first. */
  private read<T>(fn: () => T): Promise<T> {
    return this.h.read(() => {
      this.sdb.flushPending();
      return fn();
    });
  }

  /** A read the cache and held writes answer. */
  private cached<T>(fn: () => T): Promise<T> {
    return this.h.read(fn);
  }
}

/** Row objects by id, bounded: cleared whole when full (a cache miss only costs a read). */
class RowCache<T> {
  private readonly m = new Map<string, T>();
  constructor(private readonly max: number) {}
  get(id: string): T | undefined {
    return this.m.get(id);
  }
  set(id: string, v: T): void {
    if (this.m.size >= this.max && !this.m.has(id)) this.m.clear();
    this.m.set(id, v);
  }
  delete(id: string): void {
    this.m.delete(id);
  }
  clear(): void {
    this.m.clear();
  }
}

const CACHE_ROWS = 50_000;

const TASK_COLUMN_LIST = TASK_COLUMNS.split(', ');
/** Where output_data sits in TASK_COLUMN_LIST (its value is written to task_outputs instead). */
const OUTPUT_INDEX = TASK_COLUMN_LIST.indexOf('output_data');
/** Columns an UPDATE may set: the patchable ones, with output_data stored as output_seq. */
const UPDATABLE = new Set<string>([...PATCHABLE].filter((k) => k !== 'output_data').concat('output_seq'));

/** A task written in the open batch and not yet in its row: a whole new row, or the patched columns of an existing one. */
type DirtyTask = { readonly inserted: true; readonly row: TaskRow } | { readonly inserted: false; readonly set: Readonly<Record<string, unknown>> };
/** A campaign written in the open batch and not yet in its row. */
interface DirtyCampaign {
  readonly inserted: boolean;
  readonly row: Campaign;
}

/**
 * The unit-of-work view, shared by every state store on one connection. Writes are held in
 * memory until the batch is flushed (write-behind, see PendingWrites): each task and campaign
 * written in a batch becomes one INSERT or UPDATE with its latest values, audit events and
 * idempotency keys multi-row INSERTs. Compare-and-set and the existence checks run against
 * what the rows hold plus what is held (this process is the file's only writer). A unit that
 * rolls back puts back what it changed in memory (SqliteDatabase.onRollback).
 */
class SqliteTx implements StateTransaction, UnitHooks, PendingWrites {
  private readonly updates = new Map<string, Database.Statement>();
  private readonly campaigns = new RowCache<Campaign>(CACHE_ROWS);
  private readonly tasks = new RowCache<Task>(CACHE_ROWS);
  /** Ids written by the running unit of work (forgotten from the cache if it rolls back). */
  private readonly written: string[] = [];
  private auditHead: { seq: number; hash: string } | null | undefined = undefined;
  /** Each audit chain's head (undefined: read them again). */
  private heads: Map<string, ChainHead> | undefined = undefined;
  private dirtyTasks = new Map<string, DirtyTask>();
  private dirtyCampaigns = new Map<string, DirtyCampaign>();
  private pendingAudit: unknown[][] = [];
  private pendingKeys = new Set<string>();
  private readonly insertTasks_: MultiInsert;
  private readonly insertAudit_: MultiInsert;
  private readonly insertKeys_: MultiInsert;
  private readonly insertOutputs_: MultiInsert;
  /** The last task_outputs.seq handed out (-1: read it from the file first). */
  private outputSeq = -1;
  private readonly db: Database.Database;

  constructor(
    private readonly sdb: SqliteDatabase,
    private readonly st: Statements,
  ) {
    this.db = sdb.db;
    this.insertTasks_ = new MultiInsert(this.db, 'INSERT', 'tasks', TASK_INSERT_COLUMNS);
    this.insertOutputs_ = new MultiInsert(this.db, 'INSERT', 'task_outputs', 'seq, task_id, output_data');
    this.insertAudit_ = new MultiInsert(this.db, 'INSERT', 'audit_log', AUDIT_COLUMNS);
    this.insertKeys_ = new MultiInsert(this.db, 'INSERT OR IGNORE', 'idempotency_keys', 'key');
    sdb.addPending(this);
    sdb.onReset(() => this.clearCache());
  }

  /** A unit of work starts (UnitHooks). */
  enter(): void {
    this.written.length = 0;
  }

  /** It rolled back: what it wrote is no longer what the rows hold. */
  rolledBack(): void {
    for (const id of this.written) {
      this.campaigns.delete(id);
      this.tasks.delete(id);
    }
  }

  leave(): void {
    this.written.length = 0;
  }

  /** Uncommitted work was lost: forget everything held and cached. */
  clearCache(): void {
    this.campaigns.clear();
    this.tasks.clear();
    this.auditHead = undefined;
    this.heads = undefined;
    this.dirtyTasks = new Map();
    this.dirtyCampaigns = new Map();
    this.pendingAudit = [];
    this.pendingKeys = new Set();
    this.outputSeq = -1;
  }

  /** The next task_outputs.seq (outputs are appended in the order they are written). */
  private nextOutputSeq(): number {
    if (this.outputSeq < 0) this.outputSeq = Number(this.st.lastOutputSeq.get());
    this.outputSeq += 1;
    return this.outputSeq;
  }

  /** PendingWrites: what is held goes into the open transaction (campaigns first: tasks reference them). */
  flush(): void {
    if (this.dirtyCampaigns.size) {
      const held = this.dirtyCampaigns;
      this.dirtyCampaigns = new Map();
      for (const [id, d] of held) {
        const c = d.row;
        if (d.inserted) this.st.insertCampaign.run(c);
        else if (this.st.updateCampaign.run(c.title, c.goal, c.status, c.updated_at, c.state_version, id).changes !== 1) {
          throw new Error(`campaign ${id}: its row vanished before the batch was written`);
        }
      }
    }
    if (this.dirtyTasks.size) {
      const held = this.dirtyTasks;
      this.dirtyTasks = new Map();
      const rows: unknown[][] = [];
      const outputs: unknown[][] = [];
      for (const [id, d] of held) {
        if (d.inserted) {
          const r = d.row as unknown as Record<string, unknown>;
          const values = TASK_COLUMN_LIST.map((k) => r[k]);
          let seq: number | null = null;
          if (hasOutput(r.output_data)) outputs.push([(seq = this.nextOutputSeq()), id, r.output_data]);
          values[OUTPUT_INDEX] = null;
          values.push(seq);
          rows.push(values);
        } else {
          let set = d.set;
          if ('output_data' in set) {
            const { output_data, ...rest } = set;
            let seq: number | null = null;
            if (hasOutput(output_data)) outputs.push([(seq = this.nextOutputSeq()), id, output_data]);
            set = { ...rest, output_seq: seq };
          }
          const keys = Object.keys(set).sort();
          this.updateStatement(keys).run(...keys.map((k) => set[k]), id);
        }
      }
      if (outputs.length) this.insertOutputs_.run(outputs);
      if (rows.length) this.insertTasks_.run(rows);
    }
    if (this.pendingKeys.size) {
      const held = this.pendingKeys;
      this.pendingKeys = new Set();
      this.insertKeys_.run([...held].map((k) => [k]));
    }
    if (this.pendingAudit.length) {
      const held = this.pendingAudit;
      this.pendingAudit = [];
      this.insertAudit_.run(held);
    }
  }

  /** PendingWrites: puts back what is held now (the flush replaces the holders, it does not change them). */
  snapshot(): () => void {
    const t = this.dirtyTasks;
    const c = this.dirtyCampaigns;
    const a = this.pendingAudit;
    const k = this.pendingKeys;
    return () => {
      this.dirtyTasks = t;
      this.dirtyCampaigns = c;
      this.pendingAudit = a;
      this.pendingKeys = k;
    };
  }

  /** `UPDATE tasks SET <keys> WHERE id = ?`, prepared once per set of patched columns. */
  private updateStatement(keys: readonly string[]): Database.Statement {
    const sig = keys.join(',');
    let stmt = this.updates.get(sig);
    if (!stmt) {
      for (const k of keys) if (!UPDATABLE.has(k)) throw new Error(`task patch: unknown column ${String(k)}`);
      stmt = this.db.prepare(`UPDATE tasks SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`);
      this.updates.set(sig, stmt);
    }
    return stmt;
  }

  campaign(id: string): Campaign | null {
    const hit = this.campaigns.get(id);
    if (hit) return hit;
    const held = this.dirtyCampaigns.get(id);
    const r = held ? held.row : (this.st.getCampaign.get(id) as CampaignRow | undefined);
    if (!r) return null;
    const c = rowToCampaign(r);
    this.campaigns.set(id, c);
    return c;
  }

  task(id: string): Task | null {
    const hit = this.tasks.get(id);
    if (hit) return hit;
    if (this.dirtyTasks.has(id)) this.sdb.flushPending(); // evicted from the cache while held: read it back from its row
    const r = this.st.getTask.get(id) as TaskRow | undefined;
    if (!r) return null;
    const t = rowToTask(r);
    this.tasks.set(id, t);
    return t;
  }

  /** The chain's head, cached like the rows (undefined: read it again). */
  head(): { seq: number; hash: string } | null {
    if (this.auditHead === undefined) this.auditHead = (this.st.auditHead.get() as { seq: number; hash: string } | undefined) ?? null;
    return this.auditHead;
  }

  async getCampaign(id: string): Promise<Campaign | null> {
    return this.campaign(id);
  }

  async getTask(id: string): Promise<Task | null> {
    return this.task(id);
  }

  async campaignTasks(campaign_id: string): Promise<Task[]> {
    this.sdb.flushPending(); // the rows then hold what this batch wrote
    const sql = `SELECT ${TASK_SELECT} FROM ${TASK_FROM} WHERE t.campaign_id = ? ORDER BY t.created_at, t.id`;
    return (this.db.prepare(sql).all(campaign_id) as TaskRow[]).map(rowToTask);
  }

  private holdCampaign(id: string, d: DirtyCampaign): void {
    const prev = this.dirtyCampaigns.get(id);
    this.dirtyCampaigns.set(id, d);
    this.sdb.onRollback(() => (prev ? this.dirtyCampaigns.set(id, prev) : this.dirtyCampaigns.delete(id)));
    this.written.push(id);
  }

  private holdTask(id: string, d: DirtyTask): void {
    const prev = this.dirtyTasks.get(id);
    this.dirtyTasks.set(id, d);
    this.sdb.onRollback(() => (prev ? this.dirtyTasks.set(id, prev) : this.dirtyTasks.delete(id)));
    this.written.push(id);
  }

  async insertCampaign(c: Campaign): Promise<void> {
    if (this.campaign(c.id)) throw new DuplicateError('campaign', c.id);
    const row = rowToCampaign(c);
    this.holdCampaign(c.id, { inserted: true, row });
    this.campaigns.set(c.id, row);
  }

  async updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign> {
    const cur = this.campaign(id);
    if (!cur) throw new NotFoundError('campaign', id);
    if (cur.state_version !== expected_version) {
      throw ConflictError.staleVersion(id, expected_version, cur.state_version);
    }
    const next: Campaign = { ...cur, state_version: cur.state_version + 1 };
    for (const k of Object.keys(patch) as (keyof CampaignPatch)[]) {
      const v = patch[k];
      if (v === undefined) continue;
      if (!CAMPAIGN_PATCHABLE.has(k)) throw new Error(`campaign patch: unknown column ${k}`);
      (next as Record<string, unknown>)[k] = v;
    }
    this.holdCampaign(id, { inserted: this.dirtyCampaigns.get(id)?.inserted ?? false, row: next });
    this.campaigns.set(id, next);
    return next;
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    // which of the ids already have a row: one statement for the whole list
    const unseen = tasks.filter((t) => !this.tasks.get(t.id) && !this.dirtyTasks.has(t.id)).map((t) => t.id);
    const stored = new Set<string>(
      unseen.length === 0 ? [] : unseen.length === 1 ? (this.st.taskExists.get(unseen[0]) === undefined ? [] : unseen) : (this.st.tasksExisting.all(JSON.stringify(unseen)) as string[]),
    );
    for (const t of tasks) {
      if (!this.campaign(t.campaign_id)) throw new NotFoundError('campaign', t.campaign_id);
      if (this.tasks.get(t.id) || this.dirtyTasks.has(t.id) || stored.has(t.id)) throw new DuplicateError('task', t.id);
      const row = taskToRow(t);
      this.holdTask(t.id, { inserted: true, row });
      this.tasks.set(t.id, rowToTask(row));
    }
  }

  async updateTask(id: string, patch: TaskPatch, expected_status?: TaskStatus): Promise<Task> {
    const cur = this.task(id);
    if (!cur) throw new NotFoundError('task', id);
    if (expected_status !== undefined && cur.status !== expected_status) {
      throw ConflictError.taskStatus(id, expected_status, cur.status);
    }
    const keys = (Object.keys(patch) as (keyof TaskPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return cur;
    const next: Task = { ...cur };
    const columns: Record<string, unknown> = {};
    for (const k of keys) {
      if (!PATCHABLE.has(k)) throw new Error(`task patch: unknown column ${String(k)}`);
      const v = taskColumn(k, patch[k]);
      columns[k] = v;
      // the cached row holds what the column reads back (JSON round-tripped), as a fresh process would see
      (next as Record<string, unknown>)[k] = readBack(k, v);
    }
    const held = this.dirtyTasks.get(id);
    this.holdTask(
      id,
      held === undefined
        ? { inserted: false, set: columns }
        : held.inserted
          ? { inserted: true, row: { ...held.row, ...columns } }
          : { inserted: false, set: { ...held.set, ...columns } },
    );
    this.tasks.set(id, next);
    return next;
  }

  async claimIdempotencyKey(key: string): Promise<boolean> {
    if (this.pendingKeys.has(key) || this.st.keyExists.get(key) !== undefined) return false;
    this.pendingKeys.add(key);
    this.sdb.onRollback(() => this.pendingKeys.delete(key));
    return true;
  }

  async appendAudit(draft: AuditDraft): Promise<AuditEvent> {
    const prev = this.head();
    const heads = this.chainHeads();
    const chain = chainOf(draft);
    const before = heads.get(chain);
    const e = sealAuditEvent(before ?? null, draft, (prev?.seq ?? 0) + 1);
    this.pendingAudit.push([
      e.seq, e.id, e.actor, e.action, e.entity_type, e.entity_id, e.campaign_id, e.before_status, e.after_status, e.state_version, e.timestamp,
      toJson(e.details), e.prev_hash, e.hash, e.chain_seq,
    ]);
    this.auditHead = { seq: e.seq, hash: e.hash };
    heads.set(chain, { chain_seq: e.chain_seq, hash: e.hash });
    this.sdb.onRollback(() => {
      this.pendingAudit.pop();
      this.auditHead = prev;
      if (before) heads.set(chain, before);
      else heads.delete(chain);
    });
    return e;
  }

  async auditHeads(): Promise<Record<string, ChainHead>> {
    return Object.fromEntries(this.chainHeads());
  }

  /** Each chain's head, cached like the rows (read from the file on first use). */
  chainHeads(): Map<string, ChainHead> {
    if (this.heads === undefined) {
      this.sdb.flushPending();
      this.heads = new Map((this.st.chainHeads.all() as { chain: string; chain_seq: number; hash: string }[]).map((r) => [r.chain, { chain_seq: r.chain_seq, hash: r.hash }]));
    }
    return this.heads;
  }
}

const shared = new WeakMap<SqliteDatabase, SqliteTx>();

/** The one unit-of-work view (row cache and held writes) of a connection. */
function txFor(sdb: SqliteDatabase, st: Statements): SqliteTx {
  let tx = shared.get(sdb);
  if (!tx) {
    tx = new SqliteTx(sdb, st);
    shared.set(sdb, tx);
  }
  return tx;
}
