/**
 * "Test connection" (src/config/connection-check.ts): the pure parts (what a driver error means,
 * whether a version is enough) on hand-made errors, then every reason provoked for real against
 * this machine's Postgres and Redis, the Weaviate wire emulator, and small local servers that
 * misbehave on purpose (a port nobody listens on, a server that accepts and never answers, a fake
 * Redis that reports an old version or a replica). Each case checks the service, the reason and
 * that the message names the host; secrets given in the target never appear in the report.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkConnections,
  classifyConnectionError,
  CONNECTION_REASONS,
  decideVersion,
  MIN_VERSIONS,
  type ConnectionReport,
  type ServiceCheck,
} from '../../src/config/connection-check.ts';
import { CheckTimeoutError, GrpcStatusError, HttpStatusError } from '../../src/config/connection-check/classify.ts';
import { ConnectionReportSchema } from '../../src/shared/connection-report.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { openPostgres } from '../../src/adapters/postgres/pg-open.ts';
import { classDefinition, PERSONA_MEMORY_CLASS } from '../../src/adapters/weaviate/weaviate-schema.ts';
import { pgUnavailable, redisUnavailable, testDatabase, testPgUrl, testRedisUrl, uniqueSuffix } from '../support/servers.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from '../weaviate/emulator.ts';
import { RedisRaw } from '../redis/redis-raw.ts';

const pgWhy = await pgUnavailable();
const redisWhy = await redisUnavailable();

/** The one entry of `service` in the report (and the report is what the wire schema accepts). */
function entry(report: ConnectionReport, service: ServiceCheck['service']): ServiceCheck {
  ConnectionReportSchema.parse(report);
  const found = report.services.filter((s) => s.service === service);
  expect(found).toHaveLength(1);
  return found[0] as ServiceCheck;
}

/** The service failed for `reason`, and its message is one line naming the service and `host`. */
function expectFailure(s: ServiceCheck, reason: string, host: string): void {
  expect({ reason: s.reason, ok: s.ok }, s.message).toEqual({ reason, ok: false });
  expectNamed(s, host);
}

function expectNamed(s: ServiceCheck, host: string): void {
  const name = { postgres: 'Postgres', redis: 'Redis', weaviate: 'Weaviate' }[s.service];
  expect(s.message.startsWith(`${name} at `)).toBe(true);
  expect(s.message).toContain(host);
  expect(s.target).toContain(host);
  expect(s.message).not.toMatch(/\n/);
}

/** host:port of a URL, with the service's default port. */
const hostPort = (url: string, defaultPort: number): string => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || defaultPort}`;
};

/** A port nobody listens on: a server opened on port 0, its port read, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface LocalServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1; `onSocket` decides what each connection gets. */
async function localServer(onSocket: (s: net.Socket) => void): Promise<LocalServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Accepts and never answers. */
const silentServer = (): Promise<LocalServer> => localServer(() => {});

/**
 * A fake Redis speaking just enough RESP for the check: CLIENT SETNAME, PING, INFO (with `info`
 * as its text), EVALSHA (NOSCRIPT), EXISTS, QUIT. It answers only once `gate` resolves.
 */
function fakeRedis(info: string, gate: Promise<void> = Promise.resolve()): Promise<LocalServer> {
  const answer = (args: string[]): string => {
    const cmd = (args[0] ?? '').toUpperCase();
    if (cmd === 'CLIENT' || cmd === 'QUIT') return '+OK\r\n';
    if (cmd === 'PING') return '+PONG\r\n';
    if (cmd === 'INFO') return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
    if (cmd === 'EVALSHA') return '-NOSCRIPT No matching script. Please use EVAL.\r\n';
    if (cmd === 'EXISTS') return ':0\r\n';
    return `-ERR unknown command '${cmd}'\r\n`;
  };
  return localServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // whole commands only: *N\r\n then N × $len\r\n<arg>\r\n (bounded by the buffer)
      for (let guard = 0; guard < 100; guard++) {
        const parsed = parseCommand(buf);
        if (!parsed) break;
        buf = buf.subarray(parsed.used);
        void gate.then(() => socket.write(answer(parsed.args)));
      }
    });
  });
}

function parseCommand(buf: Buffer): { args: string[]; used: number } | null {
  const line = (from: number): { text: string; next: number } | null => {
    const end = buf.indexOf('\r\n', from);
    return end < 0 ? null : { text: buf.toString('latin1', from, end), next: end + 2 };
  };
  const head = line(0);
  if (!head || !head.text.startsWith('*')) return null;
  const n = Number(head.text.slice(1));
  const args: string[] = [];
  let at = head.next;
  for (let i = 0; i < n; i++) {
    const len = line(at);
    if (!len) return null;
    const size = Number(len.text.slice(1));
    if (buf.length < len.next + size + 2) return null;
    args.push(buf.toString('utf8', len.next, len.next + size));
    at = len.next + size + 2;
  }
  return { args, used: at };
}

const INFO_OLD = '# Server\r\nredis_version:5.0.7\r\nredis_mode:standalone\r\n# Replication\r\nrole:master\r\n';
const INFO_REPLICA = '# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n# Persistence\r\naof_enabled:1\r\n# Replication\r\nrole:slave\r\n# Cluster\r\ncluster_enabled:0\r\n';

describe('classifyConnectionError (pure)', () => {
  const err = (message: string, props: Record<string, unknown> = {}): Error => Object.assign(new Error(message), props);
  const cases: { name: string; service: 'postgres' | 'redis' | 'weaviate'; e: unknown; reason: string; says: RegExp }[] = [
    { name: 'pg wrong password', service: 'postgres', e: err('password authentication failed for user "u"', { code: '28P01' }), reason: 'auth', says: /password was not accepted.*28P01/ },
    { name: 'pg missing role', service: 'postgres', e: err('role "nobody" does not exist', { code: '28000' }), reason: 'auth', says: /role "nobody" does not exist \(28000\)/ },
    { name: 'pg missing database', service: 'postgres', e: err('database "x" does not exist', { code: '3D000' }), reason: 'config', says: /database "x" does not exist/ },
    { name: 'pg SSL off', service: 'postgres', e: err('The server does not support SSL connections'), reason: 'tls', says: /SSL turned off/ },
    { name: 'pg password needed', service: 'postgres', e: err('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'), reason: 'auth', says: /asks for a password/ },
    { name: 'pg too many connections', service: 'postgres', e: err('sorry, too many clients already', { code: '53300' }), reason: 'other', says: /no free connection slot/ },
    { name: 'pg sslrootcert missing', service: 'postgres', e: err("ENOENT: no such file or directory, open '/ca.pem'", { code: 'ENOENT' }), reason: 'config', says: /cannot be read/ },
    { name: 'EPIPE is not a SQLSTATE', service: 'postgres', e: err('write EPIPE', { code: 'EPIPE' }), reason: 'other', says: /closed the connection/ },
    { name: 'dns', service: 'postgres', e: err('getaddrinfo ENOTFOUND db.example', { code: 'ENOTFOUND', hostname: 'db.example' }), reason: 'dns', says: /the name db\.example does not resolve \(ENOTFOUND\)/ },
    { name: 'dns, name from the message', service: 'redis', e: err('getaddrinfo ENOTFOUND cache.example', { code: 'ENOTFOUND' }), reason: 'dns', says: /cache\.example does not resolve/ },
    { name: 'dns try again', service: 'redis', e: err('getaddrinfo EAI_AGAIN cache.example', { code: 'EAI_AGAIN' }), reason: 'dns', says: /EAI_AGAIN/ },
    { name: 'refused', service: 'redis', e: err('connect ECONNREFUSED 10.0.0.1:6379', { code: 'ECONNREFUSED', address: '10.0.0.1', port: 6379 }), reason: 'refused', says: /10\.0\.0\.1:6379 \(ECONNREFUSED\)/ },
    { name: 'unreachable', service: 'postgres', e: err('connect EHOSTUNREACH', { code: 'EHOSTUNREACH' }), reason: 'refused', says: /cannot be reached/ },
    { name: 'socket timeout', service: 'postgres', e: err('connect ETIMEDOUT', { code: 'ETIMEDOUT' }), reason: 'timeout', says: /ETIMEDOUT/ },
    { name: 'pg connection timeout', service: 'postgres', e: err('timeout expired'), reason: 'timeout', says: /timeout/ },
    { name: 'our timeout, not accepted', service: 'redis', e: new CheckTimeoutError(250, 'connect'), reason: 'timeout', says: /no answer within 250 ms: the connection was not accepted/ },
    { name: 'our timeout, accepted', service: 'postgres', e: new CheckTimeoutError(250, 'answer'), reason: 'timeout', says: /accepted but nothing answered as Postgres would/ },
    { name: 'certificate', service: 'postgres', e: err('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), reason: 'tls', says: /certificate was not accepted/ },
    { name: 'host name mismatch', service: 'weaviate', e: err("Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), reason: 'tls', says: /ERR_TLS_CERT_ALTNAME_INVALID/ },
    { name: 'wrong version number', service: 'weaviate', e: err('write EPROTO 0080:error:0A00010B:SSL routines:ssl3_get_record:wrong version number', { code: 'EPROTO' }), reason: 'tls', says: /does not speak it/ },
    { name: 'redis WRONGPASS', service: 'redis', e: err('WRONGPASS invalid username-password pair or user is disabled.'), reason: 'auth', says: /user name or password was not accepted/ },
    { name: 'redis NOAUTH', service: 'redis', e: err('NOAUTH Authentication required.'), reason: 'auth', says: /needs a password/ },
    { name: 'redis NOPERM', service: 'redis', e: err("NOPERM User x has no permissions to run the 'client|setname' command"), reason: 'auth', says: /NOPERM/ },
    { name: 'redis password to no-password server', service: 'redis', e: err('ERR AUTH <password> called without any password configured for the default user.'), reason: 'auth', says: /needs none/ },
    { name: 'redis without HELLO', service: 'redis', e: err("ERR unknown command 'HELLO'"), reason: 'version', says: new RegExp(`older than ${MIN_VERSIONS.redis.replace(/\./g, '\\.')}`) },
    { name: 'redis AUTH without users', service: 'redis', e: err("ERR wrong number of arguments for 'auth' command"), reason: 'version', says: /older than/ },
    { name: 'redis protocol', service: 'redis', e: err('Protocol error, got "H" as reply type byte'), reason: 'protocol', says: /not Redis's protocol/ },
    { name: 'weaviate 401', service: 'weaviate', e: new HttpStatusError(401, 'GET /v1/meta', 'unauthorized'), reason: 'auth', says: /API key/ },
    { name: 'weaviate 403', service: 'weaviate', e: new HttpStatusError(403, 'GET /v1/meta', 'forbidden'), reason: 'auth', says: /HTTP 403/ },
    { name: 'weaviate 404', service: 'weaviate', e: new HttpStatusError(404, 'GET /v1/meta', ''), reason: 'protocol', says: /no Weaviate API/ },
    { name: 'weaviate 503', service: 'weaviate', e: new HttpStatusError(503, 'GET /v1/meta', 'down'), reason: 'other', says: /HTTP 503/ },
    { name: 'grpc unauthenticated', service: 'weaviate', e: new GrpcStatusError(16, 'no key'), reason: 'auth', says: /UNAUTHENTICATED/ },
    { name: 'fetch wrapping a socket error', service: 'weaviate', e: new TypeError('fetch failed', { cause: err('getaddrinfo ENOTFOUND w.example', { code: 'ENOTFOUND', hostname: 'w.example' }) }), reason: 'dns', says: /w\.example does not resolve/ },
    { name: 'a bad profile value', service: 'redis', e: new ConfigError('the URL is not valid'), reason: 'config', says: /the URL is not valid/ },
    { name: 'anything else', service: 'weaviate', e: err('something\nodd'), reason: 'other', says: /something odd/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.reason}`, () => {
      const got = classifyConnectionError(c.service, c.e, 'h.example:1');
      expect(got.reason).toBe(c.reason);
      expect(got.message).toMatch(c.says);
      expect(got.message).toMatch(/^(Postgres|Redis|Weaviate) at h\.example:1: /);
      expect(got.message).not.toMatch(/\n/);
    });
  }

  it('names the service alone without a target, and every reason is in CONNECTION_REASONS', () => {
    expect(classifyConnectionError('redis', new Error('WRONGPASS x')).message).toMatch(/^Redis: /);
    for (const c of cases) expect(CONNECTION_REASONS).toContain(classifyConnectionError(c.service, c.e).reason);
  });
});

describe('decideVersion (pure)', () => {
  it('holds each service to its minimum', () => {
    expect(MIN_VERSIONS).toEqual({ postgres: '9.6', redis: '6.0.0', weaviate: '1.27.0' });
    expect(decideVersion('postgres', '15.20 (Debian 15.20-0+deb12u1)')).toEqual({ ok: true, minimum: '9.6', message: null });
    expect(decideVersion('postgres', '9.6.24').ok).toBe(true);
    expect(decideVersion('postgres', '9.5.25')).toMatchObject({ ok: false, message: expect.stringMatching(/PostgreSQL 9\.5\.25 is older than 9\.6.*idle_in_transaction_session_timeout/) });
    expect(decideVersion('redis', '6.0.0').ok).toBe(true);
    expect(decideVersion('redis', '7.0.15').ok).toBe(true);
    expect(decideVersion('redis', '5.0.14')).toMatchObject({ ok: false, message: expect.stringMatching(/SCAN … TYPE/) });
    expect(decideVersion('weaviate', '1.32.4')).toEqual({ ok: true, minimum: '1.27.0', message: null });
    expect(decideVersion('weaviate', '1.26.9')).toMatchObject({ ok: false, message: expect.stringMatching(/gRPC/) });
    expect(decideVersion('weaviate', '1.28.2')).toMatchObject({ ok: true, message: expect.stringMatching(/GraphQL/) });
    expect(decideVersion('weaviate', '2.0.0-rc.1').ok).toBe(true);
  });

  it('does not hold an unread or unparseable version against the server, but says so', () => {
    expect(decideVersion('redis', null)).toMatchObject({ ok: true, message: expect.stringMatching(/could not be read/) });
    expect(decideVersion('postgres', 'devel')).toMatchObject({ ok: true, message: expect.stringMatching(/could not be understood/) });
  });
});

describe('checkConnections: what is checked', () => {
  it('leaves out services not configured, and reports nothing checked as not ok', async () => {
    expect(await checkConnections({})).toEqual({ ok: false, services: [] });
    expect(await checkConnections({ postgres_url: '', redis_url: '' })).toEqual({ ok: false, services: [] });
  });

  it('refuses a bad timeout_ms in one line naming the field', async () => {
    for (const t of [0, -1, Number.NaN, 10_000_000]) await expect(checkConnections({}, { timeout_ms: t })).rejects.toThrow(/^timeout_ms must be/);
  });

  it('gives reason config for malformed URLs, wrong schemes and bad names, before connecting, never echoing the URL', async () => {
    const report = await checkConnections({ postgres_url: 'not a url :secretpw', redis_url: 'http://u:secretpw@cache.example:6379', weaviate_url: 'ftp://w.example' });
    expect(report.ok).toBe(false);
    expect(entry(report, 'postgres')).toMatchObject({ reason: 'config', target: '(unparseable URL)', message: expect.stringMatching(/^Postgres at \(unparseable URL\): the URL is not valid/) });
    expectFailure(entry(report, 'redis'), 'config', 'cache.example:6379');
    expect(entry(report, 'redis').message).toMatch(/scheme http:\/\/ is not Redis's/);
    expectFailure(entry(report, 'weaviate'), 'config', 'w.example');
    expect(JSON.stringify(report)).not.toContain('secretpw');

    const names = await checkConnections({ postgres_url: 'postgres://u@db.example:5432/x', schema: 'bad-name;', redis_url: 'redis://cache.example', redis_prefix: '{p}', weaviate_url: 'http://w.example:8080', weaviate_grpc_port: 70_000 });
    expectFailure(entry(names, 'postgres'), 'config', 'db.example:5432');
    expect(entry(names, 'postgres').message).toMatch(/schema name/);
    expectFailure(entry(names, 'redis'), 'config', 'cache.example:6379');
    expect(entry(names, 'redis').message).toMatch(/redis_prefix/);
    expectFailure(entry(names, 'weaviate'), 'config', 'w.example:8080');
    expect(entry(names, 'weaviate').message).toMatch(/weaviate_grpc_port must be an integer from 1 to 65535, got 70000/);
  });

  it('dns: a name that does not resolve, for each service', async () => {
    const report = await checkConnections({
      postgres_url: 'postgres://u:pw@nonexistent.invalid:5432/db',
      redis_url: 'redis://nonexistent.invalid:6379',
      weaviate_url: 'http://nonexistent.invalid:8080',
    });
    for (const s of ['postgres', 'redis', 'weaviate'] as const) {
      expectFailure(entry(report, s), 'dns', 'nonexistent.invalid');
      expect(entry(report, s).message).toMatch(/the name nonexistent\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\)|could not be resolved/);
    }
  });

  it('refused: a port nobody listens on, for each service (and for Weaviate gRPC alone)', async () => {
    const port = await closedPort();
    const report = await checkConnections({ postgres_url: `postgres://u@127.0.0.1:${port}/db`, redis_url: `redis://127.0.0.1:${port}`, weaviate_url: `http://127.0.0.1:${port}` });
    for (const s of ['postgres', 'redis', 'weaviate'] as const) {
      expectFailure(entry(report, s), 'refused', `127.0.0.1:${port}`);
      expect(entry(report, s).message).toContain('ECONNREFUSED');
    }
  });

  it('timeout: a server that accepts and never answers, bounded by timeout_ms, saying the connection was accepted', async () => {
    const silent = await silentServer();
    try {
      const at = `127.0.0.1:${silent.port}`;
      const report = await checkConnections({ postgres_url: `postgres://u@${at}/db`, redis_url: `redis://${at}`, weaviate_url: `http://${at}` }, { timeout_ms: 300 });
      for (const s of ['postgres', 'redis', 'weaviate'] as const) {
        expectFailure(entry(report, s), 'timeout', at);
        expect(entry(report, s).message).toMatch(/no answer within 300 ms: the connection was accepted/);
      }
      expect(silent.accepted).toBe(3);
    } finally {
      await silent.close();
    }
  });

  it('checks the services in parallel: a Redis that answers only once Postgres has been reached is reached in time', async () => {
    // sequential checks could not pass: Postgres first would time out before Redis is asked; Redis first would wait forever for Postgres
    let reached!: () => void;
    const postgresReached = new Promise<void>((resolve) => (reached = resolve));
    const silent = await localServer(() => reached());
    const redis = await fakeRedis(INFO_REPLICA, postgresReached);
    try {
      const report = await checkConnections({ postgres_url: `postgres://u@127.0.0.1:${silent.port}/db`, redis_url: `redis://127.0.0.1:${redis.port}` }, { timeout_ms: 2000 });
      expect(entry(report, 'redis').ok).toBe(true);
      expectFailure(entry(report, 'postgres'), 'timeout', `127.0.0.1:${silent.port}`);
      expect(report.services.map((s) => s.service)).toEqual(['postgres', 'redis']);
    } finally {
      await silent.close();
      await redis.close();
    }
  });
});

describe('checkConnections on a fake Redis', () => {
  it('version: a server that reports Redis 5.0.7', async () => {
    const old = await fakeRedis(INFO_OLD);
    try {
      const s = entry(await checkConnections({ redis_url: `redis://127.0.0.1:${old.port}` }), 'redis');
      expectFailure(s, 'version', `127.0.0.1:${old.port}`);
      expect(s.server_version).toBe('5.0.7');
      expect(s.message).toMatch(/Redis 5\.0\.7 is older than 6\.0\.0/);
    } finally {
      await old.close();
    }
  });

  it('notes a replica, and refuses a Sentinel as not a data server', async () => {
    const replica = await fakeRedis(INFO_REPLICA);
    const sentinel = await fakeRedis('# Server\r\nredis_version:7.2.4\r\nredis_mode:sentinel\r\n');
    try {
      const s = entry(await checkConnections({ redis_url: `redis://127.0.0.1:${replica.port}` }), 'redis');
      expect(s).toMatchObject({ ok: true, server_version: '7.2.4', reason: null });
      expect(s.message).toMatch(/Redis 7\.2\.4 \(replica\)/);
      expect(s.notes).toEqual([expect.stringMatching(/replica: writes are refused/)]);
      expect(s.latency_ms).toBeGreaterThanOrEqual(0);
      expectFailure(entry(await checkConnections({ redis_url: `redis://127.0.0.1:${sentinel.port}` }), 'redis'), 'protocol', `127.0.0.1:${sentinel.port}`);
    } finally {
      await replica.close();
      await sentinel.close();
    }
  });
});

describe.skipIf(pgWhy !== null || redisWhy !== null)(`checkConnections on this machine's Postgres and Redis${pgWhy || redisWhy ? ` (skipped: ${pgWhy ?? redisWhy})` : ''}`, () => {
  const pgUrl = testPgUrl();
  const redisUrl = testRedisUrl();
  const pgAt = hostPort(pgUrl, 5432);
  const redisAt = hostPort(redisUrl, 6379);
  const users: string[] = [];
  let raw: RedisRaw;
  const withUser = (url: string, user: string, password: string): string => {
    const u = new URL(url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    return u.toString();
  };
  const aclUser = async (rules: string[]): Promise<{ user: string; password: string }> => {
    const user = `chimera-check-${uniqueSuffix()}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    await raw.client.sendCommand(['ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...rules]);
    users.push(user);
    return { user, password };
  };

  beforeAll(async () => {
    raw = await RedisRaw.connect(redisUrl);
  });
  afterAll(async () => {
    for (const u of users) await raw.client.sendCommand(['ACL', 'DELUSER', u]);
    await raw.close();
  });

  it('ok for Postgres and Redis together, with their versions, a round trip and notes', async () => {
    const report = await checkConnections({ postgres_url: pgUrl, redis_url: redisUrl, schema: `absent_${uniqueSuffix()}` });
    expect(report.ok).toBe(true);
    const p = entry(report, 'postgres');
    expect(p).toMatchObject({ ok: true, reason: null, server_version: expect.stringMatching(/^\d+\.\d+/) });
    expectNamed(p, pgAt);
    expect(p.message).toMatch(/connected to database \S+ as \S+; PostgreSQL \d+/);
    expect(p.latency_ms).toBeGreaterThanOrEqual(0);
    expect(p.notes.join('\n')).toMatch(/does not exist yet: the first read-write open creates it/);
    const r = entry(report, 'redis');
    expect(r).toMatchObject({ ok: true, reason: null, server_version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expectNamed(r, redisAt);
    expect(r.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it("notes a schema holding the seed's tables and current migrations", async () => {
    const db = await testDatabase('conncheck');
    try {
      const ports = await openPostgres({ url: db.url, schema: 'chimera' });
      await ports.close();
      const p = entry(await checkConnections({ postgres_url: db.url }), 'postgres');
      expect(p.ok).toBe(true);
      expect(p.notes).toEqual([
        "schema chimera: the seed's tables campaigns and tasks are present",
        expect.stringMatching(/^schema chimera: Chimera's migrations are current \((\d+) of \1\)$/),
      ]);
    } finally {
      await db.drop();
    }
  });

  it('config: a database that does not exist', async () => {
    const u = new URL(pgUrl);
    u.pathname = `/missing_${uniqueSuffix()}`;
    const p = entry(await checkConnections({ postgres_url: u.toString() }), 'postgres');
    expectFailure(p, 'config', pgAt);
    expect(p.message).toMatch(/does not exist: check the database name in the URL \(3D000\)/);
  });

  it('auth: a Postgres role that does not exist (28000)', async () => {
    const p = entry(await checkConnections({ postgres_url: withUser(pgUrl, `nobody_${uniqueSuffix()}`, 'whatever-pw') }), 'postgres');
    expectFailure(p, 'auth', pgAt);
    expect(p.message).toMatch(/role "nobody_\w+" does not exist \(28000\)/);
  });

  it('auth: a Redis ACL user with a wrong password, and a password given where none is needed', async () => {
    const { user, password } = await aclUser(['~*', '+@all']);
    const good = entry(await checkConnections({ redis_url: withUser(redisUrl, user, password) }), 'redis');
    expect(good.ok, good.message).toBe(true);
    const wrong = entry(await checkConnections({ redis_url: withUser(redisUrl, user, `${password}-wrong`) }), 'redis');
    expectFailure(wrong, 'auth', redisAt);
    expect(wrong.message).toMatch(/WRONGPASS/);
    const u = new URL(redisUrl);
    if (u.password) return; // the tests' Redis wants a password: the case below does not apply
    u.password = 'not-needed-pw';
    const extra = entry(await checkConnections({ redis_url: u.toString() }), 'redis');
    expectFailure(extra, 'auth', redisAt);
    expect(extra.message).toMatch(/needs none: remove it from the URL/);
  });

  it('notes what a read-only Redis user may not do (INFO, scripts, keys outside its pattern)', async () => {
    const { user, password } = await aclUser(['~elsewhere:*', '+ping', '+client|setname', '+exists', '+evalsha']);
    const { user: user2, password: password2 } = await aclUser(['~*', '+ping', '+client|setname', '+exists']);
    const s = entry(await checkConnections({ redis_url: withUser(redisUrl, user, password), redis_prefix: 'chimera:' }), 'redis');
    expect(s.ok, s.message).toBe(true);
    expect(s.server_version).toBeNull();
    expect(s.message).toMatch(/connected; version not read/);
    expect(s.notes).toEqual([expect.stringMatching(/may not run INFO \(NOPERM\)/), expect.stringMatching(/may not read keys under the prefix "chimera:"/)]);
    const s2 = entry(await checkConnections({ redis_url: withUser(redisUrl, user2, password2) }), 'redis');
    expect(s2.notes).toEqual([expect.stringMatching(/may not run INFO/), expect.stringMatching(/may not run scripts \(EVALSHA: NOPERM\)/)]);
  });

  it('tls: Postgres asked for TLS by a server without it, and rediss:// to the plain Redis port', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const ssl = String((await client.query<{ ssl: string }>('SHOW ssl')).rows[0]?.ssl);
    await client.end();
    // this server has SSL on: a stand-in that refuses TLS as a server with ssl=off does ('N' to the SSLRequest)
    const standIn = ssl === 'off' ? null : await localServer((s) => s.once('data', () => s.write('N')));
    try {
      const pgTls = standIn ? `postgres://u@127.0.0.1:${standIn.port}/db?sslmode=require` : `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}sslmode=require`;
      const redisTls = redisUrl.replace(/^redis:/, 'rediss:');
      const report = await checkConnections({ postgres_url: pgTls, redis_url: redisTls });
      const p = entry(report, 'postgres');
      expectFailure(p, 'tls', standIn ? `127.0.0.1:${standIn.port}` : pgAt);
      expect(p.message).toMatch(/SSL turned off/);
      const r = entry(report, 'redis');
      expectFailure(r, 'tls', redisAt);
      expect(r.message).toMatch(/speaks plain Redis on this port: use redis:\/\//);
    } finally {
      await standIn?.close();
    }
  });

  it('secrets never appear: passwords and the API key in every message, target and note, ok or failing', async () => {
    const { user, password } = await aclUser(['~*', '+@all']);
    const pgPassword = `Pg-${randomBytes(6).toString('hex')}!@:/`;
    const apiKey = `key-${randomBytes(8).toString('hex')}`;
    const emu = await startWeaviateEmulator({ apiKey });
    const port = await closedPort();
    try {
      const targets = [
        { postgres_url: withUser(pgUrl, new URL(pgUrl).username || 'postgres', pgPassword), redis_url: withUser(redisUrl, user, password), weaviate_url: emu.url, weaviate_grpc_port: emu.grpcPort, weaviate_api_key: apiKey },
        { postgres_url: withUser(pgUrl, `nobody_${uniqueSuffix()}`, pgPassword), redis_url: withUser(redisUrl, user, `${password}x`), weaviate_url: emu.url, weaviate_grpc_port: port, weaviate_api_key: `${apiKey}x` },
        { postgres_url: `postgres://u:${encodeURIComponent(pgPassword)}@nonexistent.invalid/db`, redis_url: `rediss://${user}:${password}@127.0.0.1:${port}`, weaviate_url: `http://u:${password}@127.0.0.1:${port}`, weaviate_api_key: apiKey },
      ];
      const seen: string[] = [];
      for (const t of targets) {
        const report = await checkConnections(t);
        seen.push(...report.services.map((s) => s.reason ?? 'ok'));
        const text = JSON.stringify(report);
        for (const secret of [pgPassword, encodeURIComponent(pgPassword), password, `${password}x`, apiKey, `${apiKey}x`]) expect(text).not.toContain(secret);
      }
      // the first target's services all answered, so ok reports were searched too
      expect(seen.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
      expect(seen.slice(3)).toEqual(['auth', 'auth', 'auth', 'dns', 'refused', 'refused']);
      assertNoUnknownCalls(emu);
    } finally {
      await emu.close();
    }
  });
});

describe('checkConnections on the Weaviate emulator', () => {
  let emu: WeaviateEmulator;
  const API_KEY = 'emulator-api-key';
  beforeAll(async () => {
    emu = await startWeaviateEmulator({ apiKey: API_KEY });
  });
  afterAll(async () => {
    assertNoUnknownCalls(emu);
    await emu.close();
  });
  const target = (more: { weaviate_api_key?: string; weaviate_grpc_port?: number; weaviate_url?: string } = {}) => ({
    weaviate_url: emu.url,
    weaviate_grpc_port: emu.grpcPort,
    weaviate_api_key: API_KEY,
    ...more,
  });
  const at = (): string => new URL(emu.url).host;

  it('ok: version, round trip, gRPC health, and whether class PersonaMemory exists', async () => {
    const before = entry(await checkConnections(target()), 'weaviate');
    expect(before).toMatchObject({ ok: true, reason: null, server_version: '1.32.4', target: emu.url });
    expectNamed(before, at());
    expect(before.message).toMatch(new RegExp(`Weaviate 1\\.32\\.4, gRPC at 127\\.0\\.0\\.1:${emu.grpcPort} serving`));
    expect(before.latency_ms).toBeGreaterThanOrEqual(0);
    expect(before.notes).toEqual([expect.stringMatching(/class PersonaMemory does not exist: the first read-write open creates it/)]);
    emu.store.create(classDefinition(PERSONA_MEMORY_CLASS));
    try {
      expect(entry(await checkConnections(target()), 'weaviate').notes).toEqual(["class PersonaMemory exists with Chimera's properties"]);
    } finally {
      emu.store.drop(PERSONA_MEMORY_CLASS);
    }
  });

  it('auth: no API key, and a wrong one', async () => {
    for (const key of ['', 'wrong-key']) {
      const s = entry(await checkConnections(target({ weaviate_api_key: key })), 'weaviate');
      expectFailure(s, 'auth', at());
      expect(s.message).toMatch(/API key is missing or not accepted \(HTTP 401 on GET \/v1\/meta/);
    }
  });

  it('refused on the gRPC port alone: REST answers, gRPC does not', async () => {
    const port = await closedPort();
    const s = entry(await checkConnections(target({ weaviate_grpc_port: port })), 'weaviate');
    expectFailure(s, 'refused', at());
    expect(s.message).toContain(`REST answers, but gRPC at 127.0.0.1:${port} does not`);
    expect(s.server_version).toBe('1.32.4');
  });

  it('protocol: the gRPC port pointed at the REST port (HTTP/1 only)', async () => {
    const s = entry(await checkConnections(target({ weaviate_grpc_port: Number(new URL(emu.url).port) })), 'weaviate');
    expectFailure(s, 'protocol', at());
  });

  it('tls: https:// to the plain-HTTP port', async () => {
    const s = entry(await checkConnections(target({ weaviate_url: emu.url.replace(/^http:/, 'https:') })), 'weaviate');
    expectFailure(s, 'tls', at());
  });

  it('version: an emulator reporting 1.25.0, and one reporting 1.28.0 (works, with a note)', async () => {
    const old = await startWeaviateEmulator({ version: '1.25.0' });
    const between = await startWeaviateEmulator({ version: '1.28.0' });
    try {
      const s = entry(await checkConnections({ weaviate_url: old.url, weaviate_grpc_port: old.grpcPort }), 'weaviate');
      expectFailure(s, 'version', new URL(old.url).host);
      expect(s).toMatchObject({ server_version: '1.25.0', message: expect.stringMatching(/Weaviate 1\.25\.0 is older than 1\.27\.0/) });
      const b = entry(await checkConnections({ weaviate_url: between.url, weaviate_grpc_port: between.grpcPort }), 'weaviate');
      expect(b.ok, b.message).toBe(true);
      expect(b.notes[0]).toMatch(/below 1\.29\.0 the client counts over GraphQL/);
      assertNoUnknownCalls(old);
      assertNoUnknownCalls(between);
    } finally {
      await old.close();
      await between.close();
    }
  });
});
