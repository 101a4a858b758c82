/**
 * End to end in headless Chromium, on this machine's real Postgres and Redis: a person adds a
 * connection profile in the Backend view. It starts read-only, so running simulations on it is
 * refused with a clear error and nothing is written to the cluster; making it read-write asks
 * first, and only then does a session run there. Browser mode offers no way to type a secret:
 * the form asks for an environment variable or a file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SKIP_E2E } from '../../bench/support/browser.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { TEST_MS, TOAST_RECORDER, WAIT, openE2E, toastCount, untilToast, view, type E2E } from './e2e-support.ts';

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

async function tableCount(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ n: string }>("select count(*)::text as n from information_schema.tables where table_schema = 'public'")).rows[0]?.n === '0' ? 0 : 1;
  } finally {
    await c.end();
  }
}

describe.skipIf(SKIP_E2E)('connection profiles in the app (headless Chromium)', () => {
  let t: E2E;
  let store: ProductionStore;
  beforeAll(async () => {
    store = await productionStore('e2econn');
    t = await openE2E();
    await t.page.addInitScript(TOAST_RECORDER);
  }, 300_000);
  afterAll(async () => {
    await t?.close();
    await store?.drop();
  });

  it('a new profile is read-only: its session is refused, nothing written; read-write asks first, then it runs', async () => {
    const { page } = t;
    await page.goto(t.studio.server.url);
    await view(page, 'Backend');
    await page.getByRole('button', { name: 'New connection…' }).click();
    const form = page.getByRole('form', { name: 'New connection' });
    await form.getByLabel('Name').fill('cluster');
    await form.getByLabel('Postgres URL').fill(store.pgUrl);
    await form.getByLabel('Redis URL').fill(store.redisUrl);
    await form.getByLabel('Redis key prefix').fill(store.prefix);
    // browser mode: a secret comes from the environment or a file, never typed
    const source = form.getByLabel('Postgres password source');
    expect(await source.locator('option').allTextContents()).toEqual(['none', 'environment variable', 'file']);
    // a draft tested before saving: a Redis port nobody listens on is named, with why
    await form.getByLabel('Redis URL').fill('redis://127.0.0.1:1');
    await form.getByRole('button', { name: 'Test connection' }).click();
    const draftReport = page.getByRole('region', { name: 'Connection test of cluster' });
    await draftReport.getByText('cluster: Redis failed').waitFor(WAIT);
    expect(await draftReport.getByTestId('check-redis').textContent()).toMatch(/refused.*Redis at 127\.0\.0\.1:1/);
    await form.getByLabel('Redis URL').fill(store.redisUrl);
    await form.getByRole('button', { name: 'Save connection' }).click();
    const row = page.getByTestId('connection').filter({ hasText: 'cluster' });
    await row.getByText('read-only', { exact: true }).waitFor(WAIT);

    // "Test connection": each service, ok, with its version
    await page.getByRole('button', { name: 'Test connection cluster' }).click();
    const report = page.getByRole('region', { name: 'Connection test of cluster' });
    await report.getByText('Every service of cluster answers').waitFor(WAIT);
    expect(await report.getByTestId('check-postgres').getAttribute('data-ok')).toBe('true');
    expect(await report.getByTestId('check-redis').textContent()).toMatch(/Redis.*version 7/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'connections.png'), fullPage: true });

    // the refused write: a simulation on a read-only profile
    let shown = await toastCount(page);
    await page.getByRole('button', { name: 'Run simulations on connection cluster' }).click();
    await untilToast(page, 'alert', ['READ_ONLY', 'connection "cluster" is read-only'], shown);
    expect(await page.getByTestId('active-backend').textContent()).not.toMatch(/Production/);
    expect(await tableCount(store.pgUrl)).toBe(0);

    // read-write asks, naming the cluster; Cancel keeps it read-only
    await page.getByRole('button', { name: 'Make connection cluster read-write' }).click();
    const ask = page.getByRole('alertdialog', { name: 'Let the studio write to cluster?' });
    await ask.getByText(new URL(store.pgUrl).host).waitFor(WAIT);
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await row.getByText('read-only', { exact: true }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Make connection cluster read-write' }).click();
    await ask.getByRole('button', { name: 'Make read-write' }).click();
    await row.getByText('read-write', { exact: true }).waitFor(WAIT);

    shown = await toastCount(page);
    await page.getByRole('button', { name: 'Run simulations on connection cluster' }).click();
    await untilToast(page, 'status', ['Switched to Production'], shown);
    await page.getByTestId('active-backend').filter({ hasText: 'Production “cluster”' }).waitFor(WAIT);
    await t.studio.service.call('sim/step', { count: 40 });

    // "Inspect" opens the Inspector on the connection (read-only, its own readers)
    await view(page, 'Backend');
    await page.getByRole('button', { name: 'Inspect connection cluster' }).click();
    await page.getByRole('heading', { level: 1, name: 'Inspector' }).waitFor(WAIT);
    expect(await page.getByLabel('Inspected store').inputValue()).toBe('connection:cluster');
    await page.getByRole('table', { name: 'Inspected campaigns' }).getByRole('row').nth(1).waitFor(WAIT);
    await page.getByText('read-only · production').waitFor(WAIT);
    await page.getByRole('button', { name: /^Inspect task / }).first().click();
    await page.getByRole('complementary', { name: 'Task contents' }).getByLabel('input_data', { exact: true }).waitFor(WAIT);
    // the picture without the notices stacked over the drawer
    const dismiss = page.getByRole('button', { name: 'Dismiss notification' });
    for (let i = 0; i < 20 && (await dismiss.count()) > 0; i++) await dismiss.first().dispatchEvent('click');
    await page.screenshot({ path: join(SHOTS, 'inspector.png'), fullPage: true });
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);
});
