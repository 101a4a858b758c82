/** `chimera export`: writes the whole state of a backend as a snapshot (canonical JSON with its digests) to stdout or --out. */
import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar } from '../progress.ts';
import { exportSnapshot, snapshotText } from '../snapshot.ts';
import { sqliteMemoryRows } from '../../config/snapshot-files.ts';
import { loadConfig, type ChimeraConfig } from '../../config/config.ts';
import { BACKENDS } from '../../config/backends/index.ts';
import { readOnlyConfig, sqlitePath } from '../../config/backends/sqlite.ts';
import type { RawPorts } from '../../config/backends/types.ts';
import { ConfigError } from '../../domain/errors.ts';
import { VirtualClock } from '../../sim/clock.ts';

/** The --backend values and the DATABASE_MODE each one selects. */
export const SNAPSHOT_BACKENDS = { memory: 'in-memory', sqlite: 'sqlite' } as const;

/** What --backend/--db name: the config to open, and the SQLite file (null for memory). */
export interface BackendTarget {
  readonly backend: string;
  readonly config: ChimeraConfig;
  readonly file: string | null;
}

/** Reads --backend and --db (relative to the working directory). */
export function backendTarget(values: Record<string, unknown>, io: CliIo): BackendTarget {
  const backend = values.backend;
  if (typeof backend !== 'string' || !(backend in SNAPSHOT_BACKENDS)) {
    throw new UsageError(`--backend must be one of ${Object.keys(SNAPSHOT_BACKENDS).join(', ')}, got "${String(backend ?? '')}"`);
  }
  const mode = SNAPSHOT_BACKENDS[backend as keyof typeof SNAPSHOT_BACKENDS];
  const db = values.db as string | undefined;
  if (db !== undefined && mode !== 'sqlite') throw new UsageError('--db applies to --backend sqlite only');
  const overrides: Record<string, unknown> = { mode };
  if (db !== undefined) overrides.sqlite = { path: isAbsolute(db) ? db : resolve(io.cwd, db) };
  const config = loadConfig({ env: io.env, overrides });
  return { backend, config, file: mode === 'sqlite' ? sqlitePath(config) : null };
}

/** Opens the raw (unguarded) ports of a target, its SQLite file replaced by `file` when given. */
export async function openTarget(
  target: BackendTarget,
  opts: { now_ms?: number; file?: string } = {},
): Promise<{ ports: RawPorts; close: () => Promise<void> }> {
  const factory = BACKENDS.find((b) => b.mode === target.config.mode);
  if (!factory) throw new ConfigError(`backend ${target.backend} is not available in this build`);
  const config = opts.file ? { ...target.config, sqlite: { ...target.config.sqlite, path: opts.file } } : target.config;
  const ports = await factory.create({ config, clock: new VirtualClock(opts.now_ms) });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    for (const p of [ports.state, ports.taskQueue, ports.reviewQueue, ports.personaCache, ports.runLog]) await p.close();
  };
  return { ports, close };
}

/** The target as the CLI names it in messages. */
export const targetLabel = (t: BackendTarget): string => (t.file ? `sqlite ${t.file}` : t.backend);

/** `chimera export`. */
export const exportCommand: Command = {
  name: 'export',
  summary: 'Write the whole state of a backend as a snapshot (JSON)',
  usage: [
    '  chimera export --backend memory|sqlite [--db FILE] [--out FILE] > snapshot.json',
    '    --backend  where the state is (memory holds nothing across processes)',
    '    --db       the SQLite file (default: <data_dir>/<sqlite.path> from the config)',
    '    --out      write the snapshot to FILE instead of stdout',
    '  Prints the snapshot\'s whole digest (SHA-256) on stderr; `chimera import --expect-digest` checks it.',
  ].join('\n'),
  options: {
    backend: { type: 'string' },
    db: { type: 'string' },
    out: { type: 'string' },
  },
  async run({ values }, io: CliIo): Promise<number> {
    const target = backendTarget(values, io);
    if (target.file && !existsSync(target.file)) throw new ConfigError(`no database at ${target.file} (give an existing file with --db)`);
    const label = targetLabel(target);
    const { ports, close } = await openTarget({ ...target, config: readOnlyConfig(target.config) }); // reads only: no owner lock, nothing written
    const bar = new ProgressBar(io.stderr, 'export');
    try {
      const snap = await exportSnapshot(ports, String(values.backend), {
        onProgress: (what, done, total) => bar.update(done, total, what, performance.now()),
        // the in-memory backend keeps no memories across processes: a fresh one has none
        memories: target.file ? sqliteMemoryRows(target.config) : { read: async () => [] },
      });
      bar.done();
      const text = snapshotText(snap);
      if (typeof values.out === 'string') writeFileSync(resolve(io.cwd, values.out), text);
      else io.stdout.write(text);
      const c = snap.counts;
      io.stderr.write(
        `exported ${c.campaigns} campaigns, ${c.tasks} tasks, ${c.audit} audit events, ${c.queue_items} queue items, ${c.persona_memories} persona memories, ${c.run_events} run events from ${label}\n` +
          `digest sha256:${snap.digest.whole} (keep it to check the snapshot on import: --expect-digest)\n`,
      );
      return 0;
    } finally {
      await close();
    }
  },
};
