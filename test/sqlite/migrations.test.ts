/** The migration planner (dialect-neutral) and the file loader. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrationFiles, migrationChecksum, planMigrations, type MigrationFile } from '../../src/adapters/sqlite/sqlite-migrations.ts';
import { ChimeraError } from '../../src/domain/errors.ts';
import { tempDbPath } from './temp-db.ts';

const m = (version: number, name: string, sql = `-- ${name}`): MigrationFile => ({ version, name, sql, checksum: migrationChecksum(sql) });
const shipped = [m(1, 'initial'), m(2, 'more'), m(3, 'even_more')];
const applied = (...ms: MigrationFile[]) => ms.map(({ version, name, checksum }) => ({ version, name, checksum }));

function refusal(fn: () => unknown): ChimeraError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ChimeraError) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('sqlite migrations: planning', () => {
  it('a new database gets every migration; a current one none; an older one the rest', () => {
    expect(planMigrations('f.db', shipped, []).map((x) => x.version)).toEqual([1, 2, 3]);
    expect(planMigrations('f.db', shipped, applied(...shipped))).toEqual([]);
    expect(planMigrations('f.db', shipped, applied(shipped[0]!)).map((x) => x.version)).toEqual([2, 3]);
  });

  it('line endings do not count as an edit', () => {
    expect(migrationChecksum('a\r\nb\r\n')).toBe(migrationChecksum('a\nb\n'));
  });

  it('refuses an edited, renamed, newer or gapped history, naming the file', () => {
    const edited = refusal(() => planMigrations('f.db', shipped, applied(m(1, 'initial', '-- changed'))));
    expect(edited.message).toMatch(/f\.db: recorded migration 1 "initial".*edited/);
    expect(refusal(() => planMigrations('f.db', shipped, applied(m(1, 'renamed')))).message).toMatch(/does not match/);
    const newer = refusal(() => planMigrations('f.db', shipped, applied(...shipped, m(4, 'future'))));
    expect(newer.message).toMatch(/f\.db was written by a newer version of Chimera \(it has migration 4 "future"; this build knows migrations up to 3\)/);
    expect(refusal(() => planMigrations('f.db', shipped, applied(shipped[0]!, shipped[2]!))).message).toMatch(/migration 2 was never applied but 3 was/);
  });
});

describe('sqlite migrations: files', () => {
  it('loads NNNN_name.sql in order and refuses bad names and gaps', () => {
    const dir = tempDbPath('mig');
    mkdirSync(dir);
    writeFileSync(join(dir, '0002_b.sql'), 'SELECT 2;');
    writeFileSync(join(dir, '0001_a.sql'), 'SELECT 1;');
    writeFileSync(join(dir, 'README.md'), 'not a migration');
    expect(loadMigrationFiles(dir).map((x) => `${x.version}_${x.name}`)).toEqual(['1_a', '2_b']);
    writeFileSync(join(dir, '0004_d.sql'), 'SELECT 4;');
    expect(() => loadMigrationFiles(dir)).toThrow(/0004_d\.sql: expected version 3/);
    writeFileSync(join(dir, '0003 Bad Name.sql'), 'SELECT 3;');
    expect(() => loadMigrationFiles(dir)).toThrow(/name must look like 0001_some_name\.sql/);
  });

  it('the shipped migrations load', () => {
    expect(loadMigrationFiles().map((x) => x.name)).toEqual(['initial', 'queue_rows', 'task_outputs', 'escalated_index', 'audit_without_campaign_index', 'audit_chains']);
  });
});
