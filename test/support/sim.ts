/** Helpers to run the engine in tests on the in-memory backend, with invariants after every step. */
import { expect } from 'vitest';
import { Simulation } from '../../src/app/simulation.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';
import { parseConfig } from '../../src/config/config.ts';

export async function openSim(scenario: string, engine: Record<string, unknown> = {}): Promise<Simulation> {
  return Simulation.open({ scenario, backend: 'memory', engine, config: parseConfig({}) });
}

/** Runs to completion checking every invariant after every step; returns the simulation. */
export async function runChecked(scenario: string, engine: Record<string, unknown> = {}, max_steps = 20_000): Promise<Simulation> {
  const sim = await openSim(scenario, engine);
  const inv = new InvariantChecker(sim.ports);
  expect(await inv.check()).toEqual([]);
  for (let i = 0; i < max_steps; i++) {
    const r = await sim.step();
    if (!r) break;
    const v = await inv.check();
    if (v.length) throw new Error(`invariant broken after step ${r.step} (${scenario}, seed ${String(engine.seed)}): ${v.join('; ')}`);
  }
  return sim;
}
