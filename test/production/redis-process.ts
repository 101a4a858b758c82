/**
 * A Redis server of a test's own (the system's redis-server binary, which redis-memory-server
 * also uses), with AOF and `appendfsync always` in a folder of its own, so the test may kill it
 * and start it again on the same port and data: what a deployment with the README's persistence
 * settings keeps across a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/embedded-servers.ts';
import { redisUnavailable } from '../support/servers.ts';

export interface OwnRedis {
  readonly url: string;
  /** Kills the server (SIGKILL: no shutdown save) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder; resolves once it answers PING. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const BINARY = process.env.REDISMS_SYSTEM_BINARY || '/usr/bin/redis-server';

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chimera-own-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    // answers PING: a state (bounded: the server either comes up or the test fails)
    for (let i = 0; i < 500; i++) {
      if ((await redisUnavailable(url)) === null) return;
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`redis-server on port ${port} did not answer`);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    url,
    kill,
    start,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
