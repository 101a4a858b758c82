/**
 * End to end in headless Chromium: the Copy panel (Backend view) copies the session's SQLite
 * profile into a new SQLite profile; the progress bar reaches its end and the result says both
 * digests are equal and every audit chain verifies. CHIMERA_SKIP_E2E=1 skips it on purpose (as
 * e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SKIP_E2E } from '../../bench/support/browser.ts';
import { TEST_MS, WAIT, e2eSuite, view } from './e2e-support.ts';

describe.skipIf(SKIP_E2E)('the Copy panel (headless Chromium)', () => {
  const t = e2eSuite();

  it('copies the session\'s SQLite profile into a new profile: the bar reaches its end, the result says verified', async () => {
    const { page, studio } = t;
    await studio.service.call('backend/switch', { kind: 'sqlite', name: 'session' });
    await studio.service.call('sim/step', { count: 80 });

    await page.goto(studio.server.url);
    await view(page, 'Backend');
    const panel = page.getByRole('region', { name: 'Copy a whole state' });
    await panel.getByLabel('Copy from').selectOption('sqlite:session');
    await panel.getByLabel('Copy to').selectOption('new');
    await panel.getByLabel('New profile name').fill('copied');
    await panel.getByRole('button', { name: 'Start copy' }).click();

    const result = panel.getByTestId('copy-result');
    await result.filter({ hasText: 'Verified: both sides have the same whole-state digest, and every audit chain of the target' }).waitFor(WAIT);
    // the bar is full: its value is its maximum, and that is the whole copy's count of records
    const bar = panel.getByRole('progressbar', { name: 'Copy progress' });
    const [value, max] = [Number(await bar.getAttribute('value')), Number(await bar.getAttribute('max'))];
    expect(max).toBeGreaterThan(1);
    expect(value).toBe(max);
    await panel.getByTestId('copy-phase').filter({ hasText: /^Done · / }).waitFor(WAIT);
    expect(await panel.getByText(/sqlite:.*profiles\/session\/chimera\.db → sqlite:.*profiles\/copied\/chimera\.db/).count()).toBe(1);
    expect(await result.textContent()).toMatch(/tasks copied in .* \(\d[\d,]* tasks\/s\)/);

    // the new profile is listed as a side now, and the service agrees with what the page said
    await panel.getByLabel('Copy from').locator('option[value="sqlite:copied"]').waitFor({ state: 'attached', ...WAIT });
    const status = (await studio.service.call('copy/status', {})).copy;
    expect(status).toMatchObject({ state: 'finished', result: { digests_equal: true, memories_compared: true } });
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);
});
