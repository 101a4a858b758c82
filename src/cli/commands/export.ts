/** `chimera export`: writes the whole state of a backend as a snapshot (canonical JSON with its digests) to stdout or --out. */
import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar } from '../progress.ts';
import { exportSnapshot, snapshotText } from '../snapshot.ts';
import { sqliteMemoryRows } from '../../config/snapshot-files.ts';
import { loadConfig, parseConfig, type ChimeraConfig } from '../../config/config.ts';
import { backendByKind, backendChoicesText, backendKinds, backendHelpLines, fileBackends, isBuilt, readOnlyView } from '../../config/backends/index.ts';
import { openRawPorts } from '../../config/compose.ts';
import type { RawPorts } from '../../config/backends/types.ts';
import { READ_ONLY_FLAG, withReadOnlyFlag } from './read-only.ts';
import { ConfigError } from '../../domain/errors.ts';
import { VirtualClock } from '../../sim/clock.ts';

/** The --backend values of export and import: every backend this build can open (from the registry). */
export const snapshotBackends = (): string[] => backendKinds({ built: true });

/** "--backend sqlite" (or "--backend a or --backend b"): the backends --db applies to, for messages. */
export const dbBackendsText = (): string => fileBackends().map((e) => `--backend ${e.kind}`).join(' or ');

/** What --backend/--db name: the config to open, and the store's file (null for a backend without one). */
export interface BackendTarget {
  readonly backend: string;
  readonly config: ChimeraConfig;
  readonly file: string | null;
}

/** Reads --backend and --db (relative to the working directory). */
export function backendTarget(values: Record<string, unknown>, io: CliIo): BackendTarget {
  const backend = values.backend;
  if (typeof backend !== 'string' || !snapshotBackends().includes(backend)) {
    throw new UsageError(`--backend must be one of ${snapshotBackends().join(', ')}, got "${String(backend ?? '')}"`);
  }
  const entry = backendByKind(backend);
  const db = values.db as string | undefined;
  if (db !== undefined && !entry.files) throw new UsageError(`--db applies to ${dbBackendsText()} only`);
  const base = loadConfig({ env: io.env, overrides: { mode: entry.mode } });
  const config = db !== undefined && entry.files ? parseConfig(entry.files.withPath(base, isAbsolute(db) ? db : resolve(io.cwd, db))) : base;
  return { backend, config: withReadOnlyFlag(values, config), file: entry.files ? entry.files.path(config) : null };
}

/** Opens the raw (unguarded) ports of a target, its SQLite file replaced by `file` when given. */
export async function openTarget(
  target: BackendTarget,
  opts: { now_ms?: number; file?: string } = {},
): Promise<{ ports: Omit<RawPorts, 'memory' | 'embedder'>; close: () => Promise<void> }> {
  const entry = backendByKind(target.backend);
  if (!isBuilt(entry)) throw new ConfigError(`backend ${target.backend} is not available in this build`);
  const config = opts.file && entry.files ? entry.files.withPath(target.config, opts.file) : target.config;
  return openRawPorts(config, new VirtualClock(opts.now_ms));
}

/** The target as the CLI names it in messages. */
export const targetLabel = (t: BackendTarget): string => (t.file ? `${t.backend} ${t.file}` : t.backend);

/** `chimera export`. */
export const exportCommand: Command = {
  name: 'export',
  summary: 'Write the whole state of a backend as a snapshot (JSON)',
  get usage() {
    return [
      `  chimera export --backend ${backendChoicesText({ built: true })} [--db FILE] [--out FILE] [--read-only] > snapshot.json`,
      '    --backend  where the state is:',
      ...backendHelpLines({ built: true, indent: '                 ' }),
      '    --db       the SQLite file (default: <data_dir>/<sqlite.path> from the config)',
      '    --out      write the snapshot to FILE instead of stdout',
      '  Prints the snapshot\'s whole digest (SHA-256) on stderr; `chimera import --expect-digest` checks it.',
    ].join('\n');
  },
  options: {
    backend: { type: 'string' },
    db: { type: 'string' },
    out: { type: 'string' },
    // export only reads (always opened read-only); accepted like on every command that opens a backend
    ...READ_ONLY_FLAG,
  },
  async run({ values }, io: CliIo): Promise<number> {
    const target = backendTarget(values, io);
    if (target.file && !existsSync(target.file)) throw new ConfigError(`no database at ${target.file} (give an existing file with --db)`);
    const label = targetLabel(target);
    const { ports, close } = await openTarget({ ...target, config: readOnlyView(target.config) }); // reads only: no owner lock, nothing written
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
