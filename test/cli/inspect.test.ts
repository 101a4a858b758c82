/**
 * `chimera inspect`: every kind of record read from a store a simulation wrote, as text and as
 * one JSON object; the store is byte-identical afterwards (always read-only); a chain that was
 * tampered with is reported per campaign with exit 1; bad requests exit 2 with one line.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';

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
