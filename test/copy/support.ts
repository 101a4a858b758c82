/** Helpers of the copy tests: the CLI in-process, a simulation source, opened sides. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { Simulation } from '../../src/app/simulation.ts';
import { openCopySide, parseCopySide, type OpenedCopySide } from '../../src/config/copy-sides.ts';

/** Runs `chimera ARGS` in-process with `env`; returns its exit code and output. */
export async function chimera(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  const code = await main(args, { stdout: out, stderr: err, env: { ...process.env, ...env }, cwd: process.cwd() });
  return { code, out: o, err: e };
}

export const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `chimera-copy-${label}-`));

/** An in-memory simulation of launch-day stopped at `ticks` (work in flight: queues, a run half-way). */
export async function memorySimulation(ticks: number, seed = 7): Promise<Simulation> {
  const sim = await Simulation.open({ scenario: 'launch-day', backend: 'memory', engine: { seed } });
  await sim.run({ until_tick: ticks });
  return sim;
}

/** A SQLite file filled by a simulation (`ticks` ticks of launch-day). */
export async function sqliteSimulation(file: string, ticks: number, seed = 7): Promise<void> {
  const sim = await Simulation.open({ scenario: 'launch-day', backend: 'sqlite', db: file, engine: { seed } });
  await sim.run({ until_tick: ticks });
  await sim.close();
}

/** Opens a side as the CLI names it. */
export function side(text: string, role: 'source' | 'target', env: Record<string, string> = {}): Promise<OpenedCopySide> {
  return openCopySide(parseCopySide(text, process.cwd()), role, { env: { ...process.env, ...env } });
}
