/**
 * The backend registry (src/config/backends): every entry declares what the rest of the code
 * derives from it, and its classifier reads real driver errors (a real SQLITE_FULL from
 * PRAGMA max_page_count, a real SQLITE_BUSY from two connections, a real SQLITE_READONLY).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  backendByKind,
  backendKinds,
  backends,
  databaseModes,
  registerBackend,
  requireAvailableMode,
  type BackendEntry,
} from '../../src/config/backends/index.ts';
import { ERROR_CLASSES, PORT_GROUPS } from '../../src/config/backends/types.ts';
import { memoryBackend } from '../../src/config/backends/memory.ts';
import { sqliteBackend } from '../../src/config/backends/sqlite.ts';
import { loadConfig, parseConfig } from '../../src/config/config.ts';
import { composePorts } from '../../src/config/compose.ts';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { BackendUnavailableError, ConflictError, NotFoundError, ValidationError } from '../../src/domain/errors.ts';
import { BACKEND_KINDS } from '../../src/shared/types.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { Simulation } from '../../src/app/simulation.ts';
import { cli } from '../support/cli.ts';
import { openStudio } from '../ui/studio-support.ts';
import { fixtures } from '../support/fixtures.ts';
import { ROOT } from '../layering/layers.ts';

const CAPABILITIES = ['transactions', 'durable', 'multiWriter', 'readOnly', 'serverTime', 'exactSearch', 'streamingExport'] as const;
const tempDir = () => mkdtempSync(join(tmpdir(), 'chimera-registry-'));

/** A real SQLite error: what better-sqlite3 throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the statement to fail');
}

describe('the backend registry', () => {
  it('every entry declares its names, ports, capabilities, a classifier and its settings', () => {
    expect(backends().map((b) => b.kind)).toEqual(['memory', 'sqlite', 'production']);
    expect(new Set(backends().map((b) => b.kind)).size).toBe(backends().length);
    for (const b of backends()) {
      expect(b.kind, b.kind).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(b.help.length, b.kind).toBeGreaterThan(0);
      expect(b.ports.length, b.kind).toBeGreaterThan(0);
      for (const g of b.ports) expect(PORT_GROUPS).toContain(g);
      expect(Object.keys(b.capabilities).sort(), b.kind).toEqual([...CAPABILITIES].sort());
      for (const c of CAPABILITIES) expect(typeof b.capabilities[c], `${b.kind}.${c}`).toBe('boolean');
      // a section's schema fills every default from nothing
      if (b.section) expect(() => b.section?.schema.parse({}), b.kind).not.toThrow();
      expect(typeof b.classify).toBe('function');
      expect(typeof b.describe(parseConfig({}))).toBe('string');
    }
    // the memory backend has no settings; the others validate theirs
    expect(memoryBackend.section).toBeUndefined();
    expect(sqliteBackend.section?.schema.parse({})).toEqual({ path: 'chimera.db', commit: 'batched', read_only: false });
    expect(() => parseConfig({ sqlite: { commit: 'sometimes' } })).toThrow(/sqlite\.commit/);
    expect(() => parseConfig({ production: { redis_url: 'http://x' } })).toThrow(/production\.redis_url: must be a redis/);
  });

  it('the config mode enum is the registry modes; a declared but unbuilt backend is refused naming what is', () => {
    expect(databaseModes()).toEqual(['in-memory', 'sqlite', 'production']);
    expect(backendKinds({ built: true })).toEqual(['memory', 'sqlite', 'production']);
    const c = parseConfig({ mode: 'production', production: { postgres_url: 'postgres://h/db', redis_url: 'redis://h' } });
    expect(requireAvailableMode(c).kind).toBe('production');
    // a backend declared (settings, capabilities) without a factory is refused by name
    const remove = registerBackend({ ...memoryBackend, kind: 'declared-kv', mode: 'declared-kv', label: 'Declared', create: undefined });
    try {
      expect(() => requireAvailableMode(parseConfig({ mode: 'declared-kv' }))).toThrow('the declared-kv profile is not available in this build yet (available: in-memory, sqlite, production)');
    } finally {
      remove();
    }
  });

  it("the wire's backend names (src/shared) are the registry's built backends", () => {
    expect([...BACKEND_KINDS]).toEqual(backendKinds({ built: true }));
  });

  it('classifies the errors every backend shares', () => {
    for (const b of backends()) {
      expect(b.classify(new ConflictError('stale', { entity: 'campaign', id: 'c1' })), b.kind).toBe('conflict');
      // the request's errors and bugs are not storage errors
      expect(b.classify(new ValidationError('bad')), b.kind).toBeNull();
      expect(b.classify(new NotFoundError('task', 't1')), b.kind).toBeNull();
      expect(b.classify(new TypeError('x is undefined')), b.kind).toBeNull();
      // a store that went away, without a driver code: give it up and reopen it
      expect(b.classify(new BackendUnavailableError('the store is closed')), b.kind).toBe('fatal');
      // the file system's own codes
      expect(b.classify(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })), b.kind).toBe('disk_full');
      expect(b.classify(Object.assign(new Error('permission denied'), { code: 'EACCES' })), b.kind).toBe('auth');
      for (const e of [new ConflictError('x'), new BackendUnavailableError('x')]) expect(ERROR_CLASSES).toContain(b.classify(e));
    }
  });

  it('sqlite: a real SQLITE_FULL (PRAGMA max_page_count) is disk_full', () => {
    const db = new Database(join(tempDir(), 'full.db'));
    db.exec('CREATE TABLE t (x BLOB)');
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
    const e = thrown(() => db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 * 1024)));
    db.close();
    expect(e).toMatchObject({ code: 'SQLITE_FULL' });
    expect(sqliteBackend.classify(e)).toBe('disk_full');
    // memory has no driver: a SQLite error is not one of its own
    expect(memoryBackend.classify(e)).toBeNull();
  });

  it('sqlite: a real SQLITE_FULL through the adapter (a checkpoint that cannot be written) is disk_full', async () => {
    const f = fixtures(5);
    const sdb = openSqliteDatabase(join(tempDir(), 'adapter-full.db'));
    const store = new SqliteStateStore(sdb);
    try {
      const c = f.campaign();
      await store.transaction(async (tx) => tx.insertCampaign(c));
      sdb.checkpoint();
      await store.transaction(async (tx) => tx.insertTasks(Array.from({ length: 60 }, () => f.task(c.id, { input_data: { text: 'x'.repeat(3000) } }))));
      sdb.db.pragma(`max_page_count = ${Number(sdb.db.pragma('page_count', { simple: true })) + 2}`);
      const e = await store.listTasks().then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toMatchObject({ code: 'SQLITE_FULL' });
      expect(sqliteBackend.classify(e)).toBe('disk_full');
      sdb.db.pragma('max_page_count = 1073741823');
    } finally {
      await store.close();
    }
  });

  it('sqlite: a real SQLITE_BUSY (two connections, one holding the write lock) is transient', () => {
    const file = join(tempDir(), 'busy.db');
    const a = new Database(file);
    a.pragma('journal_mode = WAL');
    a.exec('CREATE TABLE t (x INTEGER)');
    const b = new Database(file, { timeout: 0 });
    try {
      a.exec('BEGIN IMMEDIATE');
      a.prepare('INSERT INTO t VALUES (1)').run();
      const e = thrown(() => b.prepare('INSERT INTO t VALUES (2)').run());
      expect(e).toMatchObject({ code: 'SQLITE_BUSY' });
      expect(sqliteBackend.classify(e)).toBe('transient');
      // the same, carried by the adapter's BACKEND_UNAVAILABLE in details.code
      expect(sqliteBackend.classify(new BackendUnavailableError('locked', { file, code: (e as { code: string }).code }))).toBe('transient');
      a.exec('COMMIT');
    } finally {
      a.close();
      b.close();
    }
  });

  it('sqlite: a real SQLITE_READONLY is auth; any other SQLite code is fatal', () => {
    const file = join(tempDir(), 'ro.db');
    const w = new Database(file);
    w.exec('CREATE TABLE t (x INTEGER)');
    w.close();
    const r = new Database(file, { readonly: true });
    const e = thrown(() => r.prepare('INSERT INTO t VALUES (1)').run());
    r.close();
    expect((e as { code: string }).code).toMatch(/^SQLITE_READONLY/);
    expect(sqliteBackend.classify(e)).toBe('auth');
    expect(sqliteBackend.classify(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }))).toBe('fatal');
    expect(sqliteBackend.classify(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }))).toBe('fatal');
    expect(sqliteBackend.classify(Object.assign(new Error('locked'), { code: 'SQLITE_LOCKED_SHAREDCACHE' }))).toBe('transient');
  });
});

describe('lists derive from the registry', () => {
  let remove: (() => void) | null = null;
  afterEach(() => {
    remove?.();
    remove = null;
  });

  /** A backend added in this process: the memory adapters under another name, with a setting of its own. */
  const fake: BackendEntry = {
    ...memoryBackend,
    kind: 'fake-kv',
    mode: 'fake-kv',
    help: 'a test backend, registered in-process',
    section: { key: 'fake_kv', schema: z.strictObject({ commit: z.enum(['batched', 'each']).default('batched') }) },
    ports: ['queues', 'cache'],
    describe: () => 'Fake key-value store',
  };

  it('a registered backend appears in the config enum, its section, ports.<group> and DATABASE_MODE; removed, it is gone', () => {
    remove = registerBackend(fake);
    expect(parseConfig({ mode: 'fake-kv' }).mode).toBe('fake-kv');
    expect(parseConfig({ fake_kv: { commit: 'each' } })).toMatchObject({ fake_kv: { commit: 'each' } });
    expect(loadConfig({ env: { DATABASE_MODE: 'fake-kv' } }).mode).toBe('fake-kv');
    expect(parseConfig({ ports: { queues: 'fake-kv' } }).ports).toEqual({ queues: 'fake-kv' });
    // it serves queues and cache only: the enum of ports.state leaves it out
    expect(() => parseConfig({ ports: { state: 'fake-kv' } })).toThrow(/ports\.state/);
    expect(() => registerBackend({ ...fake })).toThrow(/already registered/);
    remove();
    remove = null;
    expect(() => parseConfig({ mode: 'fake-kv' })).toThrow(/mode: Invalid option/);
    expect(() => loadConfig({ env: { DATABASE_MODE: 'fake-kv' } })).toThrow('DATABASE_MODE must be one of in-memory, sqlite, production, got "fake-kv"');
  });

  it("a registered backend appears in the CLI's --backend choices and help, and a simulation runs on it", async () => {
    remove = registerBackend({ ...fake, ports: ['state', 'queues', 'cache'] });
    for (const cmd of [['simulate'], ['export'], ['import'], ['memory', 'search']]) {
      const help = await cli([...cmd, '--help']);
      expect(help.code, cmd.join(' ')).toBe(0);
      expect(help.stdout, cmd.join(' ')).toMatch(/fake-kv/);
    }
    const bad = await cli(['simulate', '--backend', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--backend must be one of memory, sqlite, production, fake-kv, got "nope"/);
    const r = await cli(['simulate', '--backend', 'fake-kv', '--ticks', '3', '--seed', '4', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'fake-kv', ticks: 3 });
    remove();
    remove = null;
    const gone = await cli(['simulate', '--help']);
    expect(gone.stdout).not.toMatch(/fake-kv/);
  });
});

describe('each port group may come from its own backend', () => {
  it('state on SQLite, queues and cache in memory: composes, runs a short simulation, and the file keeps the state', async () => {
    const dir = tempDir();
    const db = join(dir, 'mixed.db');
    const config = parseConfig({ data_dir: dir, ports: { queues: 'memory', cache: 'memory' } });
    const sim = await Simulation.open({ scenario: 'launch-day', backend: 'sqlite', db, config, engine: { seed: 9 } });
    let campaigns: number;
    try {
      expect(sim.ports.backend.ports).toEqual({ state: 'sqlite', queues: 'memory', cache: 'memory' });
      expect(sim.ports.state.kind).toBe('sqlite');
      expect(sim.ports.taskQueue.kind).toBe('memory');
      expect(sim.ports.personaCache.kind).toBe('memory');
      // a capability holds only if every backend in use has it
      expect(sim.ports.backend.capabilities.durable).toBe(false);
      expect(sim.ports.backend.capabilities.transactions).toBe(true);
      expect(sim.ports.description).toMatch(/^SQLite \(kept in .*mixed\.db\); queues on In-memory .*; cache on In-memory/);
      // both classifiers are asked: SQLite's codes are read though memory serves some ports
      expect(sim.ports.backend.classify(Object.assign(new Error('full'), { code: 'SQLITE_FULL' }))).toBe('disk_full');
      await sim.run({ until_tick: 6 });
      expect(sim.engine.tickNo).toBe(6);
      expect(sim.fold.completed).toBeGreaterThan(0);
      await sim.engine.flush();
      campaigns = (await sim.ports.state.listCampaigns()).length;
      expect(campaigns).toBeGreaterThan(0);
    } finally {
      await sim.close();
    }
    // not durable as a whole: the queues went with the process, so the run is not resumed from the file
    await expect(Simulation.open({ scenario: 'launch-day', backend: 'sqlite', db, config, engine: { seed: 9 } })).rejects.toThrow(/cannot resume exactly/);
    // the state is in the file, read back on its own
    const back = await composePorts(parseConfig({ data_dir: dir, mode: 'sqlite', sqlite: { path: db } }), new VirtualClock());
    try {
      expect((await back.state.listCampaigns()).length).toBe(campaigns);
    } finally {
      await back.close();
    }
  });

  it('in-memory profile with its queues on SQLite; a group from an unbuilt or unknown backend is refused', async () => {
    const dir = tempDir();
    const config = parseConfig({ data_dir: dir, sqlite: { path: 'queues.db' }, ports: { queues: 'sqlite' } });
    const sim = await Simulation.open({ scenario: 'launch-day', config, engine: { seed: 2 } });
    try {
      expect(sim.ports.backend.ports).toEqual({ state: 'memory', queues: 'sqlite', cache: 'memory' });
      expect(sim.ports.taskQueue.kind).toBe('sqlite');
      await sim.run({ until_tick: 4 });
      expect(sim.engine.tickNo).toBe(4);
      // the session's own inspection readers read what is in this process: not the queues, which are SQLite's
      const own = sim.ports.inspect!();
      expect(own.readers.kind).toBe('memory');
      expect({ state: !!own.readers.state, audit: !!own.readers.audit, queues: !!own.readers.queues, cache: !!own.readers.personaCache }).toEqual({ state: true, audit: true, queues: false, cache: true });
      const listed = (await own.readers.state!.listCampaigns()).items.map((r) => (r.ok ? r.value : r));
      expect(listed).toEqual(await sim.ports.state.listCampaigns());
    } finally {
      await sim.close();
    }
    expect(statSync(join(dir, 'queues.db')).size).toBeGreaterThan(0);
    const prod = await composePorts(parseConfig({ ports: { state: 'production' } }), new VirtualClock()).catch((e: unknown) => e);
    expect((prod as Error).message).toBe('the production backend needs its connection settings: set CHIMERA_POSTGRES_URL and CHIMERA_REDIS_URL (CHIMERA_WEAVIATE_URL is optional), or production.postgres_url and production.redis_url in the config file');
    expect(() => parseConfig({ ports: { queues: 'mongo' } })).toThrow(/ports\.queues: Invalid option/);
    expect(() => backendByKind('mongo', 'ports.queues')).toThrow('ports.queues must be one of memory, sqlite, production, got "mongo"');
  });
});

describe("the app's profiles come from the registry", () => {
  it('backend/status lists the built backends with their labels, capabilities and profile files; named profiles carry their kind', async () => {
    const s = await openStudio();
    try {
      await s.service.call('backend/switch', { kind: 'sqlite', name: 'keep' });
      const st = await s.service.call('backend/status', {});
      expect(st.kinds).toEqual(backendKinds({ built: true }));
      expect(st.backends.map((b) => [b.kind, b.label, b.file_name])).toEqual([
        ['memory', 'In-memory', null],
        ['sqlite', 'SQLite', 'chimera.db'],
        ['production', 'Production', null],
      ]);
      expect(st.backends[1]?.capabilities).toEqual(sqliteBackend.capabilities);
      expect(st.sqlite_profiles).toEqual([{ kind: 'sqlite', name: 'keep', path: join(s.data_dir, 'profiles', 'keep', 'chimera.db'), bytes: expect.any(Number) }]);
      expect(st.capabilities).toMatchObject({ transactions: true, durable: true });
    } finally {
      await s.cleanup();
    }
  });
});

describe('src/app names no backend', () => {
  it("has no SQLITE_ code and no 'sqlite' literal: it asks the registry", () => {
    const dir = join(ROOT, 'src', 'app');
    const found: string[] = [];
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.ts')) continue;
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/SQLITE_|['"`]sqlite['"`]/.test(line)) found.push(`src/app/${name}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });
});
