/**
 * REQUIRE_ADAPTERS (as CI sets it): every entry it names must exist in the table and not be
 * narrowed away by ADAPTERS; one that cannot run fails its suites (test/contract/run.ts) with
 * the reason, instead of being skipped.
 */
import { describe, expect, it } from 'vitest';
import { ADAPTERS, ALL_ADAPTERS, REQUIRED_ADAPTERS, envList } from '../adapters.ts';
import { unavailableVerdict } from './run.ts';

describe('REQUIRE_ADAPTERS', () => {
  for (const name of REQUIRED_ADAPTERS) {
    it(`${name} is an entry of the table and is not narrowed away by ADAPTERS`, () => {
      const known = ALL_ADAPTERS.map((a) => a.name);
      if (!known.includes(name)) throw new Error(`REQUIRE_ADAPTERS names ${name}, which has no entry (entries: ${known.join(', ')})`);
      if (!ADAPTERS.some((a) => a.name === name)) throw new Error(`REQUIRE_ADAPTERS names ${name}, but ADAPTERS=${process.env.ADAPTERS ?? ''} leaves it out`);
    });
  }

  it('a required entry that cannot run fails, naming itself and the reason; one not required is skipped with the reason', () => {
    const failed = unavailableVerdict('postgres', 'connect ECONNREFUSED 127.0.0.1:5432', ['memory', 'postgres']);
    expect(failed).toMatchObject({ fail: true });
    expect(failed.fail && failed.message).toBe('adapter postgres is required by REQUIRE_ADAPTERS but cannot run here: connect ECONNREFUSED 127.0.0.1:5432');
    expect(failed.title).toMatch(/^postgres is required .*ECONNREFUSED/);
    const skipped = unavailableVerdict('postgres', 'connect ECONNREFUSED 127.0.0.1:5432', ['memory']);
    expect(skipped).toEqual({ fail: false, title: 'postgres skipped: connect ECONNREFUSED 127.0.0.1:5432' });
  });

  it('lists are comma-separated names, blanks ignored', () => {
    expect(envList(' memory, sqlite,,hnsw ')).toEqual(['memory', 'sqlite', 'hnsw']);
    expect(envList(undefined)).toEqual([]);
  });

  it('every entry lists at least one port and has a unique name', () => {
    const names = ALL_ADAPTERS.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of ALL_ADAPTERS) expect(a.ports.length, a.name).toBeGreaterThan(0);
  });
});
