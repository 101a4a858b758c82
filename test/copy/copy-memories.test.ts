/**
 * Persona memories in a copy: memory → SQLite → production (Postgres, Redis and Weaviate: the
 * wire emulator) → SQLite with equal whole-state digests, persona memories included and compared
 * at every step; production without Weaviate keeps each process's memories only, and a copy to or
 * from it says so and leaves them out of the comparison rather than pretending.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyState } from '../../src/app/copy.ts';
import { digestState } from '../../src/app/state-digest.ts';
import { openCopySide } from '../../src/config/copy-sides.ts';
import { loadConfig } from '../../src/config/config.ts';
import { assertNoUnknownCalls, startWeaviateEmulator, type WeaviateEmulator } from '../weaviate/emulator.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { chimera, memorySimulation, side, tempDir } from './support.ts';

let emu: WeaviateEmulator;
const stores: ProductionStore[] = [];
beforeAll(async () => {
  emu = await startWeaviateEmulator();
});
afterAll(async () => {
  for (const s of stores) await s.drop();
  await emu?.close();
});

describe('persona memories in a copy', () => {
  // each SQLite file in a folder of its own: files in one folder share the persona-memory folder beside them
  it('memory → SQLite → production with Weaviate → SQLite: equal digests, memories compared every time', async () => {
    const d = tempDir('memories');
    const prod = await productionStore('copy-mem');
    stores.push(prod);
    const env = { ...prod.env, CHIMERA_WEAVIATE_URL: emu.url, CHIMERA_WEAVIATE_GRPC_PORT: String(emu.grpcPort) };
    const sim = await memorySimulation(5, 17);
    const digests: string[] = [];
    let memories = 0;
    try {
      // the in-memory session as the app holds it: its ports and its persona memory
      const config = loadConfig({ env: {} });
      const from = await openCopySide({ kind: 'memory' }, 'source', { config, held: { label: 'memory (simulation)', ports: sim.ports, memory: sim.ports.memory } });
      const to = await side(`sqlite:${join(d, 'a', 'chimera.db')}`, 'target');
      try {
        const r = await copyState(from, to);
        expect(r).toMatchObject({ digests_equal: true, memories_compared: true, notes: [] });
        memories = r.counts.persona_memories;
        expect(memories).toBeGreaterThan(0);
        expect(memories).toBe(await sim.ports.memory.count());
        digests.push(r.digest);
      } finally {
        await to.close();
        await from.close();
      }
    } finally {
      await sim.close();
    }
    const there = await chimera(['copy', `sqlite:${join(d, 'a', 'chimera.db')}`, 'production', '--json'], env);
    expect(there.code, there.err).toBe(0);
    const back = await chimera(['copy', 'production', `sqlite:${join(d, 'b', 'chimera.db')}`, '--json'], env);
    expect(back.code, back.err).toBe(0);
    for (const out of [there.out, back.out]) {
      const j = JSON.parse(out) as { digest: string; digests_equal: boolean; memories_compared: boolean; unlisted: string[]; counts: { persona_memories: number }; notes: string[] };
      expect(j).toMatchObject({ digests_equal: true, memories_compared: true, unlisted: [], notes: [] });
      expect(j.counts.persona_memories).toBe(memories);
      digests.push(j.digest);
    }
    expect(new Set(digests).size).toBe(1);
    // the memories are in Weaviate's class, and the SQLite file at the end holds them with their vectors, bit for bit
    expect(emu.store.get('PersonaMemory')?.sorted().length).toBe(memories);
    const [a, b] = [await side(`sqlite:${join(d, 'a', 'chimera.db')}`, 'source'), await side(`sqlite:${join(d, 'b', 'chimera.db')}`, 'source')];
    try {
      const [da, db] = [await digestState(a.ports, a.memories, 'copy'), await digestState(b.ports, b.memories, 'copy')];
      expect(db.sections.persona_memories).toBe(da.sections.persona_memories);
      expect(db.counts.persona_memories).toBe(memories);
    } finally {
      await a.close();
      await b.close();
    }
    assertNoUnknownCalls(emu);
  });

  it('production without Weaviate: the copy says its memories are each process\'s own and leaves them out of the comparison', async () => {
    const d = tempDir('no-weaviate');
    const prod = await productionStore('copy-nomem');
    stores.push(prod);
    const sim = await memorySimulation(3, 19);
    try {
      const config = loadConfig({ env: {} });
      const from = await openCopySide({ kind: 'memory' }, 'source', { config, held: { label: 'memory (simulation)', ports: sim.ports, memory: sim.ports.memory } });
      const to = await side(`sqlite:${join(d, 'a', 'chimera.db')}`, 'target');
      try {
        await copyState(from, to);
      } finally {
        await to.close();
        await from.close();
      }
    } finally {
      await sim.close();
    }
    const there = await chimera(['copy', `sqlite:${join(d, 'a', 'chimera.db')}`, 'production', '--json'], prod.env);
    expect(there.code, there.err).toBe(0);
    const j = JSON.parse(there.out) as { digest: string; source_digest: string; digests_equal: boolean; memories_compared: boolean; unlisted: string[]; notes: string[] };
    expect(j.memories_compared).toBe(false);
    expect(j.unlisted).toEqual(['persona_memories']);
    // the two wholes differ by the memories only: the source holds them, the target none a copy can see
    expect(j.digests_equal).toBe(false);
    expect(j.notes).toEqual([expect.stringMatching(/^\d+ persona memories were not copied: production \(.*\) has no Weaviate \(CHIMERA_WEAVIATE_URL is not set\): its persona memory lives in each process for its run only \(ephemeral\)/)]);
    const text = await chimera(['copy', `sqlite:${join(d, 'a', 'chimera.db')}`, 'production'], prod.env);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/equal section by section but persona_memories, which one side does not keep/);
    // and back: nothing to bring, said as plainly
    const back = await chimera(['copy', 'production', `sqlite:${join(d, 'b', 'chimera.db')}`, '--json'], prod.env);
    expect(back.code, back.err).toBe(0);
    const k = JSON.parse(back.out) as { notes: string[]; memories_compared: boolean; counts: { persona_memories: number } };
    expect(k.memories_compared).toBe(false);
    expect(k.counts.persona_memories).toBe(0);
    expect(k.notes).toEqual([expect.stringMatching(/no persona memories to copy from it/)]);
  });
});
