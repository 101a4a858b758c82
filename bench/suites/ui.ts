/**
 * The UI, measured in headless Debian Chromium (playwright-core):
 * - start_to_interactive_ms: from spawning `npm start -- --browser` (browser mode, as where
 *   Electron cannot launch; renderer already built) to a page whose run controls are enabled
 *   and show the live run status. Chromium is started beforehand (its own launch
 *   is reported apart), so the figure is the app's.
 * - At 100,000 tasks (one campaign planned with 50,000 content pieces = 100,003 tasks): the
 *   task list's first rows and the DAG's first nodes, from the click to their paint (fetch +
 *   layout + render), then a jump to the middle (windowing: rows/nodes in the DOM stay few).
 * Skipped with its reason when /usr/bin/chromium is missing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { HAVE_CHROMIUM, ROOT, SKIP_REASON, launchChromium, startStudio } from '../support/browser.ts';
import { percentile, round, type BenchContext, type BenchSuite } from '../suite.ts';

/** The page's globals, as far as the page-side functions below use them (no DOM lib here). */
declare const document: {
  querySelector(selector: string): { scrollTop: number; textContent: string | null; getAttribute(name: string): string | null } | null;
  querySelectorAll(selector: string): { readonly length: number };
};
declare function requestAnimationFrame(cb: () => void): void;

const WAIT = { timeout: 60_000 };
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

async function startToInteractive(page: Page): Promise<{ url_ms: number; interactive_ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-start-'));
  const t0 = performance.now();
  // `npm start` itself (npm's own start-up included), in its own process group so the
  // server it spawns is stopped with it
  const child = spawn('npm', ['start', '--silent', '--', '--browser', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, CHIMERA_DATA_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`npm start printed no URL in 30 s: ${out}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += String(d);
        const m = /Open (http\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.on('exit', (code) => reject(new Error(`start exited (${code}) before printing a URL: ${out}`)));
    });
    const url_ms = performance.now() - t0;
    await page.goto(url);
    await page.getByRole('button', { name: /^Step/ }).and(page.locator(':not([disabled])')).waitFor(WAIT);
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid=step]')?.textContent ?? ''), undefined, WAIT);
    return { url_ms, interactive_ms: performance.now() - t0 };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Time until the next frame after `fn` ran in the page. */
async function frameAfter(page: Page, selector: string, top: number): Promise<number> {
  return page.evaluate(
    ([sel, y]) =>
      new Promise<number>((resolve) => {
        const t0 = performance.now();
        const el = document.querySelector(sel as string);
        if (el) el.scrollTop = y as number;
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
      }),
    [selector, top] as const,
  );
}

export const uiSuite: BenchSuite = {
  name: 'ui',
  description: 'npm start (browser mode) to an interactive page; task list and DAG render at 100,000 tasks (headless Chromium)',
  async run(ctx: BenchContext) {
    if (!HAVE_CHROMIUM) {
      ctx.log(`ui: ${SKIP_REASON}`);
      return { skipped: SKIP_REASON };
    }
    const { buildRenderer } = (await import(join(ROOT, 'bin', 'start.mjs'))) as { buildRenderer: () => Promise<void> };
    let t = performance.now();
    await buildRenderer();
    const renderer_build_ms = performance.now() - t;

    mkdirSync(SHOTS, { recursive: true });
    t = performance.now();
    const browser = await launchChromium({ width: 1400, height: 900 });
    const browser_launch_ms = performance.now() - t;
    try {
      // ---------------------------------------------------------------- start to interactive
      const runs = ctx.quick ? 1 : 3;
      const starts: { url_ms: number; interactive_ms: number }[] = [];
      for (let i = 0; i < runs; i++) {
        const page = await browser.context.newPage();
        starts.push(await startToInteractive(page));
        await page.close();
        ctx.log(`start to interactive #${i + 1}: ${Math.round(starts.at(-1)!.interactive_ms)} ms (URL after ${Math.round(starts.at(-1)!.url_ms)} ms)`);
      }
      const interactive = starts.map((s) => s.interactive_ms).sort((a, b) => a - b);
      const urls = starts.map((s) => s.url_ms).sort((a, b) => a - b);

      // ---------------------------------------------------------------- 100,000 tasks
      const pieces = ctx.quick ? 5_000 : 50_000;
      const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-ui-'));
      const studio = await startStudio(dir);
      try {
        t = performance.now();
        const created = await studio.service.call('campaigns/create', { title: 'Hundred thousand', goal: 'Repair denim at scale', persona_id: 'aria', content_pieces: pieces });
        const id = created.campaign!.id;
        for (let i = 0; i < 50; i++) {
          await studio.service.call('sim/step', { count: 1 });
          if ((await studio.service.call('campaigns/list', {})).campaigns.find((c) => c.id === id)!.status !== 'PLANNING') break;
        }
        const plan_ms = performance.now() - t;
        const tasks = (await studio.service.call('campaigns/tasks', { campaign_id: id, offset: 0, limit: 1 })).total;
        ctx.log(`planned ${tasks} tasks in ${Math.round(plan_ms)} ms`);

        const page = await browser.context.newPage();
        page.setDefaultTimeout(WAIT.timeout);
        await page.goto(`${studio.server.url}#/campaigns`);
        await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor(WAIT);
        await page.getByRole('button', { name: 'Show tasks of Hundred thousand' }).waitFor(WAIT);

        // task list: click → first real rows painted
        t = performance.now();
        await page.getByRole('button', { name: 'Show tasks of Hundred thousand' }).click();
        const grid = page.getByRole('table', { name: 'Tasks of Hundred thousand' });
        await grid.locator('.vrow .c-skill').first().waitFor(WAIT);
        const task_list_first_paint_ms = performance.now() - t;
        const rows_in_dom = Number(await grid.getAttribute('data-rendered-rows'));
        // jump to the middle: the frame with placeholders, then the rows' data
        const middle = Math.floor(tasks / 2) * 28;
        const task_list_scroll_frame_ms = await frameAfter(page, '[aria-label="Tasks of Hundred thousand"]', middle);
        t = performance.now();
        await grid.locator(`[aria-rowindex="${Math.floor(tasks / 2) + 1}"] .c-skill`).waitFor(WAIT);
        const task_list_scroll_rows_ms = task_list_scroll_frame_ms + (performance.now() - t);
        await page.screenshot({ path: join(SHOTS, 'task-list-100k.png') });

        // DAG: select the campaign → first nodes painted
        await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Swarm' }).click();
        await page.getByRole('heading', { level: 1, name: 'Swarm' }).waitFor(WAIT);
        await page.locator('.dag svg g.node').first().waitFor(WAIT);
        const dagRegion = page.getByRole('region', { name: new RegExp(`^Hundred thousand: task graph, ${tasks} tasks`) });
        const dag_nodes_in_dom = Number(await dagRegion.getAttribute('data-dag-nodes').catch(() => 0));
        // the DAG view keeps the campaign picked in Campaigns; measure a fresh pick of it
        await page.getByLabel('Campaign').selectOption({ index: 0 });
        await page.locator('.dag svg g.node').first().waitFor(WAIT);
        t = performance.now();
        await page.getByLabel('Campaign').selectOption({ label: 'Hundred thousand' });
        await dagRegion.locator('svg g.node').first().waitFor(WAIT);
        const dag_first_paint_ms = performance.now() - t;
        const dag_scroll_frame_ms = await frameAfter(page, '.dag', Math.floor(pieces / 2) * 34);
        const dag_nodes_after_scroll = Number(await dagRegion.getAttribute('data-dag-nodes'));
        await dagRegion.locator('svg g.node').first().waitFor(WAIT);
        await page.screenshot({ path: join(SHOTS, 'dag-100k.png') });
        await page.close();
        return {
          renderer_build_ms: Math.round(renderer_build_ms),
          browser_launch_ms: Math.round(browser_launch_ms),
          start_to_url_ms_median: Math.round(percentile(urls, 50)),
          start_to_interactive_ms_median: Math.round(percentile(interactive, 50)),
          start_to_interactive_ms_runs: interactive.map((x) => Math.round(x)),
          tasks,
          plan_ms: Math.round(plan_ms),
          task_list_first_paint_ms: Math.round(task_list_first_paint_ms),
          task_list_rows_in_dom: rows_in_dom,
          task_list_scroll_frame_ms: round(task_list_scroll_frame_ms, 1),
          task_list_scroll_rows_ms: Math.round(task_list_scroll_rows_ms),
          dag_first_paint_ms: Math.round(dag_first_paint_ms),
          dag_nodes_in_dom: dag_nodes_in_dom || dag_nodes_after_scroll,
          dag_scroll_frame_ms: round(dag_scroll_frame_ms, 1),
          note: 'first-paint figures include fetching the data from the core over HTTP (the DAG is 100k nodes of JSON); scroll frames are render only',
        };
      } finally {
        await studio.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await browser.close();
    }
  },
};
