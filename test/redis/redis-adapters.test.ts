/**
 * What the contract suites cannot say about the Redis adapters: the seed's layout read and
 * written by a plain client (Chimera's own services), foreign producers and their garbage,
 * leases across several clients, a killed connection, a restarted server, the hash-tag slots,
 * and errors that name the server without its password.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisStores } from '../../src/adapters/redis/redis-open.ts';
import { queueKeys, personaKeys } from '../../src/adapters/redis/redis-keys.ts';
import type { RedisQueue } from '../../src/adapters/redis/redis-queue.ts';
import { taskQueueName, reviewQueueName, type WorkQueue } from '../../src/ports/queue.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { redisUnavailable, testRedisPrefix, testRedisUrl } from '../support/servers.ts';
import { freePort, startEmbeddedRedis } from '../support/embedded-servers.ts';
import { RedisRaw } from './redis-raw.ts';
import { INSPECTOR_COMMANDS } from '../../src/adapters/redis/redis-readers.ts';

const why = await redisUnavailable();
const CID = '00000000-0000-4000-8000-0000000000c1';
const TQ = taskQueueName(CID);
const RQ = reviewQueueName(CID);
type TaskInput = { task_id: string; skill_name: string; params: Record<string, unknown>; persona_id: string };
const task = (n: number): TaskInput => ({ task_id: `t-${n}`, skill_name: 'content_generation', params: { n, tags: [] }, persona_id: 'aria' });

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');

/** A key's Redis Cluster slot: CRC16 (XMODEM) of its hash tag (or the whole key) mod 16384. */
function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const tagged = open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(tagged)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** Retries `fn` while it throws, at most `tries` times (each try waits for the server itself: a queued command, a reply or a timeout). */
async function eventually<R>(what: string, tries: number, fn: () => Promise<R>): Promise<R> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`${what}: still failing after ${tries} tries: ${(last as Error).message}`);
}

describe.skipIf(why !== null)(`redis adapters${why ? ` (skipped: ${why})` : ''}`, () => {
  const url = testRedisUrl();
  let raw: RedisRaw;
  let prefix: string;
  let stores: RedisStores[] = [];
  const open = async (opts: Parameters<typeof openRedis>[0] extends infer O ? Partial<O> : never = {}): Promise<RedisStores> => {
    const s = await openRedis({ url, prefix, ...opts });
    stores.push(s);
    return s;
  };
  const opened: { close(): Promise<void> }[] = [];
  const track = <P extends { close(): Promise<void> }>(p: P): P => (opened.push(p), p);

  beforeAll(async () => {
    raw = await RedisRaw.connect(url);
  });
  afterAll(async () => {
    await fresh();
    await raw.deletePrefix(prefix);
    await raw.close();
  });
  const fresh = async (): Promise<void> => {
    for (const p of opened.splice(0)) await p.close();
    for (const s of stores.splice(0)) await s.close();
    if (prefix) await raw.deletePrefix(prefix);
    prefix = testRedisPrefix('chimera-redis');
    stores = [];
  };

  it('a seed-style producer (LPUSH of plain task JSON) feeds our claim, oldest first, under the task_id', async () => {
    await fresh();
    const clock = new VirtualClock();
    const q = track((await open()).queue<TaskInput>('task', clock));
    for (const n of [1, 2, 3]) await raw.client.lPush(`${prefix}${TQ}`, JSON.stringify(task(n)));
    // a task without task_id or id: named by the hash of its JSON
    const anon = JSON.stringify({ skill_name: 'trend_analysis', params: {} });
    await raw.client.lPush(`${prefix}${TQ}`, anon);
    expect(await q.depth(TQ)).toEqual({ ready: 4, delayed: 0, leased: 0 });
    expect(await q.queues()).toEqual([TQ]);
    expect((await q.peek(TQ, 10)).map((i) => [i.id, i.attempts, i.enqueued_at_ms])).toEqual([
      ['t-1', 0, 0],
      ['t-2', 0, 0],
      ['t-3', 0, 0],
      [expect.stringMatching(/^sha1:[0-9a-f]{40}$/), 0, 0],
    ]);
    const got: string[] = [];
    for (let l = await q.claim(TQ, 'w', 1000); l; l = await q.claim(TQ, 'w', 1000)) {
      got.push(l.item.id);
      if (l.item.id.startsWith('sha1:')) expect(l.item.payload).toEqual(JSON.parse(anon));
      else expect(l.item.payload).toEqual(task(Number(l.item.id.slice(2))));
      expect(l.item).toMatchObject({ attempts: got.filter((id) => id === l.item.id).length - 1, enqueued_at_ms: clock.now_ms(), available_at_ms: clock.now_ms() });
      // an adopted item is ours from now on: it can be retried and redelivered like any other
      if (l.item.id === 't-2' && l.item.attempts === 0) expect(await q.retry(TQ, l.lease_id)).toEqual({ attempts: 1 });
      else expect(await q.ack(TQ, l.lease_id)).toBe(true);
    }
    expect(got).toEqual(['t-1', 't-2', 't-3', expect.stringMatching(/^sha1:/), 't-2']);
    expect(await q.depth(TQ)).toEqual({ ready: 0, delayed: 0, leased: 0 });
    // a foreign item whose id is taken by one of ours is adopted under its hash instead
    await q.enqueue(TQ, [{ id: 't-9', payload: task(9) }]);
    await raw.client.lPush(`${prefix}${TQ}`, JSON.stringify(task(9)));
    const a = await q.claim(TQ, 'w', 1000);
    const b = await q.claim(TQ, 'w', 1000);
    expect([a?.item.id, b?.item.id]).toEqual(['t-9', expect.stringMatching(/^sha1:/)]);
  });

  it('our enqueued elements are the seed’s task and output JSON (plus _chimera_id), oldest at the right as a seed consumer pops them', async () => {
    await fresh();
    const clock = new VirtualClock();
    const s = await open();
    const tq = track(s.queue<TaskInput>('task', clock));
    const rq = track(s.queue<Record<string, unknown>>('review', clock));
    await tq.enqueue(TQ, [1, 2].map((n) => ({ id: `task-${n}`, payload: task(n) })));
    const output = { task_id: 't-1', skill_name: 'content_generation', result: { text: 'hi', list: [] }, confidence_score: 0.93, reasoning: 'on voice' };
    await rq.enqueue(RQ, [{ id: 't-1:0', payload: output }]);
    // the seed's keys, the seed's types
    expect(await raw.client.type(`${prefix}${TQ}`)).toBe('list');
    expect(await raw.client.type(`${prefix}${RQ}`)).toBe('list');
    const elements = await raw.client.lRange(`${prefix}${TQ}`, 0, -1);
    expect(elements.map((e) => JSON.parse(e))).toEqual([
      { ...task(2), _chimera_id: 'task-2' },
      { ...task(1), _chimera_id: 'task-1' },
    ]);
    expect(JSON.parse((await raw.client.lIndex(`${prefix}${RQ}`, 0)) as string)).toEqual({ ...output, _chimera_id: 't-1:0' });
    // a seed consumer (RPOP) takes the oldest, and sees a WorkerTaskInput
    const popped = JSON.parse((await raw.client.rPop(`${prefix}${TQ}`)) as string) as TaskInput;
    expect(popped).toMatchObject(task(1));
    // the two spaces keep their own queues: the task object sees no review queue
    expect(await tq.queues()).toEqual([TQ]);
    expect(await rq.queues()).toEqual([RQ]);
    // payloads that are not objects are wrapped, and come back as they were
    await tq.enqueue('plain', [{ id: 'p', payload: [1, 'two'] as unknown as TaskInput }]);
    expect(await raw.client.lIndex(`${prefix}task:plain`, 0)).toBe('{"_chimera_id":"p","_chimera_value":[1,"two"]}');
    expect((await tq.claim('plain', 'w', 10))?.item.payload).toEqual([1, 'two']);
    await expect(tq.enqueue('plain', [{ id: 'x', payload: { _chimera_id: 'y' } as unknown as TaskInput }])).rejects.toThrow(/must not have the fields _chimera_id/);
  });

  it('every auxiliary key of a queue hashes to the list’s own cluster slot', async () => {
    await fresh();
    // CLUSTER KEYSLOT answers only where cluster support is on (not on this machine's server):
    // the slot is then computed as Redis Cluster does, checked against the examples Redis documents
    const server = await raw.client.sendCommand(['CLUSTER', 'KEYSLOT', 'somekey']).then(
      () => true,
      () => false,
    );
    const slot = async (key: string): Promise<number> => (server ? Number(await raw.client.sendCommand(['CLUSTER', 'KEYSLOT', key])) : keySlot(key));
    expect([keySlot('somekey'), keySlot('foo{hash_tag}'), keySlot('{hash_tag}bar')]).toEqual([11058, 2515, 2515]);
    for (const [space, name] of [['task', TQ], ['review', RQ], ['task', 'other']] as const) {
      const k = queueKeys(prefix, space, name);
      const slots = await Promise.all(k.all.map(slot));
      expect(new Set(slots).size, `${name}: ${k.all.join(', ')} → ${slots.join(', ')}`).toBe(1);
    }
    const p = personaKeys(prefix, 'aria');
    expect(await slot(p.empty)).toBe(await slot(p.hash));
    const s = await open();
    await expect(track(s.queue('task', new VirtualClock())).depth('task_queue:{x}')).rejects.toThrow(/must not contain \{ or \}/);
    await expect(openRedis({ url, prefix: '{p}:' })).rejects.toThrow(/key prefix .* must not contain/);
  });

  it('a lapsed lease is redelivered with attempts + 1; its holder’s ack then fails', async () => {
    await fresh();
    const clock = new VirtualClock();
    const q = track((await open()).queue<TaskInput>('task', clock));
    await q.enqueue(TQ, [{ id: 'a', payload: task(1) }]);
    const l1 = await q.claim(TQ, 'w1', 500);
    expect(await raw.client.lLen(`${prefix}${TQ}`)).toBe(0);
    clock.advance(500);
    expect(await q.redeliverExpired(TQ)).toEqual(['a']);
    // back in the seed's list, where a seed consumer could take it too
    expect(JSON.parse((await raw.client.lIndex(`${prefix}${TQ}`, -1)) as string)).toMatchObject(task(1));
    const l2 = await q.claim(TQ, 'w2', 500);
    expect(l2?.item).toMatchObject({ id: 'a', attempts: 1 });
    expect(await q.ack(TQ, l1!.lease_id)).toBe(false);
    expect(await q.ack(TQ, l2!.lease_id)).toBe(true);
    expect(await raw.keys(prefix)).toEqual([]);
  });

  it('concurrent consumers on several connections: each item is leased by exactly one until its lease lapses', async () => {
    await fresh();
    const clock = new VirtualClock();
    const N = 600; // more than one enqueue script's chunk (500)
    const producer = track((await open()).queue<TaskInput>('task', clock));
    await producer.enqueue(TQ, Array.from({ length: N }, (_, i) => ({ id: `i${i}`, payload: task(i) })));
    const consumers: WorkQueue<TaskInput>[] = [];
    for (let c = 0; c < 4; c++) consumers.push(track((await open()).queue<TaskInput>('task', clock)));
    const holder = new Map<string, string>();
    // every consumer claims as fast as it can, all at once, until the queue is empty
    const claimed = await Promise.all(
      consumers.map(async (q, c) => {
        const mine: { id: string; lease: string }[] = [];
        for (let l = await q.claim(TQ, `c${c}`, 10_000); l; l = await q.claim(TQ, `c${c}`, 10_000)) mine.push({ id: l.item.id, lease: l.lease_id });
        return mine;
      }),
    );
    for (const [c, mine] of claimed.entries()) {
      for (const m of mine) {
        expect(holder.has(m.id), `${m.id} leased by c${c} and ${holder.get(m.id)}`).toBe(false);
        holder.set(m.id, `c${c}`);
      }
    }
    expect(holder.size).toBe(N);
    expect(claimed.filter((m) => m.length > 0).length).toBeGreaterThan(1);
    // consumer 0 acknowledges; the others' leases lapse and their items come back once, with attempts 1
    await Promise.all((claimed[0] ?? []).map((m) => (consumers[0] as WorkQueue<TaskInput>).ack(TQ, m.lease)));
    clock.advance(10_000);
    const back = (await Promise.all(consumers.map((q) => q.redeliverExpired(TQ)))).flat();
    expect(back.length).toBe(N - (claimed[0]?.length ?? 0));
    expect(new Set(back).size).toBe(back.length);
    const again = await (consumers[1] as WorkQueue<TaskInput>).claim(TQ, 'c1', 1000);
    expect(again?.item.attempts).toBe(1);
  });

  it('garbage in a list (a foreign producer’s) goes to the dead list with the reason; consumers go on', async () => {
    await fresh();
    const clock = new VirtualClock();
    const dead: [string, number][] = [];
    const s = await open({ onDeadLetter: (queue, n) => dead.push([queue, n]) });
    const q = track(s.queue<TaskInput>('task', clock)) as unknown as RedisQueue<TaskInput>;
    // 'NaN' and '0x1F' are numbers to Redis's Lua JSON decoder, not to JSON.parse
    await raw.client.lPush(`${prefix}${TQ}`, ['{"task_id": "t-1", oops', JSON.stringify(task(2)), 'NaN?', '', 'NaN', '0x1F']);
    // the readers show the garbage marked, in its place
    const r = track(s.readers());
    const rows = (await r.queues!.items({ space: 'task', queue: TQ, state: 'waiting' })).items;
    expect(rows.map((x) => (x.ok ? x.value.id : `bad: ${String(x.raw)}`))).toEqual(['bad: {"task_id": "t-1", oops', 't-2', 'bad: NaN?', 'bad: ', 'bad: NaN', 'bad: 0x1F']);
    const l = await q.claim(TQ, 'w', 100);
    expect(l?.item.id).toBe('t-2');
    expect(await q.claim(TQ, 'w', 100)).toBeNull();
    expect(dead).toEqual([
      [TQ, 1],
      [TQ, 2],
      [TQ, 1],
      [TQ, 1],
    ]);
    const letters = await q.deadLetters(TQ, 10);
    expect(letters.map((d) => [d.raw.replace(/,"_chimera_id".*$/, ''), d.problem.replace(/ \(.*/, '')])).toEqual([
      ['{"_chimera_id":"sha1:' + sha1('0x1F') + '","_chimera_value":0x1F}', 'not JSON'],
      ['{"_chimera_id":"sha1:' + sha1('NaN') + '","_chimera_value":NaN}', 'not JSON'],
      ['', 'not JSON'],
      ['NaN?', 'not JSON'],
      ['{"task_id": "t-1", oops', 'not JSON'],
    ]);
    expect(await raw.client.type(`{${prefix}${TQ}}:dead`)).toBe('list');
  });

  it('a key named like a queue that is not a LIST is listed marked by the readers and is no queue to the port; a <space>:<name> key of another type is not ours', async () => {
    await fresh();
    const clock = new VirtualClock();
    const s = await open();
    const q = track(s.queue<TaskInput>('task', clock));
    await q.enqueue(TQ, [{ id: 'a', payload: task(1) }]);
    const odd = taskQueueName('00000000-0000-4000-8000-0000000000c2');
    await raw.client.hSet(`${prefix}${odd}`, { task_id: 't-1' });
    await raw.client.set(`${prefix}task:counter`, '7');
    await raw.client.lPush(`${prefix}review:side`, JSON.stringify({ task_id: 'r' }));
    expect(await q.queues()).toEqual([TQ]);
    const r = track(s.readers());
    const page = (cursor: string | null) => r.queues!.listQueues({ now_ms: clock.now_ms(), cursor, limit: 1 });
    const rows: unknown[] = [];
    for (let p = await page(null); ; p = await page(p.next_cursor)) {
      rows.push(...p.items);
      if (!p.next_cursor) break;
    }
    expect(rows).toEqual([
      { ok: true, value: { space: 'review', queue: 'side', depth: { ready: 1, delayed: 0, leased: 0 } } },
      { ok: true, value: { space: 'task', queue: TQ, depth: { ready: 1, delayed: 0, leased: 0 } } },
      { ok: false, raw: { space: 'task', queue: odd, key: `${prefix}${odd}`, type: 'hash' }, problem: `Redis key ${prefix}${odd} is a hash, not a list: a queue is a LIST of JSON elements` },
    ]);
  });

  it('the persona cache is the seed’s hash both ways; an empty map is a marker a seed reader sees as {}', async () => {
    await fresh();
    const c = track((await open()).personaCache());
    await raw.client.hSet(`${prefix}persona_cache:aria`, { name: 'Aria', voice: JSON.stringify(['warm', 'dry']) });
    expect(await c.get('aria')).toEqual({ name: 'Aria', voice: '["warm","dry"]' });
    await c.set('bo', { name: 'Bo', tone: 'calm' });
    expect(await raw.client.hGetAll(`${prefix}persona_cache:bo`)).toEqual({ name: 'Bo', tone: 'calm' });
    await c.set('bo', {});
    expect(await c.get('bo')).toEqual({});
    expect(await raw.client.hGetAll(`${prefix}persona_cache:bo`)).toEqual({});
    expect(await c.list()).toEqual(['aria', 'bo']);
    await c.set('bo', { name: 'Bo again' });
    expect(await raw.keys(prefix)).toEqual([`${prefix}persona_cache:aria`, `${prefix}persona_cache:bo`]);
    expect(await c.delete('bo')).toBe(true);
    await c.set('cy', {});
    expect(await c.delete('cy')).toBe(true);
    expect(await c.get('cy')).toBeNull();
    expect(await c.list()).toEqual(['aria']);
  });

  it('survives CLIENT KILL of its connection mid-run: every item is acknowledged once (a lost reply only delays an item to its lease lapse)', async () => {
    await fresh();
    const clock = new VirtualClock();
    const name = `chimera-kill-${randomBytes(3).toString('hex')}`;
    const s = await open({ client_name: name, reconnect_base_ms: 10, reconnect_max_ms: 100 });
    const q = track(s.queue<TaskInput>('task', clock));
    const N = 60;
    await q.enqueue(TQ, Array.from({ length: N }, (_, i) => ({ id: `k${i}`, payload: task(i) })));
    const acked = new Set<string>();
    let failures = 0;
    let kills = 0;
    for (let step = 0; step < 20 * N && acked.size < N; step++) {
      if (step % 15 === 7) {
        const list = String(await raw.client.sendCommand(['CLIENT', 'LIST']));
        const id = /id=(\d+) .*name=(\S+)/g;
        for (const m of list.matchAll(id)) if (m[2] === name) kills += Number(await raw.client.sendCommand(['CLIENT', 'KILL', 'ID', m[1] as string]));
      }
      try {
        const l = await q.claim(TQ, 'w', 1000);
        if (!l) {
          clock.advance(1000);
          await q.redeliverExpired(TQ);
          continue;
        }
        expect(acked.has(l.item.id)).toBe(false);
        if (await q.ack(TQ, l.lease_id)) acked.add(l.item.id);
      } catch (e) {
        failures += 1;
        expect((e as Error).message).toMatch(new RegExp(`^redis 127\\.0\\.0\\.1:\\d+: .* failed`));
        // wait for the reconnect, not for time
        await s.waitReady(5000);
      }
    }
    expect(kills).toBeGreaterThan(2);
    expect(acked.size).toBe(N);
    expect(await q.depth(TQ)).toEqual({ ready: 0, delayed: 0, leased: 0 });
    expect(failures).toBeLessThanOrEqual(2 * kills);
  });

  it('survives a server restart: fails clearly while it is down, then works again (without persistence the items are gone, and says so)', async () => {
    await fresh();
    const server = await startEmbeddedRedis(await freePort());
    try {
      const clock = new VirtualClock();
      const s = await openRedis({ url: server.url, command_timeout_ms: 500, reconnect_base_ms: 10, reconnect_max_ms: 100 });
      stores.push(s);
      const q = track(s.queue<TaskInput>('task', clock));
      const cache = track(s.personaCache());
      await q.enqueue(TQ, [1, 2, 3].map((n) => ({ id: `r${n}`, payload: task(n) })));
      await cache.set('aria', { name: 'Aria' });
      const held = await q.claim(TQ, 'w', 1000);
      await server.stop();
      const down = await q.depth(TQ).then(
        () => null,
        (e: Error & { code?: string; details?: { code?: string } }) => e,
      );
      expect(down?.message).toMatch(new RegExp(`^redis 127\\.0\\.0\\.1:${server.port}: .* failed: .*`));
      expect(down?.code).toBe('BACKEND_UNAVAILABLE');
      await server.restart();
      try {
        await s.waitReady(10_000);
        const depth = await eventually('depth after restart', 3, () => q.depth(TQ));
        // no persistence on this server (redis-memory-server runs with --save ''): what was queued is gone
        expect(depth).toEqual({ ready: 0, delayed: 0, leased: 0 });
        expect(await q.ack(TQ, held!.lease_id)).toBe(false);
        expect(await cache.get('aria')).toBeNull();
        // and the scripts are loaded again (EVALSHA → NOSCRIPT → EVAL)
        await q.enqueue(TQ, [{ id: 'after', payload: task(9) }]);
        expect((await q.claim(TQ, 'w', 1000))?.item.id).toBe('after');
      } finally {
        for (const p of opened.splice(0)) await p.close();
        for (const x of stores.splice(0)) await x.close();
      }
    } finally {
      await server.stop().catch(() => undefined);
    }
  });

  it('refuses what it cannot reach or use with one line naming host:port, never the password', async () => {
    const port = await freePort();
    const refused = await openRedis({ url: `redis://user:s3cret-pw@127.0.0.1:${port}`, connect_timeout_ms: 300 }).catch((e: Error) => e);
    expect((refused as Error).message).toMatch(new RegExp(`^redis 127\\.0\\.0\\.1:${port}: cannot connect within 300 ms`));
    expect((refused as Error).message).not.toContain('s3cret');
    expect((refused as { details?: { code?: string } }).details?.code).toBe('ECONNREFUSED');
    const u = new URL(url);
    const auth = await openRedis({ url: `redis://nobody:s3cret-pw@${u.host}`, connect_timeout_ms: 1000 }).catch((e: Error) => e);
    expect((auth as Error).message).toMatch(new RegExp(`^redis ${u.hostname.replace(/\./g, '\\.')}:${u.port || 6379}: the server refused the connection: WRONGPASS`));
    expect((auth as Error).message).not.toContain('s3cret');
    // rediss:// speaks TLS: against a plain server the handshake fails, and says where
    const tls = await openRedis({ url: `rediss://:s3cret-pw@${u.host}`, connect_timeout_ms: 500 }).catch((e: Error) => e);
    expect((tls as Error).message).toMatch(new RegExp(`^redis ${u.hostname.replace(/\./g, '\\.')}:${u.port || 6379}: `));
    expect((tls as Error).message).not.toContain('s3cret');
    await expect(openRedis({ url: 'http://127.0.0.1:6379' })).rejects.toThrow(/invalid Redis URL scheme http:/);
  });
});

describe.skipIf(why !== null)(`redis readers as a read-only ACL user${why ? ` (skipped: ${why})` : ''}`, () => {
  it('read everything with INSPECTOR_COMMANDS and nothing else; a write is refused', async () => {
    const url = testRedisUrl();
    const raw = await RedisRaw.connect(url);
    const prefix = testRedisPrefix('chimera-acl');
    const user = `chimera-inspector-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const writer = await openRedis({ url, prefix });
    const clock = new VirtualClock();
    try {
      const q = writer.queue<TaskInput>('task', clock);
      await q.enqueue(TQ, [1, 2, 3].map((n) => ({ id: `a${n}`, payload: task(n) })));
      await q.claim(TQ, 'w', 1000);
      const cache = writer.personaCache();
      await cache.set('aria', { name: 'Aria' });
      await cache.set('empty', {});
      const keyRules = [`~${prefix}*`, `~{${prefix}*`];
      await raw.client.sendCommand(['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...keyRules, ...INSPECTOR_COMMANDS.map((c) => `+${c}`)]);
      const u = new URL(url);
      u.username = user;
      u.password = password;
      const inspector = await openRedis({ url: u.toString(), prefix });
      try {
        const r = inspector.readers();
        const listed = await r.queues!.listQueues({ now_ms: clock.now_ms() });
        expect(listed.items).toEqual([{ ok: true, value: { space: 'task', queue: TQ, depth: { ready: 2, delayed: 0, leased: 1 } } }]);
        expect((await r.queues!.items({ space: 'task', queue: TQ, state: 'waiting' })).items.map((x) => x.ok && x.value.id)).toEqual(['a2', 'a3']);
        expect((await r.queues!.items({ space: 'task', queue: TQ, state: 'leased' })).items.map((x) => x.ok && x.value.consumer)).toEqual(['w']);
        expect((await r.personaCache!.list()).items).toEqual([
          { ok: true, value: { persona_id: 'aria', trait_count: 1 } },
          { ok: true, value: { persona_id: 'empty', trait_count: 0 } },
        ]);
        expect(await r.personaCache!.get('aria')).toEqual({ ok: true, value: { name: 'Aria' } });
        await r.close();
        // the same user cannot change anything: a claim is a script, a set is HSET
        await expect(inspector.queue<TaskInput>('task', clock).claim(TQ, 'x', 1000)).rejects.toThrow(/NOPERM/);
        await expect(inspector.personaCache().set('aria', { name: 'x' })).rejects.toThrow(/NOPERM|EXECABORT/);
      } finally {
        await inspector.close();
      }
    } finally {
      await raw.client.sendCommand(['ACL', 'DELUSER', user]);
      await writer.close();
      await raw.deletePrefix(prefix);
      await raw.close();
    }
  });
});
