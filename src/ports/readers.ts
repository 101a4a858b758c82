/**
 * The read side for inspection: what the studio uses to look at stores it did not write (a
 * cluster another process runs), without building an engine and without writing anything.
 *
 * Every list is a page of a keyset walk pushed into the store: a request carries the `cursor`
 * the previous page returned as `next_cursor` (absent or null: from the start) and a `limit`
 * (1..READ_LIMIT_MAX, DEFAULT_READ_LIMIT when absent), never an offset; filters run in the store
 * (SQL WHERE for SQLite). A page ends with `next_cursor: null` when nothing follows it. A cursor
 * is opaque and belongs to the list (and order) that made it; another list refuses it. On a
 * live store, rows committed after a page was read appear on a later page when their key sorts
 * after the cursor (a reader may also be a snapshot, which an adapter says in its docs).
 *
 * Data the studio did not write must not break a reader: a row that does not fit the expected
 * shape comes back as `{ ok: false, raw, problem }` in its place, never as a thrown error.
 */
import { ValidationError } from '../domain/errors.ts';
import type { AuditEvent, CampaignRead, CampaignStatus, MemoryCategory, PersonaMemory, TaskRead, TaskStatus } from '../domain/schemas.ts';
import type { QueueDepth } from './queue.ts';

/** The most rows one page may ask for. */
export const READ_LIMIT_MAX = 1000;
/** The page size when a request gives none. */
export const DEFAULT_READ_LIMIT = 100;

/** One row as read: the record, or the raw row and what is wrong with it. */
export type ReadRow<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly raw: unknown; readonly problem: string };

/** One page of a keyset walk. */
export interface Page<T> {
  readonly items: readonly ReadRow<T>[];
  /** Where the next page starts, or null when this page is the last. */
  readonly next_cursor: string | null;
}

/** What every list request carries. */
export interface PageRequest {
  /** The `next_cursor` of the previous page; absent or null for the first page. */
  readonly cursor?: string | null;
  /** At most this many rows (1..READ_LIMIT_MAX). */
  readonly limit?: number;
}

/**
 * The orders a list of campaigns or tasks can be read in. Every key is one the ports never
 * change once a row is written (CampaignPatch and TaskPatch leave it out), so a keyset walk
 * stays exact on a live store: rows only ever appear, each at its one place in the order, and
 * a walk shows every row once (those written during it that sort after its cursor included).
 * A mutable key (updated_at, status) could not promise that: a row updated during a walk
 * would move past the cursor and be shown twice, or move before it and be skipped.
 *
 * `created_at` is (created_at, id); `persona_id` is (persona_id, created_at, id) and
 * `skill_name` is (skill_name, created_at, id): rows of one persona or skill, oldest first.
 * 'desc' reverses every part, so ties are still broken by id. Strings compare by code unit
 * (byte order for ASCII), never by a locale's collation.
 */
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
export const CAMPAIGN_SORT_KEYS = ['created_at', 'persona_id'] as const;
export type CampaignSortKey = (typeof CAMPAIGN_SORT_KEYS)[number];
export const TASK_SORT_KEYS = ['created_at', 'skill_name'] as const;
export type TaskSortKey = (typeof TASK_SORT_KEYS)[number];

/** How a list is sorted; absent: `{ by: 'created_at', dir: 'asc' }`. */
export interface ListSort<K extends string> {
  readonly by: K;
  readonly dir: SortDirection;
}

export interface CampaignListQuery extends PageRequest {
  readonly status?: CampaignStatus;
  readonly sort?: ListSort<CampaignSortKey>;
}

export interface TaskListQuery extends PageRequest {
  readonly campaign_id?: string;
  readonly status?: TaskStatus | readonly TaskStatus[];
  readonly sort?: ListSort<TaskSortKey>;
}

/**
 * The tag of a sorted list's cursors ('tasks', 'tasks-desc', 'tasks-by-skill_name-desc', …):
 * a cursor of one order is refused by another. The default order keeps the list's own name.
 */
export function sortTag(list: string, sort: ListSort<string> | undefined): string {
  const by = sort?.by ?? 'created_at';
  return `${list}${by === 'created_at' ? '' : `-by-${by}`}${sort?.dir === 'desc' ? '-desc' : ''}`;
}

/** The sort of a request, checked (a ValidationError names a key or direction that is not one of the list's). */
export function listSort<K extends string>(list: string, keys: readonly K[], sort: ListSort<K> | undefined): ListSort<K> {
  if (sort === undefined) return { by: keys[0] as K, dir: 'asc' };
  if (!keys.includes(sort.by)) throw new ValidationError(`invalid sort.by ${JSON.stringify(sort.by)} for ${list}: must be one of ${keys.join(', ')}`);
  if (!SORT_DIRECTIONS.includes(sort.dir)) throw new ValidationError(`invalid sort.dir ${JSON.stringify(sort.dir)}: must be asc or desc`);
  return sort;
}

export const AUDIT_ORDERS = ['newest', 'oldest'] as const;
export type AuditOrder = (typeof AUDIT_ORDERS)[number];

export interface AuditListQuery extends PageRequest {
  readonly campaign_id?: string;
  readonly action?: string;
  readonly actor?: string;
  readonly entity_id?: string;
  /** A case-sensitive substring of the entity id, the action or the details' JSON text. */
  readonly text?: string;
  /** By seq: 'newest' first (the default) or 'oldest' first. */
  readonly order?: AuditOrder;
}

/** A task and the first page of its audit history (oldest first; page on with AuditReader.list). */
export interface TaskWithHistory {
  readonly task: ReadRow<TaskRead>;
  readonly history: Page<AuditEvent>;
}

export interface StateReader {
  /** Campaigns in `sort` order (default (created_at, id) ascending), optionally of one status (rows written with only the seed's columns fit: CampaignReadSchema). */
  listCampaigns(query?: CampaignListQuery): Promise<Page<CampaignRead>>;
  /** Tasks in `sort` order (default (created_at, id) ascending; no created_at sorts last), optionally of one campaign and one or more statuses (TaskReadSchema). */
  listTasks(query?: TaskListQuery): Promise<Page<TaskRead>>;
  /** One task with its audit history (events whose entity is the task, oldest first, `history_limit` of them; none where the store keeps no audit log), or null. */
  getTask(id: string, history_limit?: number): Promise<TaskWithHistory | null>;
}

export interface AuditReader {
  /** Audit events passing every filter given, by seq (newest first unless `order` is 'oldest'). */
  list(query?: AuditListQuery): Promise<Page<AuditEvent>>;
}

export const QUEUE_ITEM_STATES = ['waiting', 'leased'] as const;
export type QueueItemState = (typeof QUEUE_ITEM_STATES)[number];

/** One queue and its depth at `now_ms`. */
export interface QueueSummary {
  /** The queue object it belongs to ('task' or 'review', as the backend names them). */
  readonly space: string;
  readonly queue: string;
  readonly depth: QueueDepth;
}

/** One queue item as stored: waiting (lease fields null) or leased. */
export interface QueueItemView {
  readonly id: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly enqueued_at_ms: number;
  readonly available_at_ms: number;
  readonly lease_id: string | null;
  readonly consumer: string | null;
  readonly expires_at_ms: number | null;
}

export interface QueueListQuery extends PageRequest {
  /** The time depths are counted at (ready: available_at_ms ≤ now_ms; delayed: later). */
  readonly now_ms: number;
}

export interface QueueItemsQuery extends PageRequest {
  readonly space: string;
  readonly queue: string;
  /** 'waiting' in claim order (available_at_ms, enqueue order); 'leased' by (expires_at_ms, enqueue order). */
  readonly state: QueueItemState;
}

export interface QueueReader {
  /** Queues that hold any item, by (space, queue), each with its depth at `now_ms`. */
  listQueues(query: QueueListQuery): Promise<Page<QueueSummary>>;
  /** One queue's waiting or leased items, in claim or expiry order. */
  items(query: QueueItemsQuery): Promise<Page<QueueItemView>>;
}

/** A cached persona and how many traits it has. */
export interface CachedPersonaSummary {
  readonly persona_id: string;
  readonly trait_count: number;
}

export interface PersonaCacheReader {
  /** Cached personas by id, each with its trait count. */
  list(query?: PageRequest): Promise<Page<CachedPersonaSummary>>;
  /** One persona's traits, or null when it is not cached. */
  get(persona_id: string): Promise<ReadRow<Record<string, string>> | null>;
}

export interface MemoryListQuery extends PageRequest {
  readonly persona_id?: string;
  readonly categories?: readonly MemoryCategory[];
}

/** The most neighbours one memory search may ask for. */
export const MEMORY_SEARCH_K_MAX = 100;

/** The metric every memory reader's search reports, whatever the store ranks by. */
export const MEMORY_DISTANCE_METRIC = 'cosine distance' as const;

/** A nearest-neighbour search over stored vectors; the caller has embedded the query (readers never embed). */
export interface MemorySearchQuery {
  /** The query's vector (any length; stored vectors of another length are left out). */
  readonly vector: Float32Array;
  /** The model that made `vector`: stored vectors recorded with another model are left out. */
  readonly model_id: string;
  /** At most this many neighbours (1..MEMORY_SEARCH_K_MAX). */
  readonly k: number;
  readonly persona_id?: string;
  readonly categories?: readonly MemoryCategory[];
}

/** One neighbour: the memory as read (a stored object that does not fit comes back marked) and its distance. */
export interface MemoryNeighbour {
  readonly row: ReadRow<PersonaMemory>;
  /**
   * Cosine distance, 1 − cos(query, stored) in [0, 2] (0: the same direction), computed by the
   * reader itself over the float32 vectors with domain/vectors.ts `dot`, so every backend reports
   * the same number for the same two vectors (Weaviate's own distance is not passed through).
   */
  readonly distance: number;
}

export interface MemorySearchResult {
  /** Nearest first: distance ascending, then memory id ascending. */
  readonly items: readonly MemoryNeighbour[];
  /** The true k nearest (false: an approximate index proposed the candidates, as HNSW and Weaviate do). */
  readonly exact: boolean;
  /**
   * Memories passing the filter that could not be compared with the query and were left out:
   * their vector was made by another model or has another length. (Where the store proposes
   * candidates, those it proposed; where it cannot compare at all, every memory passing the filter.)
   */
  readonly left_out: number;
  /** The models (with their dimensions) of what was left out, e.g. `hashing-v1-256 (256)`; `(not recorded)` where the store kept no model. */
  readonly left_out_models: readonly string[];
}

/** One memory as stored: the checked memory and what the store keeps beside it. */
export interface StoredMemoryObject {
  readonly row: ReadRow<PersonaMemory>;
  /** Every stored property or column but the vector, as stored (another program's extra properties included). */
  readonly properties: Readonly<Record<string, unknown>>;
  /** The model recorded with the vector, or null where none was recorded (an object Chimera's own services wrote). */
  readonly model_id: string | null;
  /** The stored vector's length, or null where the store holds no vector for it. */
  readonly dimensions: number | null;
}

export interface PersonaMemoryReader {
  /** Memories passing the filter, by (timestamp, id). */
  list(query?: MemoryListQuery): Promise<Page<PersonaMemory>>;
  /** How many memories pass the filter. */
  count(filter?: Omit<MemoryListQuery, 'cursor' | 'limit'>): Promise<number>;
  /** The k memories passing the filter nearest to the query vector, by cosine distance. */
  search(query: MemorySearchQuery): Promise<MemorySearchResult>;
  /** One memory with every stored property, its vector's model and length, or null. */
  get(id: string): Promise<StoredMemoryObject | null>;
}

/** The stores an inspection may read, as data. */
export const READER_STORES = ['state', 'audit', 'queues', 'personaCache', 'memory'] as const;
export type ReaderStore = (typeof READER_STORES)[number];

/** The readers one inspection opens; a store a backend does not have is absent. */
export interface Readers {
  readonly kind: string;
  readonly state?: StateReader;
  readonly audit?: AuditReader;
  readonly queues?: QueueReader;
  readonly personaCache?: PersonaCacheReader;
  readonly memory?: PersonaMemoryReader;
  /**
   * Stores the backend would serve that this deployment does not keep, each with a line that
   * says so ("no audit log in this database …"): a store written by Chimera's own services has
   * the seed's tables and none of ours. Such a store is absent above; this says why.
   */
  readonly absent?: Readonly<Partial<Record<ReaderStore, string>>>;
  /**
   * True when they read a snapshot taken when they opened (a SQLite file no writer holds, read
   * from an image or a copy): they never see a later commit, so nothing keeps them open for
   * later calls. Absent: they read the live store.
   */
  readonly snapshot?: boolean;
  /** Releases what the readers opened (never the stores they read). */
  close(): Promise<void>;
}

/** The page size of a request, or a ValidationError naming the bad limit. */
export function readLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_READ_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > READ_LIMIT_MAX) {
    throw new ValidationError(`invalid limit ${limit}: must be an integer from 1 to ${READ_LIMIT_MAX}`);
  }
  return limit;
}

/** The k of a memory search, or a ValidationError naming it. */
export function searchK(k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > MEMORY_SEARCH_K_MAX) {
    throw new ValidationError(`invalid k ${k}: must be an integer from 1 to ${MEMORY_SEARCH_K_MAX}`);
  }
  return k;
}
