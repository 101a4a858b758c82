import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSim } from '../support/sim.ts';
import { readRunFile } from '../../src/app/simulation.ts';
import { replay } from '../../src/app/replay.ts';
import { listScenarios } from '../../src/scenarios/load.ts';
import { eventLogSha256 } from '../../src/engine/events.ts';

async function sha(scenario: string, seed: number): Promise<string> {
  const sim = await openSim(scenario, { seed });
  await sim.run();
  const s = sim.summary().eventLogSha256;
  await sim.close();
  return s;
}

describe('determinism', () => {
  for (const scenario of listScenarios()) {
    it(`${scenario}: the same seed gives the same event log; another seed another`, async () => {
      const a = await sha(scenario, 11);
      expect(await sha(scenario, 11)).toBe(a);
      expect(await sha(scenario, 12)).not.toBe(a);
    });
  }

  it('the incremental hash equals the hash of the whole log', async () => {
    const sim = await openSim('storm', { seed: 4 });
    await sim.run();
    expect(eventLogSha256(sim.engine.log.all())).toBe(sim.engine.log.sha256());
    await sim.close();
  });
});

describe('replay', () => {
  it('rebuilds the same summary and event-log hash from the run file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-replay-'));
    const sim = await openSim('storm', { seed: 21 });
    await sim.run();
    const file = join(dir, 'run.jsonl');
    await sim.writeRunFile(file);
    const original = sim.summary();
    await sim.close();
    const r = await replay(readRunFile(file));
    expect(r.detail).toBeNull();
    expect(r.summary.eventLogSha256).toBe(original.eventLogSha256);
    const { elapsedMs: _a, tasksPerSecond: _b, ...same } = original;
    const { elapsedMs: _c, tasksPerSecond: _d, ...got } = r.summary;
    expect(got).toEqual(same);
    await r.sim.close();
  });

  it('stops at --to STEP with the hash of that prefix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-replay-'));
    const sim = await openSim('launch-day', { seed: 5 });
    await sim.run();
    const file = join(dir, 'run.jsonl');
    await sim.writeRunFile(file);
    const events = sim.engine.log.all();
    await sim.close();
    const r = await replay(readRunFile(file), { to: 40 });
    expect(r.sim.engine.stepNo).toBe(40);
    expect(r.summary.eventLogSha256).toBe(eventLogSha256(events.filter((e) => e.step <= 40)));
    await r.sim.close();
  });

  it('replays outside commands (a human decision from the UI) at the step they came', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-replay-'));
    const sim = await openSim('review-queue', { seed: 3 });
    await sim.run();
    const pending = await sim.ports.state.listTasks({ status: 'ESC_HITL' });
    expect(pending.length).toBeGreaterThan(0);
    await sim.command({ type: 'human.decide', task_id: pending[0]!.id, decision: 'approve', reviewer: 'tester' });
    await sim.run();
    const file = join(dir, 'run.jsonl');
    await sim.writeRunFile(file);
    const want = sim.summary().eventLogSha256;
    await sim.close();
    const r = await replay(readRunFile(file));
    expect(r.detail).toBeNull();
    expect(r.summary.eventLogSha256).toBe(want);
    await r.sim.close();
  });

  it('reports where a tampered recording diverges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-replay-'));
    const sim = await openSim('launch-day', { seed: 6 });
    await sim.run();
    const file = join(dir, 'run.jsonl');
    await sim.writeRunFile(file);
    await sim.close();
    const rf = readRunFile(file);
    const i = rf.events.findIndex((e) => e.type === 'judge.decided');
    rf.events[i] = { ...rf.events[i]!, data: { ...rf.events[i]!.data, score: 0.123 } };
    const r = await replay(rf);
    expect(r.divergedAt).toBe(rf.events[i]!.step);
    expect(r.detail).toMatch(/judge\.decided/);
    await r.sim.close();
  });
});
