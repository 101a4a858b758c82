/**
 * The read-only inspect session over SQLite files: a real run's file read through every reader
 * leaves the file's bytes and its folder's listing as they were (closed file: an in-memory
 * copy; a writer holding it: read-only in place, seeing its commits), real data fits every
 * schema, and files that are missing, not SQLite or another application's are refused in one
 * line without a change.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { InspectSession } from '../../src/app/inspect-session.ts';
import { composeReaders } from '../../src/config/compose.ts';
import { parseConfig } from '../../src/config/config.ts';
import { sqliteReaders } from '../../src/adapters/sqlite/sqlite-readers.ts';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { TASK_COLUMNS, auditToRow, taskToRow } from '../../src/adapters/sqlite/sqlite-rows.ts';
import { sealAuditEvent } from '../../src/domain/audit.ts';
import { migrationsUpTo } from '../sqlite/temp-db.ts';
import type { Page, ReadRow } from '../../src/ports/readers.ts';
import { fixtures } from '../support/fixtures.ts';
import { folderState, inOwnFolder, stormRun } from '../sqlite/snapshot-support.ts';

async function all<T>(read: (cursor: string | null) => Promise<Page<T>>): Promise<ReadRow<T>[]> {
  const out: ReadRow<T>[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10_000; i++) {
    const p: Page<T> = await read(cursor);
    out.push(...p.items);
    if (!p.next_cursor) return out;
    cursor = p.next_cursor;
  }
  throw new Error('walk did not end');
}

const bad = (rows: readonly ReadRow<unknown>[]): string[] => rows.flatMap((r) => (r.ok ? [] : [r.problem]));

describe('inspect session over SQLite', () => {
  it('reads every store of a real run and leaves the file and its folder byte for byte as they were', async () => {
    const file = await stormRun(7, 10);
    const dir = dirname(file);
    const rows = join(dir, 'persona-memory', 'rows.sqlite');
    const before = folderState(dir);
    expect([...before.keys()].some((k) => k.endsWith('-wal'))).toBe(false);
    const s = await InspectSession.open(() => sqliteReaders({ database: file, ...(existsSync(rows) ? { memoryRows: rows } : {}) }));
    expect(s.kind).toBe('sqlite');
    const campaigns = await all((cursor) => s.campaigns({ cursor, limit: 2 }));
    const tasks = await all((cursor) => s.tasks({ cursor, limit: 50 }));
    const audit = await all((cursor) => s.audit({ cursor, limit: 500 }));
    const queues = await all((cursor) => s.queues({ now_ms: 0, cursor }));
    const personas = await all((cursor) => s.personas({ cursor }));
    expect(campaigns.length).toBeGreaterThan(0);
    expect(tasks.length).toBeGreaterThan(20);
    // the whole log, newest first: seq N down to 1
    expect(audit.map((r) => (r.ok ? r.value.seq : 0))).toEqual(Array.from({ length: audit.length }, (_, i) => audit.length - i));
    expect(audit.length).toBeGreaterThan(10);
    expect(queues.length).toBeGreaterThan(0);
    expect(personas.length).toBeGreaterThan(0);
    // what the studio wrote fits every schema
    expect([...bad(campaigns), ...bad(tasks), ...bad(audit), ...bad(queues), ...bad(personas)]).toEqual([]);
    for (const q of queues) {
      if (!q.ok) continue;
      for (const state of ['waiting', 'leased'] as const) {
        expect(bad(await all((cursor) => s.queueItems({ space: q.value.space, queue: q.value.queue, state, cursor })))).toEqual([]);
      }
    }
    // a task's history is the audit events about it, oldest first (tasks the log names, and one it may not)
    const events = audit.flatMap((r) => (r.ok ? [r.value] : [])).reverse();
    const named = new Set(events.filter((e) => e.entity_type === 'task').map((e) => e.entity_id));
    expect(named.size).toBeGreaterThan(0);
    for (const t of tasks.filter((r) => r.ok && named.has(r.value.id)).concat(tasks.slice(0, 1))) {
      if (!t.ok) continue;
      const one = await s.task(t.value.id, 1000);
      expect(one?.task).toEqual(t);
      expect(one?.history.items).toEqual(events.filter((e) => e.entity_id === t.value.id).map((value) => ({ ok: true, value })));
    }
    expect(s.serves).toEqual(['state', 'audit', 'queues', 'personaCache', 'memory']);
    {
      const memories = await all((cursor) => s.memories({ cursor }));
      expect(memories.length).toBeGreaterThan(0);
      expect(memories.length).toBe(await s.countMemories());
      expect(bad(memories)).toEqual([]);
    }
    await s.close();
    expect(folderState(dir)).toEqual(before);
  });

  it('opens through the composition root from a config alone (the registry entry says how), changing nothing', async () => {
    const file = await stormRun(5, 8);
    const dir = dirname(file);
    const before = folderState(dir);
    const s = await InspectSession.open(() => composeReaders(parseConfig({ mode: 'sqlite', data_dir: dir, sqlite: { path: file } })));
    expect(s.kind).toBe('sqlite');
    expect((await s.campaigns({ limit: 10 })).items.length).toBeGreaterThan(0);
    const a = await s.audit({ limit: 5 });
    expect(a.items.length).toBe(5);
    await s.close();
    expect(folderState(dir)).toEqual(before);
    await expect(composeReaders(parseConfig({ mode: 'in-memory' }))).rejects.toThrow(/in-memory profile cannot be inspected/);
  });

  it('reads a file a writer holds open in place, sees its commits, and changes neither the file, its log nor the folder listing', async () => {
    const file = inOwnFolder('inspect-live', 'live.db');
    const dir = dirname(file);
    const f = fixtures(3);
    const sdb = openSqliteDatabase(file);
    const store = new SqliteStateStore(sdb);
    try {
      const c = f.campaign();
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.appendAudit(f.audit({ campaign_id: c.id }));
      });
      sdb.checkpoint();
      const names = readdirSync(dir).sort();
      expect(names).toEqual(['live.db', 'live.db-shm', 'live.db-wal', 'live.db.owner']);
      const bytes = { db: readFileSync(file), wal: readFileSync(`${file}-wal`) };
      const readers = sqliteReaders({ database: file });
      expect(readers.modes.database).toBe('live');
      const s = await InspectSession.open(readers);
      expect((await s.audit()).items).toHaveLength(1);
      await s.close();
      expect(readdirSync(dir).sort()).toEqual(names);
      expect(readFileSync(file).equals(bytes.db)).toBe(true);
      expect(readFileSync(`${file}-wal`).equals(bytes.wal)).toBe(true);

      // a live inspection sees what the writer commits after it opened
      const again = await InspectSession.open(() => sqliteReaders({ database: file }));
      await store.transaction((tx) => tx.appendAudit(f.audit({ campaign_id: c.id, action: 'campaign.paused' })));
      expect((await again.audit()).items).toHaveLength(1); // held in the writer's batch: not committed yet
      sdb.checkpoint();
      const seen = (await again.audit()).items;
      expect(seen.map((r) => (r.ok ? r.value.action : r.problem))).toEqual(['campaign.paused', 'campaign.created']);
      await expect(again.memories()).rejects.toThrow(/^this inspection \(sqlite\) cannot read memory: the backend serves no memory reader$/);
      await again.close();
      await expect(again.campaigns()).rejects.toThrow(/closed/);
    } finally {
      await store.close();
    }
  });

  it('reads what a killed writer left (a -wal with commits, no -shm, no owner lock) from a private copy, changing nothing', async () => {
    const src = inOwnFolder('inspect-killed-src', 'w.db');
    const f = fixtures(9);
    const sdb = openSqliteDatabase(src);
    const store = new SqliteStateStore(sdb);
    const dir = dirname(inOwnFolder('inspect-killed', 'x.db'));
    const file = join(dir, 'killed.db');
    try {
      sdb.db.pragma('wal_autocheckpoint = 0'); // the commits stay in the -wal, as after a kill
      const c = f.campaign();
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.appendAudit(f.audit({ campaign_id: c.id }));
      });
      sdb.checkpoint();
      // the files as a kill leaves them: the database and its log, no shared memory, no live owner
      copyFileSync(src, file);
      copyFileSync(`${src}-wal`, `${file}-wal`);
      expect(readFileSync(`${file}-wal`).length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
    const before = folderState(dir);
    const readers = sqliteReaders({ database: file });
    expect(readers.modes.database).toBe('copy');
    const s = await InspectSession.open(readers);
    expect((await s.campaigns()).items).toHaveLength(1);
    expect((await s.audit()).items).toHaveLength(1);
    await s.close();
    expect(folderState(dir)).toEqual(before);
  });

  it('reads a file of schema version 2 as it is (outputs in the task row, audit without chain_seq), without migrating it', async () => {
    const file = inOwnFolder('inspect-v2', 'v2.db');
    const f = fixtures(5);
    const c = f.campaign();
    const t = f.task(c.id, { status: 'COMPLETED', output_data: { skill_name: 'content_generation', confidence_score: 0.9 } });
    const old = openSqliteDatabase(file, { migrationsDir: migrationsUpTo(2), commit: 'each' });
    // rows as the version-2 adapter wrote them: the task's output in its own column, no chain_seq
    const insert = (table: string, row: Record<string, unknown>): void => {
      const cols = Object.keys(row);
      old.db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((k) => row[k]));
    };
    insert('campaigns', { ...c });
    const taskRow = taskToRow(t) as unknown as Record<string, unknown>;
    insert('tasks', Object.fromEntries(TASK_COLUMNS.split(', ').map((k) => [k, taskRow[k]])));
    const e = sealAuditEvent(null, f.audit({ campaign_id: c.id, entity_type: 'task', entity_id: t.id }), 1);
    const { chain_seq: _chain, ...eventRow } = auditToRow(e);
    insert('audit_log', eventRow);
    await old.release();
    const dir = dirname(file);
    const before = folderState(dir);
    const s = await InspectSession.open(() => sqliteReaders({ database: file }));
    expect((await s.tasks()).items).toEqual([{ ok: true, value: t }]);
    const one = await s.task(t.id);
    expect(one?.history.items).toEqual([{ ok: true, value: { ...e, chain_seq: 0 } }]);
    await s.close();
    expect(folderState(dir)).toEqual(before);
  });

  it('refuses a missing file, a file that is not SQLite and another application’s database in one line, changing nothing', async () => {
    const dir = dirname(inOwnFolder('inspect-bad', 'x.db'));
    writeFileSync(join(dir, 'notes.db'), 'these are not the pages you are looking for\n'.repeat(10));
    const other = new Database(join(dir, 'other.db'));
    other.pragma('application_id = 1234');
    other.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    other.close();
    const before = folderState(dir);
    const cases: [string, RegExp][] = [
      ['missing.db', /missing\.db does not exist; nothing to inspect\.$/],
      ['notes.db', /notes\.db is not a SQLite database/],
      ['other.db', /other\.db is not a Chimera database \(application_id 0x4d2\); nothing was read or changed\.$/],
    ];
    for (const [name, message] of cases) {
      let err: unknown = null;
      try {
        await InspectSession.open(() => sqliteReaders({ database: join(dir, name) }));
      } catch (e) {
        err = e;
      }
      expect((err as Error | null)?.message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
      expect((err as { code?: string }).code).toBe('BAD_DATABASE');
    }
    expect(folderState(dir)).toEqual(before);
  });
});
