/**
 * End to end in headless Chromium: the Inspector's persona memory over a SQLite profile a
 * simulation filled — the memories listed (a row another program wrote that does not fit shown
 * marked) and filtered, a plain-words query typed and answered
 * nearest first (distances ascending, each a number and a bar, the same numbers the channel
 * gives), and a result opened as stored with its model and vector length. CHIMERA_SKIP_E2E=1
 * skips it on purpose (as e2e.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT, SKIP_E2E } from '../../bench/support/browser.ts';
import { TEST_MS, WAIT, e2eSuite, view } from './e2e-support.ts';

describe.skipIf(SKIP_E2E)("the Inspector's persona memory (headless Chromium)", () => {
  const t = e2eSuite();

  it('finds memories of a simulated SQLite profile by a typed query, nearest first, and opens one', async () => {
    const { page, studio } = t;
    await studio.service.call('backend/switch', { kind: 'sqlite', name: 'remembered' });
    await studio.service.call('sim/step', { count: 60 });
    const model = await studio.service.call('memory/model', {});
    // a row another program wrote that is not a persona memory (a category of its own), behind the session's back
    const rows_file = join(t.dataDir, 'profiles', 'remembered', 'persona-memory', 'rows.sqlite');
    const db = new Database(rows_file);
    db.prepare(`INSERT INTO memories (id, persona_id, category, content, timestamp, model_id, vector) VALUES ('foreign-1', 'aria', 'Gossip', 'overheard', '2025-12-31T00:00:00.000Z', ?, ?)`).run(
      model.model_id,
      Buffer.alloc(model.dimensions * 4),
    );
    db.close();

    await page.goto(studio.server.url);
    await view(page, 'Inspector');
    const region = page.getByRole('region', { name: 'Persona memory' });
    const listed = region.getByRole('table', { name: 'Inspected memories' });
    await listed.getByRole('button', { name: /^Open memory / }).first().waitFor(WAIT);
    // first by its timestamp, marked, and the rows after it still shown
    await listed.getByTestId('bad-row').filter({ hasText: 'category' }).waitFor(WAIT);
    await region.getByLabel('Memory persona filter').fill('aria');
    await region.getByLabel('Memory category filter').selectOption('SOUL');
    await listed.getByRole('button', { name: 'Open memory soul:aria', exact: true }).waitFor(WAIT);

    // the search uses the same filters: clear the category, keep the persona
    await region.getByLabel('Memory category filter').selectOption('');
    await region.getByLabel('Memory query').fill('repairing denim jackets');
    await region.getByLabel('Number of nearest memories').fill('6');
    await region.getByRole('button', { name: 'Find nearest memories' }).click();
    const nearest = region.getByRole('table', { name: 'Nearest memories' });
    const rows = nearest.locator('tbody tr[data-distance]');
    await rows.nth(5).waitFor(WAIT);
    const shown = (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-distance'))))) as number[];
    expect(shown).toHaveLength(6);
    expect(shown, 'nearest first').toEqual([...shown].sort((a, b) => a - b));
    const viaChannel = await studio.service.call('inspect/memory-search', { query: 'repairing denim jackets', k: 6, persona_id: 'aria' });
    expect(shown).toEqual(viaChannel.items.map((n) => n.distance));
    // each distance as a number and as a bar
    await expect(rows.first().getByRole('img', { name: `distance ${shown[0]?.toFixed(4)}` }).isVisible()).resolves.toBe(true);
    await region.getByTestId('memory-search-meta').filter({ hasText: `cosine distance (0 = same direction, 1 = unrelated, 2 = opposite; a full bar is 1 or more) · query embedded on this machine by ${model.model_id}` }).waitFor(WAIT);

    await rows.first().getByRole('button', { name: /^Open memory / }).click();
    const object = region.getByRole('complementary', { name: 'Memory object' });
    await object.getByLabel('Stored properties').waitFor(WAIT);
    const first = viaChannel.items[0];
    const content = first?.ok ? first.value.content : '';
    expect(await object.getByLabel('Memory content').textContent()).toBe(content);
    expect(JSON.parse((await object.getByLabel('Stored properties').textContent()) ?? '{}')).toMatchObject({ persona_id: 'aria', model_id: model.model_id });
    await object.getByText(String(model.dimensions), { exact: true }).waitFor(WAIT);
    // the picture the README shows: the search and its distances, the object opened beside them
    await region.scrollIntoViewIfNeeded();
    mkdirSync(join(ROOT, 'test-artifacts', 'screenshots'), { recursive: true });
    await object.scrollIntoViewIfNeeded();
    const box = await region.boundingBox();
    const bottom = await object.boundingBox();
    if (box && bottom) {
      const y = Math.max(0, box.y);
      await page.screenshot({ path: join(ROOT, 'test-artifacts', 'screenshots', 'memory-search.png'), clip: { x: box.x, y, width: box.width, height: Math.max(100, bottom.y + bottom.height - y + 8) } });
    }
    expect(t.pageErrors).toEqual([]);
  }, TEST_MS);
});
