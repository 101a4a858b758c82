/**
 * Work queues in Postgres (for deployments without Redis): one row per item in `queue_items`,
 * keyed by (space, queue, id); `space` keeps the task and review queue objects apart. Claim
 * order is (available_at_ms, seq), seq from the `queue_seq` sequence (gaps do not matter: only
 * the order is used). A claim is one statement: the next ready item is picked with
 * `FOR UPDATE SKIP LOCKED` (concurrent claimers take different items instead of waiting) and
 * leased by the UPDATE around it. Every time is the injected clock's, passed as a parameter,
 * never the server's now().
 */
import type { Clock } from '../../ports/clock.ts';
import type { Lease, QueueDepth, QueueItem, WorkQueue } from '../../ports/queue.ts';
import type { PgPool } from './pg-pool.ts';
import { fromJson, toJson } from './pg-rows.ts';

/** A `queue_items` row as the queue and its readers select it. */
export interface ItemRow {
  id: string;
  payload: string | null;
  attempts: number;
  enqueued_at_ms: number;
  available_at_ms: number;
  lease_id: string | null;
  consumer: string | null;
  expires_at_ms: number | null;
}

const ITEM = 'id, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms';

function toItem<T>(r: ItemRow): QueueItem<T> {
  return { id: r.id, payload: fromJson(r.payload) as T, attempts: r.attempts, enqueued_at_ms: r.enqueued_at_ms, available_at_ms: r.available_at_ms };
}

function toLease<T>(queue: string, r: ItemRow): Lease<T> {
  return { queue, lease_id: r.lease_id as string, consumer: r.consumer as string, expires_at_ms: r.expires_at_ms as number, item: toItem<T>(r) };
}

export class PgQueue<T> implements WorkQueue<T> {
  readonly kind = 'postgres';
  private closed = false;

  /** The queue object `space` ('task' or 'review') on `pool`; `close()` releases the pool reference it was given. */
  constructor(
    private readonly pool: PgPool,
    private readonly clock: Clock,
    private readonly space: string,
  ) {}

  private async q<R extends Record<string, unknown>>(text: string, values: unknown[]): Promise<R[]> {
    if (this.closed) throw new Error('queue is closed');
    return (await this.pool.query<R>(text, values)).rows;
  }

  async enqueue(queue: string, items: readonly { id: string; payload: T }[], opts: { delay_ms?: number } = {}): Promise<number> {
    if (this.closed) throw new Error('queue is closed');
    if (items.length === 0) return 0;
    const now = this.clock.now_ms();
    // in the given order (seq follows it); a repeated id, in the list or already queued, is skipped
    const r = await this.pool.query(
      `INSERT INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms)
       SELECT $1, $2, v.id, nextval('queue_seq'), v.payload, 0, $5, $6
       FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS v(id, payload, ord) ORDER BY v.ord
       ON CONFLICT (space, queue, id) DO NOTHING`,
      [this.space, queue, items.map((i) => i.id), items.map((i) => toJson(i.payload)), now, now + (opts.delay_ms ?? 0)],
    );
    return r.rowCount ?? 0;
  }

  /** Puts items back as they were (attempts and times kept), in the given order; ids already queued are skipped (for import and copy; not part of the port). */
  async restore(queue: string, items: readonly QueueItem<T>[]): Promise<number> {
    if (this.closed) throw new Error('queue is closed');
    if (items.length === 0) return 0;
    const r = await this.pool.query(
      `INSERT INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms)
       SELECT $1, $2, v.id, nextval('queue_seq'), v.payload, v.attempts, v.enqueued_at_ms, v.available_at_ms
       FROM unnest($3::text[], $4::text[], $5::int4[], $6::float8[], $7::float8[]) WITH ORDINALITY AS v(id, payload, attempts, enqueued_at_ms, available_at_ms, ord) ORDER BY v.ord
       ON CONFLICT (space, queue, id) DO NOTHING`,
      [
        this.space,
        queue,
        items.map((i) => i.id),
        items.map((i) => toJson(i.payload)),
        items.map((i) => i.attempts),
        items.map((i) => i.enqueued_at_ms),
        items.map((i) => i.available_at_ms),
      ],
    );
    return r.rowCount ?? 0;
  }

  async claim(queue: string, consumer: string, lease_ms: number): Promise<Lease<T> | null> {
    const now = this.clock.now_ms();
    const rows = await this.q<ItemRow & Record<string, unknown>>(
      `WITH next AS (
         SELECT id FROM queue_items
         WHERE space = $1 AND queue = $2 AND lease_id IS NULL AND available_at_ms <= $3
         ORDER BY available_at_ms, seq LIMIT 1
         FOR UPDATE SKIP LOCKED
       )
       UPDATE queue_items q SET lease_id = 'L' || nextval('queue_lease_seq'), consumer = $4, expires_at_ms = $5
       FROM next WHERE q.space = $1 AND q.queue = $2 AND q.id = next.id
       RETURNING ${ITEM.split(', ').map((c) => `q.${c}`).join(', ')}`,
      [this.space, queue, now, consumer, now + lease_ms],
    );
    return rows[0] ? toLease<T>(queue, rows[0]) : null;
  }

  async ack(queue: string, lease_id: string): Promise<boolean> {
    if (this.closed) throw new Error('queue is closed');
    const r = await this.pool.query(`DELETE FROM queue_items WHERE space = $1 AND queue = $2 AND lease_id = $3`, [this.space, queue, lease_id]);
    return r.rowCount === 1;
  }

  async retry(queue: string, lease_id: string, opts: { delay_ms?: number } = {}): Promise<{ attempts: number } | null> {
    const rows = await this.q<{ attempts: number }>(
      `UPDATE queue_items SET lease_id = NULL, consumer = NULL, expires_at_ms = NULL, attempts = attempts + 1, available_at_ms = $4, seq = nextval('queue_seq')
       WHERE space = $1 AND queue = $2 AND lease_id = $3 RETURNING attempts`,
      [this.space, queue, lease_id, this.clock.now_ms() + (opts.delay_ms ?? 0)],
    );
    return rows[0] ? { attempts: rows[0].attempts } : null;
  }

  async redeliverExpired(queue: string): Promise<string[]> {
    // back in their place (available_at_ms and seq kept): ahead of items enqueued after them
    const rows = await this.q<{ id: string; available_at_ms: number; seq: number }>(
      `UPDATE queue_items SET lease_id = NULL, consumer = NULL, expires_at_ms = NULL, attempts = attempts + 1
       WHERE space = $1 AND queue = $2 AND lease_id IS NOT NULL AND expires_at_ms <= $3 RETURNING id, available_at_ms, seq`,
      [this.space, queue, this.clock.now_ms()],
    );
    return rows.sort((a, b) => a.available_at_ms - b.available_at_ms || a.seq - b.seq).map((r) => r.id);
  }

  async depth(queue: string): Promise<QueueDepth> {
    const rows = await this.q<{ ready: number; delayed: number; leased: number }>(
      `SELECT count(*) FILTER (WHERE lease_id IS NULL AND available_at_ms <= $3)::int AS ready,
              count(*) FILTER (WHERE lease_id IS NULL AND available_at_ms > $3)::int AS delayed,
              count(*) FILTER (WHERE lease_id IS NOT NULL)::int AS leased
       FROM queue_items WHERE space = $1 AND queue = $2`,
      [this.space, queue, this.clock.now_ms()],
    );
    const r = rows[0] as QueueDepth;
    return { ready: r.ready, delayed: r.delayed, leased: r.leased };
  }

  async peek(queue: string, limit: number): Promise<QueueItem<T>[]> {
    const rows = await this.q<ItemRow & Record<string, unknown>>(
      `SELECT ${ITEM} FROM queue_items WHERE space = $1 AND queue = $2 AND lease_id IS NULL ORDER BY available_at_ms, seq LIMIT $3`,
      [this.space, queue, Math.max(0, limit)],
    );
    return rows.map((r) => toItem<T>(r));
  }

  async leased(queue: string, limit: number): Promise<Lease<T>[]> {
    const rows = await this.q<ItemRow & Record<string, unknown>>(
      `SELECT ${ITEM} FROM queue_items WHERE space = $1 AND queue = $2 AND lease_id IS NOT NULL ORDER BY expires_at_ms, seq LIMIT $3`,
      [this.space, queue, Math.max(0, limit)],
    );
    return rows.map((r) => toLease<T>(queue, r));
  }

  async queues(): Promise<string[]> {
    const rows = await this.q<{ queue: string }>(`SELECT DISTINCT queue FROM queue_items WHERE space = $1`, [this.space]);
    // sorted as JavaScript sorts strings (the port's order), not by the database's collation
    return rows.map((r) => r.queue).sort();
  }

  async purge(queue: string): Promise<number> {
    if (this.closed) throw new Error('queue is closed');
    const r = await this.pool.query(`DELETE FROM queue_items WHERE space = $1 AND queue = $2`, [this.space, queue]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.release();
  }
}
