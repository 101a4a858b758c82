/**
 * `chimera inspect`: every kind of record read from a store a simulation wrote, as text and as
 * one JSON object; the store is byte-identical afterwards (always read-only); a chain that was
 * tampered with is reported per campaign with exit 1; bad requests exit 2 with one line. And a
 * production cluster written with only the seed's layout (test/support/seed-writer.ts) on this
 * machine's Postgres and Redis: it reads, odd rows come back marked, the missing audit log is
 * said to be absent, and nothing is created.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { deleteKeys } from '../production/support.ts';
import { keysUnder, seedTables, writeSeedCluster, type SeedWritten } from '../support/seed-writer.ts';
import { testDatabase, testRedisPrefix, testRedisUrl } from '../support/servers.ts';

let dir: string;
let db: string;
const hashes = () => Object.fromEntries(readdirSync(dir).map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
const inspect = (...args: string[]) => cli(['inspect', ...args, '--backend', 'sqlite', '--db', db]);
const json = async (...args: string[]) => {
  const r = await inspect(...args, '--json');
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown> & { items: { id?: string; ok?: boolean }[]; next_cursor: string | null };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chimera-inspect-'));
  db = join(dir, 'store.db');
  const r = await cli(['simulate', '--backend', 'sqlite', '--db', db, '--scenario', 'storm', '--json']);
  expect(r.code, r.stderr).toBe(0);
});

describe('chimera inspect', () => {
  it('reads campaigns, tasks, a task with its history, queues, cache and the audit log, writing nothing', async () => {
    const before = hashes();
    const campaigns = await json('campaigns');
    expect(campaigns.items.length).toBe(2);
    expect(campaigns).toMatchObject({ backend: 'sqlite', what: 'campaigns', next_cursor: null });
    const tasks = await json('tasks', '--limit', '5', '--status', 'COMPLETED');
    expect(tasks.items).toHaveLength(5);
    expect(tasks.next_cursor).toEqual(expect.any(String));
    const next = await json('tasks', '--limit', '5', '--status', 'COMPLETED', '--cursor', tasks.next_cursor as string);
    expect(next.items.map((t) => t.id)).not.toContain(tasks.items[0]!.id);
    const one = (await json('task', tasks.items[0]!.id as string)) as unknown as { task: { id: string; status: string }; history: { action: string }[] };
    expect(one.task).toMatchObject({ id: tasks.items[0]!.id, status: 'COMPLETED' });
    expect(one.history.map((h) => h.action)).toContain('task.claimed');
    expect((await json('queues')).items).toEqual([]);
    const cache = await json('cache');
    expect(cache.items.map((p) => (p as { persona_id: string }).persona_id)).toEqual(['aria', 'mira']);
    const audit = await json('audit', '--limit', '3');
    expect(audit.items).toHaveLength(3);
    const text = await inspect('campaigns');
    expect(text.stdout).toMatch(/COMPLETED/);
    expect(hashes()).toEqual(before);
  });

  it('verifies every audit chain, and names the campaign whose chain was tampered with (exit 1)', async () => {
    const ok = await json('audit', '--verify');
    expect(ok).toMatchObject({ ok: true, malformed: 0, broken: null });
    expect(Object.keys(ok.chains as object)).toHaveLength(3);
    const copy = join(dir, 'tampered.db');
    const src = new Database(db, { readonly: true });
    await src.backup(copy);
    src.close();
    const w = new Database(copy);
    const row = w.prepare("SELECT seq, campaign_id FROM audit_log WHERE action = 'judge.decided' ORDER BY seq LIMIT 1").get() as { seq: number; campaign_id: string };
    w.prepare("UPDATE audit_log SET details = '{\"tampered\":true}' WHERE seq = ?").run(row.seq);
    w.close();
    const r = await cli(['inspect', 'audit', '--verify', '--backend', 'sqlite', '--db', copy, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; broken: { seq: number }; chains: Record<string, { ok: boolean }> };
    expect(out.ok).toBe(false);
    expect(out.broken.seq).toBe(row.seq);
    expect(out.chains[row.campaign_id]!.ok).toBe(false);
  });

  it.each([
    [[], /say what to inspect/],
    [['tables'], /cannot inspect "tables"/],
    [['queue'], /needs a queue NAME/],
    [['campaigns', 'extra'], /takes no argument/],
    [['campaigns', '--status', 'DONE'], /--status must be one of PLANNING/],
    [['cache', '--status', 'ACTIVE'], /--status applies to/],
    [['campaigns', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
    [['campaigns', '--verify'], /--verify applies to inspect audit only/],
    [['tasks', '--cursor', 'nonsense'], /cursor/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await inspect(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('refuses the in-process backend, which keeps nothing to inspect', async () => {
    const r = await cli(['inspect', 'campaigns', '--backend', 'memory']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keeps nothing outside the process/);
  });
});

describe("chimera inspect on a cluster written with only the seed's layout", () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let seed: SeedWritten;
  let configFile: string;
  const redisUrl = testRedisUrl();
  const prefix = testRedisPrefix('cli-inspect-seed');
  type Row = { ok?: boolean; problem?: string; raw?: unknown; id?: string; persona_id?: string; queue?: string };
  const run = (...args: string[]) => cli(['inspect', ...args, '--backend', 'production', '--config', configFile, '--json']);
  const page = async (...args: string[]) => {
    const r = await run(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { backend: string; items: Row[]; next_cursor: string | null; absent?: string };
  };
  const marked = (items: Row[]) => items.filter((x) => x.ok === false);

  beforeAll(async () => {
    db = await testDatabase('cli_inspect_seed');
    seed = await writeSeedCluster({ pgUrl: db.url, redisUrl, prefix });
    const dir = mkdtempSync(join(tmpdir(), 'chimera-inspect-seed-'));
    configFile = join(dir, 'cluster.json');
    writeFileSync(configFile, JSON.stringify({ production: { postgres_url: db.url, redis_url: redisUrl, redis_prefix: prefix } }));
  });
  afterAll(async () => {
    rmSync(join(configFile, '..'), { recursive: true, force: true });
    await deleteKeys(redisUrl, prefix);
    await db?.drop();
  });

  it('reads campaigns, tasks, queues and the cache as one JSON object each, the odd rows marked in place', async () => {
    const campaigns = await page('campaigns');
    expect(campaigns.backend).toBe('production');
    expect(campaigns.items.filter((c) => c.ok !== false).map((c) => c.id)).toEqual(seed.campaigns.filter((c) => c.title !== null).map((c) => c.id));
    expect(marked(campaigns.items).map((c) => (c.raw as { id: string }).id)).toEqual([seed.odd.blankCampaign]);
    expect(marked(campaigns.items)[0]?.problem).toMatch(/title/);

    const tasks = await page('tasks');
    expect(tasks.items).toHaveLength(seed.tasks.length);
    expect(marked(tasks.items).map((t) => (t.raw as { id: string }).id)).toEqual([seed.odd.unknownStatusTask]);
    expect(marked(tasks.items)[0]?.problem).toMatch(/^status: /);
    // a task as a Chimera service wrote it: the seed's columns, ours null
    const one = (await run('task', seed.tasks[1]!.id)).stdout;
    const task = JSON.parse(one) as { task: Record<string, unknown>; history: unknown[]; history_absent?: string };
    expect(task.task).toMatchObject({ id: seed.tasks[1]!.id, status: 'COMPLETED', input_data: seed.tasks[1]!.input_data, output_data: seed.tasks[1]!.output_data, skill_name: null, attempts: null });
    expect(task.history).toEqual([]);
    expect(task.history_absent).toMatch(/^no audit log in this database/);

    const queues = await page('queues');
    expect(queues.items.map((q) => q.queue)).toEqual(seed.queues);
    const odd = await page('queue', seed.odd.notJson.queue);
    expect(odd.items.map((i) => i.ok === false)).toEqual([true, true]);
    expect(odd.items.map((i) => i.problem)).toEqual([expect.stringMatching(/payload is not a WorkerTaskInput.*params/), expect.stringMatching(/not JSON/)]);

    const cache = await page('cache');
    expect(cache.items.filter((p) => p.ok !== false).map((p) => p.persona_id)).toEqual(seed.personas);
    expect(marked(cache.items).map((p) => (p.raw as { persona_id: string }).persona_id)).toEqual([seed.odd.wrongType.persona_id]);
  });

  it('says the audit log is absent: listing it is empty (exit 0), verifying it verifies nothing (exit 1)', async () => {
    const audit = await page('audit');
    expect(audit).toMatchObject({ items: [], absent: expect.stringMatching(/^no audit log in this database/) });
    const verify = await run('audit', '--verify');
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: false, checked: 0, absent: expect.stringMatching(/no audit_log table/) });
    const text = await cli(['inspect', 'audit', '--verify', '--backend', 'production', '--config', configFile]);
    expect(text.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^audit chains: NOT verified · nothing to verify: no audit log in this database/)]);
  });

  it('creates nothing: the database keeps exactly the seed\'s tables, Redis exactly the writer\'s keys', async () => {
    await page('campaigns');
    await page('queues');
    await page('cache');
    expect(await seedTables(db.url)).toEqual(['public.campaigns', 'public.tasks']);
    expect(await keysUnder(redisUrl, prefix)).toEqual(seed.keys);
  });
});
