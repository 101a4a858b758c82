/** Runs the CLI in-process with captured output. */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';

/** `env` is added to this process's environment (DATABASE_MODE is cleared unless `env` sets it). */
export async function cli(args: string[], cwd = process.cwd(), env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new Writable({ write: (c, _e, cb) => ((stdout += String(c)), cb()) });
  const err = new Writable({ write: (c, _e, cb) => ((stderr += String(c)), cb()) });
  const code = await main(args, { stdout: out, stderr: err, env: { ...process.env, DATABASE_MODE: '', ...env }, cwd });
  return { code, stdout, stderr };
}

/** A stream that keeps what is written to it (for the CLI's io in-process). */
export function sink(): NodeJS.WritableStream & { text: string } {
  const s = {
    text: '',
    write(chunk: string | Uint8Array) {
      s.text += String(chunk);
      return true;
    },
  };
  return s as unknown as NodeJS.WritableStream & { text: string };
}
