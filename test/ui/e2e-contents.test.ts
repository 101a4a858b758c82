/**
 * End to end in headless Chromium, on the in-memory profile: a run of some steps, then a DAG
 * node, a run event and an audit row each open their contents in the drawer (by a click, and
 * by Enter or Space; Escape closes it and focus goes back), an audit row leads on to its task,
 * and the Inspector sorts the in-memory session's tasks newest first, paging on in that sort.
 * Waits are for states, never time. CHIMERA_SKIP_E2E=1 skips it on purpose (as e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { SKIP_E2E } from '../../bench/support/browser.ts';
import { TEST_MS, WAIT, e2eSuite, untilStep, view } from './e2e-support.ts';

/** The page's `document`, as far as the page-side conditions below use it (no DOM lib here). */
declare const document: { readonly activeElement: { getAttribute(name: string): string | null } | null };

/** The open drawer of `name` ('Task contents', …), once it is there. */
async function drawer(page: Page, name: string): Promise<Locator> {
  const d = page.getByRole('complementary', { name });
  await d.waitFor(WAIT);
  return d;
}

/** The text of a field (dt) in a drawer's field list. */
const field = (d: Locator, name: string): Locator => d.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd[1]');

describe.skipIf(SKIP_E2E)('contents open on a click everywhere (headless Chromium)', () => {
  const t = e2eSuite();

  it('opens a DAG node, an event and an audit row, and sorts the Inspector’s tasks newest first, on the in-memory session', async () => {
    const { page, studio } = t;
    const s = studio.service;
    expect(s.status().backend).toBe('memory');
    await s.call('campaigns/create', { title: 'Contents check', goal: 'Teach denim repair', persona_id: 'aria', content_pieces: 3 });
    await page.goto(studio.server.url);
    await view(page, 'Simulation');
    // the first step from the page, the rest from the service until the campaign has a worker's task the Judge approved, beside its plan (bounded)
    await page.getByRole('toolbar', { name: 'Run controls' }).getByRole('button', { name: /^Step/ }).click();
    await untilStep(page, 'gt', 0);
    for (let i = 0; i < 400; i++) {
      if ((await s.call('campaigns/list', {})).campaigns.find((c) => c.title === 'Contents check')!.counts.COMPLETED > 1) break;
      expect(s.status().finished, 'the run stopped before the campaign had an approved task').toBeNull();
      await s.call('sim/step', { count: 1 });
    }

    // ---- a DAG node (Swarm): a click opens the task with its input, output and audit history
    await view(page, 'Swarm');
    await page.getByLabel('Campaign').selectOption({ label: 'Contents check' });
    const graph = page.getByRole('region', { name: /^Contents check: task graph, \d+ tasks/ });
    const done = graph.locator('g.node[aria-label*=", COMPLETED"]:not([aria-label*=": plan,"])').first();
    await done.waitFor(WAIT);
    const nodeLabel = (await done.getAttribute('aria-label'))!;
    const [, n, skill] = /^Task (\d+) of \d+: ([^,]+),/.exec(nodeLabel)!;
    await done.click();
    let d = await drawer(page, 'Task contents');
    await d.getByRole('heading', { name: new RegExp(`^Task ${n} of \\d+: ${skill}$`) }).waitFor(WAIT);
    expect(JSON.parse((await d.getByLabel('input_data', { exact: true }).textContent())!)).toBeTypeOf('object');
    const output = (await d.getByLabel('output_data', { exact: true }).textContent())!;
    expect(output).toBe(JSON.stringify(JSON.parse(output), null, 2));
    await expect.poll(() => field(d, 'Status').textContent(), WAIT).toBe('COMPLETED');
    const history = d.getByRole('list', { name: 'Task audit history' });
    await history.getByText('task.claimed').first().waitFor(WAIT);
    expect(await done.getAttribute('aria-pressed')).toBe('true');
    // Escape closes it, and focus goes back to the node
    await page.keyboard.press('Escape');
    await d.waitFor({ ...WAIT, state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null)).toBe(nodeLabel);
    // Enter on the focused node opens it again
    await page.keyboard.press('Enter');
    d = await drawer(page, 'Task contents');
    await d.getByRole('heading', { name: new RegExp(`^Task ${n} of`) }).waitFor(WAIT);
    // one of its audit rows opens in the same drawer, and Back returns
    await history.getByRole('button', { name: /^Open audit row \d+: task\.claimed$/ }).first().click();
    const fromHistory = await drawer(page, 'Audit row contents');
    await fromHistory.getByRole('heading', { name: /^Audit row #\d+: task\.claimed$/ }).waitFor(WAIT);
    await fromHistory.getByRole('button', { name: 'Back to the previous contents' }).click();
    await (await drawer(page, 'Task contents')).getByRole('heading', { name: new RegExp(`^Task ${n} of`) }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Close the task contents' }).click();
    await page.getByRole('complementary', { name: 'Task contents' }).waitFor({ ...WAIT, state: 'detached' });

    // ---- a run event (Simulation): its whole JSON, and its task a click further
    await view(page, 'Simulation');
    const events = page.getByRole('list', { name: 'Recent events' });
    const onTask = events.getByRole('button', { name: /^Open event \S+ of step \d+ by \S+ on task / }).first();
    await onTask.waitFor(WAIT);
    const [, type, step, agent] = /^Open event (\S+) of step (\d+) by (\S+) on task /.exec((await onTask.getAttribute('aria-label'))!)!;
    await onTask.click();
    d = await drawer(page, 'Event contents');
    await d.getByRole('heading', { name: `Event #${step}: ${type}` }).waitFor(WAIT);
    const json = JSON.parse((await d.getByLabel('Event JSON', { exact: true }).textContent())!) as Record<string, unknown>;
    const logged = (await s.call('sim/events', { after_step: Number(step) - 1, limit: 200, type })).events.find((e) => e.step === Number(step) && e.agent === agent);
    expect(logged, 'the event in the run log').toBeDefined();
    expect(json).toEqual(JSON.parse(JSON.stringify(logged)));
    await d.getByRole('button', { name: `Open task ${String(json.task_id)}` }).click();
    d = await drawer(page, 'Task contents');
    await expect.poll(() => field(d, 'Id').textContent(), WAIT).toBe(json.task_id);
    await page.keyboard.press('Escape');
    await d.waitFor({ ...WAIT, state: 'detached' });

    // ---- an audit row (Audit log): every field, hashes in full, details as JSON, and its task
    await view(page, 'Audit log');
    const newest = (await s.call('audit/list', { offset: 0, limit: 100, action: 'task.claimed' })).events[0]!;
    await page.getByLabel('Action').selectOption('task.claimed');
    const row = page.getByRole('table', { name: 'Audit events' }).getByRole('row').filter({ has: page.getByRole('button', { name: `Open audit row ${newest.seq}: task.claimed` }) });
    await row.waitFor(WAIT);
    // a click anywhere on the row
    await row.getByRole('cell').nth(3).click();
    d = await drawer(page, 'Audit row contents');
    await expect.poll(() => field(d, 'hash').textContent(), WAIT).toBe(newest.hash);
    expect(await field(d, 'prev_hash').textContent()).toBe(newest.prev_hash);
    expect(await field(d, 'entity_id').textContent()).toBe(newest.entity_id);
    expect(JSON.parse((await d.getByLabel('details', { exact: true }).textContent())!)).toEqual(newest.details);
    await page.keyboard.press('Escape');
    await d.waitFor({ ...WAIT, state: 'detached' });
    // Space on the row's seq opens it too; then on to its task
    await row.getByRole('button', { name: `Open audit row ${newest.seq}: task.claimed` }).focus();
    await page.keyboard.press(' ');
    d = await drawer(page, 'Audit row contents');
    await d.getByRole('button', { name: `Open task ${newest.entity_id}` }).click();
    d = await drawer(page, 'Task contents');
    await expect.poll(() => field(d, 'Id').textContent(), WAIT).toBe(newest.entity_id);
    await d.getByRole('list', { name: 'Task audit history' }).getByRole('button', { name: `Open audit row ${newest.seq}: task.claimed` }).waitFor(WAIT);
    await page.keyboard.press('Escape');

    // ---- the Inspector over the in-memory session: tasks newest first, paged on in that sort
    await view(page, 'Inspector');
    const tasks = page.getByRole('table', { name: 'Inspected tasks' });
    await tasks.getByRole('row').nth(1).waitFor(WAIT);
    const created = tasks.getByRole('columnheader', { name: /^Created/ });
    expect(await created.getAttribute('aria-sort')).toBe('ascending');
    await created.getByRole('button', { name: 'Created' }).click();
    await expect.poll(() => created.getAttribute('aria-sort'), WAIT).toBe('descending');
    const want = await s.call('inspect/tasks', { limit: 25, sort: { by: 'created_at', dir: 'desc' } });
    const ids = (p: typeof want) => p.items.map((r) => (r.ok ? String(r.value.id) : ''));
    const shown = () => tasks.getByRole('button', { name: /^Inspect task / }).evaluateAll((els) => els.map((el) => (el.getAttribute('aria-label') ?? '').replace('Inspect task ', '')));
    await expect.poll(shown, WAIT).toEqual(ids(want));
    const dates = await tasks.locator('tbody tr td:last-child').allTextContents();
    expect(dates).toEqual([...dates].sort().reverse());
    expect(want.next_cursor).not.toBeNull();
    await page.getByRole('button', { name: 'Next page of tasks' }).click();
    const second = await s.call('inspect/tasks', { limit: 25, cursor: want.next_cursor, sort: { by: 'created_at', dir: 'desc' } });
    await expect.poll(shown, WAIT).toEqual(ids(second));
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);
});
