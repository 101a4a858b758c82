/** `chimera simulate`: runs a scenario and prints a summary (a JSON object with --json). */
import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { FaultsSchema } from '../../engine/config.ts';
import { BACKEND_CHOICES, Simulation, type BackendChoice } from '../../app/simulation.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { formatSummary } from './format.ts';

const FAULTS = Object.keys(FaultsSchema.shape);

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Run a swarm simulation and print its summary',
  usage: [
    '  chimera simulate [--backend memory|sqlite] [--db FILE] [--seed N] [--scenario NAME|FILE]',
    '                   [--workers N] [--judges N] [--ticks N | --until-done] [--fault NAME=RATE ...]',
    '                   [--out RUNFILE] [--config FILE] [--json]',
    `  faults: ${FAULTS.join(', ')}`,
    '  With --backend sqlite, a run already in the file is resumed.',
  ].join('\n'),
  options: {
    backend: { type: 'string', default: 'memory' },
    db: { type: 'string' },
    seed: { type: 'string' },
    scenario: { type: 'string', default: 'launch-day' },
    workers: { type: 'string' },
    judges: { type: 'string' },
    ticks: { type: 'string' },
    'until-done': { type: 'boolean', default: false },
    fault: { type: 'string', multiple: true },
    out: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run({ values }, io) {
    const backend = String(values.backend);
    if (!(BACKEND_CHOICES as readonly string[]).includes(backend)) {
      throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${backend}"`);
    }
    if (values.ticks !== undefined && values['until-done']) throw new UsageError('give --ticks N or --until-done, not both');
    if (backend === 'sqlite' && !values.db) throw new UsageError('--backend sqlite needs --db FILE');
    const engine: Record<string, unknown> = {};
    const seed = intFlag(values, 'seed', 0, 2 ** 31 - 1);
    if (seed !== undefined) engine.seed = seed;
    const workers = intFlag(values, 'workers', 1, 256);
    if (workers !== undefined) engine.workers = workers;
    const judges = intFlag(values, 'judges', 1, 64);
    if (judges !== undefined) engine.judges = judges;
    const faults: Record<string, number> = {};
    for (const f of (values.fault as string[] | undefined) ?? []) {
      const m = /^([a-z_]+)=([0-9.]+)$/.exec(f);
      const rate = m ? Number(m[2]) : NaN;
      if (!m || !FAULTS.includes(m[1] as string) || !(rate >= 0 && rate <= 1)) {
        throw new UsageError(`--fault must be NAME=RATE with NAME one of ${FAULTS.join(', ')} and RATE in 0..1, got "${f}"`);
      }
      faults[m[1] as string] = rate;
    }
    if (Object.keys(faults).length) engine.faults = faults;
    const ticks = intFlag(values, 'ticks', 1, 10_000_000);
    const config = loadConfig({ file: values.config as string | undefined, env: io.env });
    const sim = await Simulation.open({
      scenario: String(values.scenario),
      backend: backend as BackendChoice,
      db: values.db ? resolve(io.cwd, String(values.db)) : undefined,
      engine,
      config,
      keepEvents: true,
    });
    const bar = new ProgressBar(io.stderr, 'simulating', !values.json && Boolean(io.stderr.isTTY));
    try {
      const until_tick = ticks === undefined ? undefined : sim.engine.tickNo + ticks;
      await sim.run({
        until_tick,
        every: 200,
        onProgress: (s) => {
          const f = s.fold;
          bar.update(f.completed, f.tasks, `tick ${s.engine.tickNo} · hitl ${f.hitl.size} · conflicts ${f.conflicts}`, performance.now());
        },
      });
      bar.done();
      const summary = sim.summary();
      if (values.out) await sim.writeRunFile(resolve(io.cwd, String(values.out)));
      io.stdout.write(values.json ? JSON.stringify(summary) + '\n' : formatSummary(summary) + '\n');
      return 0;
    } finally {
      await sim.close();
    }
  },
};
