/**
 * Human review end to end in headless Chromium over the real browser-mode server: an edit that
 * is kept (editing is a mode; "Save and approve" persists the edited text, read back from the
 * store and shown in the audit log), two tabs deciding one item (the second gets the "decided
 * elsewhere" banner, in words) and pausing one campaign (it stays paused), keyboard decisions,
 * and a queue of 10,000 waiting items that stays windowed. Skipped only with CHIMERA_SKIP_E2E=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { HAVE_CHROMIUM, MISSING_CHROMIUM, SKIP_E2E, ensureRenderer, launchChromium, startStudio, type RunningStudio } from '../../bench/support/browser.ts';
import { TEST_MS, TOAST_RECORDER, WAIT, holdChannel, openView, serviceStatus, toastCount, untilToast, type PageDocument } from './e2e-support.ts';

declare const document: PageDocument;

const NO_FAULTS = { transient_error: 0, skill_failure: 0, slow_worker: 0, sensitive_topic: 0, low_quality: 0 };

describe.skipIf(SKIP_E2E)('human review end to end in headless Chromium', () => {
  let dataDir: string;
  let studio: RunningStudio;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(MISSING_CHROMIUM);
    await ensureRenderer();
    dataDir = mkdtempSync(join(tmpdir(), 'chimera-e2e-review-'));
    studio = await startStudio(dataDir);
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const p = await browser.context.newPage();
    await p.addInitScript(TOAST_RECORDER);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.setDefaultTimeout(WAIT.timeout);
    await p.goto(studio.server.url);
    await p.getByRole('heading', { level: 1, name: 'Simulation' }).waitFor(WAIT);
    return p;
  }

  /** A fresh review-queue run (no simulated reviewer) stepped until at least `n` items wait. */
  async function waiting(n: number) {
    await studio.service.call('sim/open', { scenario: 'review-queue', seed: 1, human_enabled: false });
    for (let i = 0; i < 4000; i++) {
      const r = await studio.service.call('review/list', {});
      if (r.items.length >= n) return r.items;
      await studio.service.call('sim/step', { count: 5 });
    }
    throw new Error(`fewer than ${n} items were escalated`);
  }

  /** The review card of `p` (the selected item) once it shows the task with this short id. */
  const cardOf = async (p: Page, shortId: string) => {
    const card = p.getByRole('article').filter({ has: p.locator('dt:text("Task") + dd').filter({ hasText: new RegExp(`^${shortId}$`) }) });
    await card.waitFor(WAIT);
    return card;
  };

  it('keeps an edit: Save and approve writes the edited text, the store and the audit log show it', async () => {
    const [first, second] = await waiting(2);
    const page = await newPage();
    try {
      await openView(page, 'Human review');
      const card = await cardOf(page, first!.task_id.slice(0, 8));
      const label = (await card.getAttribute('aria-label'))!.replace(/^Review /, '');
      await card.getByRole('button', { name: `Edit ${label}`, exact: true }).click();
      // editing is a mode: no Approve or Reject, only Save and approve or Cancel
      const area = card.getByRole('textbox', { name: /^Edited text/ });
      await area.waitFor(WAIT);
      expect(await card.getByRole('button', { name: `Approve ${label}`, exact: true }).count()).toBe(0);
      expect(await card.getByRole('button', { name: `Reject ${label}`, exact: true }).count()).toBe(0);
      // Cancel leaves the mode and drops the draft
      await area.fill('a draft that is thrown away');
      await card.getByRole('button', { name: `Cancel the edit of ${label}` }).click();
      await card.getByRole('button', { name: `Approve ${label}`, exact: true }).waitFor(WAIT);
      expect(await card.getByText('a draft that is thrown away').count()).toBe(0);

      // the key E enters the mode with the worker's text; a and r do nothing while editing
      await page.getByRole('heading', { level: 1, name: 'Human review' }).click();
      await page.keyboard.press('e');
      await area.waitFor(WAIT);
      expect(await area.inputValue()).toBe(first!.text);
      const edited = `A calmer rewrite kept by the reviewer (${Date.now().toString(36)}).`;
      await area.fill(edited);
      await page.getByRole('heading', { level: 1, name: 'Human review' }).click();
      await page.keyboard.press('a');
      await page.keyboard.press('r');
      expect(await area.inputValue()).toBe(edited);
      const shown = await toastCount(page);
      await card.getByRole('button', { name: `Save and approve ${label}` }).click();
      await untilToast(page, 'status', ['Edited and approved'], shown);

      // read back from the store: the edited text is the task's output
      const decided = page.getByRole('list', { name: 'Decided here' }).getByTestId('decided').filter({ hasText: first!.task_id.slice(0, 8) });
      await decided.getByText(edited).waitFor(WAIT);
      await decided.getByText('Edited and approved').waitFor(WAIT);
      expect(await studio.service.call('review/task', { task_id: first!.task_id })).toMatchObject({ status: 'COMPLETED', decision: 'edit', output_text: edited });
      const audit = await studio.service.call('audit/list', { offset: 0, limit: 5, action: 'human.edited' });
      expect(audit.events[0]).toMatchObject({ actor: 'studio-user', entity_id: first!.task_id, after_status: 'COMPLETED', details: { decision: 'edit', edited_text: edited } });

      // the selection moved on to the next item at once; the key A approves it
      await cardOf(page, second!.task_id.slice(0, 8));
      const before = await toastCount(page);
      await page.keyboard.press('a');
      await untilToast(page, 'status', ['Approved'], before);
      expect(await studio.service.call('review/task', { task_id: second!.task_id })).toMatchObject({ status: 'COMPLETED', decision: 'approve', reviewer: 'studio-user' });

      // the audit log view tells the edit apart, by the studio user
      await openView(page, 'Audit log');
      await page.getByLabel('Action').selectOption('human.edited');
      const row = page.getByRole('table', { name: 'Audit events' }).getByRole('row').filter({ hasText: first!.task_id.slice(0, 8) });
      await row.getByText('human.edited').waitFor(WAIT);
      await row.getByText('studio-user').waitFor(WAIT);
      await row.getByText(`“${edited}”`).waitFor(WAIT);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, TEST_MS);

  it('two tabs deciding one item: the second gets the "decided elsewhere" banner and nothing is overwritten', async () => {
    const [item] = await waiting(2);
    const short = item!.task_id.slice(0, 8);
    const a = await newPage();
    const b = await newPage();
    try {
      for (const p of [a, b]) await openView(p, 'Human review');
      const cardA = await cardOf(a, short);
      const cardB = await cardOf(b, short);
      const label = (await cardA.getAttribute('aria-label'))!.replace(/^Review /, '');
      // tab B's view of the queue stays what it read until its banner is shown
      const releaseB = await holdChannel(b, 'review/list');
      const shown = await toastCount(a);
      await cardA.getByRole('button', { name: `Approve ${label}`, exact: true }).click();
      await untilToast(a, 'status', ['Approved'], shown);
      await cardB.getByRole('button', { name: `Reject ${label}`, exact: true }).click();
      const banner = b.getByTestId('review-banner');
      await banner.filter({ hasText: 'Decided elsewhere — nothing was written.' }).waitFor(WAIT);
      const text = (await banner.textContent())!;
      expect(text).toContain('already approved by studio-user elsewhere');
      expect(text).not.toMatch(/ILLEGAL_TRANSITION|CONFLICT|[0-9a-f]{8}-[0-9a-f]{4}-/);
      await releaseB();
      // B reads the queue again: the item is gone from it
      await b.waitForFunction((id) => ![...document.querySelectorAll('.rv-row')].some((r) => (r.textContent ?? '').includes(id)), short, WAIT);
      // A's approval stands
      expect(await studio.service.call('review/task', { task_id: item!.task_id })).toMatchObject({ status: 'COMPLETED', decision: 'approve' });
      const audit = await studio.service.call('audit/list', { offset: 0, limit: 50, text: item!.task_id });
      expect(audit.events.filter((e) => e.action.startsWith('human.')).map((e) => e.action)).toEqual(['human.approved']);

      // two tabs pausing one campaign: the second is told it is already paused, and it stays paused
      const campaign = (await studio.service.call('campaigns/list', {})).campaigns.find((c) => c.status === 'ACTIVE')!;
      for (const p of [a, b]) await openView(p, 'Campaigns');
      const pauseIn = (p: Page) => p.getByRole('button', { name: `Pause campaign ${campaign.title}` });
      await pauseIn(a).waitFor(WAIT);
      await pauseIn(b).waitFor(WAIT);
      const releaseCampaigns = await holdChannel(b, 'campaigns/list');
      await pauseIn(a).click();
      await a.getByRole('button', { name: `Resume campaign ${campaign.title}` }).waitFor(WAIT);
      const seenB = await toastCount(b);
      await pauseIn(b).click();
      await untilToast(b, 'alert', ['Already done elsewhere — nothing was written.', `campaign "${campaign.title}" is already paused`], seenB);
      await releaseCampaigns();
      await b.getByRole('button', { name: `Resume campaign ${campaign.title}` }).waitFor(WAIT);
      expect((await studio.service.call('campaigns/list', {})).campaigns.find((c) => c.id === campaign.id)?.status).toBe('PAUSED');
      expect(pageErrors).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  }, TEST_MS);

  it('10,000 waiting items: the queue stays windowed, j/k move the selection, filter and sort narrow it', async () => {
    // every output touches a sensitive topic, so each content piece waits for a person once its
    // brief is approved
    await studio.service.call('sim/open', { scenario: 'review-queue', seed: 3, human_enabled: false, faults: { ...NO_FAULTS, sensitive_topic: 1 } });
    await studio.service.call('campaigns/create', { title: 'Ten thousand posts', goal: 'Posts about repairing denim', persona_id: 'aria', content_pieces: 10_000 });
    await studio.service.call('sim/speed', { steps_per_s: 0 });
    for (let round = 0; round < 5 && (await studio.service.call('review/list', {})).total < 10_000; round++) {
      await studio.service.call('sim/run', {});
      await serviceStatus(studio, (s) => !s.running);
      // approve what blocks the rest (the briefs), then go on
      const { items } = await studio.service.call('review/list', {});
      if (items.length >= 10_000) break;
      for (const it of items) {
        const cur = (await studio.service.call('review/list', { campaign_id: it.campaign_id })).items.find((x) => x.task_id === it.task_id);
        if (cur) await studio.service.call('review/decide', { task_id: cur.task_id, decision: 'approve', expected_version: cur.state_version });
      }
    }
    const all = await studio.service.call('review/list', {});
    expect(all.total).toBeGreaterThanOrEqual(10_000);

    const page = await newPage();
    try {
      // a figure for the report, not a check (speed targets live in benchmarks)
      await page.evaluate(() => {
        const g = globalThis as unknown as { __longest: number; PerformanceObserver: new (cb: (l: { getEntries(): { duration: number }[] }) => void) => { observe(o: object): void } };
        g.__longest = 0;
        new g.PerformanceObserver((l) => {
          for (const e of l.getEntries()) g.__longest = Math.max(g.__longest, e.duration);
        }).observe({ type: 'longtask', buffered: false });
      });
      await openView(page, 'Human review');
      const list = page.getByRole('table', { name: 'Waiting for review' });
      await page.waitForFunction((n) => Number(document.querySelector('[aria-label="Waiting for review"]')?.getAttribute('aria-rowcount')) >= n, 10_000, WAIT);
      const rendered = Number(await list.getAttribute('data-rendered-rows'));
      expect(rendered).toBeGreaterThan(0);
      expect(rendered).toBeLessThan(40);
      // j moves the selection down, k back up
      const selectedText = () => page.locator('.rv-row.sel').textContent();
      const first = await selectedText();
      await page.getByRole('heading', { level: 1, name: 'Human review' }).click();
      for (let i = 0; i < 30; i++) await page.keyboard.press('j');
      const moved = all.items[30]!.task_id.slice(0, 8);
      await page.locator('dt:text("Task") + dd').filter({ hasText: new RegExp(`^${moved}$`) }).waitFor(WAIT);
      expect(Number(await list.getAttribute('data-rendered-rows'))).toBeLessThan(40);
      for (let i = 0; i < 30; i++) await page.keyboard.press('k');
      await page.locator('dt:text("Task") + dd').filter({ hasText: new RegExp(`^${all.items[0]!.task_id.slice(0, 8)}$`) }).waitFor(WAIT);
      expect(await selectedText()).toBe(first);
      // a short id in Find narrows the queue to that item
      const target = all.items[7_777]!;
      await page.getByRole('searchbox', { name: 'Find' }).fill(target.task_id.slice(0, 8));
      await page.getByTestId('review-count').filter({ hasText: /^1 shown of/ }).waitFor(WAIT);
      await page.locator('dt:text("Task") + dd').filter({ hasText: new RegExp(`^${target.task_id.slice(0, 8)}$`) }).waitFor(WAIT);
      await page.getByRole('searchbox', { name: 'Find' }).fill('');
      await page.getByTestId('review-count').filter({ hasText: /^10,000 shown of/ }).waitFor(WAIT);
      // lowest score first: the selection stays on its item; the top of the list holds the lowest score
      await page.getByLabel('Sort').selectOption('score-asc');
      const lowest = Math.min(...all.items.map((x) => x.score ?? -1));
      await list.evaluate((el) => {
        (el as unknown as { scrollTop: number }).scrollTop = 0;
      });
      await list.locator('[aria-rowindex="1"] .rv-row').filter({ hasText: `score ${lowest}` }).waitFor(WAIT);
      await page.locator('dt:text("Task") + dd').filter({ hasText: new RegExp(`^${target.task_id.slice(0, 8)}$`) }).waitFor(WAIT);
      const longest = await page.evaluate(() => (globalThis as unknown as { __longest: number }).__longest);
      console.log(`[e2e-review] 10,000 waiting items: longest main-thread task while opening, moving, filtering and sorting: ${Math.round(longest)} ms`);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, TEST_MS);
  it('persona memory: says which model embeds, edits and deletes a memory (asked first), searches with k and a minimum score', async () => {
    await studio.service.call('sim/open', { scenario: 'review-queue', seed: 1 });
    const page = await newPage();
    try {
      await openView(page, 'Persona memory');
      const model = page.getByTestId('embedder');
      await model.filter({ hasText: 'Memories are embedded by hashing-v1-256' }).waitFor(WAIT);
      await model.filter({ hasText: 'a stand-in' }).getByText('CHIMERA_EMBEDDER=transformers CHIMERA_ALLOW_DOWNLOADS=1 npm start').waitFor(WAIT);

      const browse = page.getByRole('region', { name: 'Browse memories' });
      await browse.getByLabel('Persona').selectOption('aria');
      await browse.getByLabel('Category').selectOption('Semantic');
      const stored = browse.getByRole('list', { name: 'Stored memories' }).getByRole('listitem');
      await stored.first().waitFor(WAIT);
      const before = (await studio.service.call('memory/list', { offset: 0, limit: 1000, persona_id: 'aria', categories: ['Semantic'] })).memories;
      const target = before[0]!;
      const edited = `Aria darns wool socks on the night bus (${Date.now().toString(36)}).`;
      await stored.first().getByRole('button', { name: /^Edit memory / }).click();
      const editor = stored.first().getByRole('group', { name: /^Editing memory / });
      await editor.getByLabel('Memory text').fill(edited);
      const shown = await toastCount(page);
      await editor.getByRole('button', { name: 'Save memory' }).click();
      await untilToast(page, 'status', ['Saved the memory'], shown);
      await stored.filter({ hasText: edited }).waitFor(WAIT);
      expect((await studio.service.call('memory/list', { offset: 0, limit: 1000, persona_id: 'aria' })).memories.find((m) => m.id === target.id)?.content).toBe(edited);

      // found by its new words, at k = 1
      await page.getByLabel('Search text').fill('darns wool socks night bus');
      await page.getByLabel('Results (k)').fill('1');
      await page.getByRole('button', { name: 'Search memory' }).click();
      const hits = page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
      await hits.filter({ hasText: edited }).waitFor(WAIT);
      expect(await hits.count()).toBe(1);
      // a minimum score above every hit leaves none
      await page.getByLabel('Results (k)').fill('20');
      await page.getByLabel('Minimum score').fill('1');
      await page.getByRole('button', { name: 'Search memory' }).click();
      await page.getByTestId('search-meta').filter({ hasText: /^0 results \(k 20, score ≥ 1\)/ }).waitFor(WAIT);

      // delete asks first; Keep keeps it, Delete deletes it
      const item = stored.filter({ hasText: edited });
      await item.getByRole('button', { name: /^Delete memory / }).click();
      await item.getByRole('button', { name: /^Keep memory / }).click();
      await item.getByRole('button', { name: /^Delete memory / }).click();
      const seen = await toastCount(page);
      await item.getByRole('button', { name: /^Yes, delete memory / }).click();
      await untilToast(page, 'status', ['Deleted the memory'], seen);
      await stored.filter({ hasText: edited }).waitFor({ state: 'detached', ...WAIT });
      const audit = await studio.service.call('audit/list', { offset: 0, limit: 10, text: target.id });
      expect(audit.events.map((e) => [e.action, e.actor]).reverse()).toEqual([
        ['memory.edited', 'studio-user'],
        ['memory.deleted', 'studio-user'],
      ]);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, TEST_MS);
});
