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
import { sealAuditEvent } from '../../domain/audit.ts';
import { ConflictError, DuplicateError, NotFoundError } from '../../domain/errors.ts';
import type { AuditDraft, AuditEvent, Campaign, CampaignStatus, Task, TaskStatus } from '../../domain/schemas.ts';
import type { AuditQuery, CampaignPatch, StateStore, StateTransaction, TaskPatch, TaskQuery } from '../../ports/state-store.ts';
import type Database from 'better-sqlite3';
import { emptyStatusCounts } from '../shared/ordering.ts';
import type { SqliteDatabase, UnitHooks } from './sqlite-database.ts';
import { TASK_COLUMNS, readBack, toJson, taskColumn, rowToAudit, rowToCampaign, rowToTask, taskToRow, type AuditRow, type CampaignRow, type TaskRow } from './sqlite-rows.ts';
import { prepareStatements, type Statements } from './sqlite-statements.ts';
import { SqliteHandle } from './sqlite-handle.ts';

const PATCHABLE = new Set<string>(['status', 'output_data', 'confidence_score', 'attempts', 'depends_on', 'input_data', 'updated_at']);
const CAMPAIGN_PATCHABLE = new Set<string>(['status', 'title', 'goal', 'updated_at']);

function sqliteCode(e: unknown): string {
  return typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
}

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
    this.tx = new SqliteTx(sdb.db, this.st);
    sdb.onReset(() => this.tx.clearCache());
  }

  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    this.h.assertOpen();
    return this.sdb.unitOfWork(() => fn(this.tx), this.tx);
  }

  getCampaign(id: string): Promise<Campaign | null> {
    return this.read(() => this.tx.campaign(id));
  }

  listCampaigns(status?: CampaignStatus): Promise<Campaign[]> {
    return this.read(() =>
      ((status ? this.st.listCampaignsByStatus.all(status) : this.st.listCampaigns.all()) as CampaignRow[]).map(rowToCampaign),
    );
  }

  getTask(id: string): Promise<Task | null> {
    return this.read(() => this.tx.task(id));
  }

  listTasks(query: TaskQuery = {}): Promise<Task[]> {
    return this.read(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.campaign_id) {
        where.push('campaign_id = ?');
        args.push(query.campaign_id);
      }
      if (query.status !== undefined) {
        const list = typeof query.status === 'string' ? [query.status] : [...query.status];
        where.push(`status IN (${list.map(() => '?').join(', ') || 'NULL'})`);
        args.push(...list);
      }
      const limit = query.limit === undefined ? -1 : Math.max(0, query.limit);
      const sql = `SELECT ${TASK_COLUMNS} FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ? OFFSET ?`;
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
    return this.read(() => {
      const h = this.tx.head();
      return h ? { seq: h.seq, hash: h.hash } : null;
    });
  }

  /** Every recorded idempotency key, sorted (for export; not part of the port). */
  listIdempotencyKeys(): Promise<string[]> {
    return this.read(() => (this.st.listKeys.all() as { key: string }[]).map((r) => r.key));
  }

  close(): Promise<void> {
    return this.h.close();
  }

  private read<T>(fn: () => T): Promise<T> {
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

/** The unit-of-work view: plain statements on the connection, which is inside the unit's transaction. */
class SqliteTx implements StateTransaction, UnitHooks {
  private readonly updates = new Map<string, Database.Statement>();
  private readonly campaignUpdates = new Map<string, Database.Statement>();
  private readonly campaigns = new RowCache<Campaign>(CACHE_ROWS);
  private readonly tasks = new RowCache<Task>(CACHE_ROWS);
  /** Ids written by the running unit of work (forgotten from the cache if it rolls back). */
  private readonly written: string[] = [];
  private auditHead: { seq: number; hash: string } | null | undefined = undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

  /** A unit of work starts (UnitHooks). */
  enter(): void {
    this.written.length = 0;
  }

  /** It rolled back: what it wrote is no longer what the rows hold. */
  rolledBack(): void {
    this.auditHead = undefined;
    for (const id of this.written) {
      this.campaigns.delete(id);
      this.tasks.delete(id);
    }
  }

  leave(): void {
    this.written.length = 0;
  }

  clearCache(): void {
    this.campaigns.clear();
    this.tasks.clear();
    this.auditHead = undefined;
  }

  /** `UPDATE tasks SET <keys> WHERE id = ?`, prepared once per set of patched columns. */
  private updateStatement(keys: readonly (keyof TaskPatch)[]): Database.Statement {
    const sig = keys.join(',');
    let stmt = this.updates.get(sig);
    if (!stmt) {
      for (const k of keys) if (!PATCHABLE.has(k)) throw new Error(`task patch: unknown column ${String(k)}`);
      stmt = this.db.prepare(`UPDATE tasks SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`);
      this.updates.set(sig, stmt);
    }
    return stmt;
  }

  /**
   * `UPDATE campaigns SET <keys>, state_version = ? WHERE id = ? AND state_version = ?`, prepared
   * once per set of patched columns: the engine's usual patch is `updated_at` alone, and binding
   * only what changed, by position, is most of the cost of a version bump.
   */
  private campaignUpdateStatement(keys: readonly string[]): Database.Statement {
    const sig = keys.join(',');
    let stmt = this.campaignUpdates.get(sig);
    if (!stmt) {
      for (const k of keys) if (!CAMPAIGN_PATCHABLE.has(k)) throw new Error(`campaign patch: unknown column ${k}`);
      stmt = this.db.prepare(`UPDATE campaigns SET ${keys.map((k) => `${k} = ?, `).join('')}state_version = ? WHERE id = ? AND state_version = ?`);
      this.campaignUpdates.set(sig, stmt);
    }
    return stmt;
  }

  campaign(id: string): Campaign | null {
    const hit = this.campaigns.get(id);
    if (hit) return hit;
    const r = this.st.getCampaign.get(id) as CampaignRow | undefined;
    if (!r) return null;
    const c = rowToCampaign(r);
    this.campaigns.set(id, c);
    return c;
  }

  task(id: string): Task | null {
    const hit = this.tasks.get(id);
    if (hit) return hit;
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

  async insertCampaign(c: Campaign): Promise<void> {
    try {
      this.st.insertCampaign.run(c);
    } catch (e) {
      if (sqliteCode(e).startsWith('SQLITE_CONSTRAINT')) throw new DuplicateError('campaign', c.id);
      throw e;
    }
    this.written.push(c.id);
    this.campaigns.set(c.id, rowToCampaign(c));
  }

  async updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign> {
    const cur = this.campaign(id);
    if (!cur) throw new NotFoundError('campaign', id);
    if (cur.state_version !== expected_version) {
      throw ConflictError.staleVersion(id, expected_version, cur.state_version);
    }
    const next: Campaign = { ...cur, ...patch, state_version: cur.state_version + 1 };
    this.written.push(id);
    const keys = (Object.keys(patch) as (keyof CampaignPatch)[]).filter((k) => patch[k] !== undefined);
    const values: unknown[] = keys.map((k) => patch[k]);
    values.push(next.state_version, id, expected_version);
    const r = this.campaignUpdateStatement(keys).run(...values);
    if (r.changes !== 1) {
      this.campaigns.delete(id);
      throw new ConflictError(`campaign ${id}: changed under this unit of work`, { entity: 'campaign', id });
    }
    this.campaigns.set(id, next);
    return next;
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    for (const t of tasks) {
      const row = taskToRow(t);
      try {
        this.st.insertTask.run(
          row.id, row.campaign_id, row.role, row.skill_name, row.input_data, row.output_data, row.confidence_score, row.status, row.attempts,
          row.idempotency_key, row.depends_on, row.branch, row.replans, row.supersedes, row.created_at, row.updated_at,
        );
        this.written.push(t.id);
        this.tasks.set(t.id, rowToTask(row));
      } catch (e) {
        const code = sqliteCode(e);
        if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new NotFoundError('campaign', t.campaign_id);
        if (code.startsWith('SQLITE_CONSTRAINT')) throw new DuplicateError('task', t.id);
        throw e;
      }
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
    const values = keys.map((k) => taskColumn(k, patch[k]));
    // the cached row holds what the column reads back (JSON round-tripped), as a fresh process would see
    keys.forEach((k, i) => ((next as Record<string, unknown>)[k] = readBack(k, values[i])));
    // only the patched columns: an UPDATE that names an indexed column rewrites its index entries
    this.written.push(id);
    this.updateStatement(keys).run(...values, id);
    this.tasks.set(id, next);
    return next;
  }

  async claimIdempotencyKey(key: string): Promise<boolean> {
    return this.st.claimKey.run(key).changes === 1;
  }

  async appendAudit(draft: AuditDraft): Promise<AuditEvent> {
    const e = sealAuditEvent(this.head(), draft);
    this.auditHead = undefined; // if the insert fails, read the head again
    this.st.insertAudit.run(
      e.seq, e.id, e.actor, e.action, e.entity_type, e.entity_id, e.campaign_id, e.before_status, e.after_status, e.state_version, e.timestamp,
      toJson(e.details), e.prev_hash, e.hash,
    );
    this.auditHead = { seq: e.seq, hash: e.hash };
    return e;
  }
}
