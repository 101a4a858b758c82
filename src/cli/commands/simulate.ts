/** `chimera simulate`: runs a scenario and prints a summary (a JSON object with --json). */
import { CONNECTION_FLAG, CONNECTION_USAGE, connectionFlag } from './connection-flag.ts';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { backendByKind, backendChoicesText, backendForMode, backendHelpLines, backendKinds, requireAvailableMode } from '../../config/backends/index.ts';
import { FaultsSchema } from '../../engine/config.ts';
import { Simulation } from '../../app/simulation.ts';
import { engineConfigFor, loadScenario } from '../../scenarios/load.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { formatSummary } from './format.ts';
import { dbBackendsText } from './export.ts';
import { runLive } from '../../app/live.ts';
import { liveEngineSettings, requireSharedBackend } from './live-options.ts';
import { READ_ONLY_FLAG, READ_ONLY_USAGE, withReadOnlyFlag } from './read-only.ts';
import type { CliIo } from '../command.ts';

const FAULTS = Object.keys(FaultsSchema.shape);

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Run a swarm simulation and print its summary',
  // derived from the backend registry each time it is shown
  get usage() {
    return [
      `  chimera simulate [--backend ${backendChoicesText()}] [--db FILE] [--seed N] [--scenario NAME|FILE]`,
      '                   [--workers N] [--judges N] [--ticks N | --until-done] [--fault NAME=RATE ...]',
      '                   [--out RUNFILE] [--config FILE] [--read-only] [--json]',
      '  chimera simulate --live [--backend production] [--run-id ID] [--scenario NAME|FILE] [--workers N]',
      '                   [--judges N] [--seed N] [--lease-ms N] [--deadline-s N] [--read-only] [--json]',
      `  faults: ${FAULTS.join(', ')}`,
      '  backends:',
      ...backendHelpLines(),
      '  --ticks N stops at tick N. Without --backend, DATABASE_MODE (or the config file) picks the profile.',
      '  With a backend that keeps a file (--db FILE), a run already in the file is resumed.',
      '  --live plans the scenario\'s campaigns in shared stores and drives them, with any running',
      '  `chimera worker` processes, until every one is completed (wall-clock time, no run log).',
      READ_ONLY_USAGE,
      CONNECTION_USAGE,
    ].join('\n');
  },
  options: {
    backend: { type: 'string' },
    db: { type: 'string' },
    seed: { type: 'string' },
    scenario: { type: 'string', default: 'launch-day' },
    workers: { type: 'string' },
    judges: { type: 'string' },
    ticks: { type: 'string' },
    'until-done': { type: 'boolean', default: false },
    fault: { type: 'string', multiple: true },
    out: { type: 'string' },
    live: { type: 'boolean', default: false },
    'run-id': { type: 'string' },
    'lease-ms': { type: 'string' },
    'deadline-s': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...READ_ONLY_FLAG,
    ...CONNECTION_FLAG,
  },
  async run({ values }, io) {
    const flag = values.backend === undefined ? undefined : String(values.backend);
    if (flag !== undefined && !backendKinds().includes(flag)) {
      throw new UsageError(`--backend must be one of ${backendKinds().join(', ')}, got "${flag}"`);
    }
    if (values.ticks !== undefined && values['until-done']) throw new UsageError('give --ticks N or --until-done, not both');
    if (values.live) return simulateLive(values, io, flag);
    for (const f of ['run-id', 'lease-ms', 'deadline-s']) if (values[f] !== undefined) throw new UsageError(`--${f} applies to --live runs only`);
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
      if ((m[1] as string) in faults) throw new UsageError(`--fault ${m[1]} is given more than once`);
      faults[m[1] as string] = rate;
    }
    if (Object.keys(faults).length) engine.faults = faults;
    const ticks = intFlag(values, 'ticks', 1, 10_000_000);

    // the profile: --backend, else the config's mode (DATABASE_MODE or --config), checked before any work
    const file = values.config === undefined ? undefined : resolve(io.cwd, String(values.config));
    const config = withReadOnlyFlag(values, loadConfig({ file, env: io.env, ...connectionFlag(values, flag), ...(flag ? { overrides: { mode: backendByKind(flag).mode } } : {}) }));
    requireAvailableMode(config);
    const entry = backendForMode(config.mode);
    const backend = entry.kind;
    let db: string | undefined;
    if (values.db !== undefined) {
      if (!entry.files) throw new UsageError(`--db applies to ${dbBackendsText()} only (this run would be on ${flag ?? config.mode}, which keeps no file)`);
      db = resolve(io.cwd, String(values.db));
    } else if (entry.files) {
      if (flag) throw new UsageError(`--backend ${backend} needs --db FILE`);
      db = resolve(io.cwd, entry.files.path(config));
    }
    const loaded = loadScenario(String(values.scenario), io.cwd);
    // engine settings are checked now too (a bad value fails before the database is opened)
    engineConfigFor(loaded.scenario, engine);
    const sim = await Simulation.open({ scenario: loaded, backend, ...(db ? { db } : {}), engine, config, keepEvents: true });
    const bar = new ProgressBar(io.stderr, 'simulating', !values.json && Boolean(io.stderr.isTTY));
    try {
      // --ticks N stops at tick N (a resumed run that is there already takes no step), so
      // the same command after a crash ends where the uninterrupted run would have
      const until_tick = ticks;
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
      // which persona memory ran (production: Weaviate, or each process's local index)
      io.stdout.write(values.json ? JSON.stringify({ ...summary, memory_backend: sim.ports.memory.kind }) + '\n' : formatSummary(summary) + '\n');
      return 0;
    } finally {
      await sim.close();
    }
  },
};

/** `simulate --live`: plans the scenario in shared stores and drives it with any running workers. */
async function simulateLive(values: Record<string, unknown>, io: CliIo, flag: string | undefined): Promise<number> {
  for (const f of ['db', 'out', 'ticks', 'fault']) if (values[f] !== undefined) throw new UsageError(`--${f} does not apply to --live runs (they keep no run file and stop when their campaigns complete)`);
  const engine = liveEngineSettings(values);
  const seed = intFlag(values, 'seed', 0, 2 ** 31 - 1);
  if (seed !== undefined) engine.seed = seed;
  const deadline = intFlag(values, 'deadline-s', 1, 7 * 24 * 3600);
  const run_id = values['run-id'] === undefined ? `live-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${process.pid}` : String(values['run-id']);
  const file = values.config === undefined ? undefined : resolve(io.cwd, String(values.config));
  const config = withReadOnlyFlag(values, loadConfig({ file, env: io.env, ...connectionFlag(values, flag), ...(flag ? { overrides: { mode: backendByKind(flag).mode } } : {}) }));
  requireAvailableMode(config);
  requireSharedBackend(config, 'simulate --live');
  const loaded = loadScenario(String(values.scenario), io.cwd);
  engineConfigFor(loaded.scenario, engine);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const bar = new ProgressBar(io.stderr, 'live', !values.json && Boolean(io.stderr.isTTY));
  try {
    const summary = await runLive({
      config,
      role: 'driver',
      run_id,
      scenario: loaded,
      engine,
      signal: stop.signal,
      ...(deadline !== undefined ? { deadline_ms: deadline * 1000 } : {}),
      onProgress: (p) => bar.update(p.completed, Math.max(p.campaigns, 1), `campaigns · ${p.claimed} claimed here · ${p.decided} decided here`, performance.now()),
    });
    bar.done();
    io.stdout.write(
      values.json
        ? JSON.stringify(summary) + '\n'
        : `live run ${summary.run_id}: ${summary.ended}, ${summary.completed}/${summary.campaigns} campaigns completed in ${(summary.elapsed_ms / 1000).toFixed(1)} s; here: ${summary.claimed} tasks claimed, ${summary.decided} decisions; memory: ${summary.memory_backend}\n`,
    );
    return summary.ended === 'completed' ? 0 : 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
