/**
 * Time travel in the studio service (src/app/studio/step-states.ts, breakpoints, branches), on a
 * real service over a fresh data folder: how long the state at a step takes to rebuild when
 * stepping forwards, stepping backwards and jumping anywhere (replayed copies parked where they
 * were last asked; a jump goes on from the nearest one before it), what a "before an agent kind"
 * breakpoint's one-step lookahead costs a run at full speed, and how long a replay from a step
 * (a new branch) takes in memory and on SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { StudioService } from '../../src/app/studio-service.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { percentile, round, type BenchSuite } from '../suite.ts';

async function open(): Promise<{ service: StudioService; done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-tt-'));
  const service = await StudioService.open({ config: loadConfig({ env: {}, overrides: { data_dir: dir } }) });
  return {
    service,
    async done() {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the session to its end at full speed (going on after each breakpoint); resolves with the time and the number of pauses. */
function runToEnd(service: StudioService): Promise<{ ms: number; pauses: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let pauses = 0;
    let started = false;
    const off = service.subscribe(() => {
      const s = service.status();
      if (!started || s.running) return;
      if (s.finished !== null) {
        off();
        resolve({ ms: performance.now() - t0, pauses });
      } else if (s.extras.stop_reason) {
        pauses += 1;
        started = false;
        void service.call('sim/run', {}).then(() => (started = true));
      }
    });
    void service
      .call('sim/speed', { steps_per_s: 0 })
      .then(() => service.call('sim/run', {}))
      .then(() => (started = true));
  });
}

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50_ms: round(percentile(s, 50), 2), p95_ms: round(percentile(s, 95), 2), max_ms: round(s[s.length - 1] ?? NaN, 2) };
};

export const timetravelSuite: BenchSuite = {
  name: 'timetravel',
  description: 'State at a step (forwards, backwards, random jumps), the lookahead of a before-agent breakpoint, replay to a step as a branch (memory, SQLite)',
  async run(ctx) {
    // launch-day with one more campaign of many pieces: a run of some thousands of steps
    const scenario = 'launch-day';
    const pieces = ctx.quick ? 300 : 1500;
    const out: Record<string, unknown> = { scenario, extra_campaign_pieces: pieces };
    const setUp = async (service: StudioService) => {
      await service.call('sim/open', { scenario, seed: 7 });
      await service.call('campaigns/create', { title: 'Bench', goal: 'Explain how to repair denim at home', persona_id: 'aria', content_pieces: pieces });
    };
    // warm-up: the first run in a process is JIT-cold and would flatter anything measured after it
    const w = await open();
    try {
      await setUp(w.service);
      await runToEnd(w.service);
    } finally {
      await w.done();
    }
    const a = await open();
    try {
      await setUp(a.service);
      const plainMs = (await runToEnd(a.service)).ms;
      const steps = a.service.status().step;
      const first = a.service.status().extras.first_step;
      out.steps = steps;
      out.run_ms = round(plainMs, 1);
      ctx.log(`timetravel: ${scenario} has ${steps} steps (ran in ${plainMs.toFixed(0)} ms)`);
      const n = ctx.quick ? 20 : 100;
      const time = async (step: number) => {
        const t0 = performance.now();
        await a.service.call('sim/stepstate', { step });
        return performance.now() - t0;
      };
      const mid = Math.floor(steps / 2);
      const fwd: number[] = [];
      for (let i = 0; i < n; i++) fwd.push(await time(Math.min(steps - 1, mid + i)));
      const back: number[] = [];
      for (let i = 0; i < n; i++) back.push(await time(Math.max(first, mid - i)));
      const rng = new SeededRng(11, 'bench-timetravel');
      const jumps: number[] = [];
      for (let i = 0; i < n; i++) jumps.push(await time(first + Math.floor(rng.next() * (steps - first))));
      out.state_at = { forward_one_step: stats(fwd), backward_one_step: stats(back), random_jump: stats(jumps) };
      ctx.log(`timetravel: state at a step: forward p50 ${stats(fwd).p50_ms} ms, backward p50 ${stats(back).p50_ms} ms, random jump p50 ${stats(jumps).p50_ms} ms`);
    } finally {
      await a.done();
    }
    // the lookahead a before-agent breakpoint costs: the same run to its end with a breakpoint before the planner, going on at each pause
    const b = await open();
    try {
      await setUp(b.service);
      await b.service.call('sim/breakpoints', { breakpoints: [{ kind: 'agent', agent: 'planner' }] });
      const { ms, pauses } = await runToEnd(b.service);
      out.run_with_lookahead_ms = round(ms, 1);
      out.lookahead_pauses = pauses;
      out.lookahead_overhead = round(ms / (out.run_ms as number), 2);
      ctx.log(`timetravel: the run with a breakpoint before the planner (${pauses} pauses) took ${ms.toFixed(0)} ms (${out.lookahead_overhead}× without)`);
    } finally {
      await b.done();
    }
    // replay to a step as a new branch
    for (const kind of ['memory', 'sqlite'] as const) {
      const c = await open();
      try {
        if (kind === 'sqlite') await c.service.call('backend/switch', { kind, name: 'bench' });
        await setUp(c.service);
        await runToEnd(c.service);
        const to = Math.floor(c.service.status().step / 2);
        const t0 = performance.now();
        await c.service.call('sim/scrub', { step: to });
        const ms = performance.now() - t0;
        (out.replay_to_half_ms ??= {} as Record<string, number>);
        (out.replay_to_half_ms as Record<string, number>)[kind] = round(ms, 1);
        ctx.log(`timetravel: replay to step ${to} as a ${kind} branch: ${ms.toFixed(0)} ms`);
      } finally {
        await c.done();
      }
    }
    return out;
  },
};
