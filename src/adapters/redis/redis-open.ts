/**
 * The one entry the composition root needs: `openRedis` connects once and makes queue objects,
 * the persona cache and the readers on that connection. Each of them releases the connection
 * when closed, and `close()` releases the factory's own hold: the socket closes with the last.
 */
import type { Clock } from '../../ports/clock.ts';
import type { PersonaCache } from '../../ports/persona-cache.ts';
import type { WorkQueue } from '../../ports/queue.ts';
import type { Readers } from '../../ports/readers.ts';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.ts';
import { checkKeyPart } from './redis-keys.ts';
import { RedisPersonaCache } from './redis-persona-cache.ts';
import { RedisQueue } from './redis-queue.ts';
import { redisReaders } from './redis-readers.ts';

export interface OpenRedisOptions extends RedisConnectionOptions {
  /** Prepended to every key (default ''): the seed's layout when empty. No braces. */
  readonly prefix?: string;
  /** Told when a claim moved elements that are not JSON to the queue's dead list. */
  readonly onDeadLetter?: (queue: string, count: number) => void;
}

export interface RedisStores {
  /** The server, as host:port (never credentials). */
  readonly endpoint: string;
  /** A queue object of `space` ('task' → task_queue:*, 'review' → review_queue:*) whose leases run on `clock`. */
  queue<T>(space: string, clock: Clock): WorkQueue<T>;
  /** The persona cache (persona_cache:*). */
  personaCache(): PersonaCache;
  /** Inspection readers of the queues (of `spaces`, default task and review) and the persona cache. */
  readers(spaces?: readonly string[]): Readers;
  /** Resolves once the connection is up (at once when it is): after a REDIS_OFFLINE error, before trying again. */
  waitReady(timeout_ms?: number): Promise<void>;
  /** Releases the factory's hold on the connection (ports made from it keep it until they close). */
  close(): Promise<void>;
}

/** Connects to `url` (waiting at most connect_timeout_ms) or throws a BackendUnavailableError naming host:port. */
export async function openRedis(opts: OpenRedisOptions): Promise<RedisStores> {
  const prefix = checkKeyPart('key prefix', opts.prefix ?? '');
  const conn = await RedisConnection.open(opts);
  let closed = false;
  return {
    endpoint: conn.endpoint,
    queue: <T,>(space: string, clock: Clock) => new RedisQueue<T>(conn, clock, { space, prefix, ...(opts.onDeadLetter ? { onDeadLetter: opts.onDeadLetter } : {}) }),
    personaCache: () => new RedisPersonaCache(conn, { prefix }),
    waitReady: (timeout_ms) => conn.waitReady(timeout_ms),
    readers: (spaces) => redisReaders(conn, { prefix, ...(spaces ? { spaces } : {}) }),
    close: async () => {
      if (closed) return;
      closed = true;
      await conn.release();
    },
  };
}
