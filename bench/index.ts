/**
 * `npm run bench [-- --json] [--suite NAME ...] [--quick]`: runs the suites (an on-demand suite
 * only when named), writes each suite's figures to bench/results/NAME.json (linked from the
 * README), and with --json prints every figure as one JSON object on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { SUITES } from './suites/index.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    suite: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
  strict: true,
});

const wanted = values.suite ?? [];
const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
if (unknown.length) {
  process.stderr.write(`bench: unknown suite ${unknown.join(', ')} (known: ${SUITES.map((s) => s.name).join(', ')})\n`);
  process.exit(2);
}
const chosen = wanted.length ? SUITES.filter((s) => wanted.includes(s.name)) : SUITES.filter((s) => !s.onDemand);
const log = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};
const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', mem_gib: Math.round(os.totalmem() / 2 ** 30) };
/** The code measured: the commit, and whether the working tree differed from it. */
function codeVersion(): { commit: string | null; dirty: boolean | null } {
  const git = (args: string[]) => spawnSync('git', args, { encoding: 'utf8', cwd: dirname(fileURLToPath(import.meta.url)) });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return { commit: null, dirty: null };
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return { commit: head.stdout.trim(), dirty: status.status === 0 ? status.stdout.trim().length > 0 : null };
}
const code = codeVersion();
const all: Record<string, unknown> = { machine, code, quick: values.quick };
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(outDir, { recursive: true });
for (const s of chosen) {
  log(`== ${s.name}: ${s.description}`);
  const t0 = performance.now();
  const figures = await s.run({ quick: values.quick, log });
  const result = { ...figures, suite_ms: Math.round(performance.now() - t0) };
  all[s.name] = result;
  if (!values['no-write'] && !values.quick) {
    writeFileSync(join(outDir, `${s.name}.json`), JSON.stringify({ machine, code, measured_at: new Date().toISOString(), ...result }, null, 2) + '\n');
  }
  log(JSON.stringify(result, null, 2));
}
if (values.json) process.stdout.write(JSON.stringify(all) + '\n');
