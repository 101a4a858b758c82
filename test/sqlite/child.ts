/** Drives test/sqlite/owner-child.ts in a real child process: one JSON line per answer, waited for (never slept on). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./owner-child.ts', import.meta.url));

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The next JSON line the child prints (in order). */
  next(): Promise<Record<string, unknown>>;
  /** Sends one command line. */
  send(line: string): void;
  /** Resolves when the process has exited (and was reaped). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts `owner-child.ts FILE ...flags`. */
export function startChild(file: string, flags: string[] = []): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT, file, ...flags], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  let buf = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const v = JSON.parse(line) as Record<string, unknown>;
      const w = waiting.shift();
      if (w) w(v);
      else lines.push(v);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  return {
    proc,
    pid: proc.pid as number,
    next: () =>
      new Promise((res, rej) => {
        const v = lines.shift();
        if (v) return res(v);
        waiting.push(res);
        void exited.then((x) => rej(new Error(`child ${proc.pid} exited (${x.code ?? x.signal}) before answering; stderr: ${err}`)));
      }),
    send: (line) => proc.stdin?.write(`${line}\n`),
    exited,
    stderr: () => err,
  };
}
