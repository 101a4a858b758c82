/**
 * At-least-once queues in SQLite. One row per item; a lease is columns on the row, so a
 * claimed item is never removed before its ack. Claim order is (available_at_ms, seq); a
 * retry takes a new seq (the tail), a lapsed lease keeps its seq (back at the head). Lease
 * times come from the injected clock. Each queue object has a `space` (e.g. 'task',
 * 'review') with its own claim-order numbers (SeqAllocator); a lease id names the item's seq
 * and attempt (`L12.0`), so it never repeats, across restarts too. `queue_counters.last_lease`
 * is no longer used (lease ids need no counter).
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../../ports/clock.ts';
import type { Lease, QueueDepth, QueueItem, WorkQueue } from '../../ports/queue.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { SqliteHandle } from './sqlite-handle.ts';

interface ItemRow {
  id: string;
  payload: string;
  attempts: number;
  enqueued_at_ms: number;
  available_at_ms: number;
}

const ITEM = 'id, payload, attempts, enqueued_at_ms, available_at_ms';

function toItem<T>(r: ItemRow): QueueItem<T> {
  return {
    id: r.id,
    payload: JSON.parse(r.payload) as T,
    attempts: r.attempts,
    enqueued_at_ms: r.enqueued_at_ms,
    available_at_ms: r.available_at_ms,
  };
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT OR IGNORE INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
    ),
    restore: db.prepare(
      `INSERT OR IGNORE INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // one statement: the head (claim order), if it is available, leased by the name of its seq
    // and attempt (`L12.0`); the subquery and the update are one atomic step, so a claim leases
    // only a row still unleased
    claim: db.prepare(
      `UPDATE queue_items SET lease_id = 'L' || seq || '.' || attempts, consumer = ?, expires_at_ms = ?
       WHERE rowid = (SELECT rowid FROM queue_items WHERE space = ? AND queue = ? AND lease_id IS NULL ORDER BY available_at_ms, seq LIMIT 1)
         AND lease_id IS NULL AND available_at_ms <= ?
       RETURNING lease_id, ${ITEM}`,
    ),
    ack: db.prepare(`DELETE FROM queue_items WHERE space = ? AND queue = ? AND lease_id = ?`),
    retry: db.prepare(
      `UPDATE queue_items SET lease_id = NULL, consumer = NULL, expires_at_ms = NULL, attempts = attempts + 1,
       available_at_ms = ?, seq = ? WHERE space = ? AND queue = ? AND lease_id = ? RETURNING attempts`,
    ),
    expired: db.prepare(
      `SELECT rowid AS rid, id FROM queue_items WHERE space = ? AND queue = ? AND lease_id IS NOT NULL AND expires_at_ms <= ?
       ORDER BY available_at_ms, seq`,
    ),
    anyExpired: db.prepare(
      `SELECT 1 FROM queue_items WHERE space = ? AND queue = ? AND lease_id IS NOT NULL AND expires_at_ms <= ? LIMIT 1`,
    ).pluck(),
    release: db.prepare(
      `UPDATE queue_items SET lease_id = NULL, consumer = NULL, expires_at_ms = NULL, attempts = attempts + 1 WHERE rowid = ?`,
    ),
    depth: db.prepare(
      `SELECT coalesce(sum(lease_id IS NULL AND available_at_ms <= ?), 0) AS ready,
              coalesce(sum(lease_id IS NULL AND available_at_ms > ?), 0) AS delayed,
              coalesce(sum(lease_id IS NOT NULL), 0) AS leased
       FROM queue_items WHERE space = ? AND queue = ?`,
    ),
    peek: db.prepare(
      `SELECT ${ITEM} FROM queue_items WHERE space = ? AND queue = ? AND lease_id IS NULL ORDER BY available_at_ms, seq LIMIT ?`,
    ),
    leased: db.prepare(
      `SELECT ${ITEM}, lease_id, consumer, expires_at_ms FROM queue_items WHERE space = ? AND queue = ? AND lease_id IS NOT NULL
       ORDER BY expires_at_ms, seq LIMIT ?`,
    ),
    queues: db.prepare(`SELECT DISTINCT queue FROM queue_items WHERE space = ? ORDER BY queue`),
    purge: db.prepare(`DELETE FROM queue_items WHERE space = ? AND queue = ?`),
  };
}

/** Seq numbers handed out at a time before the high-water mark is written again. */
const SEQ_BLOCK = 1024;

/**
 * Claim-order numbers for one space of one file, hi/lo style: the high-water mark in
 * `queue_counters` is written once per SEQ_BLOCK numbers, so a number is never handed out
 * twice, even across restarts, and enqueue costs no counter write. Shared by every queue object
 * of that space on the connection; loaded on first use, so a reader never writes.
 */
class SeqAllocator {
  private next = 0;
  private reserved = -1;
  private readonly load;
  private readonly save;

  constructor(db: Database.Database, space: string) {
    const max = db.prepare(`SELECT coalesce(max(seq), 0) FROM queue_items WHERE space = ?`).pluck();
    const mark = db.prepare(`SELECT last_seq FROM queue_counters WHERE space = ?`).pluck();
    const upsert = db.prepare(
      `INSERT INTO queue_counters (space, last_seq, last_lease) VALUES (?, ?, 0) ON CONFLICT (space) DO UPDATE SET last_seq = excluded.last_seq`,
    );
    this.load = () => Math.max(Number(max.get(space) ?? 0), Number(mark.get(space) ?? 0));
    this.save = (upto: number) => upsert.run(space, upto);
  }

  /** The next number. */
  take(): number {
    if (this.reserved < 0) this.next = this.load();
    if (this.next >= this.reserved) {
      this.reserved = this.next + SEQ_BLOCK;
      this.save(this.reserved);
    }
    this.next += 1;
    return this.next;
  }

  /** Uncommitted work was lost: write the mark again before the next number. */
  reset(): void {
    this.reserved = -1;
  }
}

const allocators = new WeakMap<SqliteDatabase, Map<string, SeqAllocator>>();

function sequenceFor(sdb: SqliteDatabase, space: string): SeqAllocator {
  let bySpace = allocators.get(sdb);
  if (!bySpace) {
    const m = new Map<string, SeqAllocator>();
    allocators.set(sdb, m);
    sdb.onReset(() => m.forEach((a) => a.reset()));
    bySpace = m;
  }
  let a = bySpace.get(space);
  if (!a) {
    a = new SeqAllocator(sdb.db, space);
    bySpace.set(space, a);
  }
  return a;
}

/** A WorkQueue<T> stored in the shared SQLite file under one `space`. */
export class SqliteQueue<T> implements WorkQueue<T> {
  readonly kind = 'sqlite';
  private readonly st: ReturnType<typeof prepare>;
  private readonly enqueueMany: (queue: string, items: readonly { id: string; payload: T }[], now: number, delay: number) => number;
  private readonly claimOne: (queue: string, consumer: string, lease_ms: number, now: number) => Lease<T> | null;
  private readonly redeliver: (queue: string, now: number) => string[];
  private readonly restoreMany: (queue: string, items: readonly QueueItem<T>[]) => number;
  private readonly seqs: SeqAllocator;
  private readonly h: SqliteHandle;

  constructor(
    private readonly sdb: SqliteDatabase,
    private readonly clock: Clock,
    private readonly space = 'default',
  ) {
    this.h = new SqliteHandle(sdb, 'queue');
    const db = sdb.db;
    const st = (this.st = prepare(db));
    const seqs = sequenceFor(sdb, space);
    const insertOne = (queue: string, it: { id: string; payload: T }, now: number, delay: number): number =>
      st.insert.run(space, queue, it.id, seqs.take(), JSON.stringify(it.payload), now, now + delay).changes;
    const insertAll = db.transaction((queue: string, items: readonly { id: string; payload: T }[], now: number, delay: number) => {
      let added = 0;
      for (const it of items) added += insertOne(queue, it, now, delay);
      return added;
    });
    // one item is one INSERT, atomic on its own: no savepoint around it (the counter row a new
    // block of seqs writes first only ever raises the high-water mark, so it may stand alone)
    this.enqueueMany = (queue, items, now, delay) =>
      items.length === 1 ? insertOne(queue, items[0] as { id: string; payload: T }, now, delay) : insertAll(queue, items, now, delay);
    this.claimOne = (queue: string, consumer: string, lease_ms: number, now: number): Lease<T> | null => {
      // (seq, attempts) names one hand-out of one item: seqs are never reused, and every
      // hand-out ends in an ack (the row goes), a retry (new seq) or a lapse (attempts + 1)
      const expires_at_ms = now + lease_ms;
      const row = st.claim.get(consumer, expires_at_ms, space, queue, now) as (ItemRow & { lease_id: string }) | undefined;
      if (!row) return null;
      return { queue, lease_id: row.lease_id, consumer, expires_at_ms, item: toItem<T>(row) };
    };
    this.restoreMany = db.transaction((queue: string, items: readonly QueueItem<T>[]) => {
      let added = 0;
      for (const it of items) {
        const r = st.restore.run(space, queue, it.id, seqs.take(), JSON.stringify(it.payload), it.attempts, it.enqueued_at_ms, it.available_at_ms);
        if (r.changes === 1) added += 1;
      }
      return added;
    });
    this.seqs = seqs;
    const releaseExpired = db.transaction((queue: string, now: number) => {
      const rows = st.expired.all(space, queue, now) as { rid: number; id: string }[];
      for (const r of rows) st.release.run(r.rid);
      return rows.map((r) => r.id);
    });
    // nearly always nothing has lapsed: one read, and the transaction only when there is work
    this.redeliver = (queue: string, now: number) => (st.anyExpired.get(space, queue, now) === undefined ? [] : releaseExpired(queue, now));
  }

  enqueue(queue: string, items: readonly { id: string; payload: T }[], opts: { delay_ms?: number } = {}): Promise<number> {
    return this.h.write(() => this.enqueueMany(queue, items, this.clock.now_ms(), opts.delay_ms ?? 0));
  }

  claim(queue: string, consumer: string, lease_ms: number): Promise<Lease<T> | null> {
    return this.h.write(() => this.claimOne(queue, consumer, lease_ms, this.clock.now_ms()));
  }

  ack(queue: string, lease_id: string): Promise<boolean> {
    return this.h.write(() => this.st.ack.run(this.space, queue, lease_id).changes === 1);
  }

  retry(queue: string, lease_id: string, opts: { delay_ms?: number } = {}): Promise<{ attempts: number } | null> {
    return this.h.write(() => {
      const r = this.st.retry.get(this.clock.now_ms() + (opts.delay_ms ?? 0), this.seqs.take(), this.space, queue, lease_id) as
        | { attempts: number }
        | undefined;
      return r ? { attempts: r.attempts } : null;
    });
  }

  redeliverExpired(queue: string): Promise<string[]> {
    return this.h.write(() => this.redeliver(queue, this.clock.now_ms()));
  }

  depth(queue: string): Promise<QueueDepth> {
    const now = this.clock.now_ms();
    return this.h.read(() => {
      const r = this.st.depth.get(now, now, this.space, queue) as QueueDepth;
      return { ready: r.ready, delayed: r.delayed, leased: r.leased };
    });
  }

  peek(queue: string, limit: number): Promise<QueueItem<T>[]> {
    return this.h.read(() => (this.st.peek.all(this.space, queue, Math.max(0, limit)) as ItemRow[]).map((r) => toItem<T>(r)));
  }

  leased(queue: string, limit: number): Promise<Lease<T>[]> {
    return this.h.read(() =>
      (this.st.leased.all(this.space, queue, Math.max(0, limit)) as (ItemRow & { lease_id: string; consumer: string; expires_at_ms: number })[]).map(
        (r) => ({ queue, lease_id: r.lease_id, consumer: r.consumer, expires_at_ms: r.expires_at_ms, item: toItem<T>(r) }),
      ),
    );
  }

  /** Puts items back exactly as exported (attempts and times kept), in the given order (for import; not part of the port). */
  restore(queue: string, items: readonly QueueItem<T>[]): Promise<number> {
    return this.h.write(() => this.restoreMany(queue, items));
  }

  queues(): Promise<string[]> {
    return this.h.read(() => (this.st.queues.all(this.space) as { queue: string }[]).map((r) => r.queue));
  }

  purge(queue: string): Promise<number> {
    return this.h.write(() => this.st.purge.run(this.space, queue).changes);
  }

  close(): Promise<void> {
    return this.h.close();
  }
}
