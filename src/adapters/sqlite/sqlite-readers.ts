/**
 * The readers (src/ports/readers.ts) over a Chimera SQLite file and the persona memory's
 * `rows.sqlite`, opened on their own read-only connection: no engine, no migrations, no writes.
 *
 * How a file is opened without changing it or its folder: through the shared read-only opener
 * (src/adapters/shared/sqlite-read-only.ts). When a writer may hold the file (its owner lock
 * names a live process; for the rows file, which has no lock, whenever a `-wal` and `-shm` lie
 * beside it) the readers read it in place and see each commit as it lands (a live inspection);
 * otherwise they read a snapshot (the file's bytes in memory, or a private copy with its
 * `-wal`), which a writer that opens the file afterwards does not change until the inspection
 * is opened again. No migration is checked or run: an older file is read as it is.
 *
 * Every list is one SQL statement with the filters in its WHERE clause and the keyset in a
 * row-value comparison, `LIMIT limit + 1`. Rows are mapped with the adapter's own row mapping
 * (src/adapters/sqlite/sqlite-rows.ts) and checked against the read schemas (CampaignReadSchema, …); a row that
 * does not fit (bad JSON, a value out of range) comes back marked with its raw columns.
 * Older files are read as they are: no `task_outputs` (before 0003) reads the task's own
 * output column, no `chain_seq` (before 0006) reads 0.
 */
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { BadDatabaseError } from '../../domain/errors.ts';
import { AuditEventSchema, CampaignReadSchema, PersonaMemorySchema, TaskReadSchema, type AuditEvent, type CampaignRead, type PersonaMemory, type TaskRead } from '../../domain/schemas.ts';
import {
  CAMPAIGN_SORT_KEYS,
  TASK_SORT_KEYS,
  listSort,
  readLimit,
  searchK,
  sortTag,
  type AuditListQuery,
  type AuditReader,
  type CachedPersonaSummary,
  type CampaignListQuery,
  type MemoryListQuery,
  type MemorySearchQuery,
  type MemorySearchResult,
  type Page,
  type PageRequest,
  type PersonaCacheReader,
  type PersonaMemoryReader,
  type QueueItemView,
  type QueueItemsQuery,
  type QueueListQuery,
  type QueueReader,
  type QueueSummary,
  type ListSort,
  type Readers,
  type ReadRow,
  type StateReader,
  type StoredMemoryObject,
  type TaskListQuery,
  type TaskWithHistory,
} from '../../ports/readers.ts';
import { checkedRow, cutPage, decodeCursor, type SortKey } from '../shared/reader-pages.ts';
import { traitsFromJson } from '../shared/reader-rows.ts';
import { modelLabel, NearestMemories } from '../shared/memory-neighbours.ts';
import { openReadOnly, type ReadOnlyConnection, type ReadOnlyWay } from '../shared/sqlite-read-only.ts';
import { checkSqliteFile } from './sqlite-file-check.ts';
import { ownerLive } from './sqlite-owner.ts';
import { CHIMERA_APPLICATION_ID } from './sqlite-database.ts';
import { rowToAudit, rowToCampaign, rowToTask, type AuditRow, type CampaignRow, type TaskRow } from './sqlite-rows.ts';

/** The files one SQLite inspection reads (either may be absent). */
export interface SqliteReaderFiles {
  /** The Chimera database (state, audit, queues, persona cache). */
  readonly database?: string;
  /** The persona memory's row file (`<memory folder>/rows.sqlite`). */
  readonly memoryRows?: string;
}

/** How a file was opened (src/adapters/shared/sqlite-read-only.ts): live in place, or a snapshot (an in-memory image, or a private copy with its log). */
export type SqliteReadMode = ReadOnlyWay;

/**
 * Opens `file` for reading without writing to it or its folder (src/adapters/shared/
 * sqlite-read-only.ts), live when a writer may hold it; BadDatabaseError when it is missing,
 * empty or not a SQLite file. A live connection ends the read transaction the opener starts,
 * so that every page sees the commits made before it (a page is one statement, consistent
 * in itself; keyset paging needs nothing more).
 */
export function openReadOnlySqlite(file: string, opts: { ownerLock: boolean }): { db: Database.Database; mode: SqliteReadMode; close(): void } {
  if (!existsSync(file)) throw new BadDatabaseError(`${file} does not exist; nothing to inspect.`, { file, problem: 'missing' });
  if (checkSqliteFile(file) === 'new') throw new BadDatabaseError(`${file} is empty; nothing to inspect.`, { file, problem: 'empty' });
  // without an owner lock to ask (or for a file that should have one and has none: a writer of an older build), a -wal beside it may be a writer's
  const live = opts.ownerLock ? (ownerLive(file) ?? existsSync(`${file}-wal`)) : true;
  let conn: ReadOnlyConnection;
  try {
    conn = openReadOnly(file, live);
  } catch (e) {
    if (e instanceof BadDatabaseError) throw e;
    throw new BadDatabaseError(`${file} cannot be opened for reading: ${(e as Error).message}; the file was not changed.`, { file, problem: 'unreadable' });
  }
  if (conn.db.inTransaction) conn.db.prepare('COMMIT').run();
  return { db: conn.db, mode: conn.way, close: () => conn.close() };
}

/**
 * Readers over SQLite files, each opened read-only (`openReadOnlySqlite`). The composition root
 * calls this with the profile's database path and, if it has one, the memory folder's rows file.
 */
export function sqliteReaders(files: SqliteReaderFiles): Readers & { readonly modes: Readonly<Record<string, SqliteReadMode>> } {
  const opened: { close(): void }[] = [];
  const modes: Record<string, SqliteReadMode> = {};
  try {
    let parts: Partial<Readers> = {};
    if (files.database !== undefined) {
      const { db, mode, close } = openReadOnlySqlite(files.database, { ownerLock: true });
      opened.push({ close });
      modes.database = mode;
      checkChimera(db, files.database);
      const q = new Statements(db);
      const audit = new SqliteAuditReader(q);
      parts = { state: new SqliteStateReader(q, audit), audit, queues: new SqliteQueueReader(q), personaCache: new SqlitePersonaCacheReader(q) };
    }
    if (files.memoryRows !== undefined) {
      const { db, mode, close } = openReadOnlySqlite(files.memoryRows, { ownerLock: false });
      opened.push({ close });
      modes.memoryRows = mode;
      parts = { ...parts, memory: new SqlitePersonaMemoryReader(new Statements(db)) };
    }
    return {
      kind: 'sqlite',
      ...parts,
      modes,
      ...(Object.values(modes).some((m) => m !== 'live') ? { snapshot: true } : {}),
      close: async () => {
        for (const db of opened.splice(0)) db.close();
      },
    };
  } catch (e) {
    for (const db of opened) db.close();
    throw e;
  }
}

/** Refuses a SQLite file that is not a Chimera database (another application's, or none of ours). */
function checkChimera(db: Database.Database, file: string): void {
  const app = Number(db.pragma('application_id', { simple: true }));
  if (app === CHIMERA_APPLICATION_ID) return;
  throw new BadDatabaseError(`${file} is not a Chimera database (application_id 0x${(app >>> 0).toString(16)}); nothing was read or changed.`, {
    file,
    problem: 'foreign',
    application_id: app,
  });
}

/** Prepared statements by SQL text, and what the schema of this file has. */
class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(readonly db: Database.Database) {}

  all<R>(sql: string, params: readonly unknown[]): R[] {
    let st = this.cache.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.cache.set(sql, st);
    }
    return st.all(...params) as R[];
  }

  has(table: string, column?: string): boolean {
    if (column === undefined) return this.all<{ n: number }>(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = ?`, [table])[0]?.n === 1;
    return this.all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [table]).some((c) => c.name === column);
  }
}

/** WHERE parts and their parameters, built in order. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  add(sql: string, ...params: unknown[]): this {
    this.parts.push(sql);
    this.params.push(...params);
    return this;
  }
  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

const TASK_COLUMNS = 'id, campaign_id, role, skill_name, input_data, output_data, confidence_score, status, attempts, idempotency_key, depends_on, branch, replans, supersedes, created_at, updated_at';
const CAMPAIGN_COLUMNS = 'id, title, goal, status, state_version, created_at, updated_at, persona_id';

/**
 * A sorted list's ORDER BY and keyset condition over `alias` (columns are NOT NULL in a Chimera
 * file; BINARY collation compares as the other adapters do), and a row's key for its cursor.
 * (created_at, id) walks the created_at indexes either way; a (key, created_at, id) order has
 * no index and is sorted per page (SQLite keeps only the top limit + 1 rows while it scans).
 */
function sortSql(sort: ListSort<string>, alias: string): { columns: string[]; order: string; after: string; key: (r: Record<string, unknown>) => SortKey } {
  const names = sort.by === 'created_at' ? ['created_at', 'id'] : [sort.by, 'created_at', 'id'];
  const columns = names.map((c) => `${alias}${c}`);
  const dir = sort.dir === 'desc' ? ' DESC' : '';
  return {
    columns,
    order: columns.map((c) => `${c}${dir}`).join(', '),
    after: `(${columns.join(', ')}) ${sort.dir === 'desc' ? '<' : '>'} (${names.map(() => '?').join(', ')})`,
    key: (r) => names.map((c) => r[c] as string),
  };
}

class SqliteStateReader implements StateReader {
  private readonly taskSelect: string;
  private readonly taskFrom: string;

  constructor(
    private readonly q: Statements,
    private readonly audit: SqliteAuditReader,
  ) {
    const outputs = q.has('task_outputs') && q.has('tasks', 'output_seq');
    this.taskSelect = TASK_COLUMNS.split(', ')
      .map((c) => (c === 'output_data' && outputs ? 'coalesce(o.output_data, t.output_data) AS output_data' : `t.${c}`))
      .join(', ');
    this.taskFrom = outputs ? 'tasks t LEFT JOIN task_outputs o ON o.seq = t.output_seq' : 'tasks t';
  }

  async listCampaigns(query: CampaignListQuery = {}): Promise<Page<CampaignRead>> {
    const limit = readLimit(query.limit);
    const sort = listSort('campaigns', CAMPAIGN_SORT_KEYS, query.sort);
    const tag = sortTag('campaigns', sort);
    const o = sortSql(sort, '');
    const from = decodeCursor(tag, 's'.repeat(o.columns.length), query.cursor);
    const w = new Where();
    if (query.status !== undefined) w.add('status = ?', query.status);
    if (from) w.add(o.after, ...from);
    const rows = this.q.all<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns ${w} ORDER BY ${o.order} LIMIT ?`, [...w.params, limit + 1]);
    return cutPage(tag, rows, limit, (r) => o.key(r as unknown as Record<string, unknown>), (r) => checkedRow(CampaignReadSchema, r, rowToCampaign));
  }

  async listTasks(query: TaskListQuery = {}): Promise<Page<TaskRead>> {
    const limit = readLimit(query.limit);
    const sort = listSort('tasks', TASK_SORT_KEYS, query.sort);
    const tag = sortTag('tasks', sort);
    const o = sortSql(sort, 't.');
    const from = decodeCursor(tag, 's'.repeat(o.columns.length), query.cursor);
    const w = new Where();
    if (query.campaign_id !== undefined) w.add('t.campaign_id = ?', query.campaign_id);
    // the review list's status as a literal, so the planner can use the partial index tasks_escalated (0004)
    if (query.status === 'ESC_HITL') w.add(`t.status = 'ESC_HITL'`);
    else if (typeof query.status === 'string') w.add('t.status = ?', query.status);
    else if (query.status !== undefined) w.add('t.status IN (SELECT value FROM json_each(?))', JSON.stringify(query.status));
    if (from) w.add(o.after, ...from);
    const rows = this.q.all<TaskRow>(`SELECT ${this.taskSelect} FROM ${this.taskFrom} ${w} ORDER BY ${o.order} LIMIT ?`, [...w.params, limit + 1]);
    return cutPage(tag, rows, limit, (r) => o.key(r as unknown as Record<string, unknown>), (r) => checkedRow(TaskReadSchema, r, rowToTask));
  }

  async getTask(id: string, history_limit?: number): Promise<TaskWithHistory | null> {
    const limit = readLimit(history_limit);
    const row = this.q.all<TaskRow>(`SELECT ${this.taskSelect} FROM ${this.taskFrom} WHERE t.id = ?`, [id])[0];
    if (row === undefined) return null;
    const history = await this.audit.list({ entity_id: id, order: 'oldest', limit });
    return { task: checkedRow(TaskReadSchema, row, rowToTask), history };
  }
}

class SqliteAuditReader implements AuditReader {
  private readonly columns: string;

  constructor(private readonly q: Statements) {
    const chains = q.has('audit_log', 'chain_seq');
    this.columns = 'seq, id, actor, action, entity_type, entity_id, campaign_id, before_status, after_status, state_version, timestamp, details, prev_hash, hash, ' + (chains ? 'chain_seq' : '0 AS chain_seq');
  }

  /**
   * One walk of `audit_log` by its rowid (seq) from the cursor, filtering as it goes and stopping
   * at `limit + 1` matches: there is no index on campaign, actor or action (0005 dropped the
   * campaign index for write speed; see the README for the measured cost of a rare filter).
   */
  async list(query: AuditListQuery = {}): Promise<Page<AuditEvent>> {
    const limit = readLimit(query.limit);
    const newest = (query.order ?? 'newest') === 'newest';
    const tag = newest ? 'audit-newest' : 'audit-oldest';
    const from = decodeCursor(tag, 'n', query.cursor);
    const w = new Where();
    if (from) w.add(newest ? 'seq < ?' : 'seq > ?', from[0]);
    if (query.campaign_id !== undefined) w.add('campaign_id = ?', query.campaign_id);
    if (query.action !== undefined) w.add('action = ?', query.action);
    if (query.actor !== undefined) w.add('actor = ?', query.actor);
    if (query.entity_id !== undefined) w.add('entity_id = ?', query.entity_id);
    if (query.text !== undefined && query.text !== '') {
      w.add(`(instr(entity_id, ?) > 0 OR instr(action, ?) > 0 OR instr(coalesce(details, ''), ?) > 0)`, query.text, query.text, query.text);
    }
    const rows = this.q.all<AuditRow>(`SELECT ${this.columns} FROM audit_log ${w} ORDER BY seq ${newest ? 'DESC' : 'ASC'} LIMIT ?`, [...w.params, limit + 1]);
    return cutPage(tag, rows, limit, (r) => [r.seq], (r) => checkedRow(AuditEventSchema, r, rowToAudit));
  }
}

interface QueueRow {
  id: string;
  seq: number;
  payload: string;
  attempts: number;
  enqueued_at_ms: number;
  available_at_ms: number;
  lease_id: string | null;
  consumer: string | null;
  expires_at_ms: number | null;
}

function queueItem(r: QueueRow): ReadRow<QueueItemView> {
  let payload: unknown;
  try {
    payload = JSON.parse(r.payload);
  } catch (e) {
    return { ok: false, raw: r, problem: `payload is not JSON: ${(e as Error).message}` };
  }
  const { seq: _seq, ...rest } = r;
  return { ok: true, value: { ...rest, payload } };
}

/**
 * Queue rows (`queue_items`) have no secondary index since 0002 (the writer serves its queues
 * from memory), so these read the table in one pass; the table holds only items still queued.
 */
class SqliteQueueReader implements QueueReader {
  constructor(private readonly q: Statements) {}

  async listQueues(query: QueueListQuery): Promise<Page<QueueSummary>> {
    const limit = readLimit(query.limit);
    const from = decodeCursor('queues', 'ss', query.cursor);
    const w = new Where();
    if (from) w.add('(space, queue) > (?, ?)', ...from);
    const rows = this.q.all<{ space: string; queue: string; ready: number; delayed: number; leased: number }>(
      `SELECT space, queue,
         sum(lease_id IS NULL AND available_at_ms <= ?) AS ready,
         sum(lease_id IS NULL AND available_at_ms > ?) AS delayed,
         sum(lease_id IS NOT NULL) AS leased
       FROM queue_items ${w} GROUP BY space, queue ORDER BY space, queue LIMIT ?`,
      [query.now_ms, query.now_ms, ...w.params, limit + 1],
    );
    return cutPage('queues', rows, limit, (r) => [r.space, r.queue], (r) => ({
      ok: true,
      value: { space: r.space, queue: r.queue, depth: { ready: r.ready, delayed: r.delayed, leased: r.leased } },
    }));
  }

  async items(query: QueueItemsQuery): Promise<Page<QueueItemView>> {
    const limit = readLimit(query.limit);
    const leased = query.state === 'leased';
    const tag = leased ? 'queue-leased' : 'queue-waiting';
    const from = decodeCursor(tag, 'nn', query.cursor);
    const order = leased ? 'expires_at_ms, seq' : 'available_at_ms, seq';
    const w = new Where().add('space = ?', query.space).add('queue = ?', query.queue).add(leased ? 'lease_id IS NOT NULL' : 'lease_id IS NULL');
    if (from) w.add(`(${order}) > (?, ?)`, ...from);
    const rows = this.q.all<QueueRow>(
      `SELECT id, seq, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms FROM queue_items ${w} ORDER BY ${order} LIMIT ?`,
      [...w.params, limit + 1],
    );
    return cutPage(tag, rows, limit, (r) => [leased ? (r.expires_at_ms ?? 0) : r.available_at_ms, r.seq], queueItem);
  }
}

class SqlitePersonaCacheReader implements PersonaCacheReader {
  constructor(private readonly q: Statements) {}

  async list(query: PageRequest = {}): Promise<Page<CachedPersonaSummary>> {
    const limit = readLimit(query.limit);
    const from = decodeCursor('personas', 's', query.cursor);
    const w = new Where();
    if (from) w.add('persona_id > ?', from[0]);
    const rows = this.q.all<{ persona_id: string; traits: string }>(`SELECT persona_id, traits FROM persona_cache ${w} ORDER BY persona_id LIMIT ?`, [
      ...w.params,
      limit + 1,
    ]);
    return cutPage('personas', rows, limit, (r) => [r.persona_id], (r) => {
      const t = traitsFromJson(r.traits);
      return t.ok ? { ok: true, value: { persona_id: r.persona_id, trait_count: Object.keys(t.value).length } } : { ok: false, raw: r, problem: t.problem };
    });
  }

  async get(persona_id: string): Promise<ReadRow<Record<string, string>> | null> {
    const row = this.q.all<{ traits: string }>(`SELECT traits FROM persona_cache WHERE persona_id = ?`, [persona_id])[0];
    return row === undefined ? null : traitsFromJson(row.traits);
  }
}

/** The persona memory's rows file (src/adapters/hnsw/hnsw-row-store.ts), through its (timestamp, id) and (persona_id, category) indexes. */
class SqlitePersonaMemoryReader implements PersonaMemoryReader {
  constructor(private readonly q: Statements) {}

  private where(f: Omit<MemoryListQuery, 'cursor' | 'limit'>): Where {
    const w = new Where();
    if (f.persona_id !== undefined) w.add('persona_id = ?', f.persona_id);
    if (f.categories !== undefined) w.add('category IN (SELECT value FROM json_each(?))', JSON.stringify(f.categories));
    return w;
  }

  async list(query: MemoryListQuery = {}): Promise<Page<PersonaMemory>> {
    const limit = readLimit(query.limit);
    const from = decodeCursor('memories', 'ss', query.cursor);
    const w = this.where(query);
    if (from) w.add('(timestamp, id) > (?, ?)', ...from);
    const rows = this.q.all<PersonaMemory>(`SELECT id, persona_id, content, category, timestamp FROM memories ${w} ORDER BY timestamp, id LIMIT ?`, [
      ...w.params,
      limit + 1,
    ]);
    return cutPage('memories', rows, limit, (r) => [r.timestamp, r.id], (r) => checkedRow(PersonaMemorySchema, r));
  }

  async count(filter: Omit<MemoryListQuery, 'cursor' | 'limit'> = {}): Promise<number> {
    const w = this.where(filter);
    return this.q.all<{ n: number }>(`SELECT count(*) AS n FROM memories ${w}`, w.params)[0]?.n ?? 0;
  }

  /**
   * An exact scan of the rows the filter passes, each vector compared with the query; only the k
   * kept are then read whole and checked, in the same read transaction (one consistent view of a
   * live file). The HNSW index beside the rows is a cache this reader does not load: a scan is
   * exact, needs no index file and writes nothing.
   */
  async search(q: MemorySearchQuery): Promise<MemorySearchResult> {
    searchK(q.k);
    const near = new NearestMemories(q);
    const w = this.where(q);
    const db = this.q.db;
    const scan = db.prepare(`SELECT id, model_id, vector FROM memories ${w}`);
    const whole = db.prepare(`SELECT id, persona_id, content, category, timestamp, model_id FROM memories WHERE id = ?`);
    // one scratch vector for the query's length: a row's blob is copied into it (a Buffer need not be 4-byte aligned)
    const scratch = new Float32Array(q.vector.length);
    const bytes = new Uint8Array(scratch.buffer);
    return db.transaction(() => {
      for (const r of scan.iterate(...w.params) as IterableIterator<{ id: string; model_id: string; vector: unknown }>) {
        const blob = r.vector;
        if (!Buffer.isBuffer(blob) || blob.byteLength !== bytes.byteLength) {
          near.leaveOut(1, modelLabel(r.model_id, Buffer.isBuffer(blob) && blob.byteLength % 4 === 0 ? blob.byteLength / 4 : null));
          continue;
        }
        bytes.set(blob);
        const id = r.id;
        near.offer(String(id), () => memoryRow(whole.get(id) as MemoryRow), scratch, r.model_id);
      }
      return near.result(true);
    })();
  }

  async get(id: string): Promise<StoredMemoryObject | null> {
    const r = this.q.all<MemoryRow & { label: number; bytes: number | null }>(
      `SELECT label, id, persona_id, content, category, timestamp, model_id, length(vector) AS bytes FROM memories WHERE id = ?`,
      [id],
    )[0];
    if (r === undefined) return null;
    const { label: _label, bytes, model_id, ...memory } = r;
    return {
      row: memoryRow(r),
      properties: { ...memory, model_id },
      model_id,
      dimensions: bytes !== null && bytes > 0 && bytes % 4 === 0 ? bytes / 4 : null,
    };
  }
}

/** A memory row of the rows file, without its vector. */
type MemoryRow = PersonaMemory & { model_id: string };

/** A rows-file row as a checked memory; one that does not fit keeps its columns (but the vector) as raw. */
function memoryRow(r: MemoryRow): ReadRow<PersonaMemory> {
  const { id, persona_id, content, category, timestamp, model_id } = r;
  const row = checkedRow(PersonaMemorySchema, { id, persona_id, content, category, timestamp });
  return row.ok ? row : { ...row, raw: { id, persona_id, content, category, timestamp, model_id } };
}
