/**
 * The UI, measured in headless Debian Chromium (playwright-core):
 * - start_to_interactive_ms: from spawning `npm start -- --browser` (browser mode, as where
 *   Electron cannot launch; renderer already built) to a page whose run controls are enabled
 *   and show the live run status. Chromium is started beforehand (its own launch
 *   is reported apart), so the figure is the app's.
 * - At 100,000 tasks (one campaign planned with 50,000 content pieces = 100,003 tasks): the
 *   task list's first rows and the DAG's first nodes, from the click to their paint (fetch +
 *   layout + render), then a jump to the middle (windowing: rows/nodes in the DOM stay few).
 * - Charts: uPlot drawing a 100,000-point series after min/max downsampling (in the page).
 * - Switching the task graph between two large campaigns (100,003 and 82,003 tasks): the first
 *   visit (fetch + layout in a worker + render) and a switch back (cached per campaign).
 * - A 100,000-task run watched from the page (Swarm with the graph, Metrics, Campaigns in
 *   turn): every main-thread task over 50 ms, recorded by a PerformanceObserver ('longtask')
 *   installed before the page's scripts; the longest is the figure.
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
  readonly body: unknown;
  readonly documentElement: { readonly dataset: Record<string, string | undefined> };
};
declare function requestAnimationFrame(cb: () => void): void;
interface PageSelect {
  value: string;
  readonly options: ArrayLike<{ readonly value: string; readonly textContent: string | null }>;
  dispatchEvent(e: unknown): boolean;
}
declare class MutationObserver {
  constructor(cb: () => void);
  observe(target: unknown, opts: Record<string, boolean>): void;
  disconnect(): void;
}
declare class Event {
  constructor(type: string, init?: Record<string, boolean>);
}
declare const window: {
  chimeraChartBench?: (n: number) => { ms: number; points: number };
  __longtasks?: { start: number; duration: number }[];
};

/** Installed before the page's scripts: every long task (over 50 ms) of the main thread, kept in window.__longtasks. */
const LONGTASK_RECORDER = `(() => {
  const seen = [];
  Object.defineProperty(window, '__longtasks', { value: seen });
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) seen.push({ start: e.startTime, duration: e.duration }); }).observe({ type: 'longtask', buffered: true });
  } catch (e) { seen.push({ start: 0, duration: -1 }); }
})();`;

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
  description: 'npm start (browser mode) to an interactive page; task list and DAG render at 100,000 tasks; chart draw at 100,000 points; graph switch; long tasks during a watched 100,000-task run (headless Chromium)',
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
        // a healthy scenario (a simulated reviewer, no stuck branches) with enough workers that the
        // 100,000-task run below ends in minutes
        await studio.service.call('sim/open', { scenario: 'launch-day', seed: 7, workers: 32 });
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

        // ---------------------------------------------------------------- charts: 100,000 points
        const chartRuns = await page.evaluate((n) => {
          const f = window.chimeraChartBench;
          if (!f) return [];
          const out: { ms: number; points: number }[] = [];
          for (let i = 0; i < 7; i++) out.push(f(n));
          return out;
        }, 100_000);
        const chart_draw_100k_ms = chartRuns.map((r) => r.ms).sort((a, b) => a - b);
        ctx.log(`chart, 100,000 points downsampled to ${chartRuns[0]?.points} and drawn: median ${round(percentile(chart_draw_100k_ms, 50), 1)} ms`);

        // ---------------------------------------------------------------- switching the graph between two large campaigns
        // (from Campaigns, which fetches no graph ahead, so the second campaign's is not held before its first visit)
        await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Campaigns' }).click();
        await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor(WAIT);
        const piecesB = ctx.quick ? 4_000 : 41_000;
        const createdB = await studio.service.call('campaigns/create', { title: 'Eighty-two thousand', goal: 'Mend sneakers at scale', persona_id: 'aria', content_pieces: piecesB });
        for (let i = 0; i < 50; i++) {
          await studio.service.call('sim/step', { count: 1 });
          if ((await studio.service.call('campaigns/list', {})).campaigns.find((c) => c.id === createdB.campaign!.id)!.status !== 'PLANNING') break;
        }
        // from the select's change to the first node of the new campaign's graph painted, timed in the page
        const switchTo = (title: string) =>
          page.getByLabel('Campaign').evaluate(
            (el, t) =>
              new Promise<number>((resolve) => {
                const select = el as unknown as PageSelect;
                const option = Array.from(select.options).find((o) => o.textContent === t)!;
                const t0 = performance.now();
                // (no named functions in here: the bundler would wrap them in a helper the page lacks)
                const obs = new MutationObserver(() => {
                  if (document.querySelector(`[role=region][aria-label^="${t}: task graph"] svg g.node`) === null) return;
                  obs.disconnect();
                  requestAnimationFrame(() => resolve(performance.now() - t0));
                });
                obs.observe(document.body, { subtree: true, childList: true, attributes: true });
                select.value = option.value;
                select.dispatchEvent(new Event('change', { bubbles: true }));
              }),
            title,
          );
        // a first visit with nothing held: in Campaigns (which fetches a graph only when shown)
        await page.getByRole('button', { name: 'Show tasks of Hundred thousand' }).click();
        await page.getByText('Task graph of “Hundred thousand”').click();
        await page.getByRole('region', { name: /^Hundred thousand: task graph/ }).locator('svg g.node').first().waitFor(WAIT);
        t = performance.now();
        await page.getByRole('button', { name: 'Show tasks of Eighty-two thousand' }).click();
        await page.getByRole('region', { name: /^Eighty-two thousand: task graph/ }).locator('svg g.node').first().waitFor(WAIT);
        const dag_switch_first_visit_ms = performance.now() - t;
        // in Swarm, where the graphs of the campaigns listed are fetched and laid out ahead: once both are held
        await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Swarm' }).click();
        await page.getByRole('heading', { level: 1, name: 'Swarm' }).waitFor(WAIT);
        await page.waitForFunction(() => Number(document.documentElement.dataset.dagsLaidOut ?? 0) >= 2, undefined, WAIT);
        const dag_switch_ms: number[] = [];
        for (const title of ['Hundred thousand', 'Eighty-two thousand', 'Hundred thousand', 'Eighty-two thousand', 'Hundred thousand']) {
          dag_switch_ms.push(await switchTo(title));
          // let the fresh copy that follows the held one land before the next switch
          await page.waitForLoadState('networkidle').catch(() => undefined);
        }
        const dag_switch_cached_ms = [...dag_switch_ms].sort((a, b) => a - b);
        ctx.log(`graph switch: first visit (nothing held) ${Math.round(dag_switch_first_visit_ms)} ms; in Swarm, graphs held: ${dag_switch_ms.map((x) => Math.round(x)).join(' · ')} ms`);
        await page.close();

        // ---------------------------------------------------------------- long tasks during a 100,000-task run
        const runPage = await browser.context.newPage();
        runPage.setDefaultTimeout(WAIT.timeout);
        await runPage.addInitScript(LONGTASK_RECORDER);
        await runPage.goto(`${studio.server.url}#/swarm`);
        await runPage.getByRole('heading', { level: 1, name: 'Swarm' }).waitFor(WAIT);
        await runPage.getByLabel('Campaign').selectOption({ label: 'Hundred thousand' });
        await runPage.getByRole('region', { name: /^Hundred thousand: task graph/ }).locator('svg g.node').first().waitFor(WAIT);
        // the run is the 100,000-task campaign's: the other large one waits, paused
        const b = (await studio.service.call('campaigns/list', {})).campaigns.find((c) => c.id === createdB.campaign!.id)!;
        await studio.service.call('campaigns/pause', { campaign_id: b.id, expected_version: b.state_version });
        const before = studio.service.status();
        const runTasks = before.summary.tasks.total - piecesB * 2 - 3;
        await studio.service.call('sim/speed', { steps_per_s: 0 });
        const longBefore = await runPage.evaluate(() => (window.__longtasks ?? []).length);
        t = performance.now();
        await studio.service.call('sim/run', {});
        // watch it from several views in turn, as a person would, switching at each quarter of the tasks done
        const views = ['Metrics', 'Campaigns', 'Swarm', 'Metrics'];
        let next = 0;
        for (;;) {
          const st = studio.service.status();
          if (!st.running) break;
          const done = st.summary.tasks.completed + st.summary.tasks.failed + st.summary.tasks.escalated;
          if (next < views.length && done >= ((next + 1) * runTasks) / (views.length + 1)) {
            await runPage.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${views[next]}`) }).click();
            await runPage.getByRole('heading', { level: 1, name: views[next] }).waitFor(WAIT);
            next += 1;
          }
          await new Promise<void>((resolve) => {
            const off = studio.service.subscribe(() => {
              off();
              resolve();
            });
          });
        }
        const run_ms = performance.now() - t;
        const after = studio.service.status();
        const longtasks = (await runPage.evaluate(() => window.__longtasks ?? [])).slice(longBefore);
        // the observer's self-check: a 150 ms busy loop in a task of the page must show up as a
        // long task (a script evaluated over the DevTools protocol is not one: hence the timer)
        const seen = longBefore + longtasks.length;
        await runPage.evaluate(() => {
          setTimeout(() => {
            const t0 = performance.now();
            while (performance.now() - t0 < 150);
          }, 0);
        });
        await runPage.waitForFunction((n) => (window.__longtasks ?? []).length > n, seen, WAIT);
        const longtask_observer_check_ms = Math.round((await runPage.evaluate(() => window.__longtasks ?? [])).at(-1)!.duration);
        const durations = longtasks.map((l) => l.duration).sort((a, b) => b - a);
        await runPage.screenshot({ path: join(SHOTS, 'metrics-after-100k-run.png') });
        await runPage.close();
        ctx.log(`100,000-task run: ${Math.round(run_ms)} ms, ${after.step - before.step} steps; ${durations.length} main-thread tasks over 50 ms, the longest ${Math.round(durations[0] ?? 0)} ms`);
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
          chart_draw_100k_points_ms_median: round(percentile(chart_draw_100k_ms, 50), 1),
          chart_draw_100k_points_ms_max: round(chart_draw_100k_ms.at(-1) ?? 0, 1),
          chart_points_drawn: chartRuns[0]?.points ?? 0,
          dag_switch_tasks: [tasks, piecesB * 2 + 3],
          dag_switch_first_visit_ms: Math.round(dag_switch_first_visit_ms),
          dag_switch_ms_median: Math.round(percentile(dag_switch_cached_ms, 50)),
          dag_switch_ms_max: Math.round(dag_switch_cached_ms.at(-1) ?? 0),
          dag_switch_ms_runs: dag_switch_ms.map((x) => Math.round(x)),
          run_tasks: after.summary.tasks.total,
          run_tasks_decided: after.summary.tasks.completed + after.summary.tasks.failed + after.summary.tasks.escalated,
          run_ms: Math.round(run_ms),
          run_finished: after.finished,
          run_longtasks_over_50ms: durations.length,
          run_longtasks_over_100ms: durations.filter((d) => d > 100).length,
          run_longest_main_thread_task_ms: Math.round(durations[0] ?? 0),
          run_longest_main_thread_tasks_ms: durations.slice(0, 5).map((d) => Math.round(d)),
          longtask_observer_check_ms,
          note: 'first-paint figures include fetching the data from the core over HTTP (the DAG is 100k nodes of JSON); scroll frames are render only; long tasks: PerformanceObserver longtask entries (> 50 ms) during the run',
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
