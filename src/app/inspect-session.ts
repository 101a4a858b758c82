/**
 * A read-only session over stores the studio may not have written (a cluster another process
 * runs): the readers of src/ports/readers.ts and nothing else. Opening one builds no engine,
 * starts no run and writes nothing; it holds no port that can write, so nothing done through
 * it can change a store.
 *
 * The composition root opens the readers for a config (`composeReaders` in src/config/compose.ts
 * asks the backend's registry entry) and hands them, or a function that opens them, to
 * `InspectSession.open`. What a backend does not serve
 * is absent from `serves`, and asking for it fails with a one-line error naming it.
 */
import { verifyAuditChain, type AuditHeads } from '../domain/audit.ts';
import { ValidationError } from '../domain/errors.ts';
import type { AuditEvent, Campaign, PersonaMemory, Task } from '../domain/schemas.ts';
import type {
  AuditListQuery,
  CachedPersonaSummary,
  CampaignListQuery,
  MemoryListQuery,
  Page,
  PageRequest,
  QueueItemView,
  QueueItemsQuery,
  QueueListQuery,
  QueueSummary,
  Readers,
  ReadRow,
  TaskListQuery,
  TaskWithHistory,
} from '../ports/readers.ts';
import { READ_LIMIT_MAX } from '../ports/readers.ts';

/** Every audit chain verified, walking the log oldest first page by page (`AuditSession.verifyAudit`). */
export interface AuditChainsVerified {
  readonly ok: boolean;
  readonly checked: number;
  /** Rows that did not fit the audit schema (each makes the whole not verified). */
  readonly malformed: number;
  readonly broken: { readonly seq: number; readonly reason: string } | null;
  /** Per chain: a campaign id, or '(run)'; in the order first met. */
  readonly chains: { readonly chain: string; readonly events: number; readonly ok: boolean }[];
}

/** The stores an inspection can read, as data. */
export const INSPECTABLE = ['state', 'audit', 'queues', 'personaCache', 'memory'] as const;
export type Inspectable = (typeof INSPECTABLE)[number];

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

  /** Campaigns in the query's sort (default (created_at, id) ascending). */
  async campaigns(query?: CampaignListQuery): Promise<Page<Campaign>> {
    return this.need('state').listCampaigns(query);
  }

  /** Tasks in the query's sort (default (created_at, id) ascending), filtered by campaign and status. */
  async tasks(query?: TaskListQuery): Promise<Page<Task>> {
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

  /** One queue's waiting or leased items. */
  async queueItems(query: QueueItemsQuery): Promise<Page<QueueItemView>> {
    return this.need('queues').items(query);
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

  /** Releases the readers; the session is unusable afterwards. */
  /** Walks the audit log oldest first, verifying every chain page by page; says which chain broke. */
  async verifyAudit(): Promise<AuditChainsVerified> {
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
    return { ok: !broken && malformed === 0, checked, malformed, broken, chains: [...per].map(([chain, c]) => ({ chain, events: c.events, ok: c.ok })) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.readers.close();
  }

  private need<K extends Inspectable>(what: K): NonNullable<Readers[K]> {
    if (this.closed) throw new ValidationError('inspect session is closed');
    const r = this.readers[what];
    if (r === undefined) throw new ValidationError(`this inspection (${this.readers.kind}) cannot read ${what}: the backend serves no ${what} reader`);
    return r as NonNullable<Readers[K]>;
  }
}
