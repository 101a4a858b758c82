/**
 * End to end in headless Chromium: runs you can watch (Pause reachable at the default speed),
 * the state at a past step, a breakpoint that pauses a run and says why, and replay that keeps
 * history: a branch on memory and one on SQLite, each switched away from and back to.
 * CHIMERA_SKIP_E2E=1 skips it on purpose (as test/ui/e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SKIP_E2E } from '../../bench/support/browser.ts';
import { TEST_MS, WAIT, e2eSuite, untilStep, view } from './e2e-support.ts';
import { untilStatus } from './timetravel-support.ts';

describe.skipIf(SKIP_E2E)('time travel in the UI (headless Chromium)', () => {
  const t = e2eSuite();

  const branch = (label: string) => t.page.locator(`[data-testid=branch][data-branch="${label}"]`);

  it('runs storm at the default speed slowly enough to pause it', async () => {
    const { page, studio } = t;
    await page.goto(studio.server.url);
    await view(page, 'Simulation');
    expect(await page.getByLabel('Speed').inputValue()).toBe('10');
    await page.getByLabel('Scenario').selectOption('storm');
    await page.getByLabel('Seed').fill('7');
    await page.getByRole('button', { name: 'Start new run' }).click();
    await page.getByTestId('runstate').filter({ hasText: 'storm · step' }).waitFor(WAIT);
    await page.getByRole('button', { name: /^Run R/ }).click();
    await page.getByTestId('runstate').filter({ hasText: 'running' }).waitFor(WAIT);
    // it is seen going: a dozen steps past its start-up, and still running
    const first = studio.service.status().extras.first_step;
    await untilStep(page, 'gt', first + 12);
    await page.getByTestId('runstate').filter({ hasText: 'running' }).waitFor(WAIT);
    await page.getByRole('button', { name: /^Pause/ }).click();
    await page.getByTestId('runstate').filter({ hasText: 'paused' }).waitFor(WAIT);
    expect(studio.service.status()).toMatchObject({ scenario: 'storm', running: false, finished: null });
  }, TEST_MS);

  it('shows the state at a past step as it was then', async () => {
    const { page, studio } = t;
    // what the run holds at this step, read now
    const at = studio.service.status().step;
    const then = (await studio.service.call('campaigns/list', {})).campaigns;
    const reviewThen = (await studio.service.call('review/list', {})).items.length;
    await studio.service.call('sim/step', { count: 30 });
    await untilStep(page, 'eq', at + 30);
    await page.getByRole('slider', { name: /^Rebuild the run at step/ }).fill(String(at));
    await page.getByRole('button', { name: `Show state at step ${at}`, exact: true }).click();
    await page.getByRole('heading', { name: `State at step ${at}` }).waitFor(WAIT);
    await page.getByTestId('stepstate-source').filter({ hasText: 'rebuilt by replay' }).waitFor(WAIT);
    const table = page.getByRole('table', { name: `Campaigns at step ${at}` });
    for (const c of then) {
      const row = table.getByRole('row').filter({ hasText: c.title });
      await row.getByRole('cell', { name: String(c.state_version), exact: true }).waitFor(WAIT);
      await row.getByText(c.status, { exact: true }).waitFor(WAIT);
    }
    await page.getByRole('heading', { name: `Waiting for human review then (${reviewThen})` }).waitFor(WAIT);
    const shots = join(ROOT, 'test-artifacts', 'screenshots');
    mkdirSync(shots, { recursive: true });
    await page.getByRole('region', { name: `State at step ${at}` }).screenshot({ path: join(shots, 'timetravel-state.png') });
    // the session did not move
    expect(studio.service.status().step).toBe(at + 30);
    // one step back
    await page.getByRole('button', { name: 'Previous step' }).click();
    await page.getByRole('heading', { name: `State at step ${at - 1}` }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Close' }).click();
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);

  it('pauses a run before the Judge acts and says why', async () => {
    const { page, studio } = t;
    await page.getByRole('checkbox', { name: 'Before judge' }).check();
    await untilStatus(studio.service, (s) => s.extras.breakpoints.length === 1);
    await page.getByRole('button', { name: /^Run R/ }).click();
    await page.getByTestId('run-reason').filter({ hasText: /breakpoint before judge: judge-\d acts next/ }).waitFor(WAIT);
    await page.getByTestId('runstate').filter({ hasText: 'paused' }).waitFor(WAIT);
    const here = studio.service.status().step;
    await page.getByRole('button', { name: /^Step/ }).click();
    await untilStep(page, 'eq', here + 1);
    const last = (await studio.service.call('sim/events', { after_step: here })).events;
    expect(last[0]?.agent).toMatch(/^judge-/);
    await page.getByRole('checkbox', { name: 'Before judge' }).uncheck();
    await untilStatus(studio.service, (s) => s.extras.breakpoints.length === 0);
  }, TEST_MS);

  it('replays from a step as a new in-memory branch and keeps the run it came from', async () => {
    const { page, studio } = t;
    const whole = studio.service.status();
    const target = Math.floor(whole.step / 2);
    await page.getByRole('slider', { name: /^Rebuild the run at step/ }).fill(String(target));
    await page.getByRole('button', { name: `Replay to step ${target}` }).click();
    await untilStep(page, 'eq', target);
    await page.getByTestId('branch').nth(1).waitFor(WAIT);
    const root = (await studio.service.call('sim/branches', {})).branches.find((b) => b.parent === null && !b.active && b.step === whole.step)!;
    expect(root).toBeTruthy();
    await page.getByRole('button', { name: `Switch to branch ${root.label}` }).click();
    await untilStep(page, 'eq', whole.step);
    expect(studio.service.status().summary.eventLogSha256).toBe(whole.summary.eventLogSha256);
    await branch(root.label).and(page.locator('[data-active=yes]')).waitFor(WAIT);
  }, TEST_MS);

  it('replays on SQLite as a new SQLite file, and switches back to the original', async () => {
    const { page, studio } = t;
    await view(page, 'Backend');
    await page.getByLabel('Profile name', { exact: true }).fill('tt');
    await page.getByRole('button', { name: 'Switch to SQLite profile' }).click();
    // the in-memory run is in no file: the switch asks first
    await page.getByRole('alertdialog').getByRole('button', { name: 'Switch anyway' }).click();
    await page.getByTestId('active-backend').filter({ hasText: 'SQLite “tt”' }).waitFor(WAIT);
    await studio.service.call('sim/step', { count: 40 });
    const whole = studio.service.status();
    await view(page, 'Simulation');
    await untilStep(page, 'eq', whole.step);
    const target = whole.step - 20;
    await page.getByRole('slider', { name: /^Rebuild the run at step/ }).fill(String(target));
    await page.getByRole('button', { name: `Replay to step ${target}` }).click();
    await untilStep(page, 'eq', target);
    await page.getByTestId('runstate').filter({ hasText: 'sqlite' }).waitFor(WAIT);
    await branch(`SQLite “tt-at-${target}”`).and(page.locator('[data-active=yes]')).waitFor(WAIT);
    await page.getByRole('button', { name: 'Switch to branch SQLite “tt”' }).click();
    await untilStep(page, 'eq', whole.step);
    expect(studio.service.status()).toMatchObject({ backend: 'sqlite', summary: { eventLogSha256: whole.summary.eventLogSha256 } });
    // the in-memory branches are still there too
    expect((await studio.service.call('sim/branches', {})).branches.filter((b) => b.backend === 'memory').length).toBeGreaterThanOrEqual(2);
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);
});
