/**
 * `chimera connections list|test` on this machine's real Postgres and Redis: the config file's
 * profiles and the app's connections.json listed with where each secret comes from (a sealed one
 * marked as needing the app); a profile tested with every service ok (exit 0), with a Redis port
 * nothing listens on (exit 1, the line names Redis and "refused"), with an environment variable
 * that is not set or a sealed secret (exit 2, one line); and a password given through the
 * environment appears in no output, text or JSON, of either command.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.ts';
import { testDatabase, testRedisPrefix, testRedisUrl } from '../support/servers.ts';

/** A URL without its password, and the password (URL-decoded; '' when it had none). */
function splitPassword(url: string): { url: string; password: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

/** A local port nothing listens on: one the OS just handed out and that was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const oneLine = (r: { code: number; stdout: string; stderr: string }) => ({ code: r.code, stdout: r.stdout, lines: r.stderr.trim().split('\n').length });

interface TestJson {
  connection: string | null;
  source: string;
  read_only: boolean;
  ok: boolean;
  services: { service: string; target: string; ok: boolean; reason: string | null; message: string; server_version: string | null; latency_ms: number | null; notes: string[] }[];
}

describe('chimera connections', () => {
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let dir: string;
  let config: string;
  let deadPort: number;
  // trust auth ignores a password; a server that checks one gets the one the tests' URL carries
  let pgPassword: string;
  const env = (): Record<string, string> => ({ CLI_CONN_PG_PASSWORD: pgPassword });

  beforeAll(async () => {
    db = await testDatabase('cli_connections');
    const pgUrl = splitPassword(db.url);
    pgPassword = pgUrl.password || `not-needed-${process.pid}-s3cret`;
    const redis = splitPassword(testRedisUrl());
    deadPort = await closedPort();
    dir = mkdtempSync(join(tmpdir(), 'chimera-cli-connections-'));
    const redisSecret = redis.password ? { redis_password: { env: 'CLI_CONN_REDIS_PASSWORD' } } : {};
    if (redis.password) process.env.CLI_CONN_REDIS_PASSWORD = redis.password;
    const lab = { postgres_url: pgUrl.url, redis_url: redis.url, redis_prefix: testRedisPrefix('cli-conn'), secrets: { postgres_password: { env: 'CLI_CONN_PG_PASSWORD' }, ...redisSecret } };
    config = join(dir, 'chimera.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        data_dir: join(dir, 'data'),
        connections: {
          lab: { ...lab, read_only: false },
          'dead-redis': { ...lab, redis_url: `redis://127.0.0.1:${deadPort}` },
          unset: { ...lab, secrets: { postgres_password: { env: 'CLI_CONN_NEVER_SET' } } },
        },
      }),
    );
    // what the app's Connections panel saves: a secret sealed by the desktop app's vault
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'connections.json'), JSON.stringify({ version: 1, connections: { vaulted: { postgres_url: pgUrl.url, redis_url: redis.url, secrets: { postgres_password: { sealed: 'c2VhbGVkIGJ5IHRoZSBhcHA=' } } } } }));
  }, 60_000);
  afterAll(async () => {
    delete process.env.CLI_CONN_REDIS_PASSWORD;
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('list: every profile with its source, read-only or not, and where each secret comes from; a sealed one needs the app', async () => {
    const r = await cli(['connections', 'list', '--config', config, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { config_file: string; app_file: string; connections: { name: string; source: string; read_only: boolean; needs_app: boolean; secrets: Record<string, unknown> }[] };
    expect(out.config_file).toBe(config);
    expect(out.app_file).toBe(join(dir, 'data', 'connections.json'));
    expect(out.connections.map((c) => [c.name, c.source, c.read_only, c.needs_app])).toEqual([
      ['dead-redis', 'config', true, false],
      ['lab', 'config', false, false],
      ['unset', 'config', true, false],
      ['vaulted', 'app', true, true],
    ]);
    expect(out.connections.find((c) => c.name === 'lab')?.secrets.postgres_password).toEqual({ kind: 'env', env: 'CLI_CONN_PG_PASSWORD' });
    expect(out.connections.find((c) => c.name === 'vaulted')?.secrets.postgres_password).toEqual({ kind: 'sealed' });
    // the sealed value is the app's: not even it is shown
    expect(r.stdout).not.toContain('c2VhbGVk');

    const text = await cli(['connections', 'list', '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}lab {2}config file · read-write$/m);
    expect(text.stdout).toMatch(/^ {2}vaulted {2}app · read-only · needs the desktop app/m);
    expect(text.stdout).toMatch(/postgres_password: environment variable CLI_CONN_PG_PASSWORD/);
  });

  it('test: every service ok is exit 0, one line each (ok, service, host, version, round trip), as one JSON object with --json', async () => {
    const text = await cli(['connections', 'test', 'lab', '--config', config], undefined, env());
    expect(text.code, text.stdout + text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toBe('connection "lab" (config file, read-write): all 2 ok');
    expect(lines.filter((l) => !l.startsWith(' '))).toEqual([
      lines[0],
      expect.stringMatching(/^ok {6}Postgres +\S+:\d+ +version \d+.* · round trip [\d.]+ ms · connected to database /),
      expect.stringMatching(/^ok {6}Redis +\S+:\d+ +version \d+\.\d+.* · round trip [\d.]+ ms · connected/),
    ]);
    // notes are indented under their service
    expect(lines.some((l) => /^ {10}- schema public: /.test(l))).toBe(true);

    const json = await cli(['connections', 'test', 'lab', '--config', config, '--json', '--timeout-ms', '10000'], undefined, env());
    expect(json.code).toBe(0);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(json.stdout) as TestJson;
    expect(out).toMatchObject({ connection: 'lab', source: 'config', read_only: false, ok: true, timeout_ms: 10000 });
    expect(out.services.map((s) => [s.service, s.ok, s.reason])).toEqual([
      ['postgres', true, null],
      ['redis', true, null],
    ]);
    for (const s of out.services) {
      expect(s.server_version).toEqual(expect.any(String));
      expect(s.latency_ms).toEqual(expect.any(Number));
    }
  });

  it('test: a Redis port nothing listens on is exit 1, the report printed, its line naming Redis and "refused"', async () => {
    const r = await cli(['connections', 'test', 'dead-redis', '--config', config], undefined, env());
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('connection "dead-redis" (config file, read-only): 1 of 2 failed');
    expect(lines).toContainEqual(expect.stringMatching(/^ok {6}Postgres /));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^failed {2}Redis +127\\.0\\.0\\.1:${deadPort} +refused: .*ECONNREFUSED`)));
    const json = JSON.parse((await cli(['connections', 'test', 'dead-redis', '--config', config, '--json'], undefined, env())).stdout) as TestJson;
    expect(json.ok).toBe(false);
    expect(json.services.find((s) => s.service === 'redis')).toMatchObject({ ok: false, reason: 'refused', target: `127.0.0.1:${deadPort}` });
  });

  it('test: a secret that cannot be had (an unset variable, a sealed one) is one line, exit 2, nothing on stdout', async () => {
    const unset = await cli(['connections', 'test', 'unset', '--config', config], undefined, env());
    expect(oneLine(unset)).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(unset.stderr).toMatch(/^chimera connections test: connection "unset": secrets\.postgres_password comes from the environment variable CLI_CONN_NEVER_SET, which is not set$/m);
    const sealed = await cli(['connections', 'test', 'vaulted', '--config', config]);
    expect(oneLine(sealed)).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(sealed.stderr).toMatch(/secrets\.postgres_password is sealed in the desktop app's vault/);
    const unknown = await cli(['connections', 'test', 'prod', '--config', config]);
    expect(oneLine(unknown)).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(unknown.stderr).toMatch(/no connection profile named "prod" \(known: dead-redis, lab, unset, vaulted\)/);
  });

  it('test without NAME: what --backend production would open, from CHIMERA_POSTGRES_URL and CHIMERA_REDIS_URL; nothing set is exit 2', async () => {
    const none = await cli(['connections', 'test'], undefined, { CHIMERA_POSTGRES_URL: '', CHIMERA_REDIS_URL: '', CHIMERA_CONNECTION: '' });
    expect(oneLine(none)).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(none.stderr).toMatch(/CHIMERA_POSTGRES_URL and CHIMERA_REDIS_URL/);
    const u = new URL(db.url);
    u.password = pgPassword;
    const r = await cli(['connections', 'test', '--json'], undefined, { CHIMERA_POSTGRES_URL: u.toString(), CHIMERA_REDIS_URL: testRedisUrl(), CHIMERA_CONNECTION: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ connection: null, source: 'settings', ok: true });
    expect(r.stdout + r.stderr).not.toContain(pgPassword);
    // CHIMERA_CONNECTION names the profile --backend production would open
    const named = await cli(['connections', 'test', '--config', config, '--json'], undefined, { ...env(), CHIMERA_CONNECTION: 'dead-redis' });
    expect(named.code).toBe(1);
    expect(JSON.parse(named.stdout)).toMatchObject({ connection: 'dead-redis', ok: false });
  });

  it('no output of either command, text or JSON, holds the password given through the environment', async () => {
    const outputs = [
      await cli(['connections', 'list', '--config', config], undefined, env()),
      await cli(['connections', 'list', '--config', config, '--json'], undefined, env()),
      await cli(['connections', 'test', 'lab', '--config', config], undefined, env()),
      await cli(['connections', 'test', 'lab', '--config', config, '--json'], undefined, env()),
      await cli(['connections', 'test', 'dead-redis', '--config', config], undefined, env()),
      await cli(['connections', 'test', 'dead-redis', '--config', config, '--json'], undefined, env()),
    ];
    expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0, 1, 1]);
    for (const o of outputs) {
      expect(o.stdout + o.stderr).not.toContain(pgPassword);
      expect(o.stdout + o.stderr).not.toContain(encodeURIComponent(pgPassword));
    }
  });

  it.each([
    [['connections', 'test', 'lab', '--timeout-ms', '0'], /--timeout-ms must be a whole number from 1 to 600000/],
    [['connections', 'test', 'lab', 'dead-redis'], /test one profile at a time/],
    [['connections', 'list', 'lab'], /unexpected argument "lab"/],
    [['connections', 'remove', 'lab'], /unknown command "connections remove"/],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await cli([...args, ...(args[1] === 'remove' ? [] : ['--config', config])], undefined, env());
    expect(oneLine(r)).toEqual({ code: 2, stdout: '', lines: 1 });
    expect(r.stderr).toMatch(message);
  });
});
