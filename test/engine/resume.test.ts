/**
 * A restarted engine over storage that survived resumes exactly: it re-executes the stored run
 * from its seed on scratch ports up to the store's last checkpoint (src/engine/recovery.ts) and
 * goes on, ending with the same event log, audit chain and versions as an uninterrupted run.
 * A store written past its last checkpoint, or a different run's settings, are refused.
 */
import { describe, expect, it } from 'vitest';
import { composePorts, composeScratchPorts, type ComposedPorts } from '../../src/config/compose.ts';
import { parseConfig } from '../../src/config/config.ts';
import { SwarmEngine } from '../../src/engine/engine.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { engineConfigFor, loadScenario } from '../../src/scenarios/load.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';

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

async function engineOn(ports: ComposedPorts, clock: VirtualClock, seed: number, engine: Record<string, unknown> = {}): Promise<SwarmEngine> {
  const { scenario, personas } = loadScenario('storm');
  return SwarmEngine.create({
    ports,
    clock,
    scenario,
    personas,
    config: engineConfigFor(scenario, { seed, ...engine }),
    scratch: () => composeScratchPorts(clock, ports.embedder),
  });
}

async function outcome(ports: ComposedPorts, e: SwarmEngine) {
  return {
    sha: e.log.sha256(),
    finished: e.finished,
    steps: e.stepNo,
    ticks: e.tickNo,
    campaigns: (await ports.state.listCampaigns()).map((c) => [c.id, c.status, c.state_version]),
    tasks: await ports.state.listTasks(),
    audit: await ports.state.readAudit(),
    memories: (await ports.memory.list(undefined, 100_000)).map((m) => m.id),
  };
}

describe('resume after the engine dies', () => {
  for (const seed of [1, 2]) {
    it(`storm seed ${seed}: 12 seeded restarts at checkpoints end exactly where an uninterrupted run ends`, async () => {
      const refClock = new VirtualClock();
      const refPorts = await composePorts(parseConfig({}), refClock);
      const ref = await engineOn(refPorts, refClock, seed);
      await ref.run();
      const want = await outcome(refPorts, ref);

      const clock = new LifeClock();
      const ports = await composePorts(parseConfig({}), clock);
      const inv = new InvariantChecker(ports);
      const rng = new SeededRng(seed, 'restarts');
      let engine = await engineOn(ports, clock.life, seed);
      for (let life = 0; life < 12 && !engine.finished; life++) {
        // run() ends with a checkpoint; the process then dies with what it held in memory
        await engine.run({ max_steps: 5 + rng.int(40) });
        clock.life = new VirtualClock();
        engine = await engineOn(ports, clock.life, seed);
        expect(await inv.check()).toEqual([]);
      }
      await engine.run();
      expect(await outcome(ports, engine)).toEqual(want);
      expect(await inv.check()).toEqual([]);
      await ports.close();
      await refPorts.close();
    });
  }

  it('refuses a store written past its last checkpoint, saying so', async () => {
    const clock = new LifeClock();
    const ports = await composePorts(parseConfig({}), clock);
    const engine = await engineOn(ports, clock.life, 3);
    await engine.run({ max_steps: 20 });
    for (let i = 0; i < 15; i++) await engine.step(); // written to the (memory) store, never checkpointed
    clock.life = new VirtualClock();
    await expect(engineOn(ports, clock.life, 3)).rejects.toThrow(/cannot resume exactly: the store's .* differs from its run log's checkpoint/);
    await ports.close();
  });

  it('refuses to resume with other settings, naming the one that differs', async () => {
    const clock = new LifeClock();
    const ports = await composePorts(parseConfig({}), clock);
    const engine = await engineOn(ports, clock.life, 4);
    await engine.run({ max_steps: 10 });
    clock.life = new VirtualClock();
    await expect(engineOn(ports, clock.life, 5)).rejects.toThrow(/another run: seed \(stored 4, asked 5\)/);
    await expect(engineOn(ports, clock.life, 4, { workers: 7 })).rejects.toThrow(/another run: workers \(stored \d+, asked 7\)/);
    await expect(engineOn(ports, clock.life, 4, { faults: { transient_error: 0.5 } })).rejects.toThrow(/another run: faults\.transient_error \(stored [\d.]+, asked 0\.5\)/);
    const otherModel: ComposedPorts = { ...ports, embedder: new HashingEmbedder(128) };
    await expect(engineOn(otherModel, clock.life, 4)).rejects.toThrow(/another run: embedder \(stored "[^"]+", asked "[^"]+"\)/);
    await ports.close();
  });
});
