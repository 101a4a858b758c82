/**
 * A restarted engine on storage that survived (the in-memory ports kept, the engine object
 * thrown away mid-tick, as a crash would) resumes from its run log, reconciles, and ends with
 * the same completed tasks as an uninterrupted run; audit ids stay unique.
 */
import { describe, expect, it } from 'vitest';
import { composePorts, type ComposedPorts } from '../../src/config/compose.ts';
import { parseConfig } from '../../src/config/config.ts';
import { SwarmEngine } from '../../src/engine/engine.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/sim/rng.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { engineConfigFor, loadScenario } from '../../src/scenarios/load.ts';

/** The ports outlive the process; each life has its own clock, which the ports then follow. */
class LifeClock implements Clock {
  life = new VirtualClock();
  now_ms(): number {
    return this.life.now_ms();
  }
  iso(): string {
    return this.life.iso();
  }
}

async function engineOn(ports: ComposedPorts, clock: VirtualClock, seed: number): Promise<SwarmEngine> {
  const { scenario, personas } = loadScenario('storm');
  return SwarmEngine.create({ ports, clock, scenario, personas, config: engineConfigFor(scenario, { seed }) });
}

async function completed(ports: ComposedPorts): Promise<string[]> {
  return (await ports.state.listTasks({ status: 'COMPLETED' })).map((t) => t.id).sort();
}

describe('resume after the engine dies', () => {
  for (const seed of [1, 2]) {
    it(`storm seed ${seed}: 12 seeded restarts end where an uninterrupted run ends`, async () => {
      const refClock = new VirtualClock();
      const refPorts = await composePorts(parseConfig({}), refClock);
      const ref = await engineOn(refPorts, refClock, seed);
      await ref.run();
      const want = await completed(refPorts);

      const clock = new LifeClock();
      const ports = await composePorts(parseConfig({}), clock);
      const inv = new InvariantChecker(ports);
      const rng = new SeededRng(seed, 'restarts');
      let engine = await engineOn(ports, clock.life, seed);
      for (let life = 0; life < 12 && !engine.finished; life++) {
        const steps = 5 + rng.int(40);
        for (let i = 0; i < steps && !engine.finished; i++) await engine.step();
        // the process dies: in-flight leases and the unflushed part of the tick are lost
        clock.life = new VirtualClock();
        engine = await engineOn(ports, clock.life, seed);
        expect(await inv.check()).toEqual([]);
      }
      await engine.run();
      if (engine.finished !== 'completed') {
        const open = (await ports.state.listTasks()).filter((t) => t.status !== 'COMPLETED' && t.status !== 'FAILED');
        const camps = await ports.state.listCampaigns();
        throw new Error(`ended ${engine.finished}: campaigns ${camps.map((c) => c.status).join(',')}; open tasks ${JSON.stringify(open.map((t) => [t.skill_name, t.status, t.depends_on.length, t.replans]))}`);
      }
      expect(await completed(ports)).toEqual(want);
      const audit = await ports.state.readAudit();
      expect(new Set(audit.map((e) => e.id)).size).toBe(audit.length);
      expect(await inv.check()).toEqual([]);
      await ports.close();
      await refPorts.close();
    });
  }
});
