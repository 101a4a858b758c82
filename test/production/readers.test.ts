/**
 * The production profile's inspection readers read where the profile keeps each thing: the
 * state and audit in Postgres, the queues in Redis (or in Postgres with `queues: postgres`),
 * the persona cache in Redis whenever there is one. A run stopped part-way leaves items to see.
 * A database with only the seed's tables (test/support/seed-writer.ts) is read too: what it
 * does not keep is absent, with a line saying so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Simulation } from '../../src/app/simulation.ts';
import { composeReaders } from '../../src/config/compose.ts';
import { loadConfig } from '../../src/config/config.ts';
import { deleteKeys, productionStore, type ProductionStore } from './support.ts';
import { writeSeedCluster } from '../support/seed-writer.ts';
import { testDatabase, testRedisPrefix, testRedisUrl } from '../support/servers.ts';

const stores: ProductionStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.drop();
});

describe('production readers', () => {
  for (const queues of ['redis', 'postgres'] as const) {
    it(`queues in ${queues}: campaigns, audit, queue items and the persona cache are where the profile keeps them`, async () => {
      const s = await productionStore(`readers_${queues}`, { queues });
      stores.push(s);
      const config = loadConfig({ env: s.env });
      const sim = await Simulation.open({ scenario: 'storm', backend: 'production', config, keepEvents: false });
      try {
        await sim.run({ until_tick: 5 });
      } finally {
        await sim.close();
      }
      const r = await composeReaders(config);
      try {
        expect((await r.state!.listCampaigns({ limit: 10 })).items).toHaveLength(2);
        expect((await r.audit!.list({ limit: 5 })).items.length).toBeGreaterThan(0);
        const q = await r.queues!.listQueues({ now_ms: Date.UTC(2026, 0, 1) + 60_000 });
        expect(q.items.length, 'a run stopped at tick 5 has items queued').toBeGreaterThan(0);
        const cached = await r.personaCache!.list({});
        expect(cached.items.map((p) => (p.ok ? p.value.persona_id : null))).toEqual(['aria', 'mira']);
      } finally {
        await r.close();
      }
    }, 120_000);
  }

  it("a database with only the seed's tables, queues in postgres: state is read, the audit log and the queues are absent and say why, the cache is Redis's", async () => {
    const db = await testDatabase('readers_seed');
    const prefix = testRedisPrefix('readers-seed');
    try {
      const seed = await writeSeedCluster({ pgUrl: db.url, redisUrl: testRedisUrl(), prefix });
      const config = loadConfig({ env: { DATABASE_MODE: 'production', CHIMERA_POSTGRES_URL: db.url, CHIMERA_REDIS_URL: testRedisUrl(), CHIMERA_REDIS_PREFIX: prefix, CHIMERA_QUEUES: 'postgres' } });
      const r = await composeReaders(config);
      try {
        expect((await r.state!.listCampaigns()).items).toHaveLength(3);
        expect(r.audit).toBeUndefined();
        expect(r.queues).toBeUndefined();
        expect(r.absent).toEqual({
          audit: expect.stringMatching(/^no audit log in this database: Postgres .* has no audit_log table/),
          queues: expect.stringMatching(/^no queues in this database: Postgres .* has no queue_items table/),
        });
        expect((await r.personaCache!.list()).items.map((p) => p.ok && p.value.persona_id)).toEqual(['aria', false, 'nova']);
        // a seed-only task's skill is read from its input_data (the seed keeps it there), and sorts by it
        const tasks = (await r.state!.listTasks({ limit: 100 })).items.flatMap((t) => (t.ok ? [t.value] : []));
        for (const t of tasks) {
          const written = seed.tasks.find((w) => w.id === t.id)?.input_data as { skill_name?: unknown } | null | undefined;
          expect(t.skill_name, t.id).toBe(typeof written?.skill_name === 'string' ? written.skill_name : null);
        }
        expect(tasks.some((t) => t.skill_name !== null)).toBe(true);
        const bySkill = (await r.state!.listTasks({ limit: 100, sort: { by: 'skill_name', dir: 'asc' } })).items.flatMap((t) => (t.ok ? [t.value.skill_name ?? ''] : []));
        expect(bySkill).toEqual([...bySkill].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      } finally {
        await r.close();
      }
    } finally {
      await deleteKeys(testRedisUrl(), prefix);
      await db.drop();
    }
  }, 120_000);
});
