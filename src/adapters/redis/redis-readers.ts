/**
 * The inspection readers (src/ports/readers.ts) for what Redis holds: queues and the persona
 * cache. They use plain read commands only (SCAN, TYPE, LLEN, LRANGE, ZCOUNT, ZCARD, ZRANGE,
 * HMGET, HGETALL, EXISTS), so a read-only ACL user can run them (README.md lists the rule).
 *
 * Redis has no secondary index to seek a cursor in, so a page is cut from the whole list it
 * belongs to (every queue of the spaces, one queue's waiting or leased items, every cached
 * persona), read with SCAN and MULTI snapshots and sorted here: fine for inspection, linear in
 * the size of that list. The queue listing is one SCAN pass over the keyspace, whatever the
 * number of spaces, and pipelines its per-queue reads, so a distant server costs it a few round
 * trips, not one per key pattern and queue. Cursors are keyset cursors as on every backend; an
 * element a foreign producer pushed (no metadata yet) sorts just after the item before it and
 * shows attempts 0 and times 0 (not known); one that is not JSON comes back marked, in its place,
 * as does a key named like a queue (`task_queue:<cid>`) that is not a LIST.
 */
import type { QueueDepth } from '../../ports/queue.ts';
import {
  readLimit,
  type CachedPersonaSummary,
  type Page,
  type PageRequest,
  type PersonaCacheReader,
  type QueueItemView,
  type QueueItemsQuery,
  type QueueListQuery,
  type QueueReader,
  type QueueSummary,
  type Readers,
  type ReadRow,
} from '../../ports/readers.ts';
import { cutPage, decodeCursor, keyAfter, type SortKey } from '../shared/reader-pages.ts';
import type { RedisConnection } from './redis-connection.ts';
import { checkKeyPart, personaKeys } from './redis-keys.ts';
import { readDepth, readLeased, readWaiting, scanQueues, type FoundQueue } from './redis-queue.ts';
import { hashReply, listPersonaIds } from './redis-persona-cache.ts';
import { queueKeys } from './redis-keys.ts';

/**
 * Every command the readers (and a connection's set-up) send: what an ACL user for a read-only
 * inspector needs, besides read access to the keys (README.md shows the ACL SETUSER line).
 */
export const INSPECTOR_COMMANDS = ['scan', 'type', 'exists', 'get', 'llen', 'lrange', 'zcount', 'zcard', 'zrange', 'hmget', 'hgetall', 'multi', 'exec', 'discard', 'ping', 'client|setname'] as const;

export interface RedisReadersOptions {
  readonly prefix?: string;
  /** The queue spaces to list (default ['task', 'review']). */
  readonly spaces?: readonly string[];
}

function after<R>(rows: readonly R[], key: (r: R) => SortKey, from: SortKey | null, limit: number): R[] {
  const out: R[] = [];
  for (const r of rows) {
    if (from && !keyAfter(key(r), from)) continue;
    out.push(r);
    if (out.length > limit) break;
  }
  return out;
}

class RedisQueueReader implements QueueReader {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
    private readonly spaces: readonly string[],
  ) {}

  /**
   * One SCAN pass finds every queue of the spaces (scanQueues), then the page's depths are read
   * with one MULTI snapshot per queue, all pipelined: about keyspace / 5 000 + 2 round trips
   * whatever the page holds. A key named like a queue that is not a LIST comes back marked.
   */
  async listQueues(q: QueueListQuery): Promise<Page<QueueSummary>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('queues', 'ss', q.cursor);
    const key = (r: FoundQueue): SortKey => [r.space, r.queue];
    const rows = after(await scanQueues(this.conn, this.prefix, this.spaces), key, from, limit);
    const page = rows.slice(0, limit);
    // issued in one tick: node-redis writes the MULTIs as one pipeline (each still its own snapshot)
    const depths = await Promise.all(page.map((r) => (r.wrong_type === null ? readDepth(this.conn, queueKeys(this.prefix, r.space, r.queue), q.now_ms) : null)));
    const depthOf = new Map(page.map((r, i) => [r, depths[i] ?? null]));
    return cutPage('queues', rows, limit, key, (r): ReadRow<QueueSummary> => {
      if (r.wrong_type !== null) {
        return { ok: false, raw: { space: r.space, queue: r.queue, key: r.list_key, type: r.wrong_type }, problem: `Redis key ${r.list_key} is a ${r.wrong_type}, not a list: a queue is a LIST of JSON elements` };
      }
      return { ok: true, value: { space: r.space, queue: r.queue, depth: depthOf.get(r) as QueueDepth } };
    });
  }

  async items(q: QueueItemsQuery): Promise<Page<QueueItemView>> {
    const limit = readLimit(q.limit);
    const leased = q.state === 'leased';
    const tag = leased ? 'queue-leased' : 'queue-waiting';
    const from = decodeCursor(tag, 'nn', q.cursor);
    const k = queueKeys(this.prefix, q.space, q.queue);
    type Row = { key: SortKey; read: ReadRow<QueueItemView> };
    const rows: Row[] = [];
    if (leased) {
      for (const r of await readLeased(this.conn, k, null)) {
        const view: QueueItemView = {
          id: r.decoded.ok ? r.decoded.id : '',
          payload: r.decoded.ok ? r.decoded.payload : r.el,
          attempts: r.meta.attempts,
          enqueued_at_ms: r.meta.enqueued_at_ms,
          available_at_ms: r.meta.available_at_ms,
          lease_id: r.lease_id,
          consumer: r.consumer,
          expires_at_ms: r.expires_at_ms,
        };
        rows.push({ key: [r.expires_at_ms, r.meta.seq], read: r.decoded.ok ? { ok: true, value: view } : { ok: false, raw: r.el, problem: r.decoded.problem } });
      }
    } else {
      let last: SortKey = [0, 0];
      let foreign = 0;
      for (const r of await readWaiting(this.conn, k, null)) {
        let key: SortKey;
        if (r.meta) {
          key = [r.meta.available_at_ms, r.meta.seq];
          foreign = 0;
        } else {
          foreign += 1;
          key = [last[0] as number, (last[1] as number) + foreign / 1e6];
        }
        if (r.meta) last = key;
        if (!r.decoded.ok) {
          rows.push({ key, read: { ok: false, raw: r.el, problem: `queue element ${r.decoded.problem}` } });
          continue;
        }
        rows.push({
          key,
          read: {
            ok: true,
            value: {
              id: r.decoded.id,
              payload: r.decoded.payload,
              attempts: r.meta?.attempts ?? 0,
              enqueued_at_ms: r.meta?.enqueued_at_ms ?? 0,
              available_at_ms: r.meta?.available_at_ms ?? 0,
              lease_id: null,
              consumer: null,
              expires_at_ms: null,
            },
          },
        });
      }
    }
    return cutPage(tag, after(rows, (r) => r.key, from, limit), limit, (r) => r.key, (r) => r.read);
  }
}

class RedisPersonaCacheReader implements PersonaCacheReader {
  constructor(
    private readonly conn: RedisConnection,
    private readonly prefix: string,
  ) {}

  async list(q: PageRequest = {}): Promise<Page<CachedPersonaSummary>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('personas', 's', q.cursor);
    const ids = after(await listPersonaIds(this.conn, this.prefix), (id) => [id], from, limit);
    const got = new Map<string, ReadRow<Record<string, string>>>();
    for (const id of ids.slice(0, limit)) got.set(id, (await this.get(id)) ?? { ok: true, value: {} });
    return cutPage('personas', ids, limit, (id) => [id], (id) => {
      const t = got.get(id) as ReadRow<Record<string, string>>;
      return t.ok ? { ok: true, value: { persona_id: id, trait_count: Object.keys(t.value).length } } : { ok: false, raw: { persona_id: id, traits: t.raw }, problem: t.problem };
    });
  }

  async get(persona_id: string): Promise<ReadRow<Record<string, string>> | null> {
    const k = personaKeys(this.prefix, persona_id);
    const [type, empty] = await this.conn.multi(
      [
        ['TYPE', k.hash],
        ['EXISTS', k.empty],
      ],
      k.hash,
    );
    if (type === 'none') return Number(empty) > 0 ? { ok: true, value: {} } : null;
    if (type !== 'hash') {
      const raw = type === 'string' ? await this.conn.cmd(['GET', k.hash], k.hash) : `(a Redis ${String(type)})`;
      return { ok: false, raw, problem: `${k.hash} is a Redis ${String(type)}, not a hash: traits are not an object of strings` };
    }
    return { ok: true, value: hashReply(await this.conn.cmd(['HGETALL', k.hash], k.hash)) };
  }
}

/** Readers of queues and the persona cache on `conn` (retained; close releases it, never the data). */
export function redisReaders(conn: RedisConnection, opts: RedisReadersOptions = {}): Readers {
  const prefix = checkKeyPart('key prefix', opts.prefix ?? '');
  conn.retain();
  let closed = false;
  return {
    kind: 'redis',
    queues: new RedisQueueReader(conn, prefix, [...(opts.spaces ?? ['task', 'review'])].sort()),
    personaCache: new RedisPersonaCacheReader(conn, prefix),
    close: async () => {
      if (closed) return;
      closed = true;
      await conn.release();
    },
  };
}
