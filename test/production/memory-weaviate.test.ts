/**
 * The production profile with Weaviate (the wire emulator; a real Weaviate cannot run here):
 * `chimera memory import/search --backend production` go through the Weaviate adapter, a
 * simulation on production with Weaviate memory keeps the in-memory profile's event log (scores
 * are re-scored locally, bit for bit), and its summary says which memory ran. Without a Weaviate
 * URL the memory commands refuse, naming the setting.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { sink } from '../support/cli.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from '../weaviate/emulator.ts';
import { productionStore, type ProductionStore } from './support.ts';

let emu: WeaviateEmulator;
let store: ProductionStore;
let env: Record<string, string>;
const ROOT = join(import.meta.dirname, '..', '..');

async function chimera(args: string[], extra: Record<string, string> = env) {
  const out = sink();
  const err = sink();
  const code = await main(args, { stdout: out, stderr: err, env: { ...extra }, cwd: ROOT });
  return { code, out: out.text, err: err.text };
}

beforeAll(async () => {
  emu = await startWeaviateEmulator();
  store = await productionStore('weaviate');
  env = { ...store.env, CHIMERA_WEAVIATE_URL: emu.url, CHIMERA_WEAVIATE_GRPC_PORT: String(emu.grpcPort) };
});
afterAll(async () => {
  await store?.drop();
  await emu?.close();
});

describe('production persona memory in Weaviate', () => {
  it('memory import and search go through Weaviate', async () => {
    const imp = await chimera(['memory', 'import', '--backend', 'production', '--persona', 'aria', 'examples/personas/aria.soul.md', '--json']);
    expect(imp.code, imp.err).toBe(0);
    expect(emu.store.get('PersonaMemory')).toBeDefined();
    const found = await chimera(['memory', 'search', '--backend', 'production', '--persona', 'aria', 'repairing denim', '--json']);
    expect(found.code, found.err).toBe(0);
    const r = JSON.parse(found.out) as { persona_id: string; memory: string; hits: { score: number }[] };
    expect(r).toMatchObject({ persona_id: 'aria', memory: 'weaviate' });
    expect(r.hits.length).toBeGreaterThan(0);
    assertNoUnknownCalls(emu);
  });

  it('a simulation on production with Weaviate keeps the in-memory event log, and says which memory ran', async () => {
    const other = await productionStore('weaviate_sim');
    try {
      const e = { ...other.env, CHIMERA_WEAVIATE_URL: emu.url, CHIMERA_WEAVIATE_GRPC_PORT: String(emu.grpcPort) };
      const prod = await chimera(['simulate', '--backend', 'production', '--scenario', 'storm', '--json'], e);
      expect(prod.code, prod.err).toBe(0);
      const mem = await chimera(['simulate', '--backend', 'memory', '--scenario', 'storm', '--json'], {});
      const p = JSON.parse(prod.out) as { eventLogSha256: string; memory_backend: string };
      expect(p.memory_backend).toBe('weaviate');
      expect(p.eventLogSha256).toBe((JSON.parse(mem.out) as { eventLogSha256: string }).eventLogSha256);
      assertNoUnknownCalls(emu);
    } finally {
      await other.drop();
    }
  });

  it('without a Weaviate URL the memory commands refuse, naming the setting', async () => {
    const r = await chimera(['memory', 'search', '--backend', 'production', '--persona', 'aria', 'x'], store.env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/kept in Weaviate: set CHIMERA_WEAVIATE_URL/);
  });
});
