/** `chimera` processes for the production tests: started with a store's environment, awaited by state. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'chimera.mjs');

export interface ChimeraProcess {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Resolves when stderr or stdout has printed something matching `re`; rejects if the process ends first. */
  waitFor(re: RegExp): Promise<void>;
}

export function startChimera(args: string[], env: Record<string, string>): ChimeraProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: ChimeraProcess = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))),
    waitFor(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(p.stdout) || re.test(p.stderr)) {
            child.stdout?.off('data', check);
            child.stderr?.off('data', check);
            resolve();
          }
        };
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        void p.exited.then((code) => reject(new Error(`chimera ${args.join(' ')} ended (${code}) before printing ${re}: ${p.stderr.slice(-2000)}`)));
        check();
      });
    },
  };
  child.stdout?.on('data', (d) => (p.stdout += String(d)));
  child.stderr?.on('data', (d) => (p.stderr += String(d)));
  return p;
}
