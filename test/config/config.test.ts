import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/config.ts';
import { composePorts } from '../../src/config/compose.ts';
import { requireAvailableMode } from '../../src/config/backends/index.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import type { ChimeraError } from '../../src/domain/errors.ts';

describe('configuration', () => {
  it('defaults to the in-memory profile with the hashing embedder, frozen', () => {
    const c = parseConfig({});
    expect(c.mode).toBe('in-memory');
    expect(c.embedder.kind).toBe('hashing');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.sqlite)).toBe(true);
  });

  it('DATABASE_MODE overrides the file; a bad value names the source and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-config-'));
    const file = join(dir, 'chimera.config.json');
    writeFileSync(file, JSON.stringify({ mode: 'in-memory', sqlite: { path: 'x.db' } }));
    expect(loadConfig({ file, env: { DATABASE_MODE: 'sqlite' } }).mode).toBe('sqlite');
    expect(() => loadConfig({ file, env: { DATABASE_MODE: 'mongo' } })).toThrow('DATABASE_MODE must be one of in-memory, sqlite, production, got "mongo"');
    writeFileSync(file, JSON.stringify({ mode: 'galaxy' }));
    expect(() => loadConfig({ file, env: {} })).toThrow(/mode: Invalid option/);
  });

  it('refuses unknown keys, wrong types and broken JSON with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ memory: { adapter: 'hnsw', hnsw: { M: 'sixteen' } }, colour: 'blue' }));
    const err = (() => {
      try {
        loadConfig({ file, env: {} });
      } catch (e) {
        return e as ChimeraError;
      }
      return null;
    })();
    expect(err?.code).toBe('CONFIG');
    expect(err?.message).toContain(file);
    expect(err?.message).toMatch(/memory\.hnsw\.M/);
    expect(err?.message).toMatch(/colour/);
    writeFileSync(file, '{ "mode": ');
    expect(() => loadConfig({ file, env: {} })).toThrow(/is not valid JSON/);
    expect(() => loadConfig({ file: join(dir, 'missing.json'), env: {} })).toThrow(/cannot read config file/);
  });

  it('the composition root builds guarded ports for the in-memory profile and refuses an unknown one', async () => {
    const ports = await composePorts(parseConfig({}), new VirtualClock());
    expect(ports.state.kind).toBe('memory');
    const bad = await ports.state.transaction((tx) => tx.insertCampaign({ id: 'nope' } as never)).catch((e: unknown) => e);
    expect((bad as ChimeraError).code).toBe('VALIDATION');
    await ports.close();
    await ports.close();
    // production where no Postgres answers: refused naming the server
    const settings = { postgres_url: 'postgres://127.0.0.1:1/chimera', redis_url: 'redis://127.0.0.1:6379' };
    const prod = await composePorts(parseConfig({ mode: 'production', production: settings }), new VirtualClock()).catch((e: unknown) => e);
    expect((prod as ChimeraError).code).toBe('BACKEND_UNAVAILABLE');
    expect((prod as Error).message).toMatch(/^Postgres at 127\.0\.0\.1:1\/chimera \(schema public\): connection refused/);
  });

  it('the production profile needs its connection settings, from the environment or the file', () => {
    expect(() => loadConfig({ env: { DATABASE_MODE: 'production' } })).toThrow(
      'DATABASE_MODE=production: the production profile needs its connection settings: set CHIMERA_POSTGRES_URL and CHIMERA_REDIS_URL (CHIMERA_WEAVIATE_URL is optional)',
    );
    expect(() => loadConfig({ env: { DATABASE_MODE: 'production', CHIMERA_POSTGRES_URL: 'postgres://h/db' } })).toThrow(/set CHIMERA_REDIS_URL \(/);
    const c = loadConfig({ env: { DATABASE_MODE: 'production', CHIMERA_POSTGRES_URL: 'postgres://h/db', CHIMERA_REDIS_URL: 'redis://h:6379' } });
    expect(c.production).toEqual({ postgres_url: 'postgres://h/db', redis_url: 'redis://h:6379', schema: 'public', redis_prefix: '', queues: 'redis', statement_timeout_ms: 30_000, read_only: false });
    // without Redis, the queues (and the persona cache) may live in Postgres
    expect(loadConfig({ env: { DATABASE_MODE: 'production', CHIMERA_POSTGRES_URL: 'postgres://h/db', CHIMERA_QUEUES: 'postgres' } }).production.queues).toBe('postgres');
    expect(() => loadConfig({ env: { CHIMERA_REDIS_URL: 'http://h' } })).toThrow(/production\.redis_url: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(requireAvailableMode(c).mode).toBe('production');
    expect(requireAvailableMode(parseConfig({ mode: 'sqlite' })).mode).toBe('sqlite');
  });
});
