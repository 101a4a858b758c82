/**
 * What the end-to-end suites share: a real studio (service and browser-mode server) on a fresh
 * data folder, headless Chromium on it, and waits for states of the page or the service (never
 * for an amount of time; the timeouts only bound a state that never comes, generously, because
 * a busy 2-core machine stretches everything).
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { SimStatus } from '../../src/shared/types.ts';
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

/** A studio on a fresh data folder with Chromium on it; `opts.env` is the environment the studio's config is read from (e.g. a production profile's connection settings). */
export async function openE2E(opts: { env?: Record<string, string> } = {}): Promise<E2E> {
  if (!HAVE_CHROMIUM) throw new Error(MISSING_CHROMIUM);
  await ensureRenderer();
  const dataDir = mkdtempSync(join(tmpdir(), 'chimera-e2e-'));
  const studio = await startStudio(dataDir, opts.env);
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

/**
 * One browser and one studio for a describe block: opened before its first test, closed after
 * its last. Call it in the describe's body; the returned E2E stands for the open one.
 */
export function e2eSuite(): E2E {
  let open: E2E | null = null;
  beforeAll(async () => {
    open = await openE2E();
  }, 300_000);
  afterAll(async () => {
    await open?.close();
  });
  const the = (): E2E => {
    if (!open) throw new Error('the e2e studio is not open (its beforeAll failed)');
    return open;
  };
  return {
    get studio() {
      return the().studio;
    },
    set studio(v: RunningStudio) {
      the().studio = v;
    },
    get page() {
      return the().page;
    },
    set page(v: Page) {
      the().page = v;
    },
    get pageErrors() {
      return the().pageErrors;
    },
    get dataDir() {
      return the().dataDir;
    },
    get context() {
      return the().context;
    },
    close: () => the().close(),
  };
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

// ---- toasts, page conditions and service statuses (the review suite's helpers)

/** The page's `document`, as far as page-side conditions use it (tests are type-checked without the DOM lib). */
export interface PageNode {
  readonly textContent: string | null;
  readonly nextElementSibling: PageNode | null;
  getAttribute(name: string): string | null;
}
export interface PageDocument {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode> & { readonly length: number };
}

/**
 * Installed in each page before its scripts: records every toast as it is added, so a check for
 * a notice cannot miss one that came and went (info toasts leave after 4 s).
 */
export const TOAST_RECORDER = `(() => {
  const seen = [];
  const known = new WeakSet();
  Object.defineProperty(window, '__toasts', { value: seen });
  const record = () => {
    for (const el of document.querySelectorAll('.toasts .toast')) {
      if (known.has(el)) continue;
      known.add(el);
      seen.push({ role: el.getAttribute('role'), text: el.textContent || '' });
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
})();`;
export interface SeenToast {
  readonly role: string | null;
  readonly text: string;
}

/** How many toasts `p` has shown so far (to wait for one shown after this). */
export const toastCount = (p: Page) => p.evaluate(() => (globalThis as unknown as { __toasts: SeenToast[] }).__toasts.length);

/** Waits until `p` has shown, after its `since`-th toast, a toast of `role` ('status' notice, 'alert' error) whose text holds every one of `parts`. */
export const untilToast = (p: Page, role: 'status' | 'alert', parts: string[], since: number) =>
  p.waitForFunction(
    ([r, ps, n]) => (globalThis as unknown as { __toasts: SeenToast[] }).__toasts.slice(n).some((t) => t.role === r && ps.every((x) => t.text.includes(x))),
    [role, parts, since] as const,
    WAIT,
  );

/** Resolves once the service's status satisfies `pred`: checked now and at every update it pushes (no polling, no sleeps). */
export const serviceStatus = (studio: RunningStudio, pred: (s: SimStatus) => boolean) =>
  new Promise<void>((resolve) => {
    const check = () => {
      if (!pred(studio.service.status())) return;
      off();
      resolve();
    };
    const off = studio.service.subscribe(check);
    check();
  });

/** Opens a view from the side navigation and waits for its heading. */
export async function openView(p: Page, name: string): Promise<void> {
  await p.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await p.getByRole('heading', { level: 1, name }).waitFor(WAIT);
}

/**
 * Holds `p`'s calls to one channel until the returned release() is called (then lets them go
 * on and removes every route of the page), so what the page shows stays what it read: a refetch a push would
 * start in between cannot quietly make it current.
 */
export async function holdChannel(p: Page, channel: string): Promise<() => Promise<void>> {
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  const url = `**/api/${channel}`;
  await p.route(url, async (route) => {
    await released;
    await route.continue();
  });
  return async () => {
    release();
    // waits for the held calls to go on before the handler goes
    await p.unrouteAll({ behavior: 'wait' });
  };
}
