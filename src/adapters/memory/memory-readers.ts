/**
 * The readers (src/ports/readers.ts) over in-memory stores: the reference model the SQLite
 * readers are checked against. They read the shared data objects the in-memory ports write
 * (MemoryStateData, MemoryQueueData, the persona cache's map) and never change them; each
 * page sorts what passes the filter and starts after the cursor's key. Rows are checked
 * against the read schemas (CampaignReadSchema, …) as the SQLite readers check theirs, so a record put into the
 * data by hand that does not fit comes back marked. The persona memory reader serves any
 * PersonaMemoryStore (the Inspector reads a session's own memory port through it): its search
 * is the store's, its score s reported as the cosine distance 1 − s.
 */
import {
  AuditEventSchema,
  CampaignReadSchema,
  PersonaMemorySchema,
  TaskReadSchema,
  type AuditEvent,
  type CampaignRead,
  type PersonaMemory,
  type Task,
  type TaskRead,
} from '../../domain/schemas.ts';
import type { PersonaMemoryStore } from '../../ports/persona-memory.ts';
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
import { checkedRow, cutPage, decodeCursor, keyAfter, type SortKey } from '../shared/reader-pages.ts';
import { traitsRow } from '../shared/reader-rows.ts';
import { modelLabel, NearestMemories, nearestFirst } from '../shared/memory-neighbours.ts';
import { MemoryStateStore, type MemoryStateData } from './memory-state-store.ts';
import { MemoryQueue, type MemoryQueueData } from './memory-queue.ts';
import { MemoryPersonaCache } from './memory-persona-cache.ts';

/** What a memory inspection reads: any of the in-memory stores' shared data. */
export interface MemoryReaderSources {
  readonly state?: MemoryStateData;
  /** The queue objects by space name ('task', 'review'). */
  readonly queues?: ReadonlyMap<string, MemoryQueueData<unknown>>;
  readonly personaCache?: ReadonlyMap<string, unknown>;
  readonly memory?: PersonaMemoryStore;
}

/** Readers over in-memory stores (nothing to release: close does nothing). */
export function memoryReaders(src: MemoryReaderSources): Readers {
  return {
    kind: 'memory',
    ...(src.state ? { state: new MemoryStateReader(src.state), audit: new MemoryAuditReader(src.state) } : {}),
    ...(src.queues ? { queues: new MemoryQueueReader(src.queues) } : {}),
    ...(src.personaCache ? { personaCache: new MemoryPersonaCacheReader(src.personaCache) } : {}),
    ...(src.memory ? { memory: new MemoryPersonaMemoryReader(src.memory) } : {}),
    close: async () => {},
  };
}

/**
 * Readers over in-memory ports this process opened (a running in-memory session): the very
 * objects those ports write, read between their commits and never written (a unit of work
 * applies its writes at once, synchronously, so a page never sees part of one). Only the ports
 * that are in-memory adapters are read; a part served by another backend is absent.
 */
export function memoryReadersOver(ports: { readonly state?: unknown; readonly taskQueue?: unknown; readonly reviewQueue?: unknown; readonly personaCache?: unknown }): Readers {
  const queues = new Map<string, MemoryQueueData<unknown>>();
  if (ports.taskQueue instanceof MemoryQueue) queues.set('task', ports.taskQueue.shared);
  if (ports.reviewQueue instanceof MemoryQueue) queues.set('review', ports.reviewQueue.shared);
  return memoryReaders({
    ...(ports.state instanceof MemoryStateStore ? { state: ports.state.data } : {}),
    ...(queues.size > 0 ? { queues } : {}),
    ...(ports.personaCache instanceof MemoryPersonaCache ? { personaCache: ports.personaCache.shared } : {}),
  });
}

/** A string part of a key from a raw record (a record put in by hand may have anything there; a missing one sorts as ''). */
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** A row's key in a sort (src/ports/readers.ts): (created_at, id), or (by, created_at, id). */
function sortKeyOf(by: string): (r: unknown) => SortKey {
  if (by === 'created_at') return (r) => [str((r as Task).created_at), str((r as Task).id)];
  return (r) => [str((r as Record<string, unknown>)[by]), str((r as Task).created_at), str((r as Task).id)];
}

/** The rows after `after` in `sorted` (sorted by `key`), up to limit + 1 of them. */
function after<R>(sorted: readonly R[], key: (r: R) => SortKey, from: SortKey | null, limit: number): R[] {
  const out: R[] = [];
  for (const r of sorted) {
    if (from && !keyAfter(key(r), from)) continue;
    out.push(r);
    if (out.length > limit) break;
  }
  return out;
}

function byKey<R>(key: (r: R) => SortKey): (a: R, b: R) => number {
  return (a, b) => (keyAfter(key(a), key(b)) ? 1 : keyAfter(key(b), key(a)) ? -1 : 0);
}

/**
 * The first `limit + 1` rows of `rows` (in any order) that come after the cursor `from` in the
 * order `key` ascending (or descending): a selection into a sorted buffer of that size, so a
 * page over n rows costs about n key comparisons, not a sort of all n (the store keeps no
 * order). The maps keep rows in the order they were written, which is mostly created_at
 * order, so a descending page scans them from the end: most rows are then turned away by one
 * comparison with the buffer's last.
 */
function firstAfter<R>(rows: readonly R[], key: (r: R) => SortKey, dir: ListSort<string>['dir'], from: SortKey | null, limit: number): R[] {
  const before = dir === 'asc' ? (a: SortKey, b: SortKey) => keyAfter(b, a) : (a: SortKey, b: SortKey) => keyAfter(a, b);
  const buf: { k: SortKey; r: R }[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[dir === 'asc' ? i : rows.length - 1 - i] as R;
    const k = key(r);
    if (from && !before(from, k)) continue;
    if (buf.length > limit && !before(k, (buf[buf.length - 1] as { k: SortKey }).k)) continue;
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(k, (buf[mid] as { k: SortKey }).k)) hi = mid;
      else lo = mid + 1;
    }
    buf.splice(lo, 0, { k, r });
    if (buf.length > limit + 1) buf.pop();
  }
  return buf.map((b) => b.r);
}

class MemoryStateReader implements StateReader {
  constructor(private readonly s: MemoryStateData) {}

  async listCampaigns(q: CampaignListQuery = {}): Promise<Page<CampaignRead>> {
    const limit = readLimit(q.limit);
    const sort = listSort('campaigns', CAMPAIGN_SORT_KEYS, q.sort);
    const tag = sortTag('campaigns', sort);
    const key = sortKeyOf(sort.by);
    const from = decodeCursor(tag, sort.by === 'created_at' ? 'ss' : 'sss', q.cursor);
    const rows = [...this.s.campaigns.values()].filter((c) => q.status === undefined || c.status === q.status);
    return cutPage(tag, firstAfter(rows, key, sort.dir, from, limit), limit, key, (r) => checkedRow(CampaignReadSchema, r));
  }

  async listTasks(q: TaskListQuery = {}): Promise<Page<TaskRead>> {
    const limit = readLimit(q.limit);
    const sort = listSort('tasks', TASK_SORT_KEYS, q.sort);
    const tag = sortTag('tasks', sort);
    const key = sortKeyOf(sort.by);
    const from = decodeCursor(tag, sort.by === 'created_at' ? 'ss' : 'sss', q.cursor);
    const statuses = q.status === undefined ? null : typeof q.status === 'string' ? [q.status] : q.status;
    const rows = [...this.s.tasks.values()].filter((t) => (q.campaign_id === undefined || t.campaign_id === q.campaign_id) && (!statuses || statuses.includes(t.status)));
    return cutPage(tag, firstAfter(rows, key, sort.dir, from, limit), limit, key, (r) => checkedRow(TaskReadSchema, r));
  }

  async getTask(id: string, history_limit?: number): Promise<TaskWithHistory | null> {
    const limit = readLimit(history_limit);
    const t = this.s.tasks.get(id);
    if (t === undefined) return null;
    const history = await new MemoryAuditReader(this.s).list({ entity_id: id, order: 'oldest', limit });
    return { task: checkedRow(TaskReadSchema, t), history };
  }
}

/** Whether an audit record passes a query's filters (the SQL WHERE of the SQLite reader, in JavaScript). */
function auditMatches(e: AuditEvent, q: AuditListQuery): boolean {
  if (q.campaign_id !== undefined && e.campaign_id !== q.campaign_id) return false;
  if (q.action !== undefined && e.action !== q.action) return false;
  if (q.actor !== undefined && e.actor !== q.actor) return false;
  if (q.entity_id !== undefined && e.entity_id !== q.entity_id) return false;
  if (q.text !== undefined && q.text !== '') {
    const details = e.details === undefined ? '' : JSON.stringify(e.details);
    if (!str(e.entity_id).includes(q.text) && !str(e.action).includes(q.text) && !details.includes(q.text)) return false;
  }
  return true;
}

class MemoryAuditReader implements AuditReader {
  constructor(private readonly s: MemoryStateData) {}

  async list(q: AuditListQuery = {}): Promise<Page<AuditEvent>> {
    const limit = readLimit(q.limit);
    const newest = (q.order ?? 'newest') === 'newest';
    const tag = newest ? 'audit-newest' : 'audit-oldest';
    const from = decodeCursor(tag, 'n', q.cursor);
    const log = this.s.audit;
    // seq n lives at index n - 1
    const rows: { seq: number; e: AuditEvent }[] = [];
    const start = from ? (newest ? (from[0] as number) - 2 : (from[0] as number)) : newest ? log.length - 1 : 0;
    for (let i = newest ? Math.min(start, log.length - 1) : Math.max(0, start); newest ? i >= 0 : i < log.length; newest ? i-- : i++) {
      const e = log[i] as AuditEvent;
      if (!auditMatches(e, q)) continue;
      rows.push({ seq: i + 1, e });
      if (rows.length > limit) break;
    }
    return cutPage(tag, rows, limit, (r) => [r.seq], (r) => checkedRow(AuditEventSchema, r.e));
  }
}

type AnyQueue = NonNullable<ReturnType<MemoryQueueData<unknown>['qs']['get']>>;
type AnyEntry = AnyQueue['waiting'][number];

function itemView(e: AnyEntry): QueueItemView {
  return {
    id: e.id,
    payload: e.payload,
    attempts: e.attempts,
    enqueued_at_ms: e.enqueued_at_ms,
    available_at_ms: e.available_at_ms,
    lease_id: e.lease?.lease_id ?? null,
    consumer: e.lease?.consumer ?? null,
    expires_at_ms: e.lease?.expires_at_ms ?? null,
  };
}

const ok = <T,>(value: T): ReadRow<T> => ({ ok: true, value });

class MemoryQueueReader implements QueueReader {
  constructor(private readonly spaces: ReadonlyMap<string, MemoryQueueData<unknown>>) {}

  async listQueues(q: QueueListQuery): Promise<Page<QueueSummary>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('queues', 'ss', q.cursor);
    const all: { space: string; queue: string; q: AnyQueue }[] = [];
    for (const [space, data] of this.spaces) for (const [queue, one] of data.qs) if (one.ids.size > 0) all.push({ space, queue, q: one });
    const key = (r: { space: string; queue: string }): SortKey => [r.space, r.queue];
    all.sort(byKey(key));
    return cutPage('queues', after(all, key, from, limit), limit, key, (r) => {
      let ready = 0;
      let delayed = 0;
      for (let i = r.q.head; i < r.q.waiting.length; i++) {
        if ((r.q.waiting[i] as AnyEntry).available_at_ms <= q.now_ms) ready += 1;
        else delayed += 1;
      }
      return ok({ space: r.space, queue: r.queue, depth: { ready, delayed, leased: r.q.leased.size } });
    });
  }

  async items(q: QueueItemsQuery): Promise<Page<QueueItemView>> {
    const limit = readLimit(q.limit);
    const tag = q.state === 'leased' ? 'queue-leased' : 'queue-waiting';
    const from = decodeCursor(tag, 'nn', q.cursor);
    const one = this.spaces.get(q.space)?.qs.get(q.queue);
    if (!one) return { items: [], next_cursor: null };
    const leased = q.state === 'leased';
    const key = (e: AnyEntry): SortKey => [leased ? (e.lease?.expires_at_ms ?? 0) : e.available_at_ms, e.seq];
    const rows = leased ? [...one.leased.values()].sort(byKey(key)) : one.waiting.slice(one.head);
    return cutPage(tag, after(rows, key, from, limit), limit, key, (e) => ok(itemView(e)));
  }
}

class MemoryPersonaCacheReader implements PersonaCacheReader {
  constructor(private readonly m: ReadonlyMap<string, unknown>) {}

  async list(q: PageRequest = {}): Promise<Page<CachedPersonaSummary>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('personas', 's', q.cursor);
    const ids = [...this.m.keys()].sort();
    return cutPage('personas', after(ids, (id) => [id], from, limit), limit, (id) => [id], (id) => {
      const t = traitsRow(this.m.get(id));
      return t.ok ? ok({ persona_id: id, trait_count: Object.keys(t.value).length }) : { ok: false, raw: { persona_id: id, traits: this.m.get(id) }, problem: t.problem };
    });
  }

  async get(persona_id: string): Promise<ReadRow<Record<string, string>> | null> {
    return this.m.has(persona_id) ? traitsRow(this.m.get(persona_id)) : null;
  }
}

const memoryKey = (m: PersonaMemory): SortKey => [str(m.timestamp), str(m.id)];

/** Over the persona memory port: the in-memory store keeps no order, so a page sorts what passes the filter. */
class MemoryPersonaMemoryReader implements PersonaMemoryReader {
  constructor(private readonly store: PersonaMemoryStore) {}

  async list(q: MemoryListQuery = {}): Promise<Page<PersonaMemory>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('memories', 'ss', q.cursor);
    const rows = await this.store.list(filterOf(q));
    return cutPage('memories', after(rows, memoryKey, from, limit), limit, memoryKey, (r) => checkedRow(PersonaMemorySchema, r));
  }

  async count(f: Omit<MemoryListQuery, 'cursor' | 'limit'> = {}): Promise<number> {
    return this.store.count(filterOf(f));
  }

  /** The store's own search (it holds one model): its score s is reported as the distance 1 − s. */
  async search(q: MemorySearchQuery): Promise<MemorySearchResult> {
    const k = searchK(q.k);
    const near = new NearestMemories(q);
    const exact = this.store.capabilities.exact;
    const model = await this.store.model();
    if (model === null) return near.result(exact);
    if (model.model_id !== q.model_id || model.dimensions !== q.vector.length) {
      near.leaveOut(await this.store.count(filterOf(q)), modelLabel(model.model_id, model.dimensions));
      return near.result(exact);
    }
    const hits = await this.store.search({ vector: q.vector, k, ...filterOf(q) });
    const items = hits
      .map((h) => ({ id: h.memory.id, row: checkedRow(PersonaMemorySchema, h.memory), distance: 1 - h.score }))
      .sort(nearestFirst)
      .map(({ row, distance }) => ({ row, distance }));
    return { items, exact, left_out: 0, left_out_models: [] };
  }

  async get(id: string): Promise<StoredMemoryObject | null> {
    const m = await this.store.get(id);
    if (m === null) return null;
    const model = await this.store.model();
    return { row: checkedRow(PersonaMemorySchema, m), properties: { ...m }, model_id: model?.model_id ?? null, dimensions: model?.dimensions ?? null };
  }
}

function filterOf(q: Omit<MemoryListQuery, 'cursor' | 'limit'>): { persona_id?: string; categories?: MemoryListQuery['categories'] } {
  return { ...(q.persona_id !== undefined ? { persona_id: q.persona_id } : {}), ...(q.categories !== undefined ? { categories: q.categories } : {}) };
}
