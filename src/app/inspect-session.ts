/**
 * A read-only session over stores the studio may not have written (a cluster another process
 * runs): the readers of src/ports/readers.ts and nothing else. Opening one builds no engine,
 * starts no run and writes nothing; it holds no port that can write, so nothing done through
 * it can change a store.
 *
 * The composition root opens the readers for a config (`composeReaders` in src/config/compose.ts
 * asks the backend's registry entry) and hands them, or a function that opens them, to
 * `InspectSession.open`. What a backend does not serve
 * is absent from `serves`, and asking for it fails with a one-line error naming it. A store the
 * backend would serve but this deployment does not keep (the audit log of a database Chimera's
 * own services wrote, which has only the seed's tables) is reported by `absent(what)` in a line a
 * person reads ("no audit log in this database …"); verifying the audit there says so instead of
 * failing.
 *
 * Queue items are checked here, once for every backend: a task queue holds WorkerTaskInputs and
 * a review queue WorkerTaskOutputs (DOMAIN.md); an item whose payload lacks a field or has one of
 * the wrong type comes back marked (extra fields are a producer's own and pass).
 */
import type { z } from 'zod';
import { verifyAuditChain, type AuditHeads } from '../domain/audit.ts';
import { ValidationError } from '../domain/errors.ts';
import { WorkerTaskInputSchema, WorkerTaskOutputSchema, formatIssues, type AuditEvent, type CampaignRead, type MemoryCategory, type PersonaMemory, type TaskRead } from '../domain/schemas.ts';
import type { Embedder } from '../ports/embedder.ts';
import type {
  AuditListQuery,
  CachedPersonaSummary,
  CampaignListQuery,
  MemoryListQuery,
  MemorySearchResult,
  Page,
  PageRequest,
  QueueItemView,
  QueueItemsQuery,
  QueueListQuery,
  QueueSummary,
  Readers,
  ReadRow,
  StoredMemoryObject,
  TaskListQuery,
  TaskWithHistory,
} from '../ports/readers.ts';
import { MEMORY_DISTANCE_METRIC, MEMORY_SEARCH_K_MAX, READ_LIMIT_MAX, READER_STORES } from '../ports/readers.ts';

/** Every audit chain verified, walking the log oldest first page by page (`AuditSession.verifyAudit`). */
export interface AuditChainsVerified {
  readonly ok: boolean;
  readonly checked: number;
  /** Rows that did not fit the audit schema (each makes the whole not verified). */
  readonly malformed: number;
  readonly broken: { readonly seq: number; readonly reason: string } | null;
  /** Per chain: a campaign id, or '(run)'; in the order first met. */
  readonly chains: { readonly chain: string; readonly events: number; readonly ok: boolean }[];
  /** Why there was nothing to verify (the deployment keeps no audit log), else null; `ok` is then false: nothing was verified. */
  readonly absent: string | null;
}

/** The longest plain-words query a memory search embeds. */
export const MEMORY_QUERY_MAX_CHARS = 2000;

/** A memory search in plain words. */
export interface MemoryTextQuery {
  readonly query: string;
  /** 1..MEMORY_SEARCH_K_MAX. */
  readonly k: number;
  readonly persona_id?: string;
  readonly categories?: readonly MemoryCategory[];
}

/** What a memory search found, with the metric and the embedder that embedded the query. */
export interface MemoryTextSearchResult extends MemorySearchResult {
  readonly metric: typeof MEMORY_DISTANCE_METRIC;
  readonly embedder: { readonly model_id: string; readonly dimensions: number };
}

/** The stores an inspection can read, as data. */
export const INSPECTABLE = READER_STORES;
export type Inspectable = (typeof INSPECTABLE)[number];

/** What the items of each queue space hold (by space); a space not named here is not checked. */
const QUEUE_PAYLOADS: Readonly<Record<string, { readonly schema: z.ZodType; readonly what: string }>> = {
  task: { schema: WorkerTaskInputSchema.loose(), what: 'a WorkerTaskInput {task_id, skill_name, params, persona_id}' },
  review: { schema: WorkerTaskOutputSchema.loose(), what: 'a WorkerTaskOutput {task_id, skill_name, result, confidence_score, reasoning}' },
};

/** A queue item checked against what its space holds: marked when its payload does not fit. */
function checkedItem(space: string, row: ReadRow<QueueItemView>): ReadRow<QueueItemView> {
  const want = QUEUE_PAYLOADS[space];
  if (!row.ok || !want) return row;
  const r = want.schema.safeParse(row.value.payload);
  return r.success ? row : { ok: false, raw: { id: row.value.id, payload: row.value.payload }, problem: `the payload is not ${want.what}: ${formatIssues(r.error)}` };
}

export class InspectSession {
  /** What this session's backend lets it read. */
  readonly serves: readonly Inspectable[];
  private closed = false;

  private constructor(private readonly readers: Readers) {
    this.serves = INSPECTABLE.filter((k) => readers[k] !== undefined);
  }

  /** A session on `readers` (or on what `open` returns); the session closes them. */
  static async open(readers: Readers | (() => Readers | Promise<Readers>)): Promise<InspectSession> {
    return new InspectSession(typeof readers === 'function' ? await readers() : readers);
  }

  /** The backend's name (its registry kind). */
  get kind(): string {
    return this.readers.kind;
  }

  /** Why a store this backend would serve is not kept by this deployment, or null. */
  absent(what: Inspectable): string | null {
    return this.readers[what] === undefined ? (this.readers.absent?.[what] ?? null) : null;
  }

  /** Campaigns in the query's sort (default (created_at, id) ascending). */
  async campaigns(query?: CampaignListQuery): Promise<Page<CampaignRead>> {
    return this.need('state').listCampaigns(query);
  }

  /** Tasks in the query's sort (default (created_at, id) ascending), filtered by campaign and status. */
  async tasks(query?: TaskListQuery): Promise<Page<TaskRead>> {
    return this.need('state').listTasks(query);
  }

  /** One task with the first page of its audit history, or null. */
  async task(id: string, history_limit?: number): Promise<TaskWithHistory | null> {
    return this.need('state').getTask(id, history_limit);
  }

  /** Audit events, filtered, newest or oldest first. */
  async audit(query?: AuditListQuery): Promise<Page<AuditEvent>> {
    return this.need('audit').list(query);
  }

  /** Queues with their depths at `now_ms`. */
  async queues(query: QueueListQuery): Promise<Page<QueueSummary>> {
    return this.need('queues').listQueues(query);
  }

  /** One queue's waiting or leased items; an item whose payload is not what its space holds is marked. */
  async queueItems(query: QueueItemsQuery): Promise<Page<QueueItemView>> {
    const page = await this.need('queues').items(query);
    return { ...page, items: page.items.map((r) => checkedItem(query.space, r)) };
  }

  /** Cached personas with their trait counts. */
  async personas(query?: PageRequest): Promise<Page<CachedPersonaSummary>> {
    return this.need('personaCache').list(query);
  }

  /** One cached persona's traits, or null. */
  async persona(persona_id: string): Promise<ReadRow<Record<string, string>> | null> {
    return this.need('personaCache').get(persona_id);
  }

  /** Persona memories by (timestamp, id), filtered by persona and category. */
  async memories(query?: MemoryListQuery): Promise<Page<PersonaMemory>> {
    return this.need('memory').list(query);
  }

  /** How many persona memories pass the filter. */
  async countMemories(filter?: Omit<MemoryListQuery, 'cursor' | 'limit'>): Promise<number> {
    return this.need('memory').count(filter);
  }

  /** One memory as stored (every property, its vector's model and length), or null. */
  async memory(id: string): Promise<StoredMemoryObject | null> {
    return this.need('memory').get(id);
  }

  /**
   * The k memories nearest to `query`, plain words embedded here by `embedder` (the caller's
   * configured one: no network), by cosine distance (1 − cosine similarity), nearest first. Stored
   * vectors of another model or length are left out and counted. An empty query or a k out of
   * range is a ValidationError naming the field.
   */
  async searchMemories(embedder: Embedder, q: MemoryTextQuery): Promise<MemoryTextSearchResult> {
    const text = q.query.trim();
    if (text === '') throw new ValidationError('query: the search text is empty');
    if (text.length > MEMORY_QUERY_MAX_CHARS) throw new ValidationError(`query: the search text is longer than ${MEMORY_QUERY_MAX_CHARS} characters`);
    if (!Number.isInteger(q.k) || q.k < 1 || q.k > MEMORY_SEARCH_K_MAX) throw new ValidationError(`k: must be an integer from 1 to ${MEMORY_SEARCH_K_MAX} (got ${q.k})`);
    const reader = this.need('memory');
    const [vector] = await embedder.embed([text]);
    const r = await reader.search({
      vector: vector as Float32Array,
      model_id: embedder.model_id,
      k: q.k,
      ...(q.persona_id !== undefined ? { persona_id: q.persona_id } : {}),
      ...(q.categories !== undefined ? { categories: q.categories } : {}),
    });
    return { ...r, metric: MEMORY_DISTANCE_METRIC, embedder: { model_id: embedder.model_id, dimensions: embedder.dimensions } };
  }

  /** Walks the audit log oldest first, verifying every chain page by page; says which chain broke, or that there is no audit log. */
  async verifyAudit(): Promise<AuditChainsVerified> {
    const absent = this.absent('audit');
    if (absent !== null) return { ok: false, checked: 0, malformed: 0, broken: null, chains: [], absent };
    let heads: AuditHeads | null = null;
    let cursor: string | null = null;
    const per = new Map<string, { events: number; ok: boolean }>();
    let checked = 0;
    let malformed = 0;
    let broken: { seq: number; reason: string } | null = null;
    do {
      const page: Page<AuditEvent> = await this.audit({ order: 'oldest', limit: READ_LIMIT_MAX, cursor });
      const events: AuditEvent[] = [];
      for (const r of page.items) {
        if (r.ok) events.push(r.value);
        else malformed += 1;
      }
      for (const e of events) {
        const k = e.campaign_id ?? '(run)';
        const c = per.get(k) ?? { events: 0, ok: true };
        c.events += 1;
        per.set(k, c);
      }
      const v = verifyAuditChain(events, heads);
      checked += v.checked;
      if (!v.ok) {
        const at = events.find((e) => e.seq === v.broken_at);
        broken = { seq: v.broken_at ?? -1, reason: v.reason ?? 'broken' };
        const c = per.get(at?.campaign_id ?? '(run)');
        if (c) c.ok = false;
        break;
      }
      heads = v.heads;
      cursor = page.next_cursor;
    } while (cursor);
    return { ok: !broken && malformed === 0, checked, malformed, broken, chains: [...per].map(([chain, c]) => ({ chain, events: c.events, ok: c.ok })), absent: null };
  }

  /** Releases the readers; the session is unusable afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.readers.close();
  }

  private need<K extends Inspectable>(what: K): NonNullable<Readers[K]> {
    if (this.closed) throw new ValidationError('inspect session is closed');
    const r = this.readers[what];
    if (r === undefined) throw new ValidationError(`this inspection (${this.readers.kind}) cannot read ${what}: ${this.readers.absent?.[what] ?? `the backend serves no ${what} reader`}`);
    return r as NonNullable<Readers[K]>;
  }
}
