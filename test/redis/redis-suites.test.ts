/**
 * The contract suites that need a state store beside the queues (the readers contract and the
 * differential fuzz) over Redis: the entry 'redis+memory-state' keeps state in the in-memory
 * store (Redis holds no campaigns, tasks or audit) and queues, the persona cache and their
 * readers in Redis, so those suites check the Redis adapters against the in-memory reference.
 */
import { ADAPTERS, REQUIRED_ADAPTERS, type AdapterEntry } from '../adapters.ts';
import { MemoryStateData, MemoryStateStore } from '../../src/adapters/memory/memory-state-store.ts';
import { memoryReaders } from '../../src/adapters/memory/memory-readers.ts';
import type { AuditEvent, Campaign, Task } from '../../src/domain/schemas.ts';
import { describeAdapter } from '../contract/run.ts';
import { readersContract } from '../contract/readers.contract.ts';
import { differentialSuite } from '../contract/differential.contract.ts';
import { redisEntry } from './redis-entry.ts';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/sim/clock.ts';

const hybrid: AdapterEntry = {
  name: 'redis+memory-state',
  ports: ['state', 'queue', 'personaCache', 'readers'],
  capabilities: { reopens: true },
  // required with the 'redis' entry: when CI requires it, a missing server fails these suites too
  unavailable: async () => (REQUIRED_ADAPTERS.includes('redis') ? null : redisEntry.unavailable!()),
  setup: async () => {
    const r = await redisEntry.setup();
    const states = new Map<string, MemoryStateData>();
    const state = (ns: string): MemoryStateData => {
      let d = states.get(ns);
      if (!d) states.set(ns, (d = new MemoryStateData()));
      return d;
    };
    return {
      ...r,
      drop: async (ns) => {
        states.delete(ns);
        await r.drop!(ns);
      },
      state: async (ns) => new MemoryStateStore(state(ns)),
      readers: async (ns) => {
        const red = await r.readers!(ns);
        const mem = memoryReaders({ state: state(ns) });
        return { ...red, kind: 'redis+memory', state: mem.state!, audit: mem.audit! };
      },
      malform: async (ns, kind, key) => {
        if (kind === 'persona') return r.malform!(ns, kind, key);
        const d = state(ns);
        if (kind === 'campaign') d.campaigns.set(key, { ...(d.campaigns.get(key) as Campaign), title: '' });
        if (kind === 'task') d.tasks.set(key, { ...(d.tasks.get(key) as Task), depends_on: 'not a list' as unknown as string[] });
        if (kind === 'audit') d.audit[Number(key) - 1] = { ...(d.audit[Number(key) - 1] as AuditEvent), hash: 'not hex' };
      },
    };
  },
};

// narrowed with the 'redis' entry (ADAPTERS=memory leaves both out)
if (ADAPTERS.some((a) => a.name === 'redis')) {
  await describeAdapter(hybrid, 'readers contract', readersContract);
  await describeAdapter(hybrid, 'differential against the in-memory reference', differentialSuite({ first: 1, seeds: 8, steps: 400 }));
}

// the hybrid itself: state from memory, queues and their readers from Redis (what the suites above rely on)
describe.skipIf(!ADAPTERS.some((a) => a.name === 'redis'))('the redis+memory-state entry', () => {
  it('reads back through Redis what was queued in Redis, and state from the in-memory store', async () => {
    const ctx = await hybrid.setup();
    const ns = await ctx.namespace();
    try {
      const q = await ctx.queue!<{ task_id: string }>(ns, new VirtualClock(), 'task');
      expect(await q.enqueue('task_queue:c1', [{ id: 'a', payload: { task_id: 'a' } }])).toBe(1);
      const readers = await ctx.readers!(ns);
      const page = await readers.queues!.listQueues({ now_ms: Date.UTC(2026, 0, 1) });
      expect(page.items.map((r) => (r.ok ? [r.value.queue, r.value.depth.ready] : null))).toEqual([['task_queue:c1', 1]]);
      expect(readers.kind).toBe('redis+memory');
      expect((await readers.state!.listCampaigns({})).items).toEqual([]);
      await readers.close();
      await q.close();
    } finally {
      await ctx.drop!(ns);
      await ctx.teardown?.();
    }
  });
});
