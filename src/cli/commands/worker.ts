/**
 * `chimera worker`: Workers and a Judge in live mode, as a process of their own. Start as many
 * as you like, on any machine that reaches the stores: each serves whatever campaigns the
 * stores hold (a `chimera simulate --live` plans them) until SIGTERM or SIGINT, then finishes
 * the step in progress, closes its connections and prints what it did.
 */
import { CONNECTION_FLAG, CONNECTION_USAGE, connectionFlag } from './connection-flag.ts';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { backendByKind, backendChoicesText, backendKinds, requireAvailableMode } from '../../config/backends/index.ts';
import { runLive } from '../../app/live.ts';
import { engineConfigFor, loadScenario } from '../../scenarios/load.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { liveEngineSettings, requireSharedBackend } from './live-options.ts';
import { READ_ONLY_FLAG, READ_ONLY_USAGE, withReadOnlyFlag } from './read-only.ts';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Serve live campaigns with Workers and a Judge until stopped',
  get usage() {
    return [
      `  chimera worker [--backend ${backendChoicesText()}] [--workers N] [--judges N] [--seed N]`,
      '                 [--lease-ms N] [--config FILE] [--read-only] [--json]',
      '  Serves every campaign in the shared stores (planned by `chimera simulate --live`) until',
      '  SIGTERM or SIGINT. Needs a backend several processes can share (production).',
      READ_ONLY_USAGE,
      CONNECTION_USAGE,
    ].join('\n');
  },
  options: {
    backend: { type: 'string' },
    workers: { type: 'string' },
    judges: { type: 'string' },
    seed: { type: 'string' },
    'lease-ms': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...READ_ONLY_FLAG,
    ...CONNECTION_FLAG,
  },
  async run({ values }, io) {
    const flag = values.backend === undefined ? undefined : String(values.backend);
    if (flag !== undefined && !backendKinds().includes(flag)) throw new UsageError(`--backend must be one of ${backendKinds().join(', ')}, got "${flag}"`);
    const engine = liveEngineSettings(values);
    const seed = intFlag(values, 'seed', 0, 2 ** 31 - 1);
    if (seed !== undefined) engine.seed = seed;
    const file = values.config === undefined ? undefined : resolve(io.cwd, String(values.config));
    const config = withReadOnlyFlag(values, loadConfig({ file, env: io.env, ...connectionFlag(values, flag), ...(flag ? { overrides: { mode: backendByKind(flag).mode } } : {}) }));
    requireAvailableMode(config);
    requireSharedBackend(config, 'chimera worker');
    const loaded = loadScenario('launch-day', io.cwd);
    engineConfigFor(loaded.scenario, engine);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      const summary = await runLive({
        config,
        role: 'worker',
        run_id: 'worker',
        scenario: loaded,
        engine,
        signal: stop.signal,
        // on stderr even with --json (stdout then holds only the summary): the moment it serves
        onReady: (r) => io.stderr.write(`worker ${r.consumer}: serving live campaigns on ${Object.values(r.backends).join('+')} (memory: ${r.memory_backend}); SIGTERM or Ctrl-C stops\n`),
      });
      io.stdout.write(
        values.json
          ? JSON.stringify(summary) + '\n'
          : `worker ${summary.consumer}: ${summary.steps} steps, ${summary.claimed} tasks claimed, ${summary.decided} decisions, ${summary.conflicts} conflicts in ${(summary.elapsed_ms / 1000).toFixed(1)} s\n`,
      );
      return 0;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  },
};
