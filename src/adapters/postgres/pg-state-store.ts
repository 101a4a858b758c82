/**
 * The Postgres state store: campaigns and tasks in the seed's tables, idempotency keys, and the
 * audit hash chains (src/domain/audit.ts).
 *
 * A unit of work is one transaction at READ COMMITTED on a connection of its own. Compare-and-set
 * is a single `UPDATE … WHERE id = $1 AND state_version = $2 RETURNING …` (for tasks, the
 * expected status in the WHERE): a writer that loses waits for the winner's row lock, finds the
 * row changed, updates nothing and gets a ConflictError. Duplicates and missing campaigns are
 * found without a failing statement (ON CONFLICT DO NOTHING, a look-up first), so a domain error
 * never leaves the transaction aborted.
 *
 * Audit: appending locks the chain's row in `audit_heads` (INSERT … ON CONFLICT DO UPDATE …
 * RETURNING: created on a chain's first event, locked and read on later ones), so units on
 * different campaigns never wait on one head. The events are held by the unit and written when
 * it commits, with their store-wide `seq` taken from `audit_counter` in the last statements
 * before COMMIT: seq is gap-free and in commit order, as the in-memory reference numbers it.
 * The counter's row is the one lock every appending unit shares, held only from that UPDATE to
 * COMMIT.
 *
 * `fn` runs again (at most MAX_UNIT_RUNS times) after a serialization failure or deadlock, and
 * after a connection lost before COMMIT was sent (the server rolled the unit back). A connection
 * lost while COMMIT was in flight leaves the outcome unknown: that is reported, never retried
 * here; the engine's idempotency keys make a unit that did commit refuse to commit twice.
 */
import { chainOf, GENESIS_HASH, sealAuditEvent, type ChainHead } from '../../domain/audit.ts';
import { BackendUnavailableError, ChimeraError, ConflictError, DuplicateError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import { TASK_STATUSES, type AuditDraft, type AuditEvent, type Campaign, type CampaignStatus, type Task, type TaskStatus } from '../../domain/schemas.ts';
import type { AuditQuery, CampaignPatch, StateStore, StateTransaction, TaskPatch, TaskQuery } from '../../ports/state-store.ts';
import { emptyStatusCounts } from '../shared/ordering.ts';
import type pg from 'pg';
import { describePgError, isConnectionError, isRetryableConflict, type PgPool } from './pg-pool.ts';
import {
  AUDIT_COLUMNS,
  AUDIT_TYPES,
  CAMPAIGN_SELECT,
  TASK_INSERT_COLUMNS,
  TASK_INSERT_TYPES,
  TASK_SELECT,
  assertUuid,
  auditValues,
  isUuid,
  rowToAudit,
  rowToCampaign,
  rowToTask,
  taskPatchColumns,
  taskValues,
  unnestInsert,
  type AuditRow,
  type CampaignRow,
  type TaskRow,
} from './pg-rows.ts';

/** How many times a unit of work runs before a serialization failure, deadlock or lost connection is reported. */
export const MAX_UNIT_RUNS = 8;

const CAMPAIGN_PATCHABLE: Record<string, string> = { status: 'text', title: 'text', goal: 'text', updated_at: 'timestamp' };

type Query = <R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]) => Promise<pg.QueryResult<R>>;

/** The statements the store and its units share (reads and the row lookups). */
async function taskById(q: Query, id: string): Promise<Task | null> {
  if (!isUuid(id)) return null;
  const r = await q<TaskRow>(`SELECT ${TASK_SELECT} FROM tasks WHERE id = $1`, [id]);
  return r.rows[0] ? rowToTask(r.rows[0]) : null;
}

async function campaignById(q: Query, id: string): Promise<Campaign | null> {
  if (!isUuid(id)) return null;
  const r = await q<CampaignRow>(`SELECT ${CAMPAIGN_SELECT} FROM campaigns WHERE id = $1`, [id]);
  return r.rows[0] ? rowToCampaign(r.rows[0]) : null;
}

async function headsOf(q: Query): Promise<Map<string, ChainHead>> {
  const r = await q<{ chain: string; chain_seq: number; hash: string }>(`SELECT chain, chain_seq, hash FROM audit_heads WHERE chain_seq > 0 ORDER BY chain`);
  return new Map(r.rows.map((x) => [x.chain, { chain_seq: x.chain_seq, hash: x.hash }]));
}

export class PgStateStore implements StateStore {
  readonly kind = 'postgres';
  readonly capabilities = Object.freeze({ transactions: true, durable: true });
  private closed = false;
  private readonly q: Query;

  /** A store on `pool` (whose schema is migrated); `close()` releases the pool reference it was given. */
  constructor(private readonly pool: PgPool) {
    this.q = (text, values) => pool.query(text, values);
  }

  async transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    for (let run = 1; ; run++) {
      this.assertOpen();
      const client = await this.pool.connect();
      // an error event on a checked-out connection (it died under us) must not crash the process: the query in flight fails instead
      const onError = (): void => {};
      client.on('error', onError);
      const tx = new PgTx(client);
      let commitSent = false;
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        const result = await fn(tx);
        // a statement of the unit failed and fn went on (or swallowed it): the transaction is aborted, report why
        if (tx.failure) throw tx.failure;
        await tx.beforeCommit();
        commitSent = true;
        await client.query('COMMIT');
        tx.committed();
        return result;
      } catch (e0) {
        // a domain error is the unit's answer; otherwise the first failed statement says why (later ones only say "aborted")
        const e = e0 instanceof ChimeraError ? e0 : (tx.failure ?? e0);
        const lost = isConnectionError(e);
        if (lost) broken = e as Error;
        else await client.query('ROLLBACK').catch((re: unknown) => (broken = re as Error));
        if (commitSent && lost) {
          throw new BackendUnavailableError(
            `Postgres at ${this.pool.where}: the connection was lost while a unit of work was committing; whether it committed is unknown (${(e as Error).message})`,
            { endpoint: this.pool.where, commit: 'unknown' },
          );
        }
        if ((lost || isRetryableConflict(e)) && run < MAX_UNIT_RUNS) continue;
        throw describePgError(e, this.pool.where);
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    }
  }

  async getCampaign(id: string): Promise<Campaign | null> {
    this.assertOpen();
    return campaignById(this.q, id);
  }

  async listCampaigns(status?: CampaignStatus): Promise<Campaign[]> {
    this.assertOpen();
    const r = status
      ? await this.q<CampaignRow>(`SELECT ${CAMPAIGN_SELECT} FROM campaigns WHERE status = $1 ORDER BY created_at, id`, [status])
      : await this.q<CampaignRow>(`SELECT ${CAMPAIGN_SELECT} FROM campaigns ORDER BY created_at, id`);
    return r.rows.map(rowToCampaign);
  }

  async getTask(id: string): Promise<Task | null> {
    this.assertOpen();
    return taskById(this.q, id);
  }

  async listTasks(query: TaskQuery = {}): Promise<Task[]> {
    this.assertOpen();
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.campaign_id) {
      if (!isUuid(query.campaign_id)) return [];
      args.push(query.campaign_id);
      where.push(`campaign_id = $${args.length}`);
    }
    if (query.after) {
      // a row value: the index tasks_by_created answers it as a range
      if (!isUuid(query.after.id)) throw new ValidationError(`listTasks: after.id "${query.after.id}" is not a task id of this store (a uuid)`);
      args.push(query.after.created_at, query.after.id);
      where.push(`(created_at, id) > ($${args.length - 1}::timestamptz, $${args.length}::uuid)`);
    }
    if (query.status !== undefined) {
      const list = typeof query.status === 'string' ? [query.status] : [...query.status];
      if (list.length === 1 && list[0] === 'ESC_HITL') where.push(`status = 'ESC_HITL'`); // a literal: the partial index tasks_escalated answers it
      else {
        args.push(list);
        where.push(`status = ANY($${args.length}::text[])`);
      }
    }
    args.push(query.limit === undefined ? null : Math.max(0, query.limit), Math.max(0, query.offset ?? 0));
    const r = await this.q<TaskRow>(
      `SELECT ${TASK_SELECT} FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return r.rows.map(rowToTask);
  }

  async countTasks(campaign_id?: string): Promise<Record<TaskStatus, number>> {
    this.assertOpen();
    const counts = emptyStatusCounts();
    if (campaign_id !== undefined && campaign_id !== '' && !isUuid(campaign_id)) return counts;
    const r = campaign_id
      ? await this.q<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM tasks WHERE campaign_id = $1 GROUP BY status`, [campaign_id])
      : await this.q<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM tasks GROUP BY status`);
    for (const x of r.rows) if ((TASK_STATUSES as readonly string[]).includes(x.status)) counts[x.status as TaskStatus] = x.n;
    return counts;
  }

  async readAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    this.assertOpen();
    if (query.limit !== undefined && query.limit <= 0) return [];
    const args: unknown[] = [query.after_seq ?? 0];
    let where = 'seq > $1';
    if (query.campaign_id) {
      args.push(query.campaign_id);
      where += ` AND campaign_id = $2`;
    }
    args.push(query.limit ?? null);
    const r = await this.q<AuditRow>(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log WHERE ${where} ORDER BY seq LIMIT $${args.length}`, args);
    return r.rows.map(rowToAudit);
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    this.assertOpen();
    const r = await this.q<{ seq: number; hash: string }>(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`);
    return r.rows[0] ? { seq: r.rows[0].seq, hash: r.rows[0].hash } : null;
  }

  async auditHeads(): Promise<Record<string, ChainHead>> {
    this.assertOpen();
    return Object.fromEntries(await headsOf(this.q));
  }

  /** The recorded idempotency keys, sorted by their bytes; a page of them after `page.after` (for export and copy; not part of the port). */
  async listIdempotencyKeys(page?: { after?: string | null; limit?: number }): Promise<string[]> {
    this.assertOpen();
    if (!page) return (await this.q<{ key: string }>(`SELECT key FROM idempotency_keys ORDER BY key COLLATE "C"`)).rows.map((r) => r.key);
    const r = await this.q<{ key: string }>(`SELECT key FROM idempotency_keys WHERE key COLLATE "C" > $1 ORDER BY key COLLATE "C" LIMIT $2`, [page.after ?? '', page.limit ?? null]);
    return r.rows.map((x) => x.key);
  }

  /** How many idempotency keys are recorded (for copy; not part of the port). */
  async countIdempotencyKeys(): Promise<number> {
    this.assertOpen();
    return (await this.q<{ n: number }>(`SELECT count(*)::int AS n FROM idempotency_keys`)).rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('state store is closed');
  }
}

/** One chain this unit appends to: its head as the unit left it. */
interface ChainState {
  head: ChainHead | null;
}

/** The unit-of-work view on one connection inside BEGIN … COMMIT. */
class PgTx implements StateTransaction {
  /** The first statement of the unit that failed (the transaction is aborted from there on). */
  failure: unknown = null;
  private readonly chains = new Map<string, ChainState>();
  private readonly events: AuditEvent[] = [];
  /** The last committed seq when the unit first appended (its events' provisional numbers follow it). */
  private seqBase: number | null = null;
  /** The seqs the unit's events took in its last statement (theirs once COMMIT succeeds). */
  private finalSeqs: number[] = [];
  private readonly q: Query;

  constructor(client: pg.PoolClient) {
    this.q = async (text, values) => {
      try {
        return await client.query(text, values as unknown[]);
      } catch (e) {
        this.failure ??= e;
        throw e;
      }
    };
  }

  getCampaign(id: string): Promise<Campaign | null> {
    return campaignById(this.q, id);
  }

  getTask(id: string): Promise<Task | null> {
    return taskById(this.q, id);
  }

  async campaignTasks(campaign_id: string): Promise<Task[]> {
    if (!isUuid(campaign_id)) return [];
    const r = await this.q<TaskRow>(`SELECT ${TASK_SELECT} FROM tasks WHERE campaign_id = $1 ORDER BY created_at, id`, [campaign_id]);
    return r.rows.map(rowToTask);
  }

  async insertCampaign(c: Campaign): Promise<void> {
    assertUuid('campaign id', c.id);
    const r = await this.q(
      `INSERT INTO campaigns (${CAMPAIGN_SELECT}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
      [c.id, c.title, c.goal, c.status, c.state_version, c.created_at, c.updated_at, c.persona_id],
    );
    if (r.rowCount !== 1) throw new DuplicateError('campaign', c.id);
  }

  async updateCampaign(id: string, expected_version: number, patch: CampaignPatch): Promise<Campaign> {
    if (!isUuid(id)) throw new NotFoundError('campaign', id);
    const sets: string[] = [];
    const args: unknown[] = [id, expected_version];
    for (const k of Object.keys(patch) as (keyof CampaignPatch)[]) {
      const v = patch[k];
      if (v === undefined) continue;
      const type = CAMPAIGN_PATCHABLE[k];
      if (!type) throw new Error(`campaign patch: unknown column ${k}`);
      args.push(v);
      sets.push(`${k} = $${args.length}::${type}`);
    }
    sets.push('state_version = state_version + 1');
    const r = await this.q<CampaignRow>(`UPDATE campaigns SET ${sets.join(', ')} WHERE id = $1 AND state_version = $2 RETURNING ${CAMPAIGN_SELECT}`, args);
    if (r.rows[0]) return rowToCampaign(r.rows[0]);
    const cur = await this.q<{ state_version: number }>(`SELECT state_version FROM campaigns WHERE id = $1`, [id]);
    if (!cur.rows[0]) throw new NotFoundError('campaign', id);
    throw ConflictError.staleVersion(id, expected_version, cur.rows[0].state_version);
  }

  async insertTasks(tasks: readonly Task[]): Promise<void> {
    if (tasks.length === 0) return;
    for (const t of tasks) assertUuid('task id', t.id);
    const campaignIds = [...new Set(tasks.map((t) => t.campaign_id).filter(isUuid))];
    const known = new Set(
      campaignIds.length ? (await this.q<{ id: string }>(`SELECT id FROM campaigns WHERE id = ANY($1::uuid[])`, [campaignIds])).rows.map((r) => r.id) : [],
    );
    const stored = new Set((await this.q<{ id: string }>(`SELECT id FROM tasks WHERE id = ANY($1::uuid[])`, [tasks.map((t) => t.id)])).rows.map((r) => r.id));
    // the in-memory reference writes the tasks before the first that fails, then throws: the same here
    let failure: Error | null = null;
    let n = 0;
    const seen = new Set<string>();
    for (const t of tasks) {
      if (!known.has(t.campaign_id)) failure = new NotFoundError('campaign', t.campaign_id);
      else if (stored.has(t.id) || seen.has(t.id)) failure = new DuplicateError('task', t.id);
      if (failure) break;
      seen.add(t.id);
      n += 1;
    }
    if (n > 0) {
      const ins = unnestInsert('tasks', TASK_INSERT_COLUMNS, TASK_INSERT_TYPES, tasks.slice(0, n).map(taskValues));
      try {
        await this.q(ins.text, ins.values);
      } catch (e) {
        // another unit inserted one of these ids (or the campaign went) since the look-up
        const code = (e as { code?: string }).code;
        if (code === '23505') throw new DuplicateError('task', String((e as { detail?: string }).detail ?? 'one of the tasks'));
        if (code === '23503') throw new NotFoundError('campaign', String((e as { detail?: string }).detail ?? 'of one of the tasks'));
        throw e;
      }
    }
    if (failure) throw failure;
  }

  async updateTask(id: string, patch: TaskPatch, expected_status?: TaskStatus): Promise<Task> {
    if (!isUuid(id)) throw new NotFoundError('task', id);
    const sets: string[] = [];
    const args: unknown[] = [id];
    for (const k of Object.keys(patch) as (keyof TaskPatch)[]) {
      if (patch[k] === undefined) continue;
      for (const [col, type, v] of taskPatchColumns(k, patch[k])) {
        args.push(v);
        sets.push(`${col} = $${args.length}::${type}`);
      }
    }
    if (sets.length > 0) {
      let where = 'id = $1';
      if (expected_status !== undefined) {
        args.push(expected_status);
        where += ` AND status = $${args.length}`;
      }
      const r = await this.q<TaskRow>(`UPDATE tasks SET ${sets.join(', ')} WHERE ${where} RETURNING ${TASK_SELECT}`, args);
      if (r.rows[0]) return rowToTask(r.rows[0]);
    }
    const cur = await taskById(this.q, id);
    if (!cur) throw new NotFoundError('task', id);
    if (expected_status !== undefined && cur.status !== expected_status) throw ConflictError.taskStatus(id, expected_status, cur.status);
    return cur; // an empty patch
  }

  async claimIdempotencyKey(key: string): Promise<boolean> {
    const r = await this.q(`INSERT INTO idempotency_keys (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, [key]);
    return r.rowCount === 1;
  }

  async appendAudit(draft: AuditDraft): Promise<AuditEvent> {
    const chain = chainOf(draft);
    let st = this.chains.get(chain);
    if (!st) {
      // the chain's head row, made on its first event, locked until this unit ends; and (once) the last committed seq
      const r = await this.q<{ chain_seq: number; hash: string; last_seq: number }>(
        `INSERT INTO audit_heads (chain, chain_seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO UPDATE SET chain = excluded.chain
         RETURNING chain_seq, hash, (SELECT last_seq FROM audit_counter WHERE slot = 1) AS last_seq`,
        [chain, GENESIS_HASH],
      );
      const h = r.rows[0] as { chain_seq: number; hash: string; last_seq: number };
      st = { head: h.chain_seq > 0 ? { chain_seq: h.chain_seq, hash: h.hash } : null };
      this.chains.set(chain, st);
      this.seqBase ??= h.last_seq;
    }
    // provisional seq: final (and set on this object) when the unit commits
    const e = sealAuditEvent(st.head, draft, (this.seqBase ?? 0) + this.events.length + 1);
    this.events.push(e);
    st.head = { chain_seq: e.chain_seq, hash: e.hash };
    return e;
  }

  async auditHeads(): Promise<Record<string, ChainHead>> {
    const all = await headsOf(this.q);
    for (const [chain, st] of this.chains) if (st.head) all.set(chain, st.head);
    return Object.fromEntries(all);
  }

  /**
   * The unit's audit events get their seq and are written, with their chains' heads: one
   * statement, the last before COMMIT (the counter's row stays locked only until then).
   */
  async beforeCommit(): Promise<void> {
    const n = this.events.length;
    if (n === 0) return;
    const chains = [...this.chains].filter(([, st]) => st.head !== null) as [string, { head: ChainHead }][];
    const cols = AUDIT_COLUMNS.slice(1);
    const rows = this.events.map((e) => auditValues(e).slice(1));
    const arrays = cols.map((_, i) => rows.map((r) => r[i] ?? null));
    const params = AUDIT_TYPES.slice(1).map((t, i) => `$${i + 5}::${t}[]`);
    const r = await this.q<{ seq: number }>(
      `WITH heads AS (
         UPDATE audit_heads h SET chain_seq = v.chain_seq, hash = v.hash
         FROM unnest($1::text[], $2::int4[], $3::text[]) AS v(chain, chain_seq, hash) WHERE h.chain = v.chain
       ), counter AS (
         UPDATE audit_counter SET last_seq = last_seq + $4 WHERE slot = 1 RETURNING last_seq
       )
       INSERT INTO audit_log (${AUDIT_COLUMNS.join(', ')})
       SELECT counter.last_seq - $4 + v.ord, ${cols.map((c) => `v.${c}`).join(', ')}
       FROM counter, unnest(${params.join(', ')}) WITH ORDINALITY AS v(${cols.join(', ')}, ord)
       RETURNING seq`,
      [chains.map(([c]) => c), chains.map(([, st]) => st.head.chain_seq), chains.map(([, st]) => st.head.hash), n, ...arrays],
    );
    this.finalSeqs = r.rows.map((x) => x.seq).sort((a, b) => a - b);
  }

  /** COMMIT succeeded: the events this unit handed out take their final seq. */
  committed(): void {
    this.events.forEach((e, i) => ((e as { seq: number }).seq = this.finalSeqs[i] as number));
  }
}
