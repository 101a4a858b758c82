/**
 * `chimera import`: restores a snapshot into an empty backend, all or nothing. The snapshot is
 * checked whole first (digests, schema, counts, references, the audit chain), the target is
 * checked empty without writing to it, and a SQLite target is built as scratch files beside it,
 * verified against the snapshot's digests, and renamed into place only then
 * (src/config/snapshot-files.ts says why).
 */
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar } from '../progress.ts';
import { importSnapshot, parseSnapshot, type MemoryRows, type Snapshot, type SnapshotCounts, type SnapshotProgress } from '../snapshot.ts';
import { assertEmptyTarget, stageBeside, stagedMemoryRows } from '../../config/snapshot-files.ts';
import { ReadOnlyError, ValidationError } from '../../domain/errors.ts';
import type { MemoryRecord } from '../../ports/persona-memory.ts';
import { backendByKind, backendChoicesText, backendHelpLines } from '../../config/backends/index.ts';
import { backendTarget, openTarget, targetLabel, type BackendTarget } from './export.ts';
import { READ_ONLY_FLAG } from './read-only.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Imports a parsed snapshot into the SQLite file of `target`: refused before anything is
 * written when the target holds anything; otherwise built beside it and moved into place once
 * verified. On any failure (a thrown `onProgress` included) the target is as it was.
 */
export async function importIntoSqlite(snap: Snapshot, target: BackendTarget & { file: string }, opts: { now_ms: number; onProgress?: SnapshotProgress }): Promise<SnapshotCounts> {
  const label = targetLabel(target);
  const { exists } = assertEmptyTarget(target.file, target.config);
  // a folder made for the import goes again when it fails
  const made = existsSync(dirname(target.file)) ? null : dirname(target.file);
  const staging = stageBeside(target.file, target.config);
  const memories = stagedMemoryRows(staging.memories);
  let ports: Awaited<ReturnType<typeof openTarget>> | null = null;
  try {
    ports = await openTarget(target, { now_ms: opts.now_ms, file: staging.file });
    const counts = await importSnapshot(ports.ports, snap, { where: label, now_ms: opts.now_ms, memories, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    await ports.close();
    memories.close();
    staging.commit({ replace: exists, memories: memories.written() });
    return counts;
  } catch (e) {
    await ports?.close().catch(() => {});
    memories.close();
    staging.discard();
    if (made && readdirSync(made).length === 0) rmdirSync(made);
    throw e;
  }
}

/** An in-process home for persona memories (the memory backend keeps nothing after the command). */
function memoryRows(): MemoryRows {
  const held = new Map<string, MemoryRecord>();
  return {
    read: async () => [...held.values()],
    write: async (records) => {
      for (const r of records) held.set(r.id, r);
    },
  };
}

/** `chimera import`. */
export const importCommand: Command = {
  name: 'import',
  summary: 'Restore a snapshot into an empty backend and verify it',
  get usage() {
    return [
      `  chimera import --backend ${backendChoicesText({ built: true })} [--db FILE] [--expect-digest SHA256] [--read-only] [SNAPSHOT.json] < snapshot.json`,
      '    reads SNAPSHOT.json, or stdin when no file is given; the target must be empty',
      '    --backend        where to restore it:',
      ...backendHelpLines({ built: true, indent: '                       ' }),
      '    --expect-digest  refuse the snapshot unless its whole digest is this one (as `chimera export` printed it)',
      '  Any edit to the snapshot is refused (its digests); a failed import leaves the target as it was.',
      '  With --read-only the import is refused (it only writes).',
    ].join('\n');
  },
  options: {
    backend: { type: 'string' },
    db: { type: 'string' },
    'expect-digest': { type: 'string' },
    ...READ_ONLY_FLAG,
  },
  allowPositionals: true,
  async run({ values, positionals }, io: CliIo): Promise<number> {
    if (positionals.length > 1) throw new UsageError(`one snapshot file at most, got ${positionals.length}`);
    let expect_digest: string | undefined;
    if (values['expect-digest'] !== undefined) {
      expect_digest = String(values['expect-digest']).replace(/^sha256:/, '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(expect_digest)) throw new UsageError(`--expect-digest must be a SHA-256 in hex (64 digits), got "${String(values['expect-digest'])}"`);
    }
    const target = backendTarget(values, io);
    // an import only writes: on a read-only target it is refused before anything is read or opened
    if (values['read-only']) throw new ReadOnlyError(`import writes ${targetLabel(target)}, which --read-only opens for reading only; nothing was written`, { endpoint: targetLabel(target), refused: 'import' });
    const file = positionals[0];
    let text: string;
    let where: string;
    if (file !== undefined) {
      where = resolve(io.cwd, file);
      try {
        text = readFileSync(where, 'utf8');
      } catch (e) {
        throw new ValidationError(`cannot read snapshot ${where}: ${(e as Error).message}`);
      }
    } else {
      if ((process.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('give a snapshot file, or pipe one on stdin');
      where = 'stdin';
      text = await readAll(process.stdin);
    }
    const snap = parseSnapshot(text, where, expect_digest === undefined ? {} : { expect_digest });
    const label = targetLabel(target);
    const now_ms = snap.run?.progress.clock_ms ?? 0;
    const bar = new ProgressBar(io.stderr, 'import');
    const onProgress: SnapshotProgress = (what, done, total) => bar.update(done, total, what, performance.now());
    let counts: SnapshotCounts;
    if (target.file) {
      counts = await importIntoSqlite(snap, { ...target, file: target.file }, { now_ms, onProgress });
    } else {
      const { ports, close } = await openTarget(target, { now_ms });
      try {
        counts = await importSnapshot(ports, snap, { where: label, now_ms, onProgress, memories: memoryRows() });
      } finally {
        await close();
      }
    }
    bar.done();
    io.stderr.write(
      `imported ${counts.campaigns} campaigns, ${counts.tasks} tasks, ${counts.audit} audit events (chain verified), ${counts.queue_items} queue items, ` +
        `${counts.persona_memories} persona memories, ${counts.run_events} run events into ${label}; every section matches the digest sha256:${snap.digest.whole}\n`,
    );
    if (!backendByKind(target.backend).capabilities.durable) io.stderr.write(`note: the ${target.backend} backend keeps nothing after this command; the snapshot was checked\n`);
    return 0;
  },
};
