/**
 * What the `chimera memory …` commands share: the flags that pick the backend, the memory
 * adapter and the embedder, and opening the ports from them through the composition root.
 */
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { EMBEDDERS, MEMORY_ADAPTERS, loadConfig, parseConfig, type ChimeraConfig } from '../../config/config.ts';
import { backendByKind, backendChoicesText, backendForMode, backendKinds, fileBackends, isBuilt, type BackendEntry } from '../../config/backends/index.ts';
import { composePorts, type ComposedPorts } from '../../config/compose.ts';
import { SystemClock } from '../../sim/clock.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, type CliIo } from '../command.ts';
import { READ_ONLY_FLAG, READ_ONLY_USAGE, withReadOnlyFlag } from './read-only.ts';

/** Flags every memory command accepts. */
export const MEMORY_FLAGS: NonNullable<ParseArgsConfig['options']> = {
  backend: { type: 'string' },
  db: { type: 'string' },
  memory: { type: 'string' },
  embedder: { type: 'string' },
  model: { type: 'string' },
  'model-dir': { type: 'string' },
  'allow-downloads': { type: 'boolean' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  ...READ_ONLY_FLAG,
};

/** Usage lines for MEMORY_FLAGS (the backends from the registry). */
export function memoryFlagsUsage(): string {
  return [
    `  common: [--backend ${backendChoicesText()}] [--db FILE] [--memory exact|hnsw|memory] [--embedder hashing|transformers]`,
    '          [--model ID] [--model-dir DIR] [--allow-downloads] [--config FILE] [--read-only] [--json]',
    '  The memories live in persona-memory/ beside the SQLite file (--db, else <data_dir>/chimera.db).',
    `  Without --backend / --memory, a config that keeps nothing means --backend ${keptBackend().kind} --memory hnsw here:`,
    '  these commands work on the memories that are kept.',
    READ_ONLY_USAGE,
  ].join('\n');
}

/** The backend the memory commands use for a config that keeps nothing: the first built one that keeps a file. */
function keptBackend(): BackendEntry {
  const e = fileBackends().find(isBuilt);
  if (!e) throw new UsageError('this build has no backend that keeps persona memories');
  return e;
}

function choice<T extends string>(values: Record<string, unknown>, name: string, allowed: readonly T[]): T | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(String(v))) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${String(v)}"`);
  return v as T;
}

/** The config file and environment, with the command's flags on top; paths resolve against the cwd. */
export function memoryConfig(values: Record<string, unknown>, io: CliIo): ChimeraConfig {
  const file = values.config === undefined ? undefined : resolve(io.cwd, String(values.config));
  const base = loadConfig({ file, env: io.env });
  const backend = choice(values, 'backend', backendKinds());
  const memory = choice(values, 'memory', MEMORY_ADAPTERS) ?? (base.memory.adapter === 'memory' ? 'hnsw' : base.memory.adapter);
  const embedder = choice(values, 'embedder', EMBEDDERS);
  const o: Record<string, unknown> = { data_dir: resolve(io.cwd, base.data_dir), memory: { adapter: memory } };
  // the memory commands are about the kept memories: without --backend, a config that keeps nothing means the kept backend
  const entry = backend ? backendByKind(backend) : backendForMode(base.mode).capabilities.durable ? backendForMode(base.mode) : keptBackend();
  o.mode = entry.mode;
  const e: Record<string, unknown> = {};
  if (embedder) e.kind = embedder;
  if (values.model !== undefined) e.model = String(values.model);
  if (values['model-dir'] !== undefined) e.model_dir = resolve(io.cwd, String(values['model-dir']));
  else if (base.embedder.model_dir !== undefined) e.model_dir = resolve(io.cwd, base.embedder.model_dir);
  if (values['allow-downloads'] !== undefined) e.allow_downloads = Boolean(values['allow-downloads']);
  if (Object.keys(e).length) o.embedder = e;
  const config = loadConfig({ file, env: io.env, overrides: o });
  // production keeps persona memory in Weaviate only (a local index there lives as long as one process)
  if (config.mode === 'production' && !config.production.weaviate_url) throw new UsageError('persona memory on the production profile is kept in Weaviate: set CHIMERA_WEAVIATE_URL (or production.weaviate_url in the config file)');
  if (values.db === undefined) return withReadOnlyFlag(values, config);
  if (!entry.files) throw new UsageError(`--db applies to the ${fileBackends().map((f) => f.kind).join(' or ')} backend only (this command would use ${entry.mode})`);
  return withReadOnlyFlag(values, parseConfig(entry.files.withPath(config, resolve(io.cwd, String(values.db)))));
}

/** Opens the ports for a memory command, drawing start-up work (index rebuilds) as a progress bar and printing notices. */
export async function openMemoryPorts(config: ChimeraConfig, io: CliIo, quiet: boolean): Promise<ComposedPorts> {
  const bar = new ProgressBar(io.stderr, 'persona memory', !quiet && Boolean(io.stderr.isTTY));
  const ports = await composePorts(config, new SystemClock(), (what, done, total) => bar.update(done, total, what, performance.now()));
  bar.done();
  for (const n of ports.notices) io.stderr.write(`note: ${n}\n`);
  return ports;
}
