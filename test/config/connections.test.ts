/**
 * Connection profiles (src/config/connections.ts): the schema refuses a secret in clear, a
 * profile starts read-only, secrets come from the environment, a named file or the vault and
 * each failure names the profile, the field and the source; the config file's `connections`
 * with CHIMERA_CONNECTION (or loadConfig's `connection`) become the production section.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ConnectionsFile, parseConnection, resolveConnection, resolveConnectionSync, summarize, type SecretVault } from '../../src/config/connections.ts';
import type { ChimeraError } from '../../src/domain/errors.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'chimera-conn-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A vault for tests: a reversible seal with a tag, so a foreign or damaged sealed value fails to open (as safeStorage's does). */
export function testVault(): SecretVault {
  return {
    description: 'test vault',
    seal: async (plain) => 'v1:' + Buffer.from(plain, 'utf8').toString('base64').split('').reverse().join(''),
    open: async (sealed) => {
      if (!sealed.startsWith('v1:')) throw new Error('not sealed by this vault');
      return Buffer.from(sealed.slice(3).split('').reverse().join(''), 'base64').toString('utf8');
    },
  };
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return `${(e as ChimeraError).code}: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('a connection profile', () => {
  it('starts read-only and keeps only where its secrets come from', () => {
    const p = parseConnection('prod', { postgres_url: 'postgres://chimera@db.example:5432/chimera', redis_url: 'redis://cache.example:6379', secrets: { postgres_password: { env: 'PGPASSWORD' } } });
    expect(p.read_only).toBe(true);
    expect(p.schema).toBe('public');
    expect(summarize('prod', 'app', p).secrets).toEqual({ postgres_password: { kind: 'env', env: 'PGPASSWORD' }, redis_password: null, weaviate_api_key: null });
  });

  it('refuses a URL that carries a password, naming the field and where the secret goes', () => {
    const msg = codeOf(() => parseConnection('prod', { postgres_url: 'postgres://chimera:hunter2@db.example/chimera', queues: 'postgres' }));
    expect(msg).toMatch(/^VALIDATION: connection "prod": postgres_url: carries a password: .*secrets\.postgres_password/);
    expect(msg).not.toContain('hunter2');
    expect(codeOf(() => parseConnection('prod', { postgres_url: 'postgres://db/x', redis_url: 'redis://:pw@cache:6379' }))).toMatch(/redis_url: carries a password/);
  });

  it('names each bad field: a missing postgres_url, a wrong scheme, a bad name, an unknown key', () => {
    expect(codeOf(() => parseConnection('prod', {}))).toMatch(/postgres_url/);
    expect(codeOf(() => parseConnection('prod', { postgres_url: 'postgres://db/x' }))).toMatch(/redis_url: a connection profile needs redis_url .*or queues: postgres/);
    expect(codeOf(() => parseConnection('prod', { postgres_url: 'mysql://db/x', queues: 'postgres' }))).toMatch(/postgres_url: must be a postgres:\/\//);
    expect(codeOf(() => parseConnection('prod', { postgres_url: 'postgres://db/x', redis_url: 'http://cache' }))).toMatch(/redis_url: must be a redis:\/\//);
    expect(codeOf(() => parseConnection('../etc', { postgres_url: 'postgres://db/x', queues: 'postgres' }))).toMatch(/^VALIDATION: connection name "..\/etc": must be 1–64 letters, digits/);
    expect(codeOf(() => parseConnection('prod', { postgres_url: 'postgres://db/x', queues: 'postgres', password: 'x' }))).toMatch(/password/);
    expect(codeOf(() => parseConnection('prod', { postgres_url: 'postgres://db/x', queues: 'postgres', secrets: { postgres_password: 'plain' } }))).toMatch(/secrets\.postgres_password/);
  });
});

describe('resolving a profile’s secrets', () => {
  const profile = parseConnection('prod', {
    postgres_url: 'postgres://chimera@db.example:5432/chimera',
    redis_url: 'redis://cache.example:6379',
    weaviate_url: 'https://memory.example',
    secrets: { postgres_password: { env: 'T_PG_PW' }, redis_password: { file: '' + join(tmpdir(), 'never-there', 'redis.secret') }, weaviate_api_key: { env: 'T_WV_KEY' } },
  });

  it('puts environment and file secrets into the URLs (in memory) and hands the API key on', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'redis.secret'), 'r3d!s pw\nignored second line\n');
    const p = parseConnection('prod', { ...profile, secrets: { ...profile.secrets, redis_password: { file: join(dir, 'redis.secret') } } });
    const r = resolveConnectionSync('prod', p, { T_PG_PW: 'p@ss/word', T_WV_KEY: 'wv-key' });
    expect(new URL(r.production.postgres_url as string).password).toBe(encodeURIComponent('p@ss/word'));
    expect(decodeURIComponent(new URL(r.production.postgres_url as string).password)).toBe('p@ss/word');
    const redis = new URL(r.production.redis_url as string);
    expect([redis.username, decodeURIComponent(redis.password)]).toEqual(['default', 'r3d!s pw']);
    expect(r.weaviate_api_key).toBe('wv-key');
    // the profile is read-only, and so is what it resolves to
    expect(r.production.read_only).toBe(true);
  });

  it('names the profile, the field and the source when a secret cannot be had, never a value', () => {
    expect(codeOf(() => resolveConnectionSync('prod', profile, { T_WV_KEY: 'x' }))).toBe('CONFIG: connection "prod": secrets.postgres_password comes from the environment variable T_PG_PW, which is not set');
    expect(codeOf(() => resolveConnectionSync('prod', profile, { T_PG_PW: 'x', T_WV_KEY: 'x' }))).toMatch(/^CONFIG: connection "prod": secrets\.redis_password comes from the file .*redis\.secret, which cannot be read \(ENOENT\)$/);
    const empty = join(tmp(), 'empty');
    writeFileSync(empty, '\n');
    expect(codeOf(() => resolveConnectionSync('prod', parseConnection('prod', { postgres_url: 'postgres://db/x', queues: 'postgres', secrets: { postgres_password: { file: empty } } }), {}))).toMatch(/is empty/);
  });

  it('opens sealed secrets only with the vault that sealed them', async () => {
    const vault = testVault();
    const sealed = parseConnection('prod', { postgres_url: 'postgres://chimera@db/x', queues: 'postgres', secrets: { postgres_password: { sealed: await vault.seal('s3cret') } } });
    expect(JSON.stringify(sealed)).not.toContain('s3cret');
    const r = await resolveConnection('prod', sealed, { vault });
    expect(decodeURIComponent(new URL(r.production.postgres_url as string).password)).toBe('s3cret');
    await expect(resolveConnection('prod', sealed, {})).rejects.toThrow(/sealed in the desktop app's vault, which this process cannot open/);
    expect(codeOf(() => resolveConnectionSync('prod', sealed, {}))).toMatch(/sealed in the desktop app's vault/);
    const foreign = parseConnection('prod', { postgres_url: 'postgres://db/x', queues: 'postgres', secrets: { postgres_password: { sealed: 'v0:garbage' } } });
    await expect(resolveConnection('prod', foreign, { vault })).rejects.toThrow(/could not be unsealed .*enter it again/);
  });
});

describe('connections in the config file and in connections.json', () => {
  it('CHIMERA_CONNECTION picks a config-file profile: mode production, its settings, its secret from the environment', () => {
    const dir = tmp();
    const file = join(dir, 'chimera.config.json');
    writeFileSync(
      file,
      JSON.stringify({
        data_dir: dir,
        connections: { staging: { postgres_url: 'postgres://chimera@db.staging:5432/chimera', redis_url: 'redis://cache.staging:6379', schema: 'chimera', redis_prefix: 'stg:', secrets: { postgres_password: { env: 'STAGING_PG_PW' } } } },
      }),
    );
    const config = loadConfig({ file, env: { CHIMERA_CONNECTION: 'staging', STAGING_PG_PW: 'pw' } });
    expect(config.mode).toBe('production');
    expect(config.production).toMatchObject({ schema: 'chimera', redis_prefix: 'stg:', read_only: true, redis_url: 'redis://cache.staging:6379' });
    expect(new URL(config.production.postgres_url as string).password).toBe('pw');
    // without the variable, the one-line error says which
    expect(codeOf(() => loadConfig({ file, env: { CHIMERA_CONNECTION: 'staging' } }))).toMatch(/STAGING_PG_PW, which is not set/);
    expect(codeOf(() => loadConfig({ file, env: {}, connection: 'prod' }))).toBe('CONFIG: no connection profile named "prod" (known: staging)');
  });

  it('the app’s saved profiles are found too; the file is private to the user and a damaged one is set aside', () => {
    const dir = tmp();
    const saved = new ConnectionsFile(dir);
    saved.put('local', parseConnection('local', { postgres_url: 'postgres://postgres@127.0.0.1:5432/postgres', redis_url: 'redis://127.0.0.1:6379', read_only: false }));
    expect(statSync(saved.path).mode & 0o777).toBe(0o600);
    const config = loadConfig({ env: { CHIMERA_DATA_DIR: dir }, connection: 'local' });
    expect(config.production).toMatchObject({ postgres_url: 'postgres://postgres@127.0.0.1:5432/postgres', read_only: false });
    writeFileSync(saved.path, '{"version":1,"connections":{"x":{"postgres_url":"postgres://u:pw@h/d"}}}');
    // a reader that only reads (the CLI) leaves the file where it is
    const reader = new ConnectionsFile(dir, { readOnly: true });
    expect([reader.list(), reader.notice]).toEqual([[], expect.stringMatching(/could not be read .*its profiles are not listed/)]);
    expect(codeOf(() => loadConfig({ env: { CHIMERA_DATA_DIR: dir }, connection: 'x' }))).toMatch(/no connection profile named "x" .*; connections file .* could not be read/);
    expect(readFileSync(saved.path, 'utf8')).toContain('postgres://u:pw@h/d');
    const again = new ConnectionsFile(dir);
    expect(again.list()).toEqual([]);
    expect(again.notice).toMatch(/could not be read .*carries a password.*moved to .*connections\.json\.bad/);
    expect(readFileSync(`${saved.path}.bad`, 'utf8')).toContain('postgres://u:pw@h/d');
  });

  it('a config file holding the Weaviate API key in clear is refused', () => {
    const file = join(tmp(), 'c.json');
    writeFileSync(file, JSON.stringify({ production: { weaviate_api_key: 'k' } }));
    expect(codeOf(() => loadConfig({ file, env: {} }))).toMatch(/production\.weaviate_api_key holds a secret in clear/);
  });
});
