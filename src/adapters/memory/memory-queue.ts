/**
 * In-memory at-least-once queues. Each queue keeps its waiting items in a list sorted by
 * (available_at_ms, seq) and its leased items in a map; time comes from the injected clock.
 * The queues live in a MemoryQueueData that any number of handles can share (two handles on
 * one namespace in the contract suites); every call runs to completion synchronously, so a
 * claim from one handle never hands out what another handle holds.
 */
import type { Clock } from '../../ports/clock.ts';
import type { Lease, QueueDepth, QueueItem, WorkQueue } from '../../ports/queue.ts';

interface Entry<T> {
  id: string;
  payload: T;
  attempts: number;
  enqueued_at_ms: number;
  available_at_ms: number;
  seq: number;
  lease: { lease_id: string; consumer: string; expires_at_ms: number } | null;
}

class OneQueue<T> {
  /** Waiting items sorted by (available_at_ms, seq); `head` skips the consumed prefix. */
  waiting: Entry<T>[] = [];
  head = 0;
  leased = new Map<string, Entry<T>>();
  ids = new Map<string, Entry<T>>();

  insertWaiting(e: Entry<T>): void {
    const w = this.waiting;
    const last = w[w.length - 1];
    if (w.length === this.head || !last || before(last, e)) {
      w.push(e);
      return;
    }
    let lo = this.head;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(w[mid] as Entry<T>, e)) lo = mid + 1;
      else hi = mid;
    }
    w.splice(lo, 0, e);
  }

  takeHead(): void {
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.available_at_ms < b.available_at_ms || (a.available_at_ms === b.available_at_ms && a.seq < b.seq);
}

function toItem<T>(e: Entry<T>): QueueItem<T> {
  return {
    id: e.id,
    payload: e.payload,
    attempts: e.attempts,
    enqueued_at_ms: e.enqueued_at_ms,
    available_at_ms: e.available_at_ms,
  };
}

/** The queues of one in-memory queue object, shared by every handle opened on it. */
export class MemoryQueueData<T> {
  readonly qs = new Map<string, OneQueue<T>>();
  seq = 0;
  leaseSeq = 0;
}

export class MemoryQueue<T> implements WorkQueue<T> {
  readonly kind = 'memory';
  private readonly qs: Map<string, OneQueue<T>>;
  private closed = false;

  /** A handle on `data` (fresh, empty queues by default) whose leases run on `clock`. */
  constructor(
    private readonly clock: Clock,
    private readonly data: MemoryQueueData<T> = new MemoryQueueData<T>(),
  ) {
    this.qs = data.qs;
  }

  /** The queues this handle works on, for readers over them (memory-readers.ts), which never write them. */
  get shared(): MemoryQueueData<T> {
    return this.data;
  }

  private q(name: string): OneQueue<T> {
    if (this.closed) throw new Error('queue is closed');
    let q = this.qs.get(name);
    if (!q) {
      q = new OneQueue<T>();
      this.qs.set(name, q);
    }
    return q;
  }

  async enqueue(queue: string, items: readonly { id: string; payload: T }[], opts: { delay_ms?: number } = {}): Promise<number> {
    const q = this.q(queue);
    const now = this.clock.now_ms();
    let added = 0;
    for (const it of items) {
      if (q.ids.has(it.id)) continue;
      const e: Entry<T> = {
        id: it.id,
        payload: it.payload,
        attempts: 0,
        enqueued_at_ms: now,
        available_at_ms: now + (opts.delay_ms ?? 0),
        seq: ++this.data.seq,
        lease: null,
      };
      q.ids.set(it.id, e);
      q.insertWaiting(e);
      added += 1;
    }
    return added;
  }

  /** Puts items back exactly as exported (attempts and times kept), in the given order (for import; not part of the port). */
  async restore(queue: string, items: readonly QueueItem<T>[]): Promise<number> {
    const q = this.q(queue);
    let added = 0;
    for (const it of items) {
      if (q.ids.has(it.id)) continue;
      const e: Entry<T> = { ...toItem(it as Entry<T>), seq: ++this.data.seq, lease: null };
      q.ids.set(it.id, e);
      q.insertWaiting(e);
      added += 1;
    }
    return added;
  }

  async claim(queue: string, consumer: string, lease_ms: number): Promise<Lease<T> | null> {
    const q = this.q(queue);
    const e = q.waiting[q.head];
    const now = this.clock.now_ms();
    if (!e || e.available_at_ms > now) return null;
    q.takeHead();
    const lease_id = `L${++this.data.leaseSeq}`;
    e.lease = { lease_id, consumer, expires_at_ms: now + lease_ms };
    q.leased.set(lease_id, e);
    return { queue, lease_id, consumer, expires_at_ms: e.lease.expires_at_ms, item: toItem(e) };
  }

  async ack(queue: string, lease_id: string): Promise<boolean> {
    const q = this.q(queue);
    const e = q.leased.get(lease_id);
    if (!e) return false;
    q.leased.delete(lease_id);
    q.ids.delete(e.id);
    return true;
  }

  async retry(queue: string, lease_id: string, opts: { delay_ms?: number } = {}): Promise<{ attempts: number } | null> {
    const q = this.q(queue);
    const e = q.leased.get(lease_id);
    if (!e) return null;
    q.leased.delete(lease_id);
    e.lease = null;
    e.attempts += 1;
    e.available_at_ms = this.clock.now_ms() + (opts.delay_ms ?? 0);
    e.seq = ++this.data.seq;
    q.insertWaiting(e);
    return { attempts: e.attempts };
  }

  async redeliverExpired(queue: string): Promise<string[]> {
    const q = this.q(queue);
    const now = this.clock.now_ms();
    // most calls find nothing: look before building anything
    let expired: [string, Entry<T>][] | null = null;
    for (const [lease_id, e] of q.leased) {
      if ((e.lease as { expires_at_ms: number }).expires_at_ms <= now) (expired ??= []).push([lease_id, e]);
    }
    if (!expired) return [];
    expired.sort(([, a], [, b]) => (before(a, b) ? -1 : 1));
    for (const [lease_id, e] of expired) {
      q.leased.delete(lease_id);
      e.lease = null;
      e.attempts += 1;
      q.insertWaiting(e);
    }
    return expired.map(([, e]) => e.id);
  }

  async depth(queue: string): Promise<QueueDepth> {
    const q = this.qs.get(queue);
    if (!q) return { ready: 0, delayed: 0, leased: 0 };
    const now = this.clock.now_ms();
    let ready = 0;
    let delayed = 0;
    for (let i = q.head; i < q.waiting.length; i++) {
      if ((q.waiting[i] as Entry<T>).available_at_ms <= now) ready += 1;
      else delayed += 1;
    }
    return { ready, delayed, leased: q.leased.size };
  }

  async peek(queue: string, limit: number): Promise<QueueItem<T>[]> {
    const q = this.qs.get(queue);
    if (!q) return [];
    return q.waiting.slice(q.head, q.head + Math.max(0, limit)).map(toItem);
  }

  async leased(queue: string, limit: number): Promise<Lease<T>[]> {
    const q = this.qs.get(queue);
    if (!q) return [];
    return [...q.leased.entries()]
      .map(([lease_id, e]) => {
        const l = e.lease as { consumer: string; expires_at_ms: number };
        return { queue, lease_id, consumer: l.consumer, expires_at_ms: l.expires_at_ms, item: toItem(e) };
      })
      .sort((a, b) => a.expires_at_ms - b.expires_at_ms || (q.ids.get(a.item.id)?.seq ?? 0) - (q.ids.get(b.item.id)?.seq ?? 0))
      .slice(0, Math.max(0, limit));
  }

  async queues(): Promise<string[]> {
    return [...this.qs.entries()]
      .filter(([, q]) => q.ids.size > 0)
      .map(([n]) => n)
      .sort();
  }

  async purge(queue: string): Promise<number> {
    const q = this.qs.get(queue);
    if (!q) return 0;
    const n = q.ids.size;
    this.qs.delete(queue);
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
