/**
 * The readers contract (src/ports/readers.ts): what the studio reads when it inspects stores.
 * Written through the ports, made durable with the entry's checkpoint (a reader sees what is
 * committed), read back page by page. Checked: a keyset walk returns every row exactly once and
 * in order while rows are appended between its pages; every filter gives what the same filter
 * gives in JavaScript over everything the ports return; a record damaged behind the ports' back
 * comes back marked in its place; a bad limit or cursor is refused with a one-line error.
 */
import { beforeEach, expect, it } from 'vitest';
import type { AuditEvent, Task, TaskStatus } from '../../src/domain/schemas.ts';
import { CAMPAIGN_SORT_KEYS, SORT_DIRECTIONS, TASK_SORT_KEYS, type AuditListQuery, type ListSort, type Page, type Readers, type ReadRow } from '../../src/ports/readers.ts';
import type { StateStore } from '../../src/ports/state-store.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { fixtures } from '../support/fixtures.ts';
import type { Harness } from './run.ts';

/** The values of a page whose rows all fit. */
function values<T>(rows: readonly ReadRow<T>[]): T[] {
  return rows.map((r) => {
    if (!r.ok) throw new Error(`unexpected marked row: ${r.problem}`);
    return r.value;
  });
}

/** Every row of a keyset walk, calling `between` after each page that has a next one. */
async function walk<T>(read: (cursor: string | null) => Promise<Page<T>>, between?: (page: number) => Promise<void>): Promise<ReadRow<T>[]> {
  const out: ReadRow<T>[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const p: Page<T> = await read(cursor);
    out.push(...p.items);
    if (p.next_cursor === null) return out;
    expect(p.items.length).toBeGreaterThan(0);
    cursor = p.next_cursor;
    if (between) await between(page);
  }
  throw new Error('walk did not end within 1000 pages');
}

const createdKey = (t: { created_at: string; id: string }): string => `${t.created_at}|${t.id}`;
const byCreated = <R extends { created_at: string; id: string }>(a: R, b: R): number => (createdKey(a) < createdKey(b) ? -1 : createdKey(a) > createdKey(b) ? 1 : 0);
const TIMES = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z'];
const STATUSES: TaskStatus[] = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL'];

/** Every order a list offers (the port's keys × both directions). */
const ordersOf = <K extends string>(keys: readonly K[]): ListSort<K>[] => keys.flatMap((by) => SORT_DIRECTIONS.map((dir) => ({ by, dir })));
/**
 * The port's order in JavaScript (the reference for the store's ORDER BY): (created_at, id) or
 * (key, created_at, id), strings by code unit (byte order for these ASCII values, never a
 * locale's, where 'a_b' and 'a-b' or 'C' and 'a' compare otherwise), every part reversed for desc.
 */
function bySort<R extends { created_at: string; id: string }>(sort: ListSort<string>): (a: R, b: R) => number {
  const key = (r: R): string[] => (sort.by === 'created_at' ? [r.created_at, r.id] : [String((r as Record<string, unknown>)[sort.by]), r.created_at, r.id]);
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return ((ka[i] as string) < (kb[i] as string) ? -1 : 1) * (sort.dir === 'desc' ? -1 : 1);
    }
    return 0;
  };
}
const SKILLS = ['b_skill', 'a_skill', 'C_skill', 'a-skill', 'A_skill'];
const PERSONAS = ['mira', 'aria', 'zed', 'a-b', 'a_b'];

/** The audit filters of the port, in JavaScript (the reference for the store's WHERE). */
function auditMatches(e: AuditEvent, q: AuditListQuery): boolean {
  const details = e.details === undefined ? '' : JSON.stringify(e.details);
  return (
    (q.campaign_id === undefined || e.campaign_id === q.campaign_id) &&
    (q.action === undefined || e.action === q.action) &&
    (q.actor === undefined || e.actor === q.actor) &&
    (q.entity_id === undefined || e.entity_id === q.entity_id) &&
    (q.text === undefined || e.entity_id.includes(q.text) || e.action.includes(q.text) || details.includes(q.text))
  );
}

export function readersContract(h: Harness): void {
  let ns: string;
  let store: StateStore;
  let f: ReturnType<typeof fixtures>;
  beforeEach(async () => {
    ns = await h.namespace();
    store = await h.state(ns);
    f = fixtures(11);
  });
  const durable = (): Promise<boolean> => h.checkpoint(ns);
  /** Readers opened once the file (if any) is in use, as a live inspection finds it. */
  const open = async (): Promise<Readers> => {
    await durable();
    return h.readers(ns);
  };

  it('pages tasks by (created_at, id): every row once, in order, with tasks added between pages', async () => {
    const c = f.campaign();
    const first = Array.from({ length: 40 }, (_, i) => f.task(c.id, { created_at: TIMES[i % TIMES.length] as string }));
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.insertTasks(first);
    });
    const r = await open();
    const late: Task[] = [];
    const early: Task[] = [];
    const rows = await walk(
      (cursor) => r.state!.listTasks({ campaign_id: c.id, cursor, limit: 6 }),
      async (page) => {
        // one task sorting after every row so far (the walk must reach it), one before the cursor (it must not)
        const l = f.task(c.id, { created_at: `2026-02-01T00:00:${String(page).padStart(2, '0')}.000Z` });
        const e = f.task(c.id, { created_at: '2025-12-31T00:00:00.000Z' });
        late.push(l);
        early.push(e);
        await store.transaction((tx) => tx.insertTasks([l, e]));
        await durable();
      },
    );
    const got = values(rows);
    expect(got.map((t) => t.id)).toEqual([...first, ...late].sort(byCreated).map((t) => t.id));
    expect(got).toEqual([...first, ...late].sort(byCreated));
    expect(new Set(got.map((t) => t.id)).size).toBe(got.length);
    expect(early.length).toBeGreaterThan(0);
  });

  it('filters campaigns and tasks as JavaScript does over everything the store holds', async () => {
    const campaigns = [f.campaign({ status: 'ACTIVE' }), f.campaign({ created_at: TIMES[1] as string }), f.campaign({ status: 'ACTIVE', created_at: TIMES[1] as string })];
    const tasks = Array.from({ length: 60 }, (_, i) =>
      f.task((campaigns[i % 3] as { id: string }).id, { status: STATUSES[(i * 7) % STATUSES.length] as TaskStatus, created_at: TIMES[i % 4] as string }),
    );
    await store.transaction(async (tx) => {
      for (const c of campaigns) await tx.insertCampaign(c);
      await tx.insertTasks(tasks);
    });
    const r = await open();
    const all = (await store.listTasks()).sort(byCreated);
    expect(all).toHaveLength(60);
    let cases = 0;
    for (const campaign_id of [undefined, ...campaigns.map((c) => c.id), f.rng.uuid()]) {
      for (const status of [undefined, 'PENDING', 'ESC_HITL', ['COMPLETED', 'FAILED'], []] as (TaskStatus | TaskStatus[] | undefined)[]) {
        const want = all.filter(
          (t) => (campaign_id === undefined || t.campaign_id === campaign_id) && (status === undefined || (typeof status === 'string' ? t.status === status : status.includes(t.status))),
        );
        const got = values(await walk((cursor) => r.state!.listTasks({ campaign_id, status, cursor, limit: 4 })));
        expect(got, `campaign ${campaign_id} status ${JSON.stringify(status)}`).toEqual(want);
        cases += 1;
      }
    }
    expect(cases).toBe(25);
    for (const status of [undefined, 'ACTIVE', 'PAUSED'] as const) {
      const want = campaigns.filter((c) => status === undefined || c.status === status).sort(byCreated);
      expect(values(await walk((cursor) => r.state!.listCampaigns({ status, cursor, limit: 1 })))).toEqual(want);
    }
  });

  it('sorts campaigns and tasks in every order, ties broken by id, filters kept, as JavaScript does', async () => {
    const campaigns = Array.from({ length: 9 }, (_, i) =>
      f.campaign({ persona_id: PERSONAS[(i * 3) % PERSONAS.length] as string, created_at: TIMES[i % 3] as string, status: i % 2 ? 'ACTIVE' : 'PLANNING' }),
    );
    const tasks = Array.from({ length: 48 }, (_, i) =>
      f.task((campaigns[i % 3] as { id: string }).id, {
        skill_name: SKILLS[(i * 7) % SKILLS.length] as string,
        status: STATUSES[i % 3] as TaskStatus,
        created_at: TIMES[(i * 5) % TIMES.length] as string,
      }),
    );
    await store.transaction(async (tx) => {
      for (const c of campaigns) await tx.insertCampaign(c);
      await tx.insertTasks(tasks);
    });
    const r = await open();
    let cases = 0;
    for (const sort of ordersOf(TASK_SORT_KEYS)) {
      const filters: { campaign_id?: string; status?: TaskStatus[] }[] = [{}, { campaign_id: (campaigns[1] as { id: string }).id }, { status: ['PENDING', 'COMPLETED'] }];
      for (const filter of filters) {
        const want = tasks
          .filter((t) => (filter.campaign_id === undefined || t.campaign_id === filter.campaign_id) && (filter.status === undefined || filter.status.includes(t.status)))
          .sort(bySort(sort));
        const got = values(await walk((cursor) => r.state!.listTasks({ ...filter, sort, cursor, limit: 4 })));
        expect(got.map((t) => t.id), `tasks ${JSON.stringify(sort)} ${JSON.stringify(filter)}`).toEqual(want.map((t) => t.id));
        cases += 1;
      }
    }
    for (const sort of ordersOf(CAMPAIGN_SORT_KEYS)) {
      for (const status of [undefined, 'ACTIVE'] as const) {
        const want = campaigns.filter((c) => status === undefined || c.status === status).sort(bySort(sort));
        const got = values(await walk((cursor) => r.state!.listCampaigns({ status, sort, cursor, limit: 2 })));
        expect(got.map((c) => c.id), `campaigns ${JSON.stringify(sort)} ${status}`).toEqual(want.map((c) => c.id));
        cases += 1;
      }
    }
    expect(cases).toBe(4 * 3 + 4 * 2);
    // no sort is the first key ascending
    expect(values((await r.state!.listTasks({ limit: 1000 })).items)).toEqual([...tasks].sort(byCreated));
  });

  it('walks every order exactly while tasks are added between pages: those sorting after the cursor appear, those before it do not', async () => {
    const pad = (n: number): string => String(n).padStart(2, '0');
    // per order: a task that sorts after everything so far, and one that sorts before the cursor
    const ends: Record<string, (page: number) => Partial<Task>> = {
      'created_at asc': (p) => ({ created_at: `2026-02-01T00:00:${pad(p)}.000Z` }),
      'created_at desc': (p) => ({ created_at: `2025-11-01T00:00:${pad(59 - p)}.000Z` }),
      'skill_name asc': (p) => ({ skill_name: `zz${pad(p)}` }),
      'skill_name desc': (p) => ({ skill_name: `AA${pad(99 - p)}` }),
    };
    const starts: Record<string, Partial<Task>> = {
      'created_at asc': { created_at: '2025-12-31T00:00:00.000Z' },
      'created_at desc': { created_at: '2026-03-01T00:00:00.000Z' },
      'skill_name asc': { skill_name: 'AAAA' },
      'skill_name desc': { skill_name: 'zzzz' },
    };
    for (const sort of ordersOf(TASK_SORT_KEYS)) {
      const name = `${sort.by} ${sort.dir}`;
      const c = f.campaign();
      const first = Array.from({ length: 14 }, (_, i) => f.task(c.id, { created_at: TIMES[i % TIMES.length] as string, skill_name: SKILLS[i % 3] as string }));
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.insertTasks(first);
      });
      const r = await open();
      const late: Task[] = [];
      const got = values(
        await walk(
          (cursor) => r.state!.listTasks({ campaign_id: c.id, sort, cursor, limit: 5 }),
          async (page) => {
            const l = f.task(c.id, { created_at: TIMES[0] as string, ...ends[name]!(page) });
            late.push(l);
            await store.transaction((tx) => tx.insertTasks([l, f.task(c.id, { created_at: TIMES[0] as string, ...starts[name] })]));
            await durable();
          },
        ),
      );
      expect(late.length, name).toBeGreaterThan(0);
      expect(got.map((t) => t.id), name).toEqual([...first, ...late].sort(bySort(sort)).map((t) => t.id));
    }
  });

  it('refuses a cursor of another order and a sort the list does not have, naming it', async () => {
    const c = f.campaign();
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.insertTasks([f.task(c.id), f.task(c.id)]);
    });
    const r = await open();
    const asc = (await r.state!.listTasks({ limit: 1 })).next_cursor;
    const desc = (await r.state!.listTasks({ limit: 1, sort: { by: 'created_at', dir: 'desc' } })).next_cursor;
    const bySkill = (await r.state!.listTasks({ limit: 1, sort: { by: 'skill_name', dir: 'asc' } })).next_cursor;
    await expect(r.state!.listTasks({ cursor: asc, sort: { by: 'created_at', dir: 'desc' } })).rejects.toThrow(/^invalid cursor for tasks-desc/);
    await expect(r.state!.listTasks({ cursor: desc })).rejects.toThrow(/^invalid cursor for tasks:/);
    await expect(r.state!.listTasks({ cursor: bySkill, sort: { by: 'skill_name', dir: 'desc' } })).rejects.toThrow(/^invalid cursor for tasks-by-skill_name-desc/);
    await expect(r.state!.listTasks({ sort: { by: 'updated_at' as 'created_at', dir: 'asc' } })).rejects.toThrow(/^invalid sort.by "updated_at" for tasks: must be one of created_at, skill_name$/);
    await expect(r.state!.listCampaigns({ sort: { by: 'skill_name' as 'created_at', dir: 'asc' } })).rejects.toThrow(/^invalid sort.by "skill_name" for campaigns/);
    await expect(r.state!.listCampaigns({ sort: { by: 'created_at', dir: 'up' as 'asc' } })).rejects.toThrow(/^invalid sort.dir "up": must be asc or desc$/);
  });

  it('filters the audit log by campaign, action, actor, entity and text, newest or oldest first, as JavaScript does', async () => {
    const campaigns = [f.rng.uuid(), f.rng.uuid(), f.rng.uuid()];
    const actions = ['task.created', 'task.claimed', 'task.decided'];
    const actors = ['planner', 'worker-1', 'judge'];
    const entities = Array.from({ length: 5 }, () => f.rng.uuid());
    for (let i = 0; i < 60; i++) {
      const draft = f.audit({
        campaign_id: i % 4 === 3 ? null : (campaigns[i % 3] as string),
        action: actions[(i * 5) % 3] as string,
        actor: actors[(i * 2) % 3] as string,
        entity_type: 'task',
        entity_id: entities[i % 5] as string,
        details: { note: `n${i}`, flag: i % 7 === 0 ? 'needle' : 'hay' },
      });
      await store.transaction((tx) => tx.appendAudit(draft));
    }
    const r = await open();
    const all = await store.readAudit();
    expect(all).toHaveLength(60);
    const queries: AuditListQuery[] = [
      {},
      { campaign_id: campaigns[0] },
      { action: 'task.claimed' },
      { actor: 'judge' },
      { entity_id: entities[2] },
      { text: 'needle' },
      { text: 'claim' },
      { text: (entities[3] as string).slice(0, 8) },
      { campaign_id: campaigns[1], actor: 'planner', text: 'hay' },
      { campaign_id: f.rng.uuid() },
    ];
    for (const q of queries) {
      for (const order of ['newest', 'oldest'] as const) {
        const want = all.filter((e) => auditMatches(e, q));
        if (order === 'newest') want.reverse();
        const got = values(await walk((cursor) => r.audit!.list({ ...q, order, cursor, limit: 7 })));
        expect(got, `${JSON.stringify(q)} ${order}`).toEqual(want);
      }
    }
    // the default order is newest first
    expect(values((await r.audit!.list({ limit: 3 })).items).map((e) => e.seq)).toEqual([60, 59, 58]);
  });

  it('pages the audit log while events are appended: oldest first reaches them, newest first never repeats one', async () => {
    const append = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const draft = f.audit({ campaign_id: f.rng.uuid() });
        await store.transaction((tx) => tx.appendAudit(draft));
      }
      await durable();
    };
    await append(30);
    const r = await open();
    const oldest = values(await walk((cursor) => r.audit!.list({ order: 'oldest', cursor, limit: 8 }), () => append(2)));
    const afterOldest = await store.readAudit();
    expect(oldest.map((e) => e.seq)).toEqual(afterOldest.map((e) => e.seq));
    expect(oldest).toEqual(afterOldest);
    const count = afterOldest.length;
    const newest = values(await walk((cursor) => r.audit!.list({ order: 'newest', cursor, limit: 8 }), () => append(2)));
    // events appended during a newest-first walk sort before its cursor: it shows each event it had once
    expect(newest.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, i) => count - i));
  });

  it('reads one task with its audit history, oldest first, paged on through the audit reader', async () => {
    const c = f.campaign();
    const t = f.task(c.id);
    const other = f.task(c.id);
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.insertTasks([t, other]);
    });
    for (const [entity, action] of [[t.id, 'task.created'], [other.id, 'task.created'], [t.id, 'task.claimed'], [t.id, 'task.decided']] as const) {
      await store.transaction((tx) => tx.appendAudit(f.audit({ campaign_id: c.id, entity_type: 'task', entity_id: entity, action })));
    }
    const r = await open();
    const got = await r.state!.getTask(t.id, 2);
    expect(got?.task).toEqual({ ok: true, value: t });
    expect(values(got!.history.items).map((e) => e.action)).toEqual(['task.created', 'task.claimed']);
    const rest = await r.audit!.list({ entity_id: t.id, order: 'oldest', cursor: got!.history.next_cursor });
    expect(values(rest.items).map((e) => e.action)).toEqual(['task.decided']);
    expect(rest.next_cursor).toBeNull();
    expect(await r.state!.getTask(f.rng.uuid())).toBeNull();
  });

  it('lists queues with their depths and one queue’s waiting and leased items, as the queue port reports them', async () => {
    const clock = new VirtualClock();
    const task = await h.queue<{ n: number }>(ns, clock, 'task');
    const review = await h.queue<{ n: number }>(ns, clock, 'review');
    const items = (prefix: string, n: number): { id: string; payload: { n: number } }[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, payload: { n: i } }));
    await task.enqueue('task_queue:a', items('a', 10));
    await task.enqueue('task_queue:b', items('b', 3), { delay_ms: 5_000 });
    await review.enqueue('review_queue:a', items('r', 4));
    clock.advance(10);
    await task.enqueue('task_queue:a', items('late', 2));
    const leases = [];
    for (let i = 0; i < 4; i++) leases.push(await task.claim('task_queue:a', `w${i % 2}`, 1_000 * (4 - i)));
    await task.retry('task_queue:a', leases[1]!.lease_id, { delay_ms: 50 });
    await review.claim('review_queue:a', 'judge', 500);
    await task.enqueue('task_queue:c', items('c', 1));
    await task.claim('task_queue:c', 'w9', 100);
    await task.ack('task_queue:c', (await task.leased('task_queue:c', 1))[0]!.lease_id);
    const r = await open();
    const now_ms = clock.now_ms();
    const want = [];
    for (const [space, q] of [['review', review], ['task', task]] as const) {
      for (const queue of await q.queues()) want.push({ space, queue, depth: await q.depth(queue) });
    }
    const listed = values(await walk((cursor) => r.queues!.listQueues({ now_ms, cursor, limit: 1 })));
    expect(listed).toEqual(want);
    expect(listed.map((s) => s.queue)).not.toContain('task_queue:c');
    for (const [space, q] of [['review', review], ['task', task]] as const) {
      for (const queue of await q.queues()) {
        const waiting = values(await walk((cursor) => r.queues!.items({ space, queue, state: 'waiting', cursor, limit: 3 })));
        expect(waiting.map(({ id, payload, attempts, enqueued_at_ms, available_at_ms }) => ({ id, payload, attempts, enqueued_at_ms, available_at_ms }))).toEqual(
          await q.peek(queue, 1000),
        );
        expect(waiting.every((w) => w.lease_id === null && w.consumer === null && w.expires_at_ms === null)).toBe(true);
        const leased = values(await walk((cursor) => r.queues!.items({ space, queue, state: 'leased', cursor, limit: 2 })));
        expect(leased.map(({ id, lease_id, consumer, expires_at_ms }) => ({ id, lease_id, consumer, expires_at_ms }))).toEqual(
          (await q.leased(queue, 1000)).map((l) => ({ id: l.item.id, lease_id: l.lease_id, consumer: l.consumer, expires_at_ms: l.expires_at_ms })),
        );
      }
    }
    expect(values((await r.queues!.items({ space: 'task', queue: 'task_queue:none', state: 'waiting' })).items)).toEqual([]);
  });

  it('lists cached personas with their trait counts and reads one', async () => {
    const cache = await h.personaCache(ns);
    const ids = Array.from({ length: 12 }, (_, i) => `persona-${String.fromCharCode(108 - i)}`);
    for (const [i, id] of ids.entries()) await cache.set(id, Object.fromEntries(Array.from({ length: i }, (_, k) => [`trait${k}`, `v${k}`])));
    const r = await open();
    const got = values(await walk((cursor) => r.personaCache!.list({ cursor, limit: 5 })));
    expect(got).toEqual(ids.map((persona_id, i) => ({ persona_id, trait_count: i })).sort((a, b) => (a.persona_id < b.persona_id ? -1 : 1)));
    expect(await r.personaCache!.get('persona-j')).toEqual({ ok: true, value: await cache.get('persona-j') });
    expect(await r.personaCache!.get('nobody')).toBeNull();
  });

  it('returns records that do not fit their schema marked, in their place, and pages on past them', async () => {
    const c = [f.campaign(), f.campaign({ created_at: TIMES[1] as string }), f.campaign({ created_at: TIMES[2] as string })];
    const tasks = Array.from({ length: 5 }, (_, i) => f.task((c[0] as { id: string }).id, { created_at: TIMES[i % 4] as string }));
    await store.transaction(async (tx) => {
      for (const x of c) await tx.insertCampaign(x);
      await tx.insertTasks(tasks);
    });
    for (let i = 0; i < 5; i++) await store.transaction((tx) => tx.appendAudit(f.audit({ campaign_id: (c[0] as { id: string }).id })));
    const cache = await h.personaCache(ns);
    for (const p of ['p-a', 'p-b', 'p-c']) await cache.set(p, { tone: 'warm' });
    await durable();
    const sortedTasks = [...tasks].sort(byCreated);
    const badTask = sortedTasks[2] as Task;
    await h.malform(ns, 'campaign', (c[1] as { id: string }).id);
    await h.malform(ns, 'task', badTask.id);
    await h.malform(ns, 'audit', '3');
    await h.malform(ns, 'persona', 'p-b');
    const r = await open();
    const marked = <T,>(rows: ReadRow<T>[]): number[] => rows.flatMap((row, i) => (row.ok ? [] : [i]));
    const problem = (row: ReadRow<unknown> | undefined): { raw: unknown; problem: string } => {
      if (!row || row.ok) throw new Error('expected a marked row');
      expect(row.problem).toMatch(/\S/);
      expect(row.problem).not.toContain('\n');
      return row;
    };

    const campaigns = await walk((cursor) => r.state!.listCampaigns({ cursor, limit: 1 }));
    expect(marked(campaigns)).toEqual([1]);
    expect((problem(campaigns[1]).raw as { id: string }).id).toBe((c[1] as { id: string }).id);

    const taskRows = await walk((cursor) => r.state!.listTasks({ cursor, limit: 2 }));
    expect(taskRows).toHaveLength(5);
    expect(marked(taskRows)).toEqual([2]);
    expect((problem(taskRows[2]).raw as { id: string }).id).toBe(badTask.id);
    expect(taskRows.filter((t) => t.ok).map((t) => (t.ok ? t.value.id : ''))).toEqual(sortedTasks.filter((t) => t !== badTask).map((t) => t.id));
    const one = await r.state!.getTask(badTask.id);
    expect(one?.task.ok).toBe(false);

    const audit = await walk((cursor) => r.audit!.list({ order: 'oldest', cursor, limit: 2 }));
    expect(audit).toHaveLength(5);
    expect(marked(audit)).toEqual([2]);
    expect((problem(audit[2]).raw as { seq: number }).seq).toBe(3);
    expect(marked(await walk((cursor) => r.audit!.list({ campaign_id: (c[0] as { id: string }).id, cursor, limit: 2 })))).toEqual([2]);

    const personas = await walk((cursor) => r.personaCache!.list({ cursor, limit: 1 }));
    expect(marked(personas)).toEqual([1]);
    expect(problem(personas[1]).problem).toMatch(/array|object/);
    expect((await r.personaCache!.get('p-b'))?.ok).toBe(false);
  });

  it('refuses a bad limit or a cursor of another list with a one-line error', async () => {
    const c = f.campaign();
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.insertTasks([f.task(c.id), f.task(c.id)]);
      await tx.appendAudit(f.audit({ campaign_id: c.id }));
      await tx.appendAudit(f.audit({ campaign_id: c.id }));
    });
    const r = await open();
    for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
      await expect(r.state!.listTasks({ limit })).rejects.toThrow(/^invalid limit .*: must be an integer from 1 to 1000$/);
    }
    const cursor = (await r.state!.listTasks({ limit: 1 })).next_cursor;
    expect(cursor).not.toBeNull();
    await expect(r.state!.listCampaigns({ cursor })).rejects.toThrow(/^invalid cursor for campaigns/);
    await expect(r.audit!.list({ cursor })).rejects.toThrow(/^invalid cursor for audit-newest/);
    await expect(r.state!.listTasks({ cursor: 'tasks~!!!' })).rejects.toThrow(/^invalid cursor for tasks/);
    const audit = (await r.audit!.list({ order: 'oldest', limit: 1 })).next_cursor;
    await expect(r.audit!.list({ order: 'newest', cursor: audit })).rejects.toThrow(/^invalid cursor for audit-newest/);
  });
}
