/**
 * The studio service over real ports: human review with optimistic concurrency, timeline
 * scrubbing (replay gives the same event log), metrics, audit verification, and SQLite
 * profiles that survive a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStudio } from './studio-support.ts';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { STATUS_OF_LETTER, dagDeps } from '../../src/shared/types.ts';

type Studio = Awaited<ReturnType<typeof openStudio>>;
const opened: Studio[] = [];
async function studio(dir?: string): Promise<Studio> {
  const s = await openStudio(dir);
  opened.push(s);
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.service.close();
});

/** Steps until the Judge has escalated something (bounded). */
async function stepUntilEscalated(s: Studio) {
  for (let i = 0; i < 2000; i++) {
    if ((await s.service.call('review/list', {})).items.length > 0) return;
    await s.service.call('sim/step', { count: 5 });
  }
  throw new Error('nothing was escalated in 10,000 steps');
}

describe('studio service', () => {
  it('opens the default scenario and steps', async () => {
    const s = await studio();
    const before = s.service.status();
    expect(before.scenario).toBe('review-queue');
    const r = await s.service.call('sim/step', { count: 3 });
    expect(r.status.step).toBeGreaterThan(before.step);
    expect(r.events.length).toBeGreaterThan(0);
  });

  it('refuses a decision made on a stale state_version with CONFLICT, then accepts a fresh one', async () => {
    const s = await studio();
    await stepUntilEscalated(s);
    const list = await s.service.call('review/list', {});
    const [item] = list.items;
    expect(item!.score).not.toBeNull();
    expect(item!.memories.length).toBeGreaterThan(0);
    expect(list.memory_texts[item!.memories[0]!.id]).toBeTruthy();
    const stale = item!.state_version - 1;
    await expect(s.service.call('review/decide', { task_id: item!.task_id, decision: 'approve', expected_version: stale })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`you read state_version ${stale}`),
    });
    const fresh = (await s.service.call('review/list', {})).items.find((i) => i.task_id === item!.task_id)!;
    await s.service.call('review/decide', { task_id: fresh.task_id, decision: 'edit', edited_text: 'A calmer rewrite.', expected_version: fresh.state_version });
    expect((await s.service.call('review/list', {})).items.some((i) => i.task_id === item!.task_id)).toBe(false);
    const audit = await s.service.call('audit/list', { offset: 0, limit: 10, action: 'human.edited' });
    expect(audit.total).toBe(1);
    expect(audit.events[0]).toMatchObject({ actor: 'studio-user', entity_id: item!.task_id });
    expect(audit.verification.ok).toBe(true);
  });

  it('scrubs back to a step by replay and reaches the same event log going forward again', async () => {
    const s = await studio();
    await s.service.call('sim/step', { count: 60 });
    const at60 = s.service.status();
    await s.service.call('sim/step', { count: 60 });
    const at120 = s.service.status();
    const back = await s.service.call('sim/scrub', { step: at60.step });
    expect(back.step).toBe(at60.step);
    expect(back.replayed_from).toBe(at60.step);
    expect(back.summary.eventLogSha256).toBe(at60.summary.eventLogSha256);
    await s.service.call('sim/step', { count: 60 });
    expect(s.service.status().summary.eventLogSha256).toBe(at120.summary.eventLogSha256);
    await expect(s.service.call('sim/scrub', { step: 10_000 })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('runs in chunks without blocking, stops when something is escalated, and folds metrics', async () => {
    const s = await studio();
    // the event loop stays free while a run goes on: at a set speed a chunk is a number of
    // steps (here one), and the next turn of the event loop finds the run started and still going
    await s.service.call('sim/speed', { steps_per_s: 10 });
    const before = s.service.status().step;
    await s.service.call('sim/run', {});
    await new Promise((r) => setImmediate(r));
    const during = await s.service.call('sim/status', {});
    expect(during.running).toBe(true);
    expect(during.finished).toBeNull();
    expect(during.step).toBeGreaterThan(before);
    await s.service.call('sim/pause', {});
    expect(s.service.status().running).toBe(false);
    await s.service.call('sim/speed', { steps_per_s: 0 });
    await s.service.call('sim/run', { until_escalated: true });
    for (let i = 0; i < 500 && s.service.status().running; i++) await new Promise((r) => setImmediate(r));
    await s.service.call('sim/pause', {});
    expect(s.service.status().summary.hitlPending).toBeGreaterThan(0);
    const m = await s.service.call('metrics/series', {});
    expect(m.routes.review).toBeGreaterThan(0);
    expect(m.confidence_histogram.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(m.queue_depths.length).toBeGreaterThan(0);
  });

  it('searches persona memory and adds to it', async () => {
    const s = await studio();
    const { id } = await s.service.call('memory/add', { persona_id: 'aria', content: 'Aria mends denim jackets with sashiko stitching.', category: 'Episodic' });
    const r = await s.service.call('memory/search', { query: 'sashiko stitching on denim', k: 3, persona_id: 'aria' });
    expect(r.hits[0]!.id).toBe(id);
    expect(r.hits[0]!.category).toBe('Episodic');
    const audit = await s.service.call('audit/list', { offset: 0, limit: 5, action: 'memory.added' });
    expect(audit.events[0]).toMatchObject({ actor: 'studio-user', entity_type: 'memory', entity_id: id });
    expect(audit.verification.ok).toBe(true);
    await expect(s.service.call('memory/add', { persona_id: 'nobody', content: 'x', category: 'Semantic' })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('switches to a SQLite profile at run time and finds its data after a restart', async () => {
    const s = await studio();
    const b = await s.service.call('backend/switch', { kind: 'sqlite', name: 'keep' });
    expect(b.active).toMatchObject({ kind: 'sqlite', name: 'keep' });
    expect(b.capabilities.durable).toBe(true);
    await s.service.call('campaigns/create', { title: 'Kept campaign', goal: 'Teach denim repair', persona_id: 'aria' });
    await s.service.call('sim/step', { count: 40 });
    const status = s.service.status();
    const memories = (await s.service.call('memory/personas', {})).personas;
    await s.service.close();

    const again = await studio(s.data_dir);
    expect((await again.service.call('backend/status', {})).active).toMatchObject({ kind: 'sqlite', name: 'keep' });
    const titles = (await again.service.call('campaigns/list', {})).campaigns.map((c) => c.title);
    expect(titles).toContain('Kept campaign');
    expect(again.service.status().step).toBe(status.step);
    expect(again.service.status().summary.eventLogSha256).toBe(status.summary.eventLogSha256);
    expect((await again.service.call('memory/personas', {})).personas).toEqual(memories);
    // and back to memory: a fresh in-memory session
    const m = await again.service.call('backend/switch', { kind: 'memory' });
    expect(m.active.kind).toBe('memory');
    expect(m.sqlite_profiles.map((p) => p.name)).toEqual(['keep']);
  });

  it('when the disk fills mid-run, reopens the SQLite profile from its last checkpoint and goes on once there is room', async () => {
    const s = await studio();
    await s.service.call('backend/switch', { kind: 'sqlite', name: 'full' });
    await s.service.call('campaigns/create', { title: 'Big launch', goal: 'Teach denim repair to a large audience', persona_id: 'aria', content_pieces: 400 });
    await s.service.call('sim/step', { count: 30 }); // flushed: a checkpoint
    const saved = s.service.status();
    // the same file, joined in this process: let it grow by two pages at most
    const sdb = openSqliteDatabase(join(s.data_dir, 'profiles', 'full', 'chimera.db'));
    const pages = Number(sdb.db.pragma('page_count', { simple: true }));
    sdb.db.pragma(`max_page_count = ${pages + 2}`);
    await sdb.release();
    let failure: unknown = null;
    for (let i = 0; i < 50 && !failure; i++) await s.service.call('sim/step', { count: 20 }).catch((e: unknown) => (failure = e));
    expect(failure).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((failure as Error).message).toMatch(/reopened from its last saved checkpoint/);
    // the session is the file's again: the last checkpoint, not the steps that were lost
    const after = s.service.status();
    expect(after.step).toBeGreaterThanOrEqual(saved.step);
    expect((await s.service.call('backend/status', {})).active).toMatchObject({ kind: 'sqlite', name: 'full' });
    // room again (a new connection: the reopened session's): the run goes on and is saved
    const again = openSqliteDatabase(join(s.data_dir, 'profiles', 'full', 'chimera.db'));
    again.db.pragma('max_page_count = 1073741823');
    await again.release();
    const moved = await s.service.call('sim/step', { count: 20 });
    expect(moved.status.step).toBeGreaterThan(after.step);
  });

  it('pages tasks and draws the DAG of a campaign', async () => {
    const s = await studio();
    await s.service.call('sim/step', { count: 20 });
    const [c] = (await s.service.call('campaigns/list', {})).campaigns;
    const page = await s.service.call('campaigns/tasks', { campaign_id: c!.id, offset: 0, limit: 5 });
    expect(page.total).toBeGreaterThan(5);
    expect(page.tasks).toHaveLength(5);
    const dag = await s.service.call('campaigns/dag', { campaign_id: c!.id });
    expect(dag.count).toBe(page.total);
    expect(dag.statuses).toHaveLength(dag.count);
    // node i is the i-th task; its dependencies are the indices of its depends_on
    const all = (await s.service.call('campaigns/tasks', { campaign_id: c!.id, offset: 0, limit: 5000 })).tasks;
    const index = new Map(all.map((t, i) => [t.id, i]));
    all.forEach((t, i) => {
      expect(dagDeps(dag, i)).toEqual(t.depends_on.map((d) => index.get(d)));
      expect(STATUS_OF_LETTER[dag.statuses[i]!]).toBe(t.status);
      expect(dag.skills[dag.skill_of[i]!]).toBe(t.skill_name);
    });
    expect(dag.dep_list.length).toBeGreaterThan(0);
    await expect(s.service.call('campaigns/dag', { campaign_id: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('persists settings in the data folder', async () => {
    const s = await studio();
    await s.service.call('settings/set', { theme: 'dark', speed: 100 });
    await s.service.close();
    const again = await studio(s.data_dir);
    expect(await again.service.call('settings/get', {})).toMatchObject({ theme: 'dark', speed: 100 });
  });
});
