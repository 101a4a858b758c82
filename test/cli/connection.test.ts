/**
 * `--connection NAME` on the real Postgres and Redis: a config file's connection profile is the
 * production backend (its Redis password from the environment); one left read-only refuses a
 * simulation with READ_ONLY (exit 2, one line) and writes nothing; `chimera inspect` reads it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';

describe('chimera … --connection NAME', () => {
  let store: ProductionStore;
  let dir: string;
  let config: string;
  beforeAll(async () => {
    store = await productionStore('cliconn');
    dir = mkdtempSync(join(tmpdir(), 'chimera-cli-conn-'));
    config = join(dir, 'chimera.config.json');
    const profile = { postgres_url: store.pgUrl, redis_url: store.redisUrl, redis_prefix: store.prefix };
    writeFileSync(config, JSON.stringify({ data_dir: dir, connections: { lab: { ...profile, read_only: false }, watch: profile } }));
  }, 120_000);
  afterAll(async () => {
    await store?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a read-only profile (the default) refuses a simulation and writes nothing', async () => {
    const r = await cli(['simulate', '--config', config, '--connection', 'watch', '--scenario', 'storm', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/READ_ONLY|read-only/);
    const c = new pg.Client({ connectionString: store.pgUrl });
    await c.connect();
    const n = await c.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
    await c.end();
    expect(n.rows[0].n).toBe(0);
  }, 120_000);

  it('a read-write profile runs there, and inspect reads it through the read-only profile', async () => {
    const sim = await cli(['simulate', '--config', config, '--connection', 'lab', '--scenario', 'storm', '--json']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(JSON.parse(sim.stdout)).toMatchObject({ backend: 'production' });
    const r = await cli(['inspect', 'campaigns', '--config', config, '--connection', 'watch', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { backend: string; items: { id: string; status: string }[] };
    expect(out.backend).toBe('production');
    expect(out.items.length).toBeGreaterThan(0);
    expect(out.items.map((i) => i.status)).toEqual(out.items.map(() => 'COMPLETED'));
  }, 180_000);

  it('an unknown profile, or one beside another --backend, is one line with exit 2', async () => {
    const unknown = await cli(['inspect', 'campaigns', '--config', config, '--connection', 'prod']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, expect.stringMatching(/no connection profile named "prod" \(known: lab, watch\)$/)]);
    const both = await cli(['inspect', 'campaigns', '--config', config, '--connection', 'lab', '--backend', 'sqlite']);
    expect([both.code, both.stderr.trim()]).toEqual([2, expect.stringMatching(/--connection opens a production profile: it cannot be used with --backend sqlite/)]);
  });
});
