/**
 * A connection profile as a side of a copy, on the real Postgres and Redis: `chimera copy
 * sqlite:PATH connection:NAME` from the config file's profile (a read-only one refused with
 * READ_ONLY, nothing written), and the same from the app, where the profile becomes writable
 * only once confirmed and the Inspector then reads what the copy wrote.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioService } from '../../src/app/studio-service.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { CopyStatusView } from '../../src/shared/types.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { chimera, sqliteSimulation, tempDir } from './support.ts';

async function tables(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_schema = 'public'")).rows[0]?.n ?? -1;
  } finally {
    await c.end();
  }
}

describe('copy into a connection profile', () => {
  let cliStore: ProductionStore;
  let appStore: ProductionStore;
  let dir: string;
  let source: string;
  beforeAll(async () => {
    cliStore = await productionStore('copyconn');
    appStore = await productionStore('copyconnapp');
    dir = tempDir('conn');
    source = join(dir, 'src', 'source.db');
    await sqliteSimulation(source, 6);
  }, 300_000);
  afterAll(async () => {
    await cliStore?.drop();
    await appStore?.drop();
  });

  it('chimera copy: a read-only profile is refused (nothing written); a read-write one is copied and verified', async () => {
    const config = join(dir, 'chimera.config.json');
    const profile = { postgres_url: cliStore.pgUrl, redis_url: cliStore.redisUrl, redis_prefix: cliStore.prefix };
    writeFileSync(config, JSON.stringify({ data_dir: dir, connections: { watch: profile, lab: { ...profile, read_only: false } } }));
    const refused = await chimera(['copy', `sqlite:${source}`, 'connection:watch', '--config', config]);
    expect(refused.code).toBe(2);
    expect(refused.err.trim()).toMatch(/^chimera copy: connection "watch" \(.*\) is open read-only \(the profile says read_only: make it read-write first/);
    expect(await tables(cliStore.pgUrl)).toBe(0);
    const r = await chimera(['copy', `sqlite:${source}`, 'connection:lab', '--config', config, '--json']);
    expect(r.code, r.err).toBe(0);
    // verified: every section but persona memory, which a deployment without Weaviate keeps in each process
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, memories_compared: false, target: expect.stringMatching(/^connection "lab"/) });
    const bad = await chimera(['copy', `sqlite:${source}`, 'connection:../x', '--config', config]);
    expect([bad.code, bad.err.trim()]).toEqual([2, expect.stringMatching(/names no connection profile/)]);
  }, 300_000);

  it('in the app: listed, refused while read-only, copied once made read-write, and the Inspector reads the result', async () => {
    const data_dir = tempDir('conn-app');
    const service = await StudioService.open({ config: loadConfig({ env: {}, overrides: { data_dir } }) });
    try {
      await service.call('backend/switch', { kind: 'sqlite', name: 'src' });
      await service.call('sim/step', { count: 80 });
      await service.call('connections/save', { name: 'lab', postgres_url: appStore.pgUrl, redis_url: appStore.redisUrl, redis_prefix: appStore.prefix });
      const listed = (await service.call('copy/sides', {})).sides.find((s) => s.side.kind === 'connection');
      expect(listed).toMatchObject({ side: { kind: 'connection', name: 'lab' }, not_to: expect.stringMatching(/^read-only: make the connection read-write first/) });
      await expect(service.call('copy/start', { from: { kind: 'sqlite', name: 'src' }, to: { kind: 'connection', name: 'lab' } })).rejects.toMatchObject({ code: 'READ_ONLY' });
      expect(await tables(appStore.pgUrl)).toBe(0);

      await service.call('connections/set-read-only', { name: 'lab', read_only: false, confirm: true });
      const started = await service.call('copy/start', { from: { kind: 'sqlite', name: 'src' }, to: { kind: 'connection', name: 'lab' } });
      const done = await new Promise<CopyStatusView>((resolve) => {
        const check = (s: CopyStatusView | null) => s && s.id === started.id && ['finished', 'failed', 'cancelled'].includes(s.state) && resolve(s);
        service.subscribe((m) => m.type === 'copy' && check(m.copy));
        void service.call('copy/status', {}).then((x) => check(x.copy));
      });
      expect(done.error).toBeNull();
      // verified: every section but persona memory, which a deployment without Weaviate keeps in each process
      expect(done).toMatchObject({ state: 'finished', result: { memories_compared: false, notes: expect.arrayContaining([expect.stringMatching(/has no Weaviate/)]) } });
      expect(done.to_label).toMatch(/^connection "lab"/);
      const inspected = await service.call('inspect/campaigns', { connection: 'lab' });
      const own = await service.call('inspect/campaigns', {});
      expect(inspected.items.map((r) => r.ok && r.value.id)).toEqual(own.items.map((r) => r.ok && r.value.id));
    } finally {
      await service.close();
    }
  }, 300_000);
});
