/**
 * At-least-once queues in SQLite. One row per item; a lease is columns on the row, so a
 * claimed item is never removed before its ack. Claim order is (available_at_ms, seq); a
 * retry takes a new seq (the tail), a lapsed lease keeps its seq (back at the head). Lease
 * times come from the injected clock. Each queue object has a `space` (e.g. 'task',
 * 'review') with its own claim-order numbers (SeqAllocator); a lease id names the item's seq
 * and attempt (`L12.0`), so it never repeats, across restarts too. `queue_counters.last_lease`
 * is no longer used (lease ids need no counter).
 *
 * Write-behind: a space's items are loaded into memory on its first use (QueueMirror per
 * queue) and served from there; what changed is written to `queue_items` when the batch is
 * flushed (see PendingWrites in sqlite-database.ts): new items as multi-row INSERTs, a changed
 * item as one UPDATE and an acknowledged one as one DELETE, both by `rid` (the rowid, handed
 * out here in enqueue order), and nothing for an item enqueued and acknowledged within one
 * batch. The table has no other index (migration 0002): this process is the file's only
 * writer, so the mirror is what the rows hold, and it keeps (space, queue, id) unique.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../../ports/clock.ts';
import type { Lease, QueueDepth, QueueItem, WorkQueue } from '../../ports/queue.ts';
import type { PendingWrites, SqliteDatabase } from './sqlite-database.ts';
import { SqliteHandle } from './sqlite-handle.ts';
import { MultiInsert } from './sqlite-multi-insert.ts';

/** One item as its row holds it (payload as JSON text). Never changed in place: a change is a new object. */
interface Item {
  readonly id: string;
  readonly seq: number;
  readonly payload: string;
  readonly attempts: number;
  readonly enqueued_at_ms: number;
  readonly available_at_ms: number;
  readonly lease_id: string | null;
  readonly consumer: string | null;
  readonly expires_at_ms: number | null;
}

/** An item as its row holds it, and the row's rid. */
interface Stored {
  readonly rid: number;
  readonly item: Item;
}

/** An item as loaded: its row. */
type ItemRow = Item & { readonly rid: number; readonly queue: string };

const COLUMNS = 'rid, space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms';

function toItem<T>(r: Item): QueueItem<T> {
  return {
    id: r.id,
    payload: JSON.parse(r.payload) as T,
    attempts: r.attempts,
    enqueued_at_ms: r.enqueued_at_ms,
    available_at_ms: r.available_at_ms,
  };
}

/** Claim order: (available_at_ms, seq). */
function before(a: Item, b: Item): boolean {
  return a.available_at_ms < b.available_at_ms || (a.available_at_ms === b.available_at_ms && a.seq < b.seq);
}

/**
 * One queue's items in memory: by id, by lease id, and a min-heap of the unleased ones in claim
 * order (an entry is stale once its item changed or went: `items.get(id) !== entry`).
 */
class QueueMirror {
  items = new Map<string, Item>();
  byLease = new Map<string, string>();
  heap: Item[] = [];
  /** Ids changed since the last flush. */
  dirty = new Set<string>();
  /** The rows (as of the last flush), by item id. */
  stored = new Map<string, Stored>();
  /** The unit of work whose rollback already restores this mirror (see touch). */
  snapUnit = 0;

  constructor(rows: readonly ItemRow[]) {
    for (const r of rows) {
      const it: Item = {
        id: r.id, seq: r.seq, payload: r.payload, attempts: r.attempts, enqueued_at_ms: r.enqueued_at_ms, available_at_ms: r.available_at_ms,
        lease_id: r.lease_id, consumer: r.consumer, expires_at_ms: r.expires_at_ms,
      };
      this.items.set(it.id, it);
      this.stored.set(it.id, { rid: r.rid, item: it });
      if (it.lease_id === null) this.push(it);
      else this.byLease.set(it.lease_id, it.id);
    }
  }

  /** Sets (or, with null, removes) the item `id`. */
  put(id: string, next: Item | null): void {
    const prev = this.items.get(id);
    if (prev?.lease_id) this.byLease.delete(prev.lease_id);
    if (next) {
      this.items.set(id, next);
      if (next.lease_id === null) this.push(next);
      else this.byLease.set(next.lease_id, id);
    } else {
      this.items.delete(id);
    }
    this.dirty.add(id);
  }

  /** The unleased head in claim order, or undefined. */
  head(): Item | undefined {
    const h = this.heap;
    while (h.length) {
      const top = h[0] as Item;
      if (this.items.get(top.id) === top && top.lease_id === null) return top;
      this.pop();
    }
    return undefined;
  }

  private push(it: Item): void {
    const h = this.heap;
    let i = h.push(it) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(it, h[p] as Item)) break;
      h[i] = h[p] as Item;
      i = p;
    }
    h[i] = it;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as Item;
    if (!h.length) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r] as Item, h[l] as Item) ? r : l;
      if (!before(h[c] as Item, last)) break;
      h[i] = h[c] as Item;
      i = c;
    }
    h[i] = last;
  }

  /** A copy of the whole state, restored in place (for a unit of work that rolls back). */
  copy(): () => void {
    const items = new Map(this.items);
    const byLease = new Map(this.byLease);
    const heap = this.heap.slice();
    const dirty = new Set(this.dirty);
    const stored = new Map(this.stored);
    return () => {
      this.items = items;
      this.byLease = byLease;
      this.heap = heap;
      this.dirty = dirty;
      this.stored = stored;
    };
  }
}

/**
 * The mirrors of one space on one connection, shared by every queue object of that space
 * there, and their write-behind (PendingWrites).
 */
class QueueSpace implements PendingWrites {
  private readonly mirrors = new Map<string, QueueMirror>();
  /** Every queue of the space is in `mirrors` (loaded in one pass on first use). */
  private loaded = false;
  /**
   * Batches lost in this process (a failed flush or commit). A hand-out made in a lost batch is
   * gone from the file, so (seq, attempts) alone would name the next hand-out of that item the
   * same: lease ids carry this count once it is not 0.
   */
  lostBatches = 0;
  private readonly load: Database.Statement;
  private readonly insert: MultiInsert;
  private readonly update: Database.Statement;
  private readonly replace: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(
    private readonly sdb: SqliteDatabase,
    readonly space: string,
    private readonly rids: RidAllocator,
  ) {
    const db = sdb.db;
    this.load = db.prepare(
      `SELECT rid, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms FROM queue_items WHERE space = ? ORDER BY rid`,
    );
    this.insert = new MultiInsert(db, 'INSERT', 'queue_items', COLUMNS);
    // a claim, retry or lapse changes only these columns (payload and enqueue time stay)
    this.update = db.prepare(`UPDATE queue_items SET seq = ?, attempts = ?, available_at_ms = ?, lease_id = ?, consumer = ?, expires_at_ms = ? WHERE rid = ?`);
    // an item acknowledged and enqueued again with the same id within one batch
    this.replace = db.prepare(
      `UPDATE queue_items SET seq = ?, payload = ?, attempts = ?, enqueued_at_ms = ?, available_at_ms = ?, lease_id = ?, consumer = ?, expires_at_ms = ? WHERE rid = ?`,
    );
    this.remove = db.prepare(`DELETE FROM queue_items WHERE rid = ?`);
    sdb.addPending(this);
    sdb.onReset(() => {
      this.mirrors.clear();
      this.loaded = false;
      this.lostBatches += 1;
    });
  }

  /** The queue's mirror (the space's rows are loaded on first use). */
  mirror(queue: string): QueueMirror {
    let m = this.mirrors.get(queue);
    if (!m) {
      if (!this.loaded) {
        // marked loaded only once the rows are in: a load that throws is tried again next call
        // (rather than leaving the space's queues looking empty)
        const byQueue = new Map<string, ItemRow[]>();
        for (const r of this.load.all(this.space) as ItemRow[]) {
          const list = byQueue.get(r.queue);
          if (list) list.push(r);
          else byQueue.set(r.queue, [r]);
        }
        for (const [q, rows] of byQueue) this.mirrors.set(q, new QueueMirror(rows));
        this.loaded = true;
        m = this.mirrors.get(queue);
      }
      if (!m) {
        m = new QueueMirror([]);
        this.mirrors.set(queue, m);
      }
    }
    return m;
  }

  /** The mirror, about to change: inside a unit of work, its rollback restores it (one copy per unit). */
  touch(queue: string): QueueMirror {
    const m = this.mirror(queue);
    const unit = this.sdb.unitNumber;
    if (unit !== 0 && m.snapUnit !== unit) {
      m.snapUnit = unit;
      const restore = m.copy();
      this.sdb.onRollback(() => {
        restore();
        m.snapUnit = 0;
      });
    }
    return m;
  }

  flush(): void {
    let rows: unknown[][] | null = null;
    for (const [queue, m] of this.mirrors) {
      if (!m.dirty.size) continue;
      const dirty = m.dirty;
      m.dirty = new Set();
      for (const id of dirty) {
        const it = m.items.get(id);
        const st = m.stored.get(id);
        if (it) {
          if (st === undefined) {
            const rid = this.rids.take();
            (rows ??= []).push([rid, this.space, queue, id, it.seq, it.payload, it.attempts, it.enqueued_at_ms, it.available_at_ms, it.lease_id, it.consumer, it.expires_at_ms]);
            m.stored.set(id, { rid, item: it });
          } else if (st.item !== it) {
            const was = st.item;
            if (was.payload === it.payload && was.enqueued_at_ms === it.enqueued_at_ms) {
              this.update.run(it.seq, it.attempts, it.available_at_ms, it.lease_id, it.consumer, it.expires_at_ms, st.rid);
            } else {
              this.replace.run(it.seq, it.payload, it.attempts, it.enqueued_at_ms, it.available_at_ms, it.lease_id, it.consumer, it.expires_at_ms, st.rid);
            }
            m.stored.set(id, { rid: st.rid, item: it });
          }
        } else if (st !== undefined) {
          this.remove.run(st.rid);
          m.stored.delete(id);
        }
      }
    }
    if (rows) this.insert.run(rows);
  }

  snapshot(): () => void {
    const saved = [...this.mirrors.values()].map((m) => [m, m.dirty, new Map(m.stored)] as const);
    return () => {
      for (const [m, dirty, stored] of saved) {
        m.dirty = dirty;
        m.stored = stored;
      }
    };
  }
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
  /** Forgets a reservation whose counter write a unit of work rolled back (it must be written again). */
  private readonly unreserve = (): void => {
    if (this.reserved > 0) this.reserved = 0;
  };

  constructor(
    private readonly sdb: SqliteDatabase,
    space: string,
  ) {
    const db = sdb.db;
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
      // inside a unit that rolls back, the mark goes with it: the next number writes it again
      // (the numbers already handed out stay used: `next` never goes back)
      this.sdb.onRollback(this.unreserve);
    }
    this.next += 1;
    return this.next;
  }

  /** Uncommitted work was lost: write the mark again before the next number. */
  reset(): void {
    this.reserved = -1;
  }
}

/**
 * Row ids of `queue_items` for one connection (every space shares the table): the next after
 * the largest in the file, handed out in order. Gaps (rows of a batch that rolled back) are
 * harmless; a number is never handed out twice while rows may hold it.
 */
class RidAllocator {
  private last = -1;
  private readonly max: Database.Statement;

  constructor(db: Database.Database) {
    this.max = db.prepare(`SELECT coalesce(max(rid), 0) FROM queue_items`).pluck();
  }

  take(): number {
    if (this.last < 0) this.last = Number(this.max.get());
    this.last += 1;
    return this.last;
  }

  /** Uncommitted work was lost: read the largest again before the next number. */
  reset(): void {
    this.last = -1;
  }
}

const spaces = new WeakMap<SqliteDatabase, Map<string, { seqs: SeqAllocator; items: QueueSpace }>>();
const ridAllocators = new WeakMap<SqliteDatabase, RidAllocator>();

/** The seq allocator and mirrors of `space` on this connection (one each, shared by its queue objects). */
function spaceFor(sdb: SqliteDatabase, space: string): { seqs: SeqAllocator; items: QueueSpace } {
  let bySpace = spaces.get(sdb);
  if (!bySpace) {
    const m = new Map<string, { seqs: SeqAllocator; items: QueueSpace }>();
    spaces.set(sdb, m);
    sdb.onReset(() => m.forEach((a) => a.seqs.reset()));
    bySpace = m;
  }
  let a = bySpace.get(space);
  if (!a) {
    let rids = ridAllocators.get(sdb);
    if (!rids) {
      const r = (rids = new RidAllocator(sdb.db));
      ridAllocators.set(sdb, r);
      sdb.onReset(() => r.reset());
    }
    a = { seqs: new SeqAllocator(sdb, space), items: new QueueSpace(sdb, space, rids) };
    bySpace.set(space, a);
  }
  return a;
}


/** A WorkQueue<T> stored in the shared SQLite file under one `space`. */
export class SqliteQueue<T> implements WorkQueue<T> {
  readonly kind = 'sqlite';
  private readonly seqs: SeqAllocator;
  private readonly items: QueueSpace;
  private readonly queuesOf: Database.Statement;
  private readonly h: SqliteHandle;

  constructor(
    private readonly sdb: SqliteDatabase,
    private readonly clock: Clock,
    private readonly space = 'default',
  ) {
    this.h = new SqliteHandle(sdb, 'queue');
    ({ seqs: this.seqs, items: this.items } = spaceFor(sdb, space));
    this.queuesOf = sdb.db.prepare(`SELECT DISTINCT queue FROM queue_items WHERE space = ? ORDER BY queue`);
  }

  enqueue(queue: string, items: readonly { id: string; payload: T }[], opts: { delay_ms?: number } = {}): Promise<number> {
    return this.h.write(() => {
      const now = this.clock.now_ms();
      const available = now + (opts.delay_ms ?? 0);
      const texts = items.map((it) => JSON.stringify(it.payload));
      const m = this.items.touch(queue);
      let added = 0;
      items.forEach((it, i) => {
        const seq = this.seqs.take();
        if (m.items.has(it.id)) return; // already queued (or leased): enqueue is idempotent by id
        m.put(it.id, { id: it.id, seq, payload: texts[i] as string, attempts: 0, enqueued_at_ms: now, available_at_ms: available, lease_id: null, consumer: null, expires_at_ms: null });
        added += 1;
      });
      return added;
    });
  }

  claim(queue: string, consumer: string, lease_ms: number): Promise<Lease<T> | null> {
    return this.h.write(() => {
      const now = this.clock.now_ms();
      const m = this.items.mirror(queue);
      const head = m.head();
      if (!head || head.available_at_ms > now) return null;
      // (seq, attempts) names one hand-out of one item: seqs are never reused, and every
      // hand-out ends in an ack (the item goes), a retry (new seq) or a lapse (attempts + 1);
      // a hand-out lost with its batch ends in none of these, hence the lost-batch count
      const expires_at_ms = now + lease_ms;
      const lost = this.items.lostBatches;
      const lease_id = lost === 0 ? `L${head.seq}.${head.attempts}` : `L${head.seq}.${head.attempts}.${lost}`;
      this.items.touch(queue).put(head.id, { ...head, lease_id, consumer, expires_at_ms });
      return { queue, lease_id, consumer, expires_at_ms, item: toItem<T>(head) };
    });
  }

  ack(queue: string, lease_id: string): Promise<boolean> {
    return this.h.write(() => {
      const id = this.items.mirror(queue).byLease.get(lease_id);
      if (id === undefined) return false;
      this.items.touch(queue).put(id, null);
      return true;
    });
  }

  retry(queue: string, lease_id: string, opts: { delay_ms?: number } = {}): Promise<{ attempts: number } | null> {
    return this.h.write(() => {
      const available_at_ms = this.clock.now_ms() + (opts.delay_ms ?? 0);
      const seq = this.seqs.take();
      const m = this.items.mirror(queue);
      const id = m.byLease.get(lease_id);
      const it = id === undefined ? undefined : m.items.get(id);
      if (!it) return null;
      const attempts = it.attempts + 1;
      this.items.touch(queue).put(it.id, { ...it, lease_id: null, consumer: null, expires_at_ms: null, attempts, available_at_ms, seq });
      return { attempts };
    });
  }

  redeliverExpired(queue: string): Promise<string[]> {
    return this.h.write(() => {
      const now = this.clock.now_ms();
      const m = this.items.mirror(queue);
      if (!m.byLease.size) return [];
      const lapsed: Item[] = [];
      for (const id of m.byLease.values()) {
        const it = m.items.get(id) as Item;
        if ((it.expires_at_ms as number) <= now) lapsed.push(it);
      }
      if (!lapsed.length) return [];
      lapsed.sort((a, b) => (before(a, b) ? -1 : 1));
      const t = this.items.touch(queue);
      for (const it of lapsed) t.put(it.id, { ...it, lease_id: null, consumer: null, expires_at_ms: null, attempts: it.attempts + 1 });
      return lapsed.map((it) => it.id);
    });
  }

  depth(queue: string): Promise<QueueDepth> {
    const now = this.clock.now_ms();
    return this.h.read(() => {
      const m = this.items.mirror(queue);
      let ready = 0;
      let delayed = 0;
      for (const it of m.items.values()) {
        if (it.lease_id !== null) continue;
        if (it.available_at_ms <= now) ready += 1;
        else delayed += 1;
      }
      return { ready, delayed, leased: m.byLease.size };
    });
  }

  peek(queue: string, limit: number): Promise<QueueItem<T>[]> {
    return this.h.read(() => {
      const waiting = [...this.items.mirror(queue).items.values()].filter((it) => it.lease_id === null);
      waiting.sort((a, b) => (before(a, b) ? -1 : 1));
      return waiting.slice(0, Math.max(0, limit)).map((it) => toItem<T>(it));
    });
  }

  leased(queue: string, limit: number): Promise<Lease<T>[]> {
    return this.h.read(() => {
      const held = [...this.items.mirror(queue).items.values()].filter((it) => it.lease_id !== null);
      held.sort((a, b) => (a.expires_at_ms as number) - (b.expires_at_ms as number) || a.seq - b.seq);
      return held.slice(0, Math.max(0, limit)).map((it) => ({
        queue,
        lease_id: it.lease_id as string,
        consumer: it.consumer as string,
        expires_at_ms: it.expires_at_ms as number,
        item: toItem<T>(it),
      }));
    });
  }

  /** Puts items back exactly as exported (attempts and times kept), in the given order (for import; not part of the port). */
  restore(queue: string, items: readonly QueueItem<T>[]): Promise<number> {
    return this.h.write(() => {
      const texts = items.map((it) => JSON.stringify(it.payload));
      const m = this.items.touch(queue);
      let added = 0;
      items.forEach((it, i) => {
        const seq = this.seqs.take();
        if (m.items.has(it.id)) return;
        m.put(it.id, { id: it.id, seq, payload: texts[i] as string, attempts: it.attempts, enqueued_at_ms: it.enqueued_at_ms, available_at_ms: it.available_at_ms, lease_id: null, consumer: null, expires_at_ms: null });
        added += 1;
      });
      return added;
    });
  }

  queues(): Promise<string[]> {
    return this.h.read(() => {
      this.sdb.flushPending();
      return (this.queuesOf.all(this.space) as { queue: string }[]).map((r) => r.queue);
    });
  }

  purge(queue: string): Promise<number> {
    return this.h.write(() => {
      const m = this.items.touch(queue);
      const ids = [...m.items.keys()];
      for (const id of ids) m.put(id, null);
      return ids.length;
    });
  }

  close(): Promise<void> {
    return this.h.close();
  }
}
