/**
 * End to end in headless Chromium: the Inspector over a SQLite profile a simulation filled —
 * filter the tasks, click one, see its output_data as indented JSON and its audit history, and
 * verify the audit chains per campaign. CHIMERA_SKIP_E2E=1 skips it on purpose (as e2e.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SKIP_E2E } from '../../bench/support/browser.ts';
import { TEST_MS, WAIT, e2eSuite, view } from './e2e-support.ts';

describe.skipIf(SKIP_E2E)('the Inspector (headless Chromium)', () => {
  const t = e2eSuite();

  it('opens a task of a simulated SQLite profile with its output JSON and history', async () => {
    const { page, studio } = t;
    await studio.service.call('backend/switch', { kind: 'sqlite', name: 'inspected' });
    await studio.service.call('sim/step', { count: 60 });
    const first = await studio.service.call('inspect/tasks', { status: 'COMPLETED', limit: 25 });
    const worker = first.items.find((r) => r.ok && r.value.role === 'WORKER');
    expect(worker?.ok, 'a completed worker task on the first page').toBe(true);
    const task = (worker as unknown as { value: { id: string; output_data: Record<string, unknown> } }).value;

    await page.goto(studio.server.url);
    await view(page, 'Inspector');
    await page.getByRole('table', { name: 'Inspected campaigns' }).getByRole('row').nth(1).waitFor(WAIT);
    await page.getByLabel('Task status filter').selectOption('COMPLETED');
    await page.getByRole('button', { name: `Inspect task ${task.id}` }).click();
    const inspector = page.getByRole('complementary', { name: 'Task contents' });
    const output = inspector.getByLabel('output_data', { exact: true });
    await output.waitFor(WAIT);
    // readable: the stored output, indented two spaces
    expect(await output.textContent()).toBe(JSON.stringify(task.output_data, null, 2));
    await inspector.getByRole('list', { name: 'Task audit history' }).getByText('task.claimed').first().waitFor(WAIT);

    await page.getByRole('button', { name: 'Verify audit chains' }).click();
    await page.getByTestId('inspect-verify').filter({ hasText: 'Every audit chain verified' }).waitFor(WAIT);
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);
});
