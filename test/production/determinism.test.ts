/**
 * Simulation mode on the production profile (Postgres state and run log, Redis queues and
 * cache), in one process, gives the same event log as the in-memory profile on every shipped
 * scenario: the same eventLogSha256, the same summary counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Simulation } from '../../src/app/simulation.ts';
import { listScenarios } from '../../src/scenarios/load.ts';
import { parseConfig } from '../../src/config/config.ts';
import { productionStore, type ProductionStore } from './support.ts';

const stores: ProductionStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.drop();
});

async function run(scenario: string, backend: string, config = parseConfig({})) {
  const sim = await Simulation.open({ scenario, backend, config, keepEvents: false });
  try {
    await sim.run();
    return sim.summary();
  } finally {
    await sim.close();
  }
}

describe('determinism: production equals memory', () => {
  for (const scenario of listScenarios()) {
    it(`${scenario}: the same eventLogSha256 on production as on memory`, async () => {
      const store = await productionStore(`det_${scenario.replace(/\W/g, '_')}`);
      stores.push(store);
      const memory = await run(scenario, 'memory');
      const production = await run(scenario, 'production', store.config);
      expect(production.eventLogSha256).toBe(memory.eventLogSha256);
      expect({ ...production, backend: 'x', elapsedMs: 0, tasksPerSecond: 0 }).toEqual({ ...memory, backend: 'x', elapsedMs: 0, tasksPerSecond: 0 });
    }, 240_000);
  }
});
