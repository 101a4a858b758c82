/**
 * The work queue (src/ports/queue.ts) on Redis: the seed's `task_queue:<cid>` /
 * `review_queue:<cid>` LISTs of JSON, with leases, delays and dedup kept in keys beside each list
 * (redis-keys.ts, README.md). Every change is one Lua script (redis-scripts.ts), so it is atomic
 * however many processes share the queue; times come from the injected clock as ARGV.
 * Reads (depth, peek, leased) are MULTI snapshots of plain read commands, which a read-only
 * inspector user may run too (redis-readers.ts uses the same functions).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import type { Lease, QueueDepth, QueueItem, WorkQueue } from '../../ports/queue.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { RedisConnection } from './redis-connection.ts';
import { decodeElement, encodeElement, parseMeta, type Decoded, type Meta } from './redis-elements.ts';
import { checkKeyPart, homePrefix, queueKeyOf, queueKeys, queueScanPattern, type QueueKeys } from './redis-keys.ts';
import { ACK, BURY, CLAIM, ENQUEUE, PURGE, REDELIVER, RESTORE, RETRY } from './redis-scripts.ts';

/** Garbage elements one claim script moves to the dead list before it hands control back. */
const MAX_DEAD_PER_CALL = 500;
/** Items one enqueue script takes. */
const ENQUEUE_CHUNK = 500;
/** Ready elements redeliverExpired walks past from the head to put older redelivered items in their place. */
const MAX_WALK = 1000;

export interface RedisQueueOptions {
  /** The queue object's space ('task', 'review'): its own names are stored at the seed's keys. */
  readonly space: string;
  /** Prepended to every key (default ''). */
  readonly prefix?: string;
  /** Told about every element a claim moved to the dead list (a foreign producer's garbage). */
  readonly onDeadLetter?: (queue: string, count: number) => void;
}

/** A waiting element as read: decoded, with its metadata when it is ours (null for a foreign one not yet claimed). */
export interface WaitingRow {
  readonly el: string;
  readonly decoded: Decoded;
  readonly meta: Meta | null;
  readonly delayed: boolean;
}

/** A leased item as read. */
export interface LeasedRow {
  readonly lease_id: string;
  readonly consumer: string;
  readonly expires_at_ms: number;
  readonly el: string;
  readonly decoded: Decoded;
  readonly meta: Meta;
}

const asArr = (r: unknown): (string | null)[] => (Array.isArray(r) ? (r as (string | null)[]) : []);

/** Counts at `now_ms`: the list and the due delayed items are ready. */
export async function readDepth(conn: RedisConnection, k: QueueKeys, now_ms: number): Promise<QueueDepth> {
  const [llen, due, later, leased] = await conn.multi(
    [
      ['LLEN', k.list],
      ['ZCOUNT', k.part.delayed, '-inf', now_ms],
      ['ZCOUNT', k.part.delayed, `(${now_ms}`, '+inf'],
      ['ZCARD', k.part.leases],
    ],
    k.list,
  );
  return { ready: Number(llen) + Number(due), delayed: Number(later), leased: Number(leased) };
}

/**
 * Waiting elements in claim order (the list from the right, then the delayed set), at most
 * `limit` (null: all). Ours whose metadata vanished between the two reads (claimed meanwhile) are left out.
 */
export async function readWaiting(conn: RedisConnection, k: QueueKeys, limit: number | null): Promise<WaitingRow[]> {
  if (limit !== null && limit <= 0) return [];
  const [list, delayed] = await conn.multi(
    [
      ['LRANGE', k.list, limit === null ? 0 : -limit, -1],
      ['ZRANGE', k.part.delayed, 0, limit === null ? -1 : limit - 1],
    ],
    k.list,
  );
  const ready = (asArr(list) as string[]).reverse().map((el) => ({ el, decoded: decodeElement(el) }));
  const dIds = (asArr(delayed) as string[]).map((m) => m.slice(16));
  const ours = ready.flatMap((r) => (r.decoded.ok && !r.decoded.foreign ? [r.decoded.id] : []));
  const cmds: (string | number)[][] = [];
  if (ours.length) cmds.push(['HMGET', k.part.meta, ...ours]);
  if (dIds.length) cmds.push(['HMGET', k.part.meta, ...dIds], ['HMGET', k.part.held, ...dIds]);
  const got = cmds.length ? await conn.multi(cmds, k.list) : [];
  const readyMeta = ours.length ? asArr(got.shift()) : [];
  const dMeta = dIds.length ? asArr(got.shift()) : [];
  const dHeld = dIds.length ? asArr(got.shift()) : [];
  const byId = new Map(ours.map((id, i) => [id, parseMeta(readyMeta[i])]));
  const rows: WaitingRow[] = [];
  for (const r of ready) {
    if (r.decoded.ok && !r.decoded.foreign) {
      const meta = byId.get(r.decoded.id) ?? null;
      if (meta) rows.push({ ...r, meta, delayed: false });
    } else {
      rows.push({ ...r, meta: null, delayed: false });
    }
  }
  dIds.forEach((_, i) => {
    const el = dHeld[i];
    const meta = parseMeta(dMeta[i]);
    if (typeof el === 'string' && meta) rows.push({ el, decoded: decodeElement(el), meta, delayed: true });
  });
  return limit === null ? rows : rows.slice(0, limit);
}

/** Leased items by (expires_at_ms, seq), at most `limit` (null: all). */
export async function readLeased(conn: RedisConnection, k: QueueKeys, limit: number | null): Promise<LeasedRow[]> {
  if (limit !== null && limit <= 0) return [];
  const z = asArr(await conn.cmd(['ZRANGE', k.part.leases, 0, limit === null ? -1 : limit - 1, 'WITHSCORES'], k.part.leases)) as string[];
  const leases: { lease_id: string; expires_at_ms: number }[] = [];
  for (let i = 0; i + 1 < z.length; i += 2) leases.push({ lease_id: (z[i] as string).slice(16), expires_at_ms: Number(z[i + 1]) });
  if (!leases.length) return [];
  const recs = asArr(await conn.cmd(['HMGET', k.part.lease, ...leases.map((l) => l.lease_id)], k.part.lease)).map((r) => {
    try {
      return typeof r === 'string' ? (JSON.parse(r) as [string, string, string]) : null;
    } catch {
      return null;
    }
  });
  const ids = recs.map((r) => r?.[0] ?? '');
  const [held, meta] = await conn.multi(
    [
      ['HMGET', k.part.held, ...ids],
      ['HMGET', k.part.meta, ...ids],
    ],
    k.list,
  );
  const out: LeasedRow[] = [];
  leases.forEach((l, i) => {
    const rec = recs[i];
    const el = asArr(held)[i];
    const m = parseMeta(asArr(meta)[i]);
    if (rec && typeof el === 'string' && m) out.push({ ...l, consumer: rec[1], el, decoded: decodeElement(el), meta: m });
  });
  return out;
}

/** The port's view of a waiting row (a foreign element not yet claimed: attempts 0, times 0 = not known). */
export function waitingItem<T>(r: WaitingRow & { decoded: { ok: true } }): QueueItem<T> {
  return {
    id: r.decoded.id,
    payload: r.decoded.payload as T,
    attempts: r.meta?.attempts ?? 0,
    enqueued_at_ms: r.meta?.enqueued_at_ms ?? 0,
    available_at_ms: r.meta?.available_at_ms ?? 0,
  };
}

function itemOf<T>(id: string, payload: unknown, m: Meta): QueueItem<T> {
  return { id, payload: payload as T, attempts: m.attempts, enqueued_at_ms: m.enqueued_at_ms, available_at_ms: m.available_at_ms };
}

/** SCAN's COUNT for the queue listing's pass: a shared Redis of a few thousand keys in one or two round trips, each call still short. */
const QUEUE_SCAN_COUNT = 5000;

/** A queue the keyspace holds: its space and name, and `wrong_type` when its list key is not a LIST (the Redis type it is). */
export interface FoundQueue {
  readonly space: string;
  readonly queue: string;
  readonly list_key: string;
  readonly wrong_type: string | null;
}

/**
 * Every queue of `spaces` that holds an item, by (space, queue): one SCAN pass over the keyspace
 * (queueScanPattern) told apart here, then the TYPE of each candidate key, pipelined (one round
 * trip). A queue is a LIST, or the meta hash a queue keeps while its items are all delayed or
 * leased. A key named like one of a space's own queues (`task_queue:<cid>`) that is another type
 * is returned with `wrong_type`, as is a queue with a meta hash whose list key is another type; a
 * `<space>:<name>` key of another type without a meta hash is not ours and is left out.
 */
export async function scanQueues(conn: RedisConnection, prefix: string, spaces: readonly string[]): Promise<FoundQueue[]> {
  const candidates: { key: string; space: string; queue: string; part: 'list' | 'meta' }[] = [];
  for (const key of await conn.scan(queueScanPattern(prefix), undefined, QUEUE_SCAN_COUNT)) {
    for (const space of spaces) {
      const of = queueKeyOf(prefix, space, key);
      if (of) candidates.push({ key, space, ...of });
    }
  }
  const keys = [...new Set(candidates.map((c) => c.key))];
  // issued in one tick: node-redis writes them as one pipeline
  const types = new Map(await Promise.all(keys.map(async (k) => [k, String(await conn.cmd(['TYPE', k], k))] as const)));
  const found = new Map<string, { space: string; queue: string; list: string | null; meta: boolean }>();
  for (const c of candidates) {
    const id = `${c.space}\n${c.queue}`;
    const f = found.get(id) ?? { space: c.space, queue: c.queue, list: null, meta: false };
    found.set(id, f);
    const type = types.get(c.key) ?? 'none';
    if (c.part === 'meta') f.meta ||= type === 'hash';
    else if (type !== 'none') f.list = type;
  }
  const out: FoundQueue[] = [];
  for (const f of found.values()) {
    const home = f.queue.startsWith(homePrefix(f.space));
    // the list's key as queueKeys makes it (not through it: a foreign name may hold braces, which it refuses)
    const list_key = prefix + (home ? f.queue : `${f.space}:${f.queue}`);
    if (f.list === 'list' || (f.list === null && f.meta)) out.push({ space: f.space, queue: f.queue, list_key, wrong_type: null });
    else if (f.list !== null && (home || f.meta)) out.push({ space: f.space, queue: f.queue, list_key, wrong_type: f.list });
  }
  return out.sort((a, b) => (a.space !== b.space ? (a.space < b.space ? -1 : 1) : a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
}

/** Every queue name of `space` that holds an item (scanQueues; a key of the wrong type is no queue). */
export async function listQueueNames(conn: RedisConnection, prefix: string, space: string): Promise<string[]> {
  return (await scanQueues(conn, prefix, [space])).flatMap((f) => (f.wrong_type === null ? [f.queue] : []));
}

export class RedisQueue<T> implements WorkQueue<T> {
  readonly kind = 'redis';
  private readonly prefix: string;
  private closed = false;

  /** A queue object on `conn` (which it retains, and releases on close). */
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
    private readonly opts: RedisQueueOptions,
  ) {
    this.prefix = checkKeyPart('key prefix', opts.prefix ?? '');
    checkKeyPart('queue space', opts.space);
    conn.retain();
  }

  private keys(queue: string): QueueKeys {
    if (this.closed) throw new ValidationError(`redis queue ${queue}: the queue object is closed`);
    return queueKeys(this.prefix, this.opts.space, queue);
  }

  async enqueue(queue: string, items: readonly { id: string; payload: T }[], opts: { delay_ms?: number } = {}): Promise<number> {
    const k = this.keys(queue);
    const now = this.clock.now_ms();
    const delay = Math.max(0, opts.delay_ms ?? 0);
    let added = 0;
    // one script per chunk, so a large batch does not hold the server for long (each chunk is atomic, the batch is not)
    for (let i = 0; i < items.length; i += ENQUEUE_CHUNK) {
      const argv: (string | number)[] = [now, delay];
      for (const it of items.slice(i, i + ENQUEUE_CHUNK)) argv.push(it.id, encodeElement(it.id, it.payload));
      added += Number(await this.conn.script(ENQUEUE, k.all, argv));
    }
    return added;
  }

  /**
   * Puts items back as they were (attempts and times kept), in the given claim order; ids already
   * present are skipped (for import and copy; not part of the port). Each chunk is one script.
   */
  async restore(queue: string, items: readonly QueueItem<T>[]): Promise<number> {
    const k = this.keys(queue);
    let added = 0;
    for (let i = 0; i < items.length; i += ENQUEUE_CHUNK) {
      const argv: (string | number)[] = [this.clock.now_ms()];
      for (const it of items.slice(i, i + ENQUEUE_CHUNK)) argv.push(it.id, encodeElement(it.id, it.payload), it.attempts, it.enqueued_at_ms, it.available_at_ms);
      added += Number(await this.conn.script(RESTORE, k.all, argv));
    }
    return added;
  }

  async claim(queue: string, consumer: string, lease_ms: number): Promise<Lease<T> | null> {
    const k = this.keys(queue);
    for (;;) {
      const lease_id = randomUUID();
      const r = (await this.conn.script(CLAIM, k.all, [this.clock.now_ms(), lease_ms, lease_id, consumer, MAX_DEAD_PER_CALL])) as (string | number | null)[];
      const [id, el, meta, exp, dead, more] = r;
      if (Number(dead) > 0) this.opts.onDeadLetter?.(queue, Number(dead));
      if (typeof id !== 'string') {
        if (Number(more) === 1) continue;
        return null;
      }
      const d = decodeElement(String(el));
      if (!d.ok) {
        // Lua's decoder took it, JavaScript's does not: out of the queue with it, and on to the next
        await this.conn.script(BURY, k.all, [lease_id, d.problem, this.clock.now_ms()]);
        this.opts.onDeadLetter?.(queue, 1);
        continue;
      }
      const m = parseMeta(String(meta)) as Meta;
      return { queue, lease_id, consumer, expires_at_ms: Number(exp), item: itemOf<T>(id, d.payload, m) };
    }
  }

  async ack(queue: string, lease_id: string): Promise<boolean> {
    return Number(await this.conn.script(ACK, this.keys(queue).all, [lease_id])) === 1;
  }

  async retry(queue: string, lease_id: string, opts: { delay_ms?: number } = {}): Promise<{ attempts: number } | null> {
    const r = Number(await this.conn.script(RETRY, this.keys(queue).all, [this.clock.now_ms(), lease_id, Math.max(0, opts.delay_ms ?? 0)]));
    return r < 0 ? null : { attempts: r };
  }

  async redeliverExpired(queue: string): Promise<string[]> {
    const r = await this.conn.script(REDELIVER, this.keys(queue).all, [this.clock.now_ms(), MAX_WALK]);
    return asArr(r) as string[];
  }

  async depth(queue: string): Promise<QueueDepth> {
    return readDepth(this.conn, this.keys(queue), this.clock.now_ms());
  }

  async peek(queue: string, limit: number): Promise<QueueItem<T>[]> {
    const rows = await readWaiting(this.conn, this.keys(queue), Math.max(0, Math.floor(limit)));
    return rows.flatMap((r) => (r.decoded.ok ? [waitingItem<T>(r as WaitingRow & { decoded: { ok: true } })] : []));
  }

  async leased(queue: string, limit: number): Promise<Lease<T>[]> {
    const rows = await readLeased(this.conn, this.keys(queue), Math.max(0, Math.floor(limit)));
    return rows.map((r) => ({
      queue,
      lease_id: r.lease_id,
      consumer: r.consumer,
      expires_at_ms: r.expires_at_ms,
      item: itemOf<T>(r.decoded.ok ? r.decoded.id : '', r.decoded.ok ? r.decoded.payload : null, r.meta),
    }));
  }

  async queues(): Promise<string[]> {
    if (this.closed) throw new ValidationError('redis queue: the queue object is closed');
    return listQueueNames(this.conn, this.prefix, this.opts.space);
  }

  async purge(queue: string): Promise<number> {
    return Number(await this.conn.script(PURGE, this.keys(queue).all, []));
  }

  /** Up to `limit` dead-lettered elements of a queue, newest first: what was wrong and the raw element. */
  async deadLetters(queue: string, limit: number): Promise<{ raw: string; problem: string; dead_at_ms: number }[]> {
    const k = this.keys(queue);
    const r = asArr(await this.conn.cmd(['LRANGE', k.part.dead, 0, Math.max(0, limit) - 1], k.part.dead));
    return r.map((s) => {
      try {
        return JSON.parse(String(s)) as { raw: string; problem: string; dead_at_ms: number };
      } catch {
        return { raw: String(s), problem: 'dead-letter record is not JSON', dead_at_ms: 0 };
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.release();
  }
}
