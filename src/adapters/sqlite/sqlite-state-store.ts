/**
 * The SQLite state store: campaigns, tasks, idempotency keys and the audit hash chain in one
 * file. A unit of work is one BEGIN IMMEDIATE … COMMIT on the shared connection (see
 * sqlite-database.ts); compare-and-set is `UPDATE … WHERE id = ? AND state_version = ?`.
 */
import { sealAuditEvent } from '../../domain/audit.ts';
import { BackendUnavailableError, ConflictError, DuplicateError, NotFoundError } from '../../domain/errors.ts';
import type { AuditDraft, AuditEvent, Campaign, CampaignStatus, Task, TaskStatus } from '../../domain/schemas.ts';
import type { AuditQuery, CampaignPatch, StateStore, StateTransaction, TaskPatch, TaskQuery } from '../../ports/state-store.ts';
import type Database from 'better-sqlite3';
import { emptyStatusCounts } from '../shared/ordering.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { TASK_COLUMNS, auditToRow, taskColumn, rowToAudit, rowToCampaign, rowToTask, taskToRow, type AuditRow, type CampaignRow, type TaskRow } from './sqlite-rows.ts';
import { prepareStatements, type Statements } from './sqlite-statements.ts';

const PATCHABLE = new Set<string>(['status', 'output_data', 'confidence_score', 'attempts', 'depends_on', 'input_data', 'updated_at']);

function sqliteCode(e: unknown): string {
  return typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
}

/** The state store over one shared SQLite connection. */
export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite';
  readonly capabilities = Object.freeze({ transactions: true, durable: true });
  private readonly st: Statements;
  private readonly tx: SqliteTx;
  private closed = false;

  constructor(private readonly sdb: SqliteDatabase) {
    sdb.retain();
    this.st = prepareStatements(sdb.db);
    this.tx = new SqliteTx(sdb.db, this.st);
  }

  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.sdb.unitOfWork(() => fn(this.tx));
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
    return this.read(() => this.tx.head());
  }

  /** Every recorded idempotency key, sorted (for export; not part of the port). */
  listIdempotencyKeys(): Promise<string[]> {
    return this.read(() => (this.st.listKeys.all() as { key: string }[]).map((r) => r.key));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sdb.release();
  }

  private read<T>(fn: () => T): Promise<T> {
    this.assertOpen();
    return this.sdb.run(fn);
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendUnavailableError('state store is closed');
  }
}

/** The unit-of-work view: plain statements on the connection, which is inside BEGIN IMMEDIATE. */
class SqliteTx implements StateTransaction {
  private readonly updates = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly st: Statements,
  ) {}

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

  campaign(id: string): Campaign | null {
    const r = this.st.getCampaign.get(id) as CampaignRow | undefined;
    return r ? rowToCampaign(r) : null;
  }

  task(id: string): Task | null {
    const r = this.st.getTask.get(id) as TaskRow | undefined;
    return r ? rowToTask(r) : null;
  }

  head(): { seq: number; hash: string } | null {
    return (this.st.auditHead.get() as { seq: number; hash: string } | undefined) ?? null;
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
  }

  async updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign> {
    const cur = this.campaign(id);
    if (!cur) throw new NotFoundError('campaign', id);
    if (cur.state_version !== expected_version) {
      throw new ConflictError(`campaign ${id}: state_version is ${cur.state_version}, expected ${expected_version}`, {
        entity: 'campaign',
        id,
        expected: expected_version,
        actual: cur.state_version,
      });
    }
    const next: Campaign = { ...cur, ...patch, state_version: cur.state_version + 1 };
    const r = this.st.updateCampaign.run({ ...next, expected_version });
    if (r.changes !== 1) throw new ConflictError(`campaign ${id}: changed under this unit of work`, { entity: 'campaign', id });
    return next;
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    for (const t of tasks) {
      try {
        this.st.insertTask.run(taskToRow(t));
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
      throw new ConflictError(`task ${id}: status is ${cur.status}, expected ${expected_status}`, {
        entity: 'task',
        id,
        expected: expected_status,
        actual: cur.status,
      });
    }
    const keys = (Object.keys(patch) as (keyof TaskPatch)[]).filter((k) => patch[k] !== undefined);
    if (keys.length === 0) return cur;
    const next: Task = { ...cur };
    for (const k of keys) (next as Record<string, unknown>)[k] = patch[k];
    // only the patched columns: an UPDATE that names an indexed column rewrites its index entries
    this.updateStatement(keys).run(...keys.map((k) => taskColumn(k, patch[k])), id);
    return next;
  }

  async claimIdempotencyKey(key: string): Promise<boolean> {
    return this.st.claimKey.run(key).changes === 1;
  }

  async appendAudit(draft: AuditDraft): Promise<AuditEvent> {
    const e = sealAuditEvent(this.head(), draft);
    this.st.insertAudit.run(auditToRow(e));
    return e;
  }
}
