/**
 * The Redis entry of the contract-suite table: a namespace is a key prefix on the tests' Redis
 * (`testRedisPrefix()`), and every handle opens its own connection (openRedis), so two handles on
 * one namespace are two clients on one prefix, as two processes would be. drop() deletes the
 * prefix's keys with SCAN.
 */
import { openRedis } from '../../src/adapters/redis/redis-open.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { AdapterEntry } from '../adapters.ts';
import { redisUnavailable, testRedisPrefix, testRedisUrl } from '../support/servers.ts';
import { RedisRaw } from './redis-raw.ts';

export const redisEntry: AdapterEntry = {
  name: 'redis',
  ports: ['queue', 'personaCache', 'readers'],
  capabilities: { reopens: true },
  unavailable: () => redisUnavailable(),
  setup: async () => {
    const url = testRedisUrl();
    const raw = await RedisRaw.connect(url);
    /** A port on a connection of its own: the port holds it, the factory's hold is dropped at once. */
    const own = async <P,>(prefix: string, make: (s: Awaited<ReturnType<typeof openRedis>>) => P): Promise<P> => {
      const s = await openRedis({ url, prefix });
      try {
        return make(s);
      } finally {
        await s.close();
      }
    };
    return {
      namespace: async () => testRedisPrefix(),
      drop: async (prefix) => void (await raw.deletePrefix(prefix)),
      queue: <T,>(prefix: string, clock: Clock, space: string) => own(prefix, (s) => s.queue<T>(space, clock)),
      personaCache: (prefix) => own(prefix, (s) => s.personaCache()),
      readers: (prefix) => own(prefix, (s) => s.readers()),
      malform: async (prefix, kind, key) => {
        if (kind !== 'persona') throw new Error(`redis entry: malform ${kind}: Redis holds no ${kind}s`);
        // another program's value where the seed keeps a hash: a JSON array in a string key
        await raw.client.del(`${prefix}persona_cache:${key}`);
        await raw.client.set(`${prefix}persona_cache:${key}`, '["not","an","object"]');
      },
      teardown: () => raw.close(),
    };
  },
};
