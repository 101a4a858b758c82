/**
 * What the end-to-end suites share: a real studio (service and browser-mode server) on a fresh
 * data folder, headless Chromium on it, and waits for states of the page or the service (never
 * for an amount of time; the timeouts only bound a state that never comes, generously, because
 * a busy 2-core machine stretches everything).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { HAVE_CHROMIUM, MISSING_CHROMIUM, ensureRenderer, launchChromium, startStudio, type RunningStudio } from '../../bench/support/browser.ts';

export const WAIT = { timeout: 120_000 };
export const TEST_MS = 600_000;

/** The page's `document`, as far as page-side conditions use it (tests are type-checked without the DOM lib). */
declare const document: { querySelector(selector: string): { readonly textContent: string | null } | null };

export interface E2E {
  studio: RunningStudio;
  page: Page;
  readonly pageErrors: string[];
  readonly dataDir: string;
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function openE2E(): Promise<E2E> {
  if (!HAVE_CHROMIUM) throw new Error(MISSING_CHROMIUM);
  await ensureRenderer();
  const dataDir = mkdtempSync(join(tmpdir(), 'chimera-e2e-'));
  const studio = await startStudio(dataDir);
  const browser = await launchChromium();
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(WAIT.timeout);
  const e: E2E = {
    studio,
    page,
    pageErrors,
    dataDir,
    context: browser.context,
    async close() {
      await browser.close();
      await e.studio.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return e;
}

/** Opens a view from the navigation and waits for its heading. */
export async function view(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor(WAIT);
}

/** Waits until the page's step read-out (Simulation view) satisfies `pred` against `arg`. */
export async function untilStep(page: Page, pred: 'eq' | 'gt', arg: number): Promise<void> {
  await page.waitForFunction(
    ([p, a]) => {
      const n = Number(document.querySelector('[data-testid=step]')?.textContent);
      return p === 'eq' ? n === a : n > a;
    },
    [pred, arg] as const,
    WAIT,
  );
}
