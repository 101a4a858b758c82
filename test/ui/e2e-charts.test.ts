/**
 * End to end in headless Chromium: the Metrics view's uPlot charts have axis values, cursor
 * values and a range selection that the page shares; the task graph opens a node's contents
 * on a click and its status filter hides and shows nodes. Waits are for states, never time.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_E2E } from '../../bench/support/browser.ts';
import { SHOTS, TEST_MS, WAIT, openE2E, type E2E } from './e2e-charts-support.ts';

/** The page's `document`, as far as the page-side conditions below use it (no DOM lib here). */
declare const document: {
  querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null;
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }>;
};

describe.skipIf(SKIP_E2E)('charts and task graph in headless Chromium', () => {
  let e: E2E;

  beforeAll(async () => {
    e = await openE2E();
    // a run with completed, escalated and pending tasks: create a campaign and step until the Judge has approved some
    const s = e.studio.service;
    await s.call('campaigns/create', { title: 'Graph check', goal: 'Teach denim repair', persona_id: 'aria', content_pieces: 6 });
    for (let i = 0; i < 400; i++) {
      const c = (await s.call('campaigns/list', {})).campaigns.find((x) => x.title === 'Graph check')!;
      if (c.counts.COMPLETED >= 2 && c.counts.PENDING + c.counts.PROCESSING > 0) break;
      if (s.status().finished) break;
      await s.call('sim/step', { count: 1 });
    }
  }, 300_000);

  afterAll(async () => {
    await e?.close();
  });

  it('draws charts with axis values, shows the values under the cursor, and shares a dragged tick range', async () => {
    const { page } = e;
    await page.goto(`${e.studio.server.url}#/metrics`);
    await page.getByRole('heading', { level: 1, name: 'Metrics' }).waitFor(WAIT);
    const chart = page.getByRole('img', { name: 'Throughput: tasks completed per tick' });
    await chart.waitFor(WAIT);
    await page.waitForFunction(() => (document.querySelector('[aria-label="Throughput: tasks completed per tick"]')?.getAttribute('data-x-values') ?? '').length > 0, undefined, WAIT);
    const xs = (await chart.getAttribute('data-x-values'))!.split(' ');
    const ys = (await chart.getAttribute('data-y-values'))!.split(' ');
    expect(xs.length).toBeGreaterThan(2);
    expect(ys.length).toBeGreaterThan(1);
    for (const v of [...xs, ...ys]) expect(v).toMatch(/^-?[\d.]+k?$/);
    // the histogram's x axis names its buckets
    const hist = page.getByRole('img', { name: 'Judge score histogram' });
    await page.waitForFunction(() => (document.querySelector('[aria-label="Judge score histogram"]')?.getAttribute('data-x-values') ?? '').length > 0, undefined, WAIT);
    expect((await hist.getAttribute('data-x-values'))!.split(' ')).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8']);

    // the cursor: the legend shows the tick under it
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tickCell = chart.locator('.u-legend .u-series').first().locator('.u-value');
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[aria-label="Throughput: tasks completed per tick"] .u-legend .u-series .u-value')?.textContent ?? ''), undefined, WAIT);
    expect(Number(await tickCell.textContent())).toBeGreaterThanOrEqual(0);

    // drag across it: the range is selected for the page (and drawn on every time chart)
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const range = page.getByTestId('tick-range');
    await range.waitFor(WAIT);
    const [from, to] = (await range.textContent())!.split('–').map(Number);
    expect(from).toBeLessThan(to!);
    await page.screenshot({ path: join(SHOTS, 'metrics-range.png') });
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await range.waitFor({ ...WAIT, state: 'detached' });
    // the same from the keyboard
    await page.getByLabel('From tick').fill('1');
    await page.getByLabel('to tick').fill('2');
    await page.getByLabel('to tick').press('Enter');
    await page.getByTestId('tick-range').filter({ hasText: '1–2' }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Clear selection' }).click();
    expect(e.pageErrors).toEqual([]);
  }, TEST_MS);

  it('opens a task graph node’s contents on a click, and filters nodes by status', async () => {
    const { page } = e;
    await page.goto(`${e.studio.server.url}#/swarm`);
    await page.getByRole('heading', { level: 1, name: 'Swarm' }).waitFor(WAIT);
    await page.getByLabel('Campaign').selectOption({ label: 'Graph check' });
    const graph = page.getByRole('region', { name: /^Graph check: task graph, \d+ tasks/ });
    const nodes = graph.locator('g.node');
    await nodes.first().waitFor(WAIT);

    // a click opens the task's contents
    const first = nodes.first();
    const label = (await first.getAttribute('aria-label'))!;
    const [, n, skill] = /^Task (\d+) of \d+: ([^,]+),/.exec(label)!;
    await first.click();
    const inspector = page.getByRole('complementary', { name: 'Task contents' });
    await inspector.getByRole('heading', { name: new RegExp(`^Task ${n} of \\d+: ${skill}$`) }).waitFor(WAIT);
    const input = inspector.getByLabel('input_data');
    await input.waitFor(WAIT);
    expect(JSON.parse((await input.textContent())!)).toBeTypeOf('object');
    await page.screenshot({ path: join(SHOTS, 'dag-inspector.png') });
    await inspector.getByRole('button', { name: 'Close the task contents' }).click();
    await inspector.waitFor({ ...WAIT, state: 'detached' });

    // the status filter: only COMPLETED, then none
    const filter = page.getByRole('group', { name: 'Show tasks that are' });
    for (const s of ['PENDING', 'PROCESSING', 'FAILED', 'ESC_HITL']) await filter.getByRole('checkbox', { name: new RegExp(`^${s} `) }).uncheck();
    await page.waitForFunction(
      () => {
        const all = document.querySelectorAll('.dag g.node');
        if (all.length === 0) return false;
        for (let i = 0; i < all.length; i++) if (!(all[i]!.getAttribute('class') ?? '').includes('st-COMPLETED')) return false;
        return true;
      },
      undefined,
      WAIT,
    );
    await filter.getByRole('checkbox', { name: /^COMPLETED / }).uncheck();
    await page.waitForFunction(() => document.querySelector('.dag')?.getAttribute('data-dag-nodes') === '0', undefined, WAIT);
    for (const s of ['PENDING', 'COMPLETED']) await filter.getByRole('checkbox', { name: new RegExp(`^${s} `) }).check();
    await nodes.first().waitFor(WAIT);
    expect(e.pageErrors).toEqual([]);
  }, TEST_MS);
});
