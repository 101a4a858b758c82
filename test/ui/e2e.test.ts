/**
 * End to end: Debian's Chromium (headless, playwright-core) drives the real UI served by the
 * real browser-mode server over a real studio service. Create a campaign, step, run until the
 * Judge escalates, approve, hit a stale-version conflict, search memory, switch to SQLite and
 * find the data again after a server restart. Screenshots of every view go to
 * test-artifacts/screenshots/. Where Chromium (/usr/bin/chromium, or CHIMERA_CHROMIUM) is missing the suite fails saying so;
 * CHIMERA_SKIP_E2E=1 skips it on purpose, with that reason printed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { CHANNEL_NAMES } from '../../src/shared/contract.ts';
import { HAVE_CHROMIUM, MISSING_CHROMIUM, ROOT, SKIP_E2E, ensureRenderer, launchChromium, startStudio, type RunningStudio } from '../../bench/support/browser.ts';
import { TEST_MS, TOAST_RECORDER, WAIT, openView, serviceStatus, toastCount, untilToast } from './e2e-support.ts';

const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
// Every wait below is for a state of the page or the service (an element, a number in the page, a
// pushed status), never for an amount of time; WAIT only bounds a state that never comes.
const CONTROL_ROLES = new Set(['button', 'textbox', 'searchbox', 'combobox', 'checkbox', 'slider', 'spinbutton', 'link', 'tab', 'radio', 'switch', 'menuitem', 'listbox']);

/** The page's `document`, as far as the page-side conditions below use it (this file is type-checked without the DOM lib). */
interface PageNode {
  readonly textContent: string | null;
  readonly nextElementSibling: PageNode | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode> & { readonly length: number };
  readonly documentElement: { readonly dataset: Record<string, string | undefined> };
};


if (SKIP_E2E) console.warn('[e2e] skipped on purpose: CHIMERA_SKIP_E2E=1 is set');
else if (!HAVE_CHROMIUM) console.error(`[e2e] ${MISSING_CHROMIUM}`);

describe.skipIf(SKIP_E2E)(`UI end to end in headless Chromium${SKIP_E2E ? ' (skipped: CHIMERA_SKIP_E2E=1)' : ''}`, () => {
  let dataDir: string;
  let studio: RunningStudio;
  let browser: { context: BrowserContext; close: () => Promise<void> };
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // no Chromium is a failure, not a quiet skip: every test below reports this message
    if (!HAVE_CHROMIUM) throw new Error(MISSING_CHROMIUM);
    await ensureRenderer();
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'chimera-e2e-'));
    studio = await startStudio(dataDir);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.addInitScript(TOAST_RECORDER);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(WAIT.timeout);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const view = (name: string) => openView(page, name);
  // conditions evaluated in the page: self-contained functions (the CSP refuses string evaluation)
  const until = (fn: (arg: number) => boolean, arg: number) => page.waitForFunction(fn, arg, WAIT);
  /** Controls in the page's accessibility tree (Chromium's own, over CDP) that have no accessible name. */
  const unnamedControls = async (): Promise<string[]> => {
    const cdp = await browser.context.newCDPSession(page);
    try {
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: { ignored: boolean; role?: { value?: string }; name?: { value?: string } }[] };
      return nodes
        .filter((n) => !n.ignored && CONTROL_ROLES.has(String(n.role?.value)) && !String(n.name?.value ?? '').trim())
        .map((n) => String(n.role?.value));
    } finally {
      await cdp.detach();
    }
  };
  /** A screenshot of the view, and every control in it has an accessible name. */
  const shot = async (name: string) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    expect({ view: name, unnamed: await unnamedControls() }).toEqual({ view: name, unnamed: [] });
  };

  it('refuses requests without the per-launch token, or for another host', async () => {
    const base = `http://127.0.0.1:${studio.server.port}`;
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/sim/status`, { method: 'POST', body: '{}' })).status).toBe(401);
    const wrong = await fetch(`${base}/api/sim/status`, { method: 'POST', body: '{}', headers: { 'x-chimera-token': 'nope' } });
    expect(wrong.status).toBe(401);
    const json = { 'content-type': 'application/json', 'x-chimera-token': studio.server.token };
    const ok = await fetch(`${base}/api/sim/status`, { method: 'POST', body: '{}', headers: json });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${base}/api/sim/step`, { method: 'POST', body: '{"count":"x"}', headers: json });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    const foreign = await fetch(`${base}/api/sim/status`, { method: 'POST', body: '{}', headers: { ...json, origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
  }, TEST_MS);

  it('creates a campaign, steps, runs until an escalation, approves it, and searches memory', async () => {
    await page.goto(studio.server.url);
    await page.getByRole('heading', { level: 1, name: 'Simulation' }).waitFor(WAIT);

    // create a campaign
    await view('Campaigns');
    await page.getByLabel('Title').fill('Denim repair week');
    await page.getByLabel('Goal').fill('Show followers how to repair denim instead of replacing it');
    await page.getByLabel('Persona').selectOption('aria');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    const row = page.getByRole('row').filter({ hasText: 'Denim repair week' });
    await row.waitFor(WAIT);
    // a new campaign waits for the Planner (nothing has stepped since it was created)
    await row.getByText('PLANNING', { exact: true }).waitFor(WAIT);
    expect(await row.getByText('PLANNING', { exact: true }).count()).toBe(1);

    // step: the Planner plans it
    await view('Simulation');
    const before = Number(await page.getByTestId('step').textContent());
    await page.getByRole('button', { name: /^Step/ }).click();
    await until((b) => Number(document.querySelector('[data-testid=step]')?.textContent) > b, before);
    // the keyboard shortcut does the same
    const tickBefore = Number(await page.getByTestId('tick').textContent());
    await page.locator('body').press('t');
    await until((t) => Number(document.querySelector('[data-testid=tick]')?.textContent) > t, tickBefore);

    // run until the Judge escalates something
    await page.getByRole('button', { name: /^Run until escalation/ }).click();
    await until(() => Number(document.querySelector('[data-testid=hitl]')?.textContent) > 0, 0);
    // the run stops at the escalation: the button comes back enabled
    await page.getByRole('button', { name: /^Run until escalation/ }).and(page.locator(':not([disabled])')).waitFor(WAIT);
    await shot('simulation');
    await view('Campaigns');
    await page.getByRole('table', { name: /^Tasks of/ }).getByRole('row').first().waitFor(WAIT);
    await shot('campaigns');
    await view('Swarm');
    await page.locator('.dag svg g.node').first().waitFor(WAIT);
    await shot('swarm');

    // approve the first escalated output
    await view('Human review');
    const card = page.getByRole('article').first();
    await card.waitFor(WAIT);
    await card.getByText('Memories the Judge compared').waitFor(WAIT);
    await shot('review');
    const label = (await card.getAttribute('aria-label'))!.replace(/^Review /, '');
    // the queue is one windowed list beside the selected item: its row count is what waits
    const waiting = Number(await page.getByRole('table', { name: 'Waiting for review' }).getAttribute('aria-rowcount'));
    const toastsBefore = await toastCount(page);
    await card.getByRole('button', { name: `Approve ${label}`, exact: true }).click();
    await untilToast(page, 'status', ['Approved'], toastsBefore);
    await until((n) => Number(document.querySelector('[aria-label="Waiting for review"]')?.getAttribute('aria-rowcount') ?? 0) < n, waiting);
    const audit = await studio.service.call('audit/list', { offset: 0, limit: 5, action: 'human.approved' });
    expect(audit.events[0]).toMatchObject({ actor: 'studio-user', after_status: 'COMPLETED' });

    // search persona memory
    await view('Persona memory');
    await page.getByLabel('Search text').fill('repair denim and sneakers');
    await page.getByRole('button', { name: 'Search memory' }).click();
    const hits = page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    await hits.first().getByRole('img', { name: /^score / }).waitFor(WAIT);
    expect(await hits.count()).toBeGreaterThan(0);
    expect(await hits.first().getByRole('img', { name: /^score / }).count()).toBe(1);
    await shot('memory');

    // a new run from the form: the storm scenario (retries, re-plans, OCC conflicts), run to
    // the end, so the audit log and the charts show a whole run
    await view('Simulation');
    await page.getByLabel('Scenario').selectOption('storm');
    await page.getByLabel('Seed').fill('7');
    await page.getByRole('button', { name: 'Start new run' }).click();
    await page.getByTestId('runstate').filter({ hasText: 'storm · step' }).waitFor(WAIT);
    // pause it with the button: at 10 steps/s its ~200 steps take some 20 s, so it is still
    // running when the button is pressed; then go on at full speed to the end (the same run:
    // the seed decides it, not where it was paused)
    await page.getByLabel('Speed').selectOption('10');
    await serviceStatus(studio, (s) => s.speed === 10);
    await page.getByRole('button', { name: /^Run R/ }).click();
    await page.getByTestId('runstate').filter({ hasText: 'running' }).waitFor(WAIT);
    await page.getByRole('button', { name: /^Pause/ }).click();
    await page.getByTestId('runstate').filter({ hasText: 'paused' }).waitFor(WAIT);
    expect(studio.service.status()).toMatchObject({ scenario: 'storm', running: false, finished: null });
    await page.getByLabel('Speed').selectOption('0');
    await serviceStatus(studio, (s) => s.speed === 0);
    await page.getByRole('button', { name: /^Run R/ }).click();
    await page.getByTestId('runstate').filter({ hasText: 'finished' }).waitFor(WAIT);
    // a finished run: Step is off, and the view says why
    await page.getByRole('button', { name: /^Step/ }).and(page.locator('[disabled]')).waitFor(WAIT);
    await page.getByTestId('run-reason').filter({ hasText: 'The run is finished: every campaign completed' }).waitFor(WAIT);
    expect(studio.service.status()).toMatchObject({ scenario: 'storm', seed: 7, finished: 'completed' });
    await shot('simulation-storm');

    await view('Audit log');
    await page.getByTestId('chain').filter({ hasText: 'Hash chain verified' }).waitFor(WAIT);
    await shot('audit');
    await view('Metrics');
    await page.getByRole('img', { name: 'Judge score histogram' }).waitFor(WAIT);
    await shot('metrics');

    // the timeline: rebuild the run at an earlier step by replay, and go on from there
    await view('Simulation');
    const now = Number(await page.getByTestId('step').textContent());
    const target = Math.floor(now / 2);
    await page.getByRole('slider', { name: /^Rebuild the run at step/ }).fill(String(target));
    await page.getByRole('button', { name: `Replay to step ${target}` }).click();
    await until((t) => Number(document.querySelector('[data-testid=step]')?.textContent) === t, target);
    await page.getByText(`This session was rebuilt at step ${target}`).waitFor(WAIT);
    await page.getByRole('button', { name: /^Step/ }).click();
    await until((t) => Number(document.querySelector('[data-testid=step]')?.textContent) > t, target);

    // a refused argument shows up as a toast with its code, not a blank page
    await view('Campaigns');
    await page.getByLabel('Title').fill('   ');
    await page.getByLabel('Goal').fill('A goal');
    const shownBefore = await toastCount(page);
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await untilToast(page, 'alert', ['VALIDATION', 'title is empty'], shownBefore);
    expect(pageErrors).toEqual([]);
  }, TEST_MS);

  it('shows a clear conflict when a review decision carries a stale state_version, then re-reads', async () => {
    // make sure something waits for review
    if ((await studio.service.call('review/list', {})).items.length === 0) {
      await studio.service.call('sim/open', { scenario: 'review-queue', seed: 1 });
      await studio.service.call('sim/run', { until_escalated: true });
      await serviceStatus(studio, (s) => !s.running);
    }
    await view('Human review');
    // the page shows the first item with the version the service holds (once it has caught up)
    const item = (await studio.service.call('review/list', {})).items[0]!;
    const shown = item.state_version;
    const card = page.getByRole('article', { name: `Review ${item.skill_name} for ${item.campaign_title}`, exact: true }).first();
    await card.locator('dt:text("state_version read") + dd').filter({ hasText: new RegExp(`^${shown}$`) }).waitFor(WAIT);
    // the page's reads of the review list are held from here until the conflict is shown, so
    // the version it holds stays the one it read: a refetch the page happens to start in
    // between (a late push, a reconnect) cannot quietly make it current
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    await page.route('**/api/review/list', async (route) => {
      await released;
      await route.continue();
    });
    // an operator pauses and resumes the campaign behind the page's back (handlers called
    // directly push nothing to the page), so the version the page holds is stale
    const paused = await studio.service.handlers['campaigns/pause']({ campaign_id: item.campaign_id, expected_version: shown });
    await studio.service.handlers['campaigns/resume']({ campaign_id: item.campaign_id, expected_version: paused.campaign.state_version });
    expect((await studio.service.call('review/list', {})).items.find((x) => x.task_id === item.task_id)?.state_version).toBe(shown + 2);
    const label = (await card.getAttribute('aria-label'))!.replace(/^Review /, '');
    await card.getByRole('button', { name: `Approve ${label}`, exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Conflict — nothing was written' }).waitFor(WAIT);
    await page.getByText(`you read state_version ${shown}`).waitFor(WAIT);
    release();
    // wait for the held reads to go on before the handler is removed
    await page.unrouteAll({ behavior: 'wait' });
    // re-read: the card now carries the current version
    await until((v) => Number([...document.querySelectorAll('article.review dt')].find((d) => d.textContent === 'state_version read')?.nextElementSibling?.textContent) !== v, shown);
  }, TEST_MS);

  it('runs the same UI over window.chimera, the shape the Electron preload exposes', async () => {
    // stand-in for the preload (no Electron here): one function per channel returning the
    // {ok,result}|{ok:false,error} envelope, plus onPush — the renderer must pick it up and
    // rebuild errors from the envelope
    const bridge = `(() => {
      const token = ${JSON.stringify(studio.server.token)};
      const channels = ${JSON.stringify(CHANNEL_NAMES)};
      const api = { calls: 0 };
      for (const c of channels) api[c] = async (args) => {
        api.calls += 1;
        const r = await fetch('/api/' + c, { method: 'POST', headers: { 'content-type': 'application/json', 'x-chimera-token': token }, body: JSON.stringify(args) });
        return r.json();
      };
      api.onPush = (listener) => {
        const ws = new WebSocket('ws://' + location.host + '/ws?token=' + token);
        ws.onmessage = (e) => listener(JSON.parse(e.data));
        return () => ws.close();
      };
      window.chimera = api;
    })();`;
    await studio.service.call('sim/open', { scenario: 'review-queue', seed: 2 });
    const p2 = await browser.context.newPage();
    try {
      await p2.addInitScript(bridge);
      await p2.addInitScript(TOAST_RECORDER);
      await p2.goto(studio.server.url);
      await p2.getByRole('heading', { level: 1, name: 'Simulation' }).waitFor(WAIT);
      const before = Number(await p2.getByTestId('step').textContent());
      await p2.getByRole('button', { name: /^Step/ }).click();
      await p2.waitForFunction((b) => Number(document.querySelector('[data-testid=step]')?.textContent) > b, before, WAIT);
      await p2.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Campaigns' }).click();
      await p2.getByLabel('Title').fill('   ');
      await p2.getByLabel('Goal').fill('A goal');
      const shownBefore = await toastCount(p2);
      await p2.getByRole('button', { name: 'Create campaign' }).click();
      await untilToast(p2, 'alert', ['VALIDATION'], shownBefore);
      expect(await p2.evaluate(() => (window as unknown as { chimera: { calls: number } }).chimera.calls)).toBeGreaterThan(3);
    } finally {
      await p2.close();
    }
  }, TEST_MS);

  it('switches to a SQLite profile and finds the data again after a server restart', async () => {
    await view('Backend');
    await page.getByLabel('Profile name', { exact: true }).fill('e2e');
    await page.getByRole('button', { name: 'Switch to SQLite profile' }).click();
    // the in-memory run is in no file: the switch asks first
    await page.getByRole('button', { name: 'Switch anyway' }).click();
    await page.getByTestId('active-backend').filter({ hasText: 'SQLite “e2e”' }).waitFor(WAIT);
    await view('Campaigns');
    await page.getByLabel('Title').fill('Kept across restarts');
    await page.getByLabel('Goal').fill('Cook a seasonal stew with market vegetables');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('row').filter({ hasText: 'Kept across restarts' }).waitFor(WAIT);
    await view('Simulation');
    for (let i = 0; i < 2; i++) {
      const tick = Number(await page.getByTestId('tick').textContent());
      await page.getByRole('button', { name: /^Tick/ }).click();
      await until((t) => Number(document.querySelector('[data-testid=tick]')?.textContent) > t, tick);
    }
    const step = studio.service.status().step;
    await until((v) => Number(document.querySelector('[data-testid=step]')?.textContent) === v, step);

    // restart: a new service and server on the same data folder (new port, new token)
    await studio.stop();
    studio = await startStudio(dataDir);
    await page.goto(studio.server.url);
    await view('Backend');
    await page.getByTestId('active-backend').filter({ hasText: 'SQLite “e2e”' }).waitFor(WAIT);
    await shot('backend');
    await view('Campaigns');
    await page.getByRole('row').filter({ hasText: 'Kept across restarts' }).waitFor(WAIT);
    await view('Simulation');
    await until((v) => Number(document.querySelector('[data-testid=step]')?.textContent) === v, step);

    // the dark theme, persisted in settings
    await page.getByLabel('Theme').selectOption('dark');
    await until(() => document.documentElement.dataset.theme === 'dark', 0);
    await view('Swarm');
    await shot('swarm-dark');
    expect((await studio.service.call('settings/get', {})).theme).toBe('dark');
    expect(pageErrors).toEqual([]);
  }, TEST_MS);
});
