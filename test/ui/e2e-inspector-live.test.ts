/**
 * End to end in headless Chromium: the Inspector on this machine's real Postgres and Redis
 * (test/support/servers.ts), in two stores of their own:
 *
 * (a) filled by a simulation the studio ran on its production profile: the Inspector shows
 *     the campaigns, a task's output JSON and audit history, queues with their items, the
 *     persona cache, and every audit chain verified, with no row marked;
 * (b) written by a writer that knows only the seed's layout (test/support/seed-writer.ts: the
 *     seed's two tables, plain LPUSHed JSON, HSET hashes, and odd rows), inspected as the
 *     config's production deployment with no session on it: everything shows, each odd row is
 *     marked in place, the missing audit log is said to be absent, and afterwards the database
 *     has exactly the seed's tables and Redis exactly the writer's keys. A column the writer
 *     adds later shows after Refresh (the readers, kept open between calls, read the layout
 *     again).
 *
 * CHIMERA_SKIP_E2E=1 skips it on purpose (as the other e2e suites).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import pg from 'pg';
import { SKIP_E2E } from '../../bench/support/browser.ts';
import { deleteKeys, productionStore, type ProductionStore } from '../production/support.ts';
import { keysUnder, seedTables, writeSeedCluster } from '../support/seed-writer.ts';
import { testDatabase, testRedisPrefix, testRedisUrl } from '../support/servers.ts';
import { TEST_MS, WAIT, openE2E, view, type E2E } from './e2e-support.ts';

/** The environment a studio needs to reach a production deployment (no DATABASE_MODE: its session stays where it is). */
const connection = (pgUrl: string, redisUrl: string, prefix: string): Record<string, string> => ({
  CHIMERA_POSTGRES_URL: pgUrl,
  CHIMERA_REDIS_URL: redisUrl,
  CHIMERA_REDIS_PREFIX: prefix,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Opens a task in the contents drawer and returns it. */
async function openTask(page: Page, id: string) {
  await page.getByRole('button', { name: `Inspect task ${id}` }).click();
  const aside = page.getByRole('complementary', { name: 'Task contents' });
  await aside.getByLabel('output_data', { exact: true }).waitFor(WAIT);
  return aside;
}

describe.skipIf(SKIP_E2E)("the Inspector on this machine's Postgres and Redis (headless Chromium)", () => {
  it('(a) a production store a simulation filled: campaigns, task JSON and history, queues with items, persona cache, audit verified', async () => {
    const store: ProductionStore = await productionStore('e2e_live_sim');
    cleanups.push(() => store.drop());
    const t: E2E = await openE2E({ env: connection(store.pgUrl, store.redisUrl, store.prefix) });
    cleanups.push(() => t.close());
    const { page, studio } = t;

    // the simulation: the studio's own production profile (storm, seed 7), stepped until a
    // worker's task is completed and a queue holds waiting items (a bounded walk, checked per chunk)
    await studio.service.call('sim/open', { scenario: 'storm', seed: 7 });
    await studio.service.call('backend/switch', { kind: 'production' });
    let task: { id: string; output_data: unknown } | undefined;
    let queue: string | undefined;
    for (let chunk = 0; chunk < 20 && !(task && queue); chunk++) {
      await studio.service.call('sim/step', { count: 20 });
      const completed = await studio.service.call('inspect/tasks', { status: 'COMPLETED', limit: 25 });
      const worker = completed.items.find((r) => r.ok && r.value.role === 'WORKER');
      task = worker?.ok ? (worker.value as { id: string; output_data: unknown }) : undefined;
      const queues = await studio.service.call('inspect/queues', {});
      const waiting = queues.items.flatMap((r) => (r.ok && r.value.depth.ready + r.value.depth.delayed > 0 ? [r.value.queue] : []));
      queue = waiting[0];
    }
    if (!task || !queue) throw new Error(`after ${studio.service.status().step} steps of storm (seed 7): ${task ? '' : 'no completed worker task on the first page; '}${queue ? '' : 'no queue with waiting items'}`);
    const before = { tables: await seedTables(store.pgUrl), keys: await keysUnder(store.redisUrl, store.prefix) };
    expect(before.tables).toContain('public.audit_log');
    const cache = await studio.service.call('inspect/cache', {});
    expect(cache.items.length).toBeGreaterThan(0);
    const persona = (cache.items[0] as { value: { persona_id: string } }).value.persona_id;

    await page.goto(studio.server.url);
    await view(page, 'Inspector');
    const campaigns = page.getByRole('table', { name: 'Inspected campaigns' });
    await campaigns.getByRole('row').nth(1).waitFor(WAIT);
    await page.getByLabel('Task status filter').selectOption('COMPLETED');
    const aside = await openTask(page, task.id);
    expect(await aside.getByLabel('output_data', { exact: true }).textContent()).toBe(JSON.stringify(task.output_data, null, 2));
    await aside.getByRole('list', { name: 'Task audit history' }).getByText('task.claimed').first().waitFor(WAIT);

    await page.getByRole('button', { name: `Open queue ${queue}` }).click();
    const items = page.getByRole('table', { name: `Items of ${queue}` });
    // the header row and at least one item (never the "no waiting items" row)
    await items.getByRole('row').nth(1).waitFor(WAIT);
    expect(await items.getByText('no waiting items').count()).toBe(0);
    await page.getByRole('table', { name: 'Persona cache hashes' }).getByRole('cell', { name: `persona_cache:${persona}`, exact: true }).waitFor(WAIT);

    await page.getByRole('button', { name: 'Verify audit chains' }).click();
    await page.getByTestId('inspect-verify').filter({ hasText: 'Every audit chain verified' }).waitFor(WAIT);
    expect(await page.getByTestId('bad-row').count(), 'nothing the studio wrote is marked').toBe(0);

    // the same store as the config's deployment, with no session in between
    await page.getByLabel('Inspected store').selectOption('production');
    await campaigns.getByRole('row').nth(1).waitFor(WAIT);
    await page.getByTestId('inspect-verify').filter({ hasText: 'Every audit chain verified' }).waitFor(WAIT);

    expect(t.pageErrors).toEqual([]);
    // inspecting wrote nothing
    expect({ tables: await seedTables(store.pgUrl), keys: await keysUnder(store.redisUrl, store.prefix) }).toEqual(before);
  }, TEST_MS);

  it('(b) a cluster written with only the seed\'s layout: it shows, odd rows are marked in place, nothing is created', async () => {
    const db = await testDatabase('e2e_live_seed');
    const redisUrl = testRedisUrl();
    const prefix = testRedisPrefix('e2e-live-seed');
    cleanups.push(async () => {
      await deleteKeys(redisUrl, prefix);
      await db.drop();
    });
    const seed = await writeSeedCluster({ pgUrl: db.url, redisUrl, prefix });
    const t: E2E = await openE2E({ env: connection(db.url, redisUrl, prefix) });
    cleanups.push(() => t.close());
    const { page, studio } = t;

    await page.goto(studio.server.url);
    await view(page, 'Inspector');
    // the studio's own session stays in memory: the cluster is the config's deployment
    await page.getByLabel('Inspected store').selectOption('production');

    const campaigns = page.getByRole('table', { name: 'Inspected campaigns' });
    for (const c of seed.campaigns.filter((x) => x.title !== null)) await campaigns.getByRole('row', { name: new RegExp(c.title as string) }).waitFor(WAIT);
    await campaigns.getByTestId('bad-row').filter({ hasText: seed.odd.blankCampaign }).waitFor(WAIT);

    const tasks = page.getByRole('table', { name: 'Inspected tasks' });
    const ordinary = seed.tasks.filter((x) => x.id !== seed.odd.unknownStatusTask);
    for (const x of ordinary) await tasks.getByRole('button', { name: `Inspect task ${x.id}` }).waitFor(WAIT);
    await tasks.getByTestId('bad-row').filter({ hasText: seed.odd.unknownStatusTask }).filter({ hasText: 'status' }).waitFor(WAIT);

    // a task's input and output as the writer stored them (jsonb orders keys its own way), and no history to read
    const shown = ordinary.find((x) => x.output_data !== null && x.status === 'COMPLETED' && (x.input_data as { skill_name?: string }).skill_name)!;
    const aside = await openTask(page, shown.id);
    expect(JSON.parse((await aside.getByLabel('input_data', { exact: true }).textContent()) ?? '')).toEqual(shown.input_data);
    expect(JSON.parse((await aside.getByLabel('output_data', { exact: true }).textContent()) ?? '')).toEqual(shown.output_data);
    await aside.getByRole('list', { name: 'Task audit history' }).getByText(/no audit log in this database/).waitFor(WAIT);

    const queues = page.getByRole('table', { name: 'Inspected queues' });
    for (const q of seed.queues) await queues.getByRole('button', { name: `Open queue ${q}` }).waitFor(WAIT);
    // the queue with the odd elements: both marked, in their place
    await page.getByRole('button', { name: `Open queue ${seed.odd.notJson.queue}` }).click();
    const odd = page.getByRole('table', { name: `Items of ${seed.odd.notJson.queue}` });
    await odd.getByTestId('bad-row').filter({ hasText: 'not JSON' }).waitFor(WAIT);
    await odd.getByTestId('bad-row').filter({ hasText: 'is not a WorkerTaskInput' }).filter({ hasText: seed.odd.missingFields.task_id }).waitFor(WAIT);
    // a queue of plain LPUSHed tasks: its items show
    const plain = seed.queues.find((q) => q.startsWith('task_queue:') && q !== seed.odd.notJson.queue)!;
    await page.getByRole('button', { name: `Open queue ${plain}` }).click();
    const items = page.getByRole('table', { name: `Items of ${plain}` });
    // both LPUSHed tasks, by their payloads (the table keeps the last queue's rows until this one's arrive)
    for (const skill of ['persona_consistency_check', 'carousel']) await items.getByRole('row').filter({ hasText: skill }).waitFor(WAIT);
    expect(await items.getByTestId('bad-row').count()).toBe(0);

    const cache = page.getByRole('table', { name: 'Persona cache hashes' });
    for (const p of seed.personas) await cache.getByRole('cell', { name: `persona_cache:${p}`, exact: true }).waitFor(WAIT);
    await cache.getByTestId('bad-row').filter({ hasText: seed.odd.wrongType.persona_id }).waitFor(WAIT);

    await page.getByRole('button', { name: 'Verify audit chains' }).click();
    await page.getByTestId('inspect-verify').filter({ hasText: /Nothing to verify: no audit log in this database/ }).waitFor(WAIT);

    // the rest of the page works: filter the tasks by a status, close the task contents
    await page.getByLabel('Task status filter').selectOption('PENDING');
    await tasks.getByRole('button', { name: `Inspect task ${ordinary.find((x) => x.status === 'PENDING')!.id}` }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Close the task contents' }).click();
    await page.getByRole('complementary', { name: 'Task contents' }).waitFor({ ...WAIT, state: 'detached' });

    // the writer adds a column to its campaigns: Refresh reads the schema's layout again and shows it
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      await writer.query("ALTER TABLE campaigns ADD COLUMN persona_id VARCHAR(64); UPDATE campaigns SET persona_id = 'added-later'");
    } finally {
      await writer.end();
    }
    await page.getByRole('button', { name: 'Refresh the inspector' }).click();
    await campaigns.getByRole('cell', { name: 'added-later', exact: true }).first().waitFor(WAIT);

    expect(t.pageErrors).toEqual([]);
    // read-only: exactly the seed's tables, exactly the writer's keys
    expect(await seedTables(db.url)).toEqual(['public.campaigns', 'public.tasks']);
    expect(await keysUnder(redisUrl, prefix)).toEqual(seed.keys);
  }, TEST_MS);
});
