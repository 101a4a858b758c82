/**
 * Workers on many machines, in miniature: three `chimera worker` processes and a
 * `chimera simulate --live` driver share one production store (Postgres + Redis). Every task
 * completes exactly once, every audit chain verifies, no lease is lost; the workers stop
 * cleanly on SIGTERM and say what they did.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composePorts } from '../../src/config/compose.ts';
import { SystemClock } from '../../src/sim/clock.ts';
import { expectLiveRunSound } from '../support/live-checks.ts';
import { productionStore, type ProductionStore } from './support.ts';
import { startChimera, type ChimeraProcess } from './processes.ts';

let store: ProductionStore;

/** What the store and the processes say, for a run that did not finish. */
async function explain(s: ProductionStore, procs: ChimeraProcess[]): Promise<void> {
  const ports = await composePorts(s.config, new SystemClock());
  try {
    const campaigns = await ports.state.listCampaigns();
    process.stderr.write(`campaigns: ${campaigns.map((c) => `${c.id.slice(0, 8)} ${c.status} v${c.state_version}`).join('; ')}\n`);
    process.stderr.write(`tasks: ${JSON.stringify(await ports.state.countTasks())}\n`);
    for (const c of campaigns) process.stderr.write(`queues of ${c.id.slice(0, 8)}: task ${JSON.stringify(await ports.taskQueue.depth(`task_queue:${c.id}`))} review ${JSON.stringify(await ports.reviewQueue.depth(`review_queue:${c.id}`))}\n`);
  } finally {
    await ports.close();
  }
  for (const p of procs) process.stderr.write(`--- process ${p.child.pid}: ${p.stdout.slice(-800)} ${p.stderr.slice(-1500)}\n`);
}
beforeAll(async () => {
  store = await productionStore('workers');
});
afterAll(async () => {
  await store?.drop();
});

describe('workers on many machines (3 worker processes + a live driver)', () => {
  it('completes every task exactly once, verifies every chain and loses no lease', async () => {
    const workers: ChimeraProcess[] = [];
    try {
      for (let i = 0; i < 3; i++) workers.push(startChimera(['worker', '--backend', 'production', '--lease-ms', '3000', '--seed', String(100 + i), '--json'], store.env));
      // each worker serving before the driver plans (a state, not a time)
      await Promise.all(workers.map((w) => w.waitFor(/serving live campaigns/)));
      const driver = startChimera(['simulate', '--live', '--backend', 'production', '--scenario', 'storm', '--run-id', 'workers-test', '--workers', '1', '--judges', '1', '--lease-ms', '3000', '--json', '--deadline-s', '240'], store.env);
      const code = await driver.exited;
      if (code !== 0) await explain(store, [driver, ...workers]);
      expect(code, driver.stderr).toBe(0);
      const summary = JSON.parse(driver.stdout) as { ended: string; campaign_ids: string[]; memory_backend: string; backends: Record<string, string> };
      expect(summary.ended).toBe('completed');
      expect(summary.backends).toEqual({ state: 'production', queues: 'production', cache: 'production' });
      for (const w of workers) w.child.kill('SIGTERM');
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes).toEqual([0, 0, 0]);
      const done = workers.map((w) => JSON.parse(w.stdout) as { claimed: number; decided: number });
      const ports = await composePorts(store.config, new SystemClock());
      try {
        const { tasks, audit } = await expectLiveRunSound(ports, summary.campaign_ids);
        process.stderr.write(`workers: ${tasks} tasks, ${audit} audit events; claimed per worker ${done.map((d) => d.claimed).join('/')}, decided ${done.map((d) => d.decided).join('/')}\n`);
      } finally {
        await ports.close();
      }
      expect(done.reduce((n, d) => n + d.claimed + d.decided, 0)).toBeGreaterThan(0);
    } finally {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
  }, 300_000);
});
