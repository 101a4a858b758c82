/**
 * The readers (src/ports/readers.ts) over a Chimera schema in Postgres: inspection without an
 * engine, without migrations and without writing anything. Every list is one statement with
 * its filters in the WHERE clause and the keyset in a row comparison (`(created_at, id) > ($1,
 * $2)`, `seq < $1`, …), `LIMIT limit + 1`, served by the schema's indexes: no OFFSET, however
 * deep the page. Each page is its own statement, so it sees what was committed before it (a
 * live reader, not a snapshot). Rows are mapped with the adapter's row mapping and checked
 * against the read schemas (CampaignReadSchema, TaskReadSchema); a row that does not fit
 * (damaged, or of a status this build does not know) comes back marked with its raw columns,
 * never thrown. Rows with no created_at (a seed-only task) sort after the others.
 *
 * A schema need not be ours: one that Chimera's own services wrote has the seed's `campaigns`
 * and `tasks` with only the seed's columns and none of our tables. The readers read the
 * schema's layout first (information_schema, to_regclass) and select what is there: a column
 * of ours that the table lacks reads as NULL, and a table of ours that is missing (the audit
 * log, the Postgres queues, the persona cache table) is absent from the readers, with a line in
 * `absent` saying so, never an error.
 */
import { BadDatabaseError, ValidationError } from '../../domain/errors.ts';
import { AuditEventSchema, CampaignReadSchema, TaskReadSchema, type AuditEvent, type CampaignRead, type TaskRead } from '../../domain/schemas.ts';
import {
  CAMPAIGN_SORT_KEYS,
  TASK_SORT_KEYS,
  listSort,
  readLimit,
  sortTag,
  type AuditListQuery,
  type AuditReader,
  type CachedPersonaSummary,
  type CampaignListQuery,
  type Page,
  type PageRequest,
  type PersonaCacheReader,
  type QueueItemView,
  type QueueItemsQuery,
  type QueueListQuery,
  type QueueReader,
  type QueueSummary,
  type ListSort,
  type Readers,
  type ReaderStore,
  type ReadRow,
  type StateReader,
  type TaskListQuery,
  type TaskWithHistory,
} from '../../ports/readers.ts';
import { checkedRow, cutPage, decodeCursor, type SortKey } from '../shared/reader-pages.ts';
import { traitsFromJson } from '../shared/reader-rows.ts';
import type { ItemRow as QueueItemRow } from './pg-queue.ts';
import { acquirePgPool, type PgConnectOptions, type PgPool } from './pg-pool.ts';
import { AUDIT_COLUMNS, CAMPAIGN_SELECT, TASK_SELECT, isUuid, isoFromPg, rowToAudit, rowToCampaign, rowToTask, type AuditRow, type CampaignRow, type TaskRow } from './pg-rows.ts';

/** What a schema keeps: the columns of the seed's two tables, and which of our tables exist. */
export interface PgLayout {
  readonly campaignColumns: ReadonlySet<string> | 'all';
  readonly taskColumns: ReadonlySet<string> | 'all';
  readonly audit: boolean;
  readonly queueItems: boolean;
  readonly personaCache: boolean;
}

/** A schema our migrations made: every column and table there. */
export const MIGRATED_LAYOUT: PgLayout = Object.freeze({ campaignColumns: 'all', taskColumns: 'all', audit: true, queueItems: true, personaCache: true });

/** Reads the layout of `pool`'s schema; BadDatabaseError when it lacks the seed's campaigns or tasks table (or their id). */
export async function readPgLayout(pool: PgPool): Promise<PgLayout> {
  const cols = await pool.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name IN ('campaigns', 'tasks')`,
  );
  const of = (t: string): Set<string> => new Set(cols.rows.filter((r) => r.table_name === t).map((r) => r.column_name));
  const campaignColumns = of('campaigns');
  const taskColumns = of('tasks');
  const lacking = [campaignColumns.has('id') ? null : 'campaigns', taskColumns.has('id') ? null : 'tasks'].filter((t) => t !== null);
  if (lacking.length) {
    throw new BadDatabaseError(`Postgres ${pool.where} has no ${lacking.join(' or ')} table with an id column (the seed's tables): nothing to inspect there; nothing was read or changed.`, {
      endpoint: pool.where,
      problem: 'no seed tables',
      lacking,
    });
  }
  const t = (await pool.query<{ audit: boolean; queue_items: boolean; persona_cache: boolean }>(
    `SELECT to_regclass('audit_log') IS NOT NULL AS audit, to_regclass('queue_items') IS NOT NULL AS queue_items, to_regclass('persona_cache') IS NOT NULL AS persona_cache`,
  )).rows[0];
  return { campaignColumns, taskColumns, audit: !!t?.audit, queueItems: !!t?.queue_items, personaCache: !!t?.persona_cache };
}

/** Why each store a layout lacks is absent, in words a person reads in the Inspector. */
function absentNotes(pool: PgPool, layout: PgLayout): Partial<Record<ReaderStore, string>> {
  const notes: Partial<Record<ReaderStore, string>> = {};
  if (!layout.audit) notes.audit = `no audit log in this database: Postgres ${pool.where} has no audit_log table (Chimera's own services keep only the seed's tables)`;
  if (!layout.queueItems) notes.queues = `no queues in this database: Postgres ${pool.where} has no queue_items table (the seed keeps its queues in Redis)`;
  if (!layout.personaCache) notes.personaCache = `no persona cache in this database: Postgres ${pool.where} has no persona_cache table (the seed keeps it in Redis)`;
  return notes;
}

/**
 * Where a column of ours that a seed-only table lacks can still be read from: a task's skill is
 * in its input_data (the seed's workers read `input_data.skill_name`).
 */
const DERIVED: Readonly<Record<string, { from: string; sql: string }>> = { skill_name: { from: 'input_data', sql: "input_data->>'skill_name'" } };

/** How a column reads on a table that may lack it: itself, derived from another column, or NULL. */
function columnOf(column: string, have: ReadonlySet<string> | 'all'): string {
  if (have === 'all' || have.has(column)) return column;
  const d = DERIVED[column];
  return d && have.has(d.from) ? d.sql : 'NULL';
}

/** A SELECT list with each item whose column the table lacks read as derived (DERIVED) or NULL under its name. */
function selectFrom(list: string, have: ReadonlySet<string> | 'all'): string {
  if (have === 'all') return list;
  return list
    .split(', ')
    .map((item) => {
      const column = /^[a-z_]+/.exec(item)?.[0] ?? item;
      const name = /([a-z_]+)$/.exec(item)?.[1] ?? item;
      return have.has(column) ? item : `${columnOf(column, have)} AS ${name}`;
    })
    .join(', ');
}

/** The created_at a table sorts by: its column, or NULL for every row where it has none. */
const createdOf = (have: ReadonlySet<string> | 'all'): string => (have === 'all' || have.has('created_at') ? 'created_at' : 'NULL::timestamp');

/** Readers on `pool`'s schema (laid out as `layout`: by default as our migrations make it); `close()` releases the pool reference it was given. */
export function pgReaders(pool: PgPool, layout: PgLayout = MIGRATED_LAYOUT): Readers {
  const audit = layout.audit ? new PgAuditReader(pool) : null;
  const absent = absentNotes(pool, layout);
  let closed = false;
  return {
    kind: 'postgres',
    state: new PgStateReader(pool, audit, layout),
    ...(audit ? { audit } : {}),
    ...(layout.queueItems ? { queues: new PgQueueReader(pool) } : {}),
    ...(layout.personaCache ? { personaCache: new PgPersonaCacheReader(pool) } : {}),
    ...(Object.keys(absent).length ? { absent } : {}),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.release();
    },
  };
}

/**
 * Readers on a deployment's schema, always on read-only sessions (whatever `opts.readOnly` says:
 * inspection never writes). The schema may be ours or one with only the seed's tables (what it
 * lacks is absent, see above); BadDatabaseError when it has not even the seed's tables.
 */
export async function openPgReaders(opts: PgConnectOptions): Promise<Readers> {
  const pool = acquirePgPool({ ...opts, readOnly: true });
  try {
    return pgReaders(pool, await readPgLayout(pool));
  } catch (e) {
    await pool.release();
    throw e;
  }
}

/** WHERE parts with numbered parameters, built in order. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  /** Adds `sql`, in which `?` stands for each of `params` in turn. */
  add(sql: string, ...params: unknown[]): this {
    let i = 0;
    this.parts.push(sql.replace(/\?/g, () => `$${this.params.length + ++i}`));
    this.params.push(...params);
    return this;
  }
  /** The next parameter's placeholder, for LIMIT. */
  next(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/;

/**
 * A sorted list's ORDER BY, its keyset condition after a cursor, and a row's key for the next
 * cursor. A seed-only row may have no created_at: '' stands for it in a cursor, and it sorts
 * after every dated row ascending (before them descending), as Postgres orders NULLs by
 * default. By (created_at, id) the list walks the created_at indexes either way; by (key,
 * created_at, id) it has no index and Postgres sorts per page (a top-N sort), with the key's
 * NULL read as '' and compared byte by byte (COLLATE "C", as the other adapters compare).
 */
function sortSql(sort: ListSort<string>, w: Where, tag: string, from: SortKey | null, table: { created: string; have: ReadonlySet<string> | 'all' }): { order: string; key: (r: { created_at: string | null; id: string } & Record<string, unknown>) => SortKey } {
  const desc = sort.dir === 'desc';
  const bad = (): ValidationError => new ValidationError(`invalid cursor for ${tag}: pass a next_cursor this list returned`);
  const created = table.created;
  if (sort.by === 'created_at') {
    if (from) {
      const [at, id] = from as [string, string];
      if (!isUuid(id) || (at !== '' && !TS.test(at))) throw bad();
      // after an undated row: (descending) the undated with a smaller id, then every dated one
      if (at === '') w.add(desc ? `(${created} IS NOT NULL OR id < ?::uuid)` : `(${created} IS NULL AND id > ?::uuid)`, id);
      // after a dated row: (descending) no undated one follows, and a NULL compares as unknown
      else if (desc) w.add(`(${created}, id) < (?::timestamp, ?::uuid)`, at, id);
      else w.add(`((${created}, id) > (?::timestamp, ?::uuid) OR ${created} IS NULL)`, at, id);
    }
    return { order: desc ? `${created} DESC, id DESC` : `${created}, id`, key: (r) => [isoFromPg(r.created_at) ?? '', r.id] };
  }
  // (a column name from the port's list of sort keys, never from the request's text; a column the
  // schema lacks, as a seed-only table lacks ours, reads as '')
  const col = `coalesce(${columnOf(sort.by, table.have)}, '') COLLATE "C"`;
  const cols = [col, `coalesce(${created}, 'infinity'::timestamp)`, 'id'];
  if (from) {
    const [k, at, id] = from as [string, string, string];
    if (!isUuid(id) || (at !== '' && !TS.test(at))) throw bad();
    w.add(`(${cols.join(', ')}) ${desc ? '<' : '>'} (?::text, ?::timestamp, ?::uuid)`, k, at === '' ? 'infinity' : at, id);
  }
  return {
    order: cols.map((c) => (desc ? `${c} DESC` : c)).join(', '),
    key: (r) => [typeof r[sort.by] === 'string' ? (r[sort.by] as string) : '', isoFromPg(r.created_at) ?? '', r.id],
  };
}

class PgStateReader implements StateReader {
  private readonly campaignSelect: string;
  private readonly campaignCreated: string;
  private readonly taskSelect: string;
  private readonly taskCreated: string;
  private readonly campaignHave: ReadonlySet<string> | 'all';
  private readonly taskHave: ReadonlySet<string> | 'all';

  constructor(
    private readonly pool: PgPool,
    private readonly audit: PgAuditReader | null,
    layout: PgLayout,
  ) {
    this.campaignSelect = selectFrom(CAMPAIGN_SELECT, layout.campaignColumns);
    this.campaignCreated = createdOf(layout.campaignColumns);
    this.taskSelect = selectFrom(TASK_SELECT, layout.taskColumns);
    this.taskCreated = createdOf(layout.taskColumns);
    this.campaignHave = layout.campaignColumns;
    this.taskHave = layout.taskColumns;
  }

  async listCampaigns(query: CampaignListQuery = {}): Promise<Page<CampaignRead>> {
    const limit = readLimit(query.limit);
    const sort = listSort('campaigns', CAMPAIGN_SORT_KEYS, query.sort);
    const tag = sortTag('campaigns', sort);
    const from = decodeCursor(tag, sort.by === 'created_at' ? 'ss' : 'sss', query.cursor);
    const w = new Where();
    if (query.status !== undefined) w.add('status = ?', query.status);
    const o = sortSql(sort, w, tag, from, { created: this.campaignCreated, have: this.campaignHave });
    const rows = (await this.pool.query<CampaignRow>(`SELECT ${this.campaignSelect} FROM campaigns ${w} ORDER BY ${o.order} LIMIT ${w.next(limit + 1)}`, w.params)).rows;
    return cutPage(tag, rows, limit, (r) => o.key(r as unknown as Parameters<typeof o.key>[0]), (r) => checkedRow(CampaignReadSchema, r, rowToCampaign));
  }

  async listTasks(query: TaskListQuery = {}): Promise<Page<TaskRead>> {
    const limit = readLimit(query.limit);
    const sort = listSort('tasks', TASK_SORT_KEYS, query.sort);
    const tag = sortTag('tasks', sort);
    const from = decodeCursor(tag, sort.by === 'created_at' ? 'ss' : 'sss', query.cursor);
    if (query.campaign_id !== undefined && !isUuid(query.campaign_id)) return { items: [], next_cursor: null };
    const w = new Where();
    if (query.campaign_id !== undefined) w.add('campaign_id = ?::uuid', query.campaign_id);
    if (query.status !== undefined) w.add('status = ANY(?::text[])', typeof query.status === 'string' ? [query.status] : [...query.status]);
    const o = sortSql(sort, w, tag, from, { created: this.taskCreated, have: this.taskHave });
    const rows = (await this.pool.query<TaskRow>(`SELECT ${this.taskSelect} FROM tasks ${w} ORDER BY ${o.order} LIMIT ${w.next(limit + 1)}`, w.params)).rows;
    return cutPage(tag, rows, limit, (r) => o.key(r as unknown as Parameters<typeof o.key>[0]), (r) => checkedRow(TaskReadSchema, r, rowToTask));
  }

  async getTask(id: string, history_limit?: number): Promise<TaskWithHistory | null> {
    const limit = readLimit(history_limit);
    if (!isUuid(id)) return null;
    const row = (await this.pool.query<TaskRow>(`SELECT ${this.taskSelect} FROM tasks WHERE id = $1`, [id])).rows[0];
    if (!row) return null;
    // a schema with no audit log: no history (Readers.absent says why)
    const history = this.audit ? await this.audit.list({ entity_id: id, order: 'oldest', limit }) : { items: [], next_cursor: null };
    return { task: checkedRow(TaskReadSchema, row, rowToTask), history };
  }
}

class PgAuditReader implements AuditReader {
  constructor(private readonly pool: PgPool) {}

  async list(q: AuditListQuery = {}): Promise<Page<AuditEvent>> {
    const limit = readLimit(q.limit);
    const newest = (q.order ?? 'newest') === 'newest';
    const tag = newest ? 'audit-newest' : 'audit-oldest';
    const from = decodeCursor(tag, 'n', q.cursor);
    const w = new Where();
    if (q.campaign_id !== undefined) w.add('campaign_id = ?', q.campaign_id);
    if (q.action !== undefined) w.add('action = ?', q.action);
    if (q.actor !== undefined) w.add('actor = ?', q.actor);
    if (q.entity_id !== undefined) w.add('entity_id = ?', q.entity_id);
    if (q.text !== undefined && q.text !== '') w.add(`(strpos(entity_id, ?) > 0 OR strpos(action, ?) > 0 OR strpos(coalesce(details, ''), ?) > 0)`, q.text, q.text, q.text);
    if (from) w.add(newest ? 'seq < ?' : 'seq > ?', from[0]);
    const sql = `SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log ${w} ORDER BY seq ${newest ? 'DESC' : 'ASC'} LIMIT ${w.next(limit + 1)}`;
    const rows = (await this.pool.query<AuditRow>(sql, w.params)).rows;
    return cutPage(tag, rows, limit, (r) => [r.seq], (r) => checkedRow(AuditEventSchema, r, rowToAudit));
  }
}

const ok = <T,>(value: T): ReadRow<T> => ({ ok: true, value });

/** A queue item with its place in the queue (the readers page by it). */
interface ItemRow extends QueueItemRow {
  seq: number;
}

class PgQueueReader implements QueueReader {
  constructor(private readonly pool: PgPool) {}

  async listQueues(q: QueueListQuery): Promise<Page<QueueSummary>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('queues', 'ss', q.cursor);
    const w = new Where();
    if (from) w.add(`(space COLLATE "C" > ? OR (space = ? AND queue COLLATE "C" > ?))`, from[0], from[0], from[1]);
    const now = w.next(q.now_ms);
    const rows = (
      await this.pool.query<{ space: string; queue: string; ready: number; delayed: number; leased: number }>(
        `SELECT space, queue,
           count(*) FILTER (WHERE lease_id IS NULL AND available_at_ms <= ${now})::int AS ready,
           count(*) FILTER (WHERE lease_id IS NULL AND available_at_ms > ${now})::int AS delayed,
           count(*) FILTER (WHERE lease_id IS NOT NULL)::int AS leased
         FROM queue_items ${w} GROUP BY space, queue ORDER BY space COLLATE "C", queue COLLATE "C" LIMIT ${w.next(limit + 1)}`,
        w.params,
      )
    ).rows;
    return cutPage('queues', rows, limit, (r) => [r.space, r.queue], (r) => ok({ space: r.space, queue: r.queue, depth: { ready: r.ready, delayed: r.delayed, leased: r.leased } }));
  }

  async items(q: QueueItemsQuery): Promise<Page<QueueItemView>> {
    const limit = readLimit(q.limit);
    const leased = q.state === 'leased';
    const tag = leased ? 'queue-leased' : 'queue-waiting';
    const from = decodeCursor(tag, 'nn', q.cursor);
    const time = leased ? 'expires_at_ms' : 'available_at_ms';
    const w = new Where().add('space = ?', q.space).add('queue = ?', q.queue).add(leased ? 'lease_id IS NOT NULL' : 'lease_id IS NULL');
    if (from) w.add(`(${time}, seq) > (?::float8, ?::int8)`, from[0], from[1]);
    const rows = (
      await this.pool.query<ItemRow>(
        `SELECT id, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms, seq FROM queue_items ${w} ORDER BY ${time}, seq LIMIT ${w.next(limit + 1)}`,
        w.params,
      )
    ).rows;
    return cutPage(tag, rows, limit, (r) => [leased ? (r.expires_at_ms ?? 0) : r.available_at_ms, r.seq], (r) => {
      try {
        return ok({
          id: r.id,
          payload: r.payload === null ? undefined : (JSON.parse(r.payload) as unknown),
          attempts: r.attempts,
          enqueued_at_ms: r.enqueued_at_ms,
          available_at_ms: r.available_at_ms,
          lease_id: r.lease_id,
          consumer: r.consumer,
          expires_at_ms: r.expires_at_ms,
        });
      } catch (e) {
        return { ok: false, raw: r, problem: `payload is not JSON: ${(e as Error).message}` };
      }
    });
  }
}

class PgPersonaCacheReader implements PersonaCacheReader {
  constructor(private readonly pool: PgPool) {}

  async list(q: PageRequest = {}): Promise<Page<CachedPersonaSummary>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('personas', 's', q.cursor);
    const w = new Where();
    if (from) w.add('persona_id COLLATE "C" > ?', from[0]);
    const rows = (await this.pool.query<{ persona_id: string; traits: string }>(`SELECT persona_id, traits FROM persona_cache ${w} ORDER BY persona_id COLLATE "C" LIMIT ${w.next(limit + 1)}`, w.params)).rows;
    return cutPage('personas', rows, limit, (r) => [r.persona_id], (r) => {
      const t = traitsFromJson(r.traits);
      return t.ok ? ok({ persona_id: r.persona_id, trait_count: Object.keys(t.value).length }) : { ok: false, raw: { persona_id: r.persona_id, traits: r.traits }, problem: t.problem };
    });
  }

  async get(persona_id: string): Promise<ReadRow<Record<string, string>> | null> {
    const row = (await this.pool.query<{ traits: string }>(`SELECT traits FROM persona_cache WHERE persona_id = $1`, [persona_id])).rows[0];
    return row ? traitsFromJson(row.traits) : null;
  }
}
