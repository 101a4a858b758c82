/**
 * The Electron bundles: built with electron/build.mjs, the preload needs nothing but
 * 'electron' (a sandboxed preload cannot require packages), and the core bundle really serves
 * the contract (run under Node with process.parentPort stood in by the IPC channel, since no
 * Electron binary can run here) — which also proves examples/ and migrations/ are found from
 * the bundle.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreReply } from '../../electron/core-protocol.ts';
import { CoreClient } from '../../electron/core-client.ts';
import { VAULT_ENV, answerVault } from '../../electron/vault.ts';
import { fakeSafeStorage } from './fake-safe-storage.ts';
import type { ConnectionsView, PushMessage } from '../../src/shared/types.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'dist-electron');

describe('electron bundles', () => {
  let child: ChildProcess;
  let dataDir: string;
  const replies = new Map<number, CoreReply>();
  let ready: Promise<void>;

  beforeAll(async () => {
    const { buildElectron } = (await import(join(ROOT, 'electron', 'build.mjs'))) as { buildElectron: () => Promise<void> };
    await buildElectron();
    dataDir = mkdtempSync(join(tmpdir(), 'chimera-core-'));
    child = fork(join(import.meta.dirname, 'core-shim.mjs'), [join(OUT, 'core.js')], { env: { ...process.env, CHIMERA_DATA_DIR: dataDir }, stdio: 'pipe' });
    ready = new Promise((resolve, reject) => {
      child.on('message', (m: CoreReply) => {
        if ('ready' in m) resolve();
        else if ('id' in m) replies.set(m.id, m);
      });
      child.on('exit', (code) => reject(new Error(`core exited with ${code}`)));
    });
    await ready;
  });
  afterAll(() => {
    child?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (id: number, channel: string, args: unknown) =>
    new Promise<CoreReply>((resolve) => {
      const onMsg = (m: CoreReply) => {
        if ('id' in m && m.id === id) {
          child.off('message', onMsg);
          resolve(m);
        }
      };
      child.on('message', onMsg);
      child.send({ id, channel, args });
    });

  it('builds a preload that requires only electron', () => {
    const code = readFileSync(join(OUT, 'preload.cjs'), 'utf8');
    expect([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
    expect(code).not.toMatch(/exposeInMainWorld\("ipcRenderer"/);
  });

  it('runs the core bundle: answers calls and refuses bad arguments with {code, message}', async () => {
    const status = await call(1, 'sim/status', {});
    expect(status).toMatchObject({ id: 1, ok: true, result: { scenario: 'review-queue' } });
    const step = await call(2, 'sim/step', { count: 3 });
    expect(step).toMatchObject({ ok: true });
    const bad = await call(3, 'sim/step', { count: 'many' });
    expect(bad).toMatchObject({ id: 3, ok: false, error: { code: 'VALIDATION' } });
    // a SQLite profile from the bundle: migrations are found next to the original module
    const sqlite = await call(4, 'backend/switch', { kind: 'sqlite', name: 'bundle' });
    expect(sqlite).toMatchObject({ ok: true, result: { active: { kind: 'sqlite', name: 'bundle' } } });
  });

  it("main's CoreClient talks to the core process and fails pending calls when it dies", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-core-client-'));
    const proc = fork(join(import.meta.dirname, 'core-shim.mjs'), [join(OUT, 'core.js')], { env: { ...process.env, CHIMERA_DATA_DIR: dir }, stdio: 'pipe' });
    // sending to a killed child reports an 'error' event; the client's own 'exit' handling is what is tested
    proc.on('error', () => undefined);
    const pushes: PushMessage[] = [];
    const client = new CoreClient(
      { postMessage: (m: unknown) => proc.send(m as never), on: (ev: string, l: (...args: unknown[]) => void) => proc.on(ev, l) } as unknown as ConstructorParameters<typeof CoreClient>[0],
      (m) => pushes.push(m),
    );
    try {
      await expect(client.call('sim/step', { count: 2 })).resolves.toMatchObject({ status: { step: expect.any(Number) } });
      await expect(client.call('campaigns/dag', { campaign_id: 'nope' })).rejects.toMatchObject({ name: 'RemoteError', code: 'NOT_FOUND' });
      expect(pushes.some((p) => p.type === 'changed')).toBe(true);
      // a run keeps the core busy; killing it fails the call in flight instead of hanging
      const pending = client.call('sim/scrub', { step: 0 });
      proc.kill('SIGKILL');
      await expect(pending).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
      await expect(client.call('sim/status', {})).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the core bundle seals a typed secret through main: connections.json holds only the sealed value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-vault-'));
    const proc = fork(join(import.meta.dirname, 'core-shim.mjs'), [join(OUT, 'core.js')], {
      env: { ...process.env, CHIMERA_DATA_DIR: dir, [VAULT_ENV]: 'safeStorage (test)' },
      stdio: 'pipe',
    });
    proc.on('error', () => undefined);
    const safe = fakeSafeStorage();
    const client = new CoreClient(
      { postMessage: (m: unknown) => proc.send(m as never), on: (ev: string, l: (...args: unknown[]) => void) => proc.on(ev, l) } as unknown as ConstructorParameters<typeof CoreClient>[0],
      () => undefined,
      (req) => answerVault(req, safe),
    );
    const SECRET = `pw-${process.pid}-only-here`;
    try {
      const saved = (await client.call('connections/save', {
        name: 'prod',
        // a password pasted in the URL is taken out and sealed too
        postgres_url: `postgres://chimera:${SECRET}-url@db.example:5432/chimera`,
        redis_url: 'redis://cache.example:6379',
        secrets: { redis_password: { value: SECRET } },
      })) as ConnectionsView;
      expect(saved.vault).toBe('safeStorage (test)');
      expect(saved.connections).toEqual([
        expect.objectContaining({ name: 'prod', source: 'app', read_only: true, postgres_url: 'postgres://chimera@db.example:5432/chimera', secrets: { postgres_password: { kind: 'sealed' }, redis_password: { kind: 'sealed' }, weaviate_api_key: null } }),
      ]);
      expect(safe.sealedCount).toBe(2);
      // nothing in the data folder holds the secret in clear
      const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(files.map((f) => f.name)).toContain('connections.json');
      for (const f of files) {
        const path = join(f.parentPath, f.name);
        if (statSync(path).size < 10_000_000) expect(readFileSync(path, 'latin1'), path).not.toContain(SECRET);
      }
    } finally {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
