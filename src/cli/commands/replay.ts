/** `chimera replay RUNFILE [--to STEP]`: rebuilds a run from its file and checks it. */
import { resolve } from 'node:path';
import { readRunFile } from '../../app/simulation.ts';
import { replay } from '../../app/replay.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, intFlag, type Command } from '../command.ts';
import { formatSummary } from './format.ts';

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Re-run a recorded run file, check every event, print its summary',
  usage: '  chimera replay RUNFILE [--to STEP] [--json]',
  options: {
    to: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('give exactly one RUNFILE');
    const to = intFlag(values, 'to', 0, Number.MAX_SAFE_INTEGER);
    const file = readRunFile(resolve(io.cwd, positionals[0] as string));
    const bar = new ProgressBar(io.stderr, 'replaying', !values.json && Boolean(io.stderr.isTTY));
    const r = await replay(file, { to, onProgress: (d, t) => bar.update(d, t, '', performance.now()) });
    bar.done();
    await r.sim.close();
    if (values.json) {
      io.stdout.write(JSON.stringify({ ...r.summary, replayOk: r.divergedAt === null, divergedAt: r.divergedAt, detail: r.detail }) + '\n');
    } else {
      io.stdout.write(formatSummary(r.summary) + '\n');
      io.stdout.write(r.divergedAt === null ? 'replay matches the recording\n' : `replay DIVERGED: ${r.detail}\n`);
    }
    return r.divergedAt === null ? 0 : 1;
  },
};
