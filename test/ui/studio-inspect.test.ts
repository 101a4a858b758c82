/**
 * The studio's 'inspect/…' channels over a SQLite profile a simulation filled: they return what
 * `chimera inspect --json` returns for the same file, the profile's files are byte-identical
 * afterwards (read-only, no lock), as is a `target` that names no deployment refused. Over the
 * in-memory profile they read the running session's own stores: what the session's ports hold,
 * sorted and paged, live as the run goes on, with queue times on the session's clock, and
 * nothing written.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio } from './studio-support.ts';
import { cli } from '../support/cli.ts';
import type { InspectPageView, InspectRowView } from '../../src/shared/types.ts';

const idOf = (r: InspectRowView<{ id?: unknown }> | undefined): string => (r?.ok ? String(r.value.id) : '');

let s: Awaited<ReturnType<typeof openStudio>>;
let folder: string;
let db: string;
const hashes = () => Object.fromEntries(readdirSync(folder).filter((f) => !f.endsWith('-shm') && statSync(join(folder, f)).isFile()).map((f) => [f, createHash('sha256').update(readFileSync(join(folder, f))).digest('hex')]));
const cliJson = async (...args: string[]) => {
  const r = await cli(['inspect', ...args, '--backend', 'sqlite', '--db', db, '--json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

beforeAll(async () => {
  s = await openStudio();
  await s.service.call('backend/switch', { kind: 'sqlite', name: 'insp' });
  await s.service.call('campaigns/create', { title: 'Inspected campaign', goal: 'Teach denim repair', persona_id: 'aria' });
  await s.service.call('sim/step', { count: 60 });
  folder = join(s.data_dir, 'profiles', 'insp');
  db = join(folder, 'chimera.db');
});
afterAll(async () => {
  await s?.cleanup();
});

describe('inspect channels', () => {
  it('read campaigns, tasks, a task with history, queues, items, cache and verified chains as the CLI does, writing nothing', async () => {
    const before = hashes();
    const campaigns = await s.service.call('inspect/campaigns', {});
    expect(campaigns.backend).toBe('sqlite');
    expect(campaigns.items.length).toBeGreaterThan(0);
    const viaCli = await cliJson('campaigns', '--limit', '50');
    expect(campaigns.items.map((r) => (r.ok ? r.value : r))).toEqual(viaCli.items);

    const tasks = await s.service.call('inspect/tasks', { limit: 5 });
    expect(tasks.items).toHaveLength(5);
    expect(tasks.next_cursor).toEqual(expect.any(String));
    expect(tasks.items.map((r) => (r.ok ? r.value : r))).toEqual((await cliJson('tasks', '--limit', '5')).items);
    const next = await s.service.call('inspect/tasks', { limit: 5, cursor: tasks.next_cursor });
    const firstIds = tasks.items.map((r) => (r.ok ? r.value.id : null));
    for (const r of next.items) expect(firstIds).not.toContain(r.ok ? r.value.id : null);
    const campaign_id = idOf(campaigns.items[0]);
    const done = await s.service.call('inspect/tasks', { campaign_id, status: 'COMPLETED' });
    for (const r of done.items) expect(r.ok && r.value).toMatchObject({ campaign_id, status: 'COMPLETED' });

    const completed = await s.service.call('inspect/tasks', { status: 'COMPLETED', limit: 200 });
    const worker = completed.items.find((r) => r.ok && r.value.role === 'WORKER');
    expect(worker, 'a completed worker task').toBeDefined();
    const taskId = idOf(worker);
    const one = await s.service.call('inspect/task', { id: taskId });
    const oneCli = (await cliJson('task', taskId, '--limit', '200')) as { task: unknown; history: unknown[] };
    expect(one.task?.ok && one.task.value).toEqual(oneCli.task);
    expect(one.history.map((r) => (r.ok ? r.value : r))).toEqual(oneCli.history);
    expect(one.history.length).toBeGreaterThan(0);
    expect((await s.service.call('inspect/task', { id: 'no-such-task' })).task).toBeNull();

    const queues = await s.service.call('inspect/queues', {});
    const queuesCli = (await cliJson('queues', '--limit', '50')) as { items: { queue: string }[] };
    expect(queues.items.map((r) => r.ok && r.value.queue)).toEqual(queuesCli.items.map((q) => q.queue));
    for (const r of queues.items) {
      if (!r.ok) continue;
      for (const state of ['waiting', 'leased'] as const) {
        const items = await s.service.call('inspect/queue', { space: r.value.space, queue: r.value.queue, state });
        const n = state === 'waiting' ? r.value.depth.ready + r.value.depth.delayed : r.value.depth.leased;
        expect(items.items.length).toBe(Math.min(n, 50));
        for (const i of items.items) if (i.ok && state === 'leased') expect(i.value.consumer).toEqual(expect.any(String));
      }
    }

    const cache = await s.service.call('inspect/cache', {});
    expect(cache.items.map((r) => r.ok && r.value)).toEqual((await cliJson('cache', '--limit', '50')).items);

    const verify = await s.service.call('inspect/verify', {});
    const verifyCli = (await cliJson('audit', '--verify')) as { ok: boolean; checked: number; chains: Record<string, { events: number; ok: boolean }> };
    expect(verify).toMatchObject({ ok: true, malformed: 0, broken: null, checked: verifyCli.checked });
    expect(Object.fromEntries(verify.chains.map((c) => [c.chain, { events: c.events, ok: c.ok }]))).toEqual(verifyCli.chains);
    expect(hashes()).toEqual(before);
  });

  it("persona memory: pages, one object, and a plain-words search nearest first, as the CLI and the session's own search see them, writing nothing", async () => {
    const rows = join(folder, 'persona-memory', 'rows.sqlite');
    const memoryHash = () => createHash('sha256').update(readFileSync(rows)).digest('hex');
    const before = { ...hashes(), rows: memoryHash() };
    const first = await s.service.call('inspect/memories', { limit: 5 });
    expect(first).toMatchObject({ backend: 'sqlite', source: 'store', next_cursor: expect.any(String) });
    expect(first.total).toBeGreaterThan(5);
    expect(first.items.map((r) => (r.ok ? r.value : r))).toEqual((await cliJson('memories', '--limit', '5')).items);
    const soul = await s.service.call('inspect/memories', { persona_id: 'aria', category: 'SOUL', limit: 100 });
    expect(soul.items.length).toBeGreaterThan(0);
    expect(soul.total).toBe(soul.items.length);
    for (const r of soul.items) expect(r.ok && r.value).toMatchObject({ persona_id: 'aria', category: 'SOUL' });

    const model = await s.service.call('memory/model', {});
    const id = idOf(first.items[0]);
    const one = await s.service.call('inspect/memory', { id });
    expect(one.object).toMatchObject({ row: first.items[0], properties: { id, model_id: model.model_id }, model_id: model.model_id, dimensions: model.dimensions });
    expect((await s.service.call('inspect/memory', { id: 'no-such-memory' })).object).toBeNull();

    const query = 'repairing denim by hand';
    const found = await s.service.call('inspect/memory-search', { query, k: 5, persona_id: 'aria' });
    expect(found).toMatchObject({ backend: 'sqlite', source: 'store', metric: 'cosine distance', exact: true, embedder: { model_id: model.model_id, dimensions: model.dimensions }, left_out: 0 });
    expect(found.items).toHaveLength(5);
    const d = found.items.map((n) => n.distance);
    expect(d).toEqual([...d].sort((a, b) => a - b));
    // the session's own search over the same memories: the same memories, distance = 1 − its score
    const session = await s.service.call('memory/search', { query, k: 5, persona_id: 'aria' });
    expect(found.items.map(idOf)).toEqual(session.hits.map((h) => h.id));
    found.items.forEach((n, i) => expect(n.distance).toBeCloseTo(1 - (session.hits[i]?.score ?? NaN), 3));
    // `chimera inspect memories --query` over the same file: the same memories at the same distances
    const viaCli = (await cliJson('memories', '--query', query, '--k', '5', '--persona', 'aria')) as { items: { id: string; distance: number }[] };
    expect(viaCli.items.map((i) => [i.id, i.distance])).toEqual(found.items.map((n) => [idOf(n), n.distance]));
    expect({ ...hashes(), rows: memoryHash() }).toEqual(before);
  });

  it('persona memory: an empty query or a k out of range is refused in one line naming the field', async () => {
    for (const [args, field] of [
      [{ query: '' }, 'query'],
      [{ query: '   ' }, 'query'],
      [{ query: 'denim', k: 0 }, 'k'],
      [{ query: 'denim', k: 101 }, 'k'],
      [{ query: 'denim', k: 2.5 }, 'k'],
    ] as const) {
      const err = await s.service.call('inspect/memory-search', args as never).then(
        () => null,
        (e: { code: string; message: string }) => e,
      );
      expect(err, JSON.stringify(args)).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining(`${field}:`) });
      expect(err?.message).not.toContain('\n');
    }
  });

  it("persona memory of the in-memory profile: the session's own, said as such", async () => {
    const m = await openStudio();
    try {
      await m.service.call('sim/step', { count: 5 });
      const list = await m.service.call('inspect/memories', {});
      expect(list).toMatchObject({ backend: 'memory', source: 'session' });
      expect(list.total).toBeGreaterThan(0);
      const found = await m.service.call('inspect/memory-search', { query: 'denim', k: 3 });
      expect(found).toMatchObject({ source: 'session', left_out: 0 });
      expect(found.items).toHaveLength(3);
    } finally {
      await m.cleanup();
    }
  });

  it('refuses bad arguments by field, and a target that names no deployment', async () => {
    await expect(s.service.call('inspect/tasks', { status: 'NOPE' } as never)).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(s.service.call('inspect/tasks', { sort: { by: 'updated_at', dir: 'asc' } } as never)).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('sort') });
    await expect(s.service.call('inspect/campaigns', { sort: { by: 'created_at' } } as never)).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('sort') });
    const m = await openStudio();
    try {
      // a target is a deployment the config names: a file backend is switched to, the in-memory one has none, production needs its settings
      await expect(m.service.call('inspect/campaigns', { target: 'sqlite' })).rejects.toThrow(/^target: a sqlite profile keeps a file of its own: switch to it/);
      await expect(m.service.call('inspect/campaigns', { target: 'memory' })).rejects.toThrow(/^target: the memory backend keeps nothing outside a session/);
      await expect(m.service.call('inspect/verify', { target: 'production' })).rejects.toThrow(/needs its connection settings to be inspected: set CHIMERA_POSTGRES_URL/);
      await expect(m.service.call('inspect/campaigns', { target: 'nope' } as never)).rejects.toMatchObject({ code: 'VALIDATION' });
    } finally {
      await m.cleanup();
    }
  });

  it('sorts a SQLite profile’s tasks newest first, paging on with the sort', async () => {
    const asc = await walk((cursor) => s.service.call('inspect/tasks', { cursor, limit: 9 }));
    const desc = await walk((cursor) => s.service.call('inspect/tasks', { cursor, limit: 9, sort: { by: 'created_at', dir: 'desc' } }));
    expect(desc.length).toBeGreaterThan(9);
    expect(desc.map(idOf)).toEqual(asc.map(idOf).reverse());
  });
});

/** Every row of an inspector list, page by page. */
async function walk(page: (cursor: string | null) => Promise<InspectPageView>): Promise<InspectRowView[]> {
  const out: InspectRowView[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 1000; n++) {
    const p: InspectPageView = await page(cursor);
    out.push(...p.items);
    cursor = p.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('the walk did not end within 1000 pages');
}

/** How many tasks the session's store holds (its own campaigns/list counts). */
async function storedTasks(m: Awaited<ReturnType<typeof openStudio>>): Promise<number> {
  let n = 0;
  for (const c of (await m.service.call('campaigns/list', {})).campaigns) for (const k of Object.values(c.counts)) n += k;
  return n;
}

describe('inspect channels over the in-memory session', () => {
  let m: Awaited<ReturnType<typeof openStudio>>;
  beforeAll(async () => {
    m = await openStudio();
    await m.service.call('campaigns/create', { title: 'In memory', goal: 'Teach denim repair', persona_id: 'aria' });
    await m.service.call('sim/step', { count: 30 });
  });
  afterAll(async () => {
    await m?.cleanup();
  });

  it('reads the session’s own stores, sorted and paged, writing nothing', async () => {
    const status = m.service.status();
    const auditBefore = (await m.service.call('audit/list', { offset: 0, limit: 1 })).total;
    const campaigns = await m.service.call('inspect/campaigns', {});
    expect(campaigns.backend).toBe('memory');
    const listed = (await m.service.call('campaigns/list', {})).campaigns;
    expect(campaigns.items.map(idOf).sort()).toEqual(listed.map((c) => c.id).sort());
    for (const c of listed) {
      const row = campaigns.items.find((r) => idOf(r) === c.id);
      expect(row?.ok && row.value).toMatchObject({ title: c.title, status: c.status, state_version: c.state_version });
    }

    const asc = await walk((cursor) => m.service.call('inspect/tasks', { cursor, limit: 7 }));
    expect(asc.every((r) => r.ok)).toBe(true);
    expect(asc).toHaveLength(await storedTasks(m));
    const newest = await walk((cursor) => m.service.call('inspect/tasks', { cursor, limit: 7, sort: { by: 'created_at', dir: 'desc' } }));
    expect(newest.map(idOf)).toEqual(asc.map(idOf).reverse());
    const bySkill = await walk((cursor) => m.service.call('inspect/tasks', { cursor, limit: 7, sort: { by: 'skill_name', dir: 'asc' } }));
    const key = (r: InspectRowView): string => (r.ok ? `${String(r.value.skill_name)}|${String(r.value.created_at)}|${String(r.value.id)}` : '');
    expect(bySkill.map(key)).toEqual(asc.map(key).sort());
    // one campaign's tasks are what the session's own channel lists (same order: created_at, id)
    const one = listed[0]!;
    const own = await m.service.call('campaigns/tasks', { campaign_id: one.id, offset: 0, limit: 5000 });
    const mine = await walk((cursor) => m.service.call('inspect/tasks', { cursor, limit: 50, campaign_id: one.id }));
    expect(mine.map((r) => r.ok && { id: r.value.id, status: r.value.status, attempts: r.value.attempts })).toEqual(own.tasks.map((t) => ({ id: t.id, status: t.status, attempts: t.attempts })));

    // a decided worker task, with its input, output and audit history
    const done = asc.find((r) => r.ok && r.value.status === 'COMPLETED' && r.value.role === 'WORKER');
    expect(done, 'a completed worker task after 30 steps').toBeDefined();
    const task = await m.service.call('inspect/task', { id: idOf(done) });
    expect(task.backend).toBe('memory');
    expect(task.task?.ok && task.task.value.output_data).not.toBeNull();
    expect(task.history.length).toBeGreaterThan(1);
    for (const e of task.history) expect(e.ok && e.value.entity_id).toBe(idOf(done));

    // queue times are the session's virtual time (the audit log's clock), not the wall clock
    const queues = await m.service.call('inspect/queues', {});
    const latest = (await m.service.call('audit/list', { offset: 0, limit: 1 })).events[0]!;
    expect(queues.now_ms).toBeGreaterThanOrEqual(Date.parse(latest.timestamp));
    expect(queues.now_ms - Date.parse(latest.timestamp)).toBeLessThan(10 * 60_000);
    for (const r of queues.items) {
      if (!r.ok) continue;
      const leased = await m.service.call('inspect/queue', { space: r.value.space, queue: r.value.queue, state: 'leased' });
      expect(leased.now_ms).toBe(queues.now_ms);
      expect(leased.items).toHaveLength(Math.min(r.value.depth.leased, 50));
    }
    expect((await m.service.call('inspect/cache', {})).items.length).toBeGreaterThan(0);
    expect(await m.service.call('inspect/verify', {})).toMatchObject({ backend: 'memory', ok: true, broken: null });

    // nothing was written: the run and its audit log are where they were
    const after = m.service.status();
    expect(after.step).toBe(status.step);
    expect(after.summary.eventLogSha256).toBe(status.summary.eventLogSha256);
    expect((await m.service.call('audit/list', { offset: 0, limit: 1 })).total).toBe(auditBefore);
  });

  it('is live: what the run commits after a page shows on the next read', async () => {
    const before = await walk((cursor) => m.service.call('inspect/tasks', { cursor, limit: 100 }));
    const audit = (await m.service.call('audit/list', { offset: 0, limit: 1 })).total;
    await m.service.call('sim/step', { count: 40 });
    const after = await walk((cursor) => m.service.call('inspect/tasks', { cursor, limit: 100 }));
    expect(after).toHaveLength(await storedTasks(m));
    const changed = after.filter((r) => {
      const was = before.find((b) => idOf(b) === idOf(r));
      return !was || JSON.stringify(was) !== JSON.stringify(r);
    });
    expect(changed.length, 'tasks created or changed by 40 more steps').toBeGreaterThan(0);
    const verified = await m.service.call('inspect/verify', {});
    expect(verified.checked).toBe((await m.service.call('audit/list', { offset: 0, limit: 1 })).total);
    expect(verified.checked).toBeGreaterThan(audit);
  });
});
