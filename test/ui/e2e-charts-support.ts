/**
 * What the UI's end-to-end files share: a real studio service and browser-mode server on a
 * fresh data folder, headless Chromium with one page, and waits for states of the page (never
 * for an amount of time; the timeouts only bound a state that never comes, generous because a
 * busy 2-core machine runs other suites beside these).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { HAVE_CHROMIUM, MISSING_CHROMIUM, ROOT, ensureRenderer, launchChromium, startStudio, type RunningStudio } from '../../bench/support/browser.ts';

export const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
export const WAIT = { timeout: 120_000 };
/** Each test's own limit (a bound, as above). */
export const TEST_MS = 600_000;

export interface E2E {
  readonly studio: RunningStudio;
  readonly page: Page;
  readonly context: BrowserContext;
  /** Messages of errors the page threw. */
  readonly pageErrors: string[];
  /** Opens a view from the side navigation and waits for its heading. */
  view(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openE2E(): Promise<E2E> {
  if (!HAVE_CHROMIUM) throw new Error(MISSING_CHROMIUM);
  await ensureRenderer();
  mkdirSync(SHOTS, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'chimera-e2e-'));
  const studio = await startStudio(dir);
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(WAIT.timeout);
  return {
    studio,
    page,
    context: browser.context,
    pageErrors,
    async view(name: string) {
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${name}`) }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor(WAIT);
    },
    async close() {
      await browser.close();
      await studio.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
