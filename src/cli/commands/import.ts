/** `chimera import`: restores a snapshot into an empty backend, then checks counts and the audit chain. */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { ProgressBar } from '../progress.ts';
import { importSnapshot, parseSnapshot } from '../snapshot.ts';
import { ValidationError } from '../../domain/errors.ts';
import { backendTarget, openTarget, targetLabel } from './export.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** `chimera import`. */
export const importCommand: Command = {
  name: 'import',
  summary: 'Restore a snapshot into an empty backend and verify it',
  usage: [
    '  chimera import --backend memory|sqlite [--db FILE] [SNAPSHOT.json] < snapshot.json',
    '    reads SNAPSHOT.json, or stdin when no file is given; the target must be empty',
  ].join('\n'),
  options: {
    backend: { type: 'string' },
    db: { type: 'string' },
  },
  allowPositionals: true,
  async run({ values, positionals }, io: CliIo): Promise<number> {
    if (positionals.length > 1) throw new UsageError(`one snapshot file at most, got ${positionals.length}`);
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
    const snap = parseSnapshot(text, where);
    const target = backendTarget(values, io);
    const label = targetLabel(target);
    // a new SQLite file is written beside its name and renamed into place once verified, so an
    // import that fails or is killed never leaves a half-filled database under that name
    const staging = target.file && !existsSync(target.file) ? `${target.file}.importing-${process.pid}` : undefined;
    const now_ms = snap.run?.progress.clock_ms ?? 0;
    const { ports, close } = await openTarget(target, { now_ms, ...(staging ? { file: staging } : {}) });
    const bar = new ProgressBar(io.stderr, 'import');
    let counts;
    try {
      counts = await importSnapshot(ports, snap, {
        where: label,
        now_ms,
        onProgress: (what, done, total) => bar.update(done, total, what, performance.now()),
      });
      bar.done();
    } catch (e) {
      await close();
      if (staging) for (const f of [staging, `${staging}-wal`, `${staging}-shm`]) rmSync(f, { force: true });
      throw e;
    }
    await close();
    if (staging && target.file) renameSync(staging, target.file);
    io.stderr.write(
      `imported ${counts.campaigns} campaigns, ${counts.tasks} tasks, ${counts.audit} audit events (chain verified), ${counts.queue_items} queue items, ${counts.run_events} run events into ${label}\n`,
    );
    if (values.backend === 'memory') io.stderr.write('note: the memory backend keeps nothing after this command; the snapshot was checked\n');
    return 0;
  },
};
