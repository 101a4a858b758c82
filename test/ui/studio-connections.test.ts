/**
 * Connection profiles through the studio service, on this machine's real Postgres and Redis:
 * browser mode keeps no typed secret, a saved profile starts read-only and a session on it is
 * refused (nothing closed, nothing written), making it read-write needs `confirm`, and then a
 * session runs on it — its Redis password resolved from the environment into a real ACL login.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudioService } from '../../src/app/studio-service.ts';
import { loadConfig } from '../../src/config/config.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { testRedisUrl, uniqueSuffix } from '../support/servers.ts';
import { openStudio } from './studio-support.ts';

const PW_ENV = `CHIMERA_TEST_CONN_PW_${process.pid}`;
const PASSWORD = `conn-pw-${uniqueSuffix()}`;

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ table_name: string }>("select table_name from information_schema.tables where table_schema = 'public' order by 1");
    return r.rows.map((x) => x.table_name);
  } finally {
    await c.end();
  }
}

describe('connection profiles in the studio', () => {
  let store: ProductionStore;
  let studio: Awaited<ReturnType<typeof openStudio>>;
  const user = `chimera_conn_${uniqueSuffix()}`;
  const admin = createClient({ url: testRedisUrl() });
  let draft: { name: string; postgres_url: string; redis_url: string; redis_prefix: string; secrets: { redis_password: { env: string } } };

  beforeAll(async () => {
    store = await productionStore('conn');
    studio = await openStudio();
    await admin.connect();
    // a Redis login that needs the profile's password: the session works only if the secret reached the driver
    await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${PASSWORD}`, '~*', '&*', '+@all']);
    process.env[PW_ENV] = PASSWORD;
    const redis = new URL(testRedisUrl());
    redis.username = user;
    draft = { name: 'local', postgres_url: store.pgUrl, redis_url: redis.toString(), redis_prefix: store.prefix, secrets: { redis_password: { env: PW_ENV } } };
  }, 120_000);
  afterAll(async () => {
    delete process.env[PW_ENV];
    await studio?.cleanup();
    await admin.sendCommand(['ACL', 'DELUSER', user]).catch(() => undefined);
    await admin.quit();
    await store?.drop();
  });

  it('browser mode keeps no typed secret: it asks for an environment variable or a file', async () => {
    await expect(studio.service.call('connections/save', { ...draft, secrets: { redis_password: { value: PASSWORD } } })).rejects.toThrow(
      /^secrets\.redis_password: this app \(browser mode\) keeps no secrets: give the name of an environment variable or of a file/,
    );
    const list = await studio.service.call('connections/list', {});
    expect(list).toEqual({ connections: [], vault: null, notices: [] });
  });

  it('a saved profile starts read-only; a session on it is refused before anything is closed or written', async () => {
    const saved = await studio.service.call('connections/save', draft);
    expect(saved.connections).toEqual([expect.objectContaining({ name: 'local', source: 'app', read_only: true, secrets: { postgres_password: null, redis_password: { kind: 'env', env: PW_ENV }, weaviate_api_key: null } })]);
    const before = await studio.service.call('backend/status', {});
    await expect(studio.service.call('backend/switch', { kind: 'production', name: 'local' })).rejects.toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/^connection "local" is read-only: a simulation writes/) });
    expect((await studio.service.call('backend/status', {})).active).toEqual(before.active);
    expect(await tables(store.pgUrl)).toEqual([]);
  });

  it('"Test connection" names the service that failed and why: a saved profile, and drafts before saving', async () => {
    const ok = await studio.service.call('connections/test', { name: 'local' });
    expect(ok.ok).toBe(true);
    expect(ok.services.map((s) => [s.service, s.ok, s.reason])).toEqual([
      ['postgres', true, null],
      ['redis', true, null],
    ]);
    // the Redis login works only with the password from the environment
    process.env[PW_ENV] = 'wrong';
    try {
      const auth = await studio.service.call('connections/test', { name: 'local' });
      expect(auth.services.find((s) => s.service === 'redis')).toMatchObject({ ok: false, reason: 'auth' });
      expect(JSON.stringify(auth)).not.toContain('wrong');
    } finally {
      process.env[PW_ENV] = PASSWORD;
    }
    const refused = await studio.service.call('connections/test', { ...draft, name: 'draft', redis_url: 'redis://127.0.0.1:1', secrets: {} });
    expect(refused.services.find((s) => s.service === 'redis')).toMatchObject({ ok: false, reason: 'refused', message: expect.stringMatching(/^Redis at 127\.0\.0\.1:1/) });
    expect(refused.services.find((s) => s.service === 'postgres')?.ok).toBe(true);
    const dns = await studio.service.call('connections/test', { ...draft, name: 'draft', postgres_url: 'postgres://chimera@nonexistent.invalid:5432/x', secrets: {} });
    expect(dns.services.find((s) => s.service === 'postgres')).toMatchObject({ ok: false, reason: 'dns' });
    // a draft is tested, never saved
    expect((await studio.service.call('connections/list', {})).connections.map((c) => c.name)).toEqual(['local']);
  }, 120_000);

  it('read-write needs confirm; then the session runs there, its Redis login resolved from the environment', async () => {
    await expect(studio.service.call('connections/set-read-only', { name: 'local', read_only: false })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/ask the user, then send confirm: true/) });
    const rw = await studio.service.call('connections/set-read-only', { name: 'local', read_only: false, confirm: true });
    expect(rw.connections[0]?.read_only).toBe(false);
    const status = await studio.service.call('backend/switch', { kind: 'production', name: 'local' });
    expect(status.active).toEqual({ kind: 'production', name: 'local', path: null });
    expect(status.description).not.toContain(PASSWORD);
    await studio.service.call('sim/step', { count: 40 });
    expect(await tables(store.pgUrl)).toEqual(expect.arrayContaining(['campaigns', 'tasks']));
    // the keys are the profile's, written through the ACL user
    const keys = await admin.keys(`${store.prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    // the Inspector reads a connection profile by name, read-only (and the session's own, by default)
    const byName = await studio.service.call('inspect/campaigns', { connection: 'local' });
    expect(byName.backend).toBe('production');
    expect(byName.items.length).toBeGreaterThan(0);
    expect((await studio.service.call('inspect/campaigns', {})).items).toEqual(byName.items);
    await expect(studio.service.call('inspect/campaigns', { connection: 'local', target: 'sqlite' })).rejects.toThrow(/a connection profile is a production deployment/);
    await expect(studio.service.call('inspect/campaigns', { connection: 'nope' })).rejects.toThrow(/no connection profile named "nope" \(known: local\)/);
    // a connection that fails to answer fails the inspection, and leaves the session alone (no reopening)
    await studio.service.call('connections/save', { ...draft, name: 'down', redis_url: 'redis://127.0.0.1:1', secrets: {} });
    const err = await studio.service.call('inspect/queues', { connection: 'down' }).then(() => null, (e: Error) => e.message);
    expect(err).not.toBeNull();
    expect(err).not.toMatch(/reopened/);
    await studio.service.call('connections/delete', { name: 'down' });
    // the active profile cannot be changed under the session
    await expect(studio.service.call('connections/delete', { name: 'local' })).rejects.toThrow(/is the active profile: switch the session to another backend before you delete it/);
    await expect(studio.service.call('connections/set-read-only', { name: 'local', read_only: true })).rejects.toThrow(/before you make it read-only/);
  }, 120_000);

  it('reopens on the saved profile after a restart; no file of the data folder holds the password', async () => {
    await studio.service.close();
    const again = await StudioService.open({ config: loadConfig({ env: {}, overrides: { data_dir: studio.data_dir } }) });
    try {
      expect((await again.call('backend/status', {})).active).toEqual({ kind: 'production', name: 'local', path: null });
      expect(JSON.parse(readFileSync(join(studio.data_dir, 'studio-settings.json'), 'utf8')).backend).toEqual({ kind: 'production', name: 'local', path: null });
    } finally {
      await again.close();
    }
    for (const e of readdirSync(studio.data_dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) expect(readFileSync(join(e.parentPath, e.name), 'latin1'), e.name).not.toContain(PASSWORD);
    }
  }, 120_000);
});
