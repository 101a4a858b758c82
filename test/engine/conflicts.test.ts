/**
 * Every read-then-compare-and-set path of the engine handles a conflict. A state store wrapper
 * plays "another writer committed in between": a seeded share of compare-and-set writes fail
 * with ConflictError before they reach the store (so nothing changes). Units whose body reads
 * what it compares run again; the Judge re-reads and re-decides. The run must still finish,
 * with the same tasks completed and every invariant holding.
 */
import { describe, expect, it } from 'vitest';
import { composePorts, type ComposedPorts } from '../../src/config/compose.ts';
import { parseConfig } from '../../src/config/config.ts';
import { ConflictError } from '../../src/domain/errors.ts';
import { SwarmEngine } from '../../src/engine/engine.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';
import type { StateStore, StateTransaction } from '../../src/ports/state-store.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { engineConfigFor, loadScenario } from '../../src/scenarios/load.ts';

function interfering(inner: StateStore, rng: SeededRng, rate: number, counter: { n: number }): StateStore {
  const clash = (what: string) => {
    if (!rng.chance(rate)) return;
    counter.n += 1;
    throw new ConflictError(`injected: another writer changed ${what}`);
  };
  const wrap = (tx: StateTransaction): StateTransaction => ({
    getCampaign: (id) => tx.getCampaign(id),
    getTask: (id) => tx.getTask(id),
    campaignTasks: (id) => tx.campaignTasks(id),
    insertCampaign: (c) => tx.insertCampaign(c),
    insertTasks: (t) => tx.insertTasks(t),
    claimIdempotencyKey: (k) => tx.claimIdempotencyKey(k),
    appendAudit: (d) => tx.appendAudit(d),
    auditHeads: () => tx.auditHeads(),
    updateCampaign: async (id, v, p) => {
      clash(`campaign ${id}`);
      return tx.updateCampaign(id, v, p);
    },
    updateTask: async (id, p, s) => {
      if (s !== undefined) clash(`task ${id}`);
      return tx.updateTask(id, p, s);
    },
  });
  return { ...inner, transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))) } as StateStore;
}

async function run(seed: number, ports: ComposedPorts, clock: VirtualClock): Promise<SwarmEngine> {
  const { scenario, personas } = loadScenario('storm');
  const e = await SwarmEngine.create({ ports, clock, scenario, personas, config: engineConfigFor(scenario, { seed }) });
  await e.run();
  return e;
}

describe('engine under conflicting writers', () => {
  for (const seed of [1, 9]) {
    it(`storm seed ${seed}: injected conflicts on 8% of compare-and-sets change no task's outcome`, async () => {
      const refClock = new VirtualClock();
      const refPorts = await composePorts(parseConfig({}), refClock);
      const ref = await run(seed, refPorts, refClock);
      const want = (await refPorts.state.listTasks({ status: 'COMPLETED' })).map((t) => t.id).sort();

      const clock = new VirtualClock();
      const base = await composePorts(parseConfig({}), clock);
      const injected = { n: 0 };
      const ports: ComposedPorts = { ...base, state: interfering(base.state, new SeededRng(seed, 'conflicts'), 0.08, injected) };
      const e = await run(seed, ports, clock);
      expect(e.finished).toBe(ref.finished);
      expect((await base.state.listTasks({ status: 'COMPLETED' })).map((t) => t.id).sort()).toEqual(want);
      expect(await new InvariantChecker(base).check()).toEqual([]);
      expect(injected.n).toBeGreaterThan(5);
      await base.close();
      await refPorts.close();
    });
  }
});
