/**
 * Queue-depth history rebuilt from the event log: it equals the queues' real depths after
 * every step (calm and faulty scenarios), and a session reopened on a stored SQLite run after a
 * restart shows the whole history instead of an empty chart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsFold } from '../../src/app/studio-metrics.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { openStudio } from './studio-support.ts';

type Studio = Awaited<ReturnType<typeof openStudio>>;
const opened: Studio[] = [];
async function studio(dir?: string): Promise<Studio> {
  const s = await openStudio(dir);
  opened.push(s);
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.cleanup();
});

/** The queues' real depths, summed over campaigns (ready + delayed + leased). */
async function realTotals(s: Studio) {
  const q = (await s.service.call('sim/swarm', {})).queues;
  const sum = (d: { ready: number; delayed: number; leased: number }) => d.ready + d.delayed + d.leased;
  return { task: q.reduce((n, c) => n + sum(c.task_queue), 0), review: q.reduce((n, c) => n + sum(c.review_queue), 0) };
}

describe('queue-depth history', () => {
  for (const [scenario, seed] of [['review-queue', 11], ['storm', 5], ['launch-day', 3]] as const) {
    it(`rebuilt from the events equals the queues after every step (${scenario}, seed ${seed})`, async () => {
      const s = await studio();
      await s.service.call('sim/open', { scenario, seed });
      const fold = new MetricsFold();
      const all: EngineEvent[] = [];
      let after = 0;
      let busiest = 0;
      const wrong: unknown[] = [];
      for (let i = 0; i < 1500 && !s.service.status().finished && wrong.length === 0; i++) {
        await s.service.call('sim/step', { count: 1 });
        const page = await s.service.call('sim/events', { after_step: after, limit: 10_000 });
        all.push(...(page.events as unknown as EngineEvent[]));
        fold.update(all);
        after = s.service.status().step;
        const real = await realTotals(s);
        busiest = Math.max(busiest, real.task + real.review);
        if (JSON.stringify(fold.queueTotals()) !== JSON.stringify(real)) wrong.push({ step: after, rebuilt: fold.queueTotals(), real });
      }
      expect(wrong).toEqual([]);
      expect(busiest).toBeGreaterThan(0);
    });
  }

  it('is there after a restart on a stored SQLite run', async () => {
    const s = await studio();
    await s.service.call('backend/switch', { kind: 'sqlite', name: 'hist' });
    await s.service.call('sim/step', { count: 150 });
    const before = (await s.service.call('metrics/series', {})).queue_depths;
    expect(before.length).toBeGreaterThan(3);
    const dir = s.data_dir;
    await s.service.close();
    opened.splice(opened.indexOf(s), 1);

    const again = await studio(dir);
    expect(again.service.status().step).toBeGreaterThan(0);
    const after = (await again.service.call('metrics/series', {})).queue_depths;
    // one depth per tick from 0, equal to the ones sampled before the restart
    expect(after.length).toBe(again.service.status().tick + 1);
    const byTick = new Map(after.map((d) => [d.tick, d]));
    for (const d of before) expect(byTick.get(d.tick)).toEqual(d);
  });
});
