/**
 * `chimera inspect`: every kind of record read from a store a simulation wrote, as text and as
 * one JSON object; the store is byte-identical afterwards (always read-only); a chain that was
 * tampered with is reported per campaign with exit 1; bad requests exit 2 with one line. And a
 * production cluster written with only the seed's layout (test/support/seed-writer.ts) on this
 * machine's Postgres and Redis: it reads, odd rows come back marked, the missing audit log is
 * said to be absent, and nothing is created. And `inspect memories --query` over a store whose
 * memories a simulation kept: the k nearest by cosine distance, the same as a brute-force scan.
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
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { dot } from '../../src/domain/vectors.ts';

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

describe('chimera inspect memories --query', () => {
  let mdir: string;
  let mdb: string;
  const rowsFile = () => join(mdir, 'persona-memory', 'rows.sqlite');
  const fileHashes = () => Object.fromEntries([mdb, rowsFile()].map((f) => [f, createHash('sha256').update(readFileSync(f)).digest('hex')]));
  const search = (...args: string[]) => cli(['inspect', 'memories', ...args, '--backend', 'sqlite', '--db', mdb]);
  type Hit = { id: string; persona_id: string; category: string; content: string; distance: number };
  type Found = { backend: string; what: string; query: string; k: number; metric: string; embedder: { model_id: string; dimensions: number }; exact: boolean; items: Hit[]; left_out: number };
  const found = async (...args: string[]): Promise<Found> => {
    const r = await search(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as Found;
  };

  beforeAll(async () => {
    // the memories kept beside the file (persona-memory/), as the app's SQLite profiles keep them
    mdir = mkdtempSync(join(tmpdir(), 'chimera-inspect-memory-'));
    mdb = join(mdir, 'store.db');
    const config = join(tmpdir(), `chimera-inspect-memory-${process.pid}.json`);
    writeFileSync(config, JSON.stringify({ memory: { adapter: 'exact' } }));
    const r = await cli(['simulate', '--backend', 'sqlite', '--db', mdb, '--scenario', 'storm', '--config', config, '--json']);
    rmSync(config);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(mdir, { recursive: true, force: true }));

  it('answers the k nearest by cosine distance of the configured (hashing) embedder, nearest first, writing nothing', async () => {
    const before = fileHashes();
    const listed = JSON.parse((await search('--persona', 'aria', '--limit', '1000', '--json')).stdout) as { items: Hit[]; next_cursor: string | null };
    expect(listed.next_cursor).toBeNull();
    expect(listed.items.length).toBeGreaterThan(5);

    const query = 'repairing denim by hand';
    const out = await found('--query', query, '--k', '5', '--persona', 'aria');
    expect(out).toMatchObject({ backend: 'sqlite', what: 'memories', query, k: 5, metric: 'cosine distance', embedder: { model_id: 'hashing-v1-256', dimensions: 256 }, exact: true, left_out: 0 });
    expect(out.items).toHaveLength(5);
    const d = out.items.map((h) => h.distance);
    expect(d).toEqual([...d].sort((a, b) => a - b));
    for (const h of out.items) expect(h.persona_id).toBe('aria');

    // the same five by brute force: every aria memory embedded here, 1 − cos to the query, nearest first (ties by id)
    const embedder = new HashingEmbedder(256);
    const [q] = await embedder.embed([query]);
    const vectors = await embedder.embed(listed.items.map((m) => m.content));
    const brute = listed.items
      .map((m, i) => ({ id: m.id, distance: 1 - dot(q as Float32Array, vectors[i] as Float32Array) }))
      .sort((a, b) => a.distance - b.distance || a.id.localeCompare(b.id))
      .slice(0, 5);
    await embedder.close();
    expect(out.items.map((h) => h.id)).toEqual(brute.map((b) => b.id));
    out.items.forEach((h, i) => expect(h.distance).toBeCloseTo(brute[i]!.distance, 5));

    // a memory's own words find it first, at distance 0
    const own = listed.items.find((m) => m.category === 'Semantic') as Hit;
    const self = await found('--query', own.content, '--k', '1');
    expect(self.items.map((h) => h.id)).toEqual([own.id]);
    expect(self.items[0]!.distance).toBeCloseTo(0, 5);

    const episodic = await found('--query', 'denim', '--category', 'Episodic', '--k', '100');
    expect(episodic.items.length).toBeGreaterThan(0);
    for (const h of episodic.items) expect(h.category).toBe('Episodic');

    const text = await search('--query', query, '--k', '3', '--persona', 'aria');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PersonaMemory nearest to "repairing denim by hand" \(persona aria\): cosine distance, query embedded here by hashing-v1-256; exact$/);
    expect(lines.slice(1)).toEqual(out.items.slice(0, 3).map((h) => `  ${h.distance.toFixed(4)}  aria  ${h.category.padEnd(8)}  ${h.content.replace(/\s+/g, ' ').trim().slice(0, 99)}${h.content.replace(/\s+/g, ' ').trim().length > 100 ? '…' : ''}  (${h.id})`));
    expect(fileHashes()).toEqual(before);
  });

  it.each([
    [['--query', '   '], /--query: the search text is empty/],
    [['--query', 'denim', '--k', '0'], /--k must be a whole number from 1 to 100, got "0"/],
    [['--query', 'denim', '--k', '101'], /--k must be a whole number from 1 to 100/],
    [['--query', 'denim', '--k', 'ten'], /--k must be a whole number/],
    [['--k', '3'], /--k applies to a search/],
    [['--query', 'denim', '--limit', '3'], /--limit does not apply to a search/],
    [['--query', 'denim', '--category', 'Dream'], /--category must be one of Episodic, Semantic, SOUL/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await search(...args);
    expect([r.code, r.stdout, r.stderr.trim().split('\n').length]).toEqual([2, '', 1]);
    expect(r.stderr).toMatch(message);
  });

  it('refuses --query on anything but memories', async () => {
    const r = await cli(['inspect', 'tasks', '--query', 'denim', '--backend', 'sqlite', '--db', mdb]);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'chimera inspect: --query applies to inspect memories only']);
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
    expect(task.task).toMatchObject({ id: seed.tasks[1]!.id, status: 'COMPLETED', input_data: seed.tasks[1]!.input_data, output_data: seed.tasks[1]!.output_data, skill_name: (seed.tasks[1]!.input_data as { skill_name: string }).skill_name, attempts: null });
    expect(task.history).toEqual([]);
    expect(task.history_absent).toMatch(/^no audit log in this database/);

    const queues = await page('queues');
    expect(queues.items.filter((q) => q.ok !== false).map((q) => q.queue)).toEqual(seed.queues);
    // a key named like a task queue that is not a LIST: listed marked, in its place
    expect(marked(queues.items)).toEqual([{ ok: false, raw: { space: 'task', queue: seed.odd.wrongTypeQueue.queue, key: seed.odd.wrongTypeQueue.key, type: 'string' }, problem: expect.stringMatching(/ is a string, not a list/) }]);
    expect(queues.items.map((q) => q.queue ?? (q.raw as { queue: string }).queue)).toEqual([...seed.queues.filter((q) => q.startsWith('review_queue:')), ...[...seed.queues.filter((q) => q.startsWith('task_queue:')), seed.odd.wrongTypeQueue.queue].sort()]);
    const text = await cli(['inspect', 'queues', '--backend', 'production', '--config', configFile]);
    expect(text.stdout).toContain(`! Redis key ${seed.odd.wrongTypeQueue.key} is a string, not a list`);
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
