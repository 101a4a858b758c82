/**
 * The two Redis clients for Node, ioredis 5 and node-redis 5 (`redis`), doing the same work
 * against the same server in one run, to choose the one the Redis adapters use:
 * - pipelined LPUSH/RPOP (batches of 100 commands in one pipeline: the queue's producer side);
 * - EVALSHA of a small Lua script (the queue's claim/ack are scripts), 50 in flight;
 * - HSET of 8 fields then HGETALL (the persona cache), 50 pairs in flight;
 * - round-trip latency: one PING at a time, p50/p99 in microseconds.
 * ioredis runs twice: as constructed by default (each command written to the socket as it is
 * issued) and with `enableAutoPipelining` (commands of one tick written together, which
 * node-redis does by default), so the comparison is not only of defaults.
 * Each workload runs every client, then every client again (alternating, so neither gets
 * only the warm half of the machine) and reports the better of each client's two runs and
 * the ratios ioredis ÷ node-redis (> 1: ioredis is faster).
 *
 * The server is BENCH_REDIS_URL (default redis://127.0.0.1:6379); keys live under a unique
 * `bench:redis-client:<pid>:` prefix and are deleted afterwards.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { opsPerSecond, percentile, round, type BenchSuite } from '../suite.ts';

const SCRIPT = `local n = redis.call('INCR', KEYS[1]) if n % 2 == 0 then return redis.call('GET', KEYS[1]) end return n`;
const FIELDS: Record<string, string> = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`trait${i}`, `value number ${i} with some text`]));
const IN_FLIGHT = 50;
const BATCH = 100;

/** The operations one client offers the workloads, written once per client. */
interface Ops {
  readonly name: string;
  pipelinePushPop(key: string, n: number): Promise<void>;
  evalsha(sha: string, key: string): Promise<unknown>;
  hsetGetall(key: string): Promise<unknown>;
  ping(): Promise<unknown>;
  load(script: string): Promise<string>;
  close(): Promise<void>;
}

async function ioredisOps(url: string, autoPipelining = false): Promise<Ops> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: autoPipelining });
  await c.connect();
  return {
    name: autoPipelining ? 'ioredis-auto' : 'ioredis',
    async pipelinePushPop(key, n) {
      const p = c.pipeline();
      for (let i = 0; i < n; i++) p.lpush(key, `{"task_id":"t${i}","skill_name":"content_generation"}`);
      for (let i = 0; i < n; i++) p.rpop(key);
      await p.exec();
    },
    evalsha: (sha, key) => c.evalsha(sha, 1, key),
    hsetGetall: async (key) => {
      await c.hset(key, FIELDS);
      return c.hgetall(key);
    },
    ping: () => c.ping(),
    load: async (script) => (await c.script('LOAD', script)) as string,
    close: async () => void (await c.quit()),
  };
}

async function nodeRedisOps(url: string): Promise<Ops> {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  return {
    name: 'node-redis',
    async pipelinePushPop(key, n) {
      const m = c.multi();
      for (let i = 0; i < n; i++) m.lPush(key, `{"task_id":"t${i}","skill_name":"content_generation"}`);
      for (let i = 0; i < n; i++) m.rPop(key);
      await m.execAsPipeline();
    },
    evalsha: (sha, key) => c.evalSha(sha, { keys: [key] }),
    hsetGetall: async (key) => {
      await c.hSet(key, FIELDS);
      return c.hGetAll(key);
    },
    ping: () => c.ping(),
    load: (script) => c.scriptLoad(script),
    close: async () => void (await c.close()),
  };
}

/** `n` calls of fn at once. */
const concurrently = async (n: number, fn: (i: number) => Promise<unknown>): Promise<void> => {
  await Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
};

async function latency(o: Ops, n: number): Promise<{ p50_us: number; p99_us: number }> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await o.ping();
    t.push((performance.now() - t0) * 1000);
  }
  t.sort((a, b) => a - b);
  return { p50_us: round(percentile(t, 50), 1), p99_us: round(percentile(t, 99), 1) };
}

export const redisClientSuite: BenchSuite = {
  name: 'redis-client',
  description: 'ioredis 5 vs node-redis 5 on the same server: pipelined LPUSH/RPOP, EVALSHA, HSET/HGETALL, PING round trip',
  async run(ctx) {
    const url = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
    const prefix = `bench:redis-client:${process.pid}:`;
    const ms = ctx.quick ? 200 : 1000;
    const pings = ctx.quick ? 500 : 5000;
    const clients = [await ioredisOps(url), await ioredisOps(url, true), await nodeRedisOps(url)];
    const sha = await (clients[0] as Ops).load(SCRIPT);
    for (const o of clients.slice(1)) await o.load(SCRIPT);
    const workloads: Record<string, (o: Ops) => Promise<number>> = {
      pipelined_lpush_rpop_ops_per_s: (o) => opsPerSecond(async () => (await o.pipelinePushPop(`${prefix}list:${o.name}`, BATCH), 2 * BATCH), ms),
      evalsha_ops_per_s: (o) => opsPerSecond(async () => (await concurrently(IN_FLIGHT, () => o.evalsha(sha, `${prefix}n:${o.name}`)), IN_FLIGHT), ms),
      hset_hgetall_pairs_per_s: (o) => opsPerSecond(async () => (await concurrently(IN_FLIGHT, (i) => o.hsetGetall(`${prefix}h:${o.name}:${i}`)), IN_FLIGHT), ms),
    };
    const out: Record<string, unknown> = { server: url.replace(/\/\/[^@]*@/, '//***@'), in_flight: IN_FLIGHT, pipeline_batch: BATCH };
    try {
      for (const [name, w] of Object.entries(workloads)) {
        const best: Record<string, number> = {};
        for (let round_ = 0; round_ < 2; round_++) {
          for (const o of clients) best[o.name] = Math.max(best[o.name] ?? 0, await w(o));
        }
        const io = best.ioredis as number;
        const auto = best['ioredis-auto'] as number;
        const nr = best['node-redis'] as number;
        out[name] = {
          ioredis: Math.round(io),
          ioredis_auto_pipelining: Math.round(auto),
          node_redis: Math.round(nr),
          ratio_ioredis_over_node_redis: round(io / nr, 3),
          ratio_ioredis_auto_over_node_redis: round(auto / nr, 3),
        };
        ctx.log(`${name}: ioredis ${Math.round(io)}, ioredis with auto-pipelining ${Math.round(auto)}, node-redis ${Math.round(nr)}`);
      }
      const lat: Record<string, { p50_us: number; p99_us: number }> = {};
      for (let round_ = 0; round_ < 2; round_++) {
        for (const o of clients) {
          const l = await latency(o, pings);
          const prev = lat[o.name];
          if (!prev || l.p50_us < prev.p50_us) lat[o.name] = l;
        }
      }
      out.ping_round_trip = {
        ioredis: lat.ioredis,
        ioredis_auto_pipelining: lat['ioredis-auto'],
        node_redis: lat['node-redis'],
        p50_ratio_node_redis_over_ioredis: round((lat['node-redis']?.p50_us ?? 0) / (lat.ioredis?.p50_us ?? 1), 3),
      };
    } finally {
      const c = new Redis(url);
      let cursor = '0';
      do {
        const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await c.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await c.quit();
      for (const o of clients) await o.close();
    }
    return out;
  },
};
