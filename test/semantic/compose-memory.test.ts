/**
 * The composition root builds the exact and HNSW persona memories from config, in the
 * persona-memory folder beside the SQLite file, guarded; a rebuild at start-up reports its
 * progress through composePorts' onProgress; exact and HNSW read the same rows.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChimeraError } from '../../src/domain/errors.ts';
import { parseConfig } from '../../src/config/config.ts';
import { composePorts } from '../../src/config/compose.ts';
import { memoryFolder } from '../../src/config/embedders.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { tempDir } from './semantic-entries.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function config(data_dir: string, adapter: 'exact' | 'hnsw') {
  return parseConfig({ mode: 'sqlite', data_dir, sqlite: { path: 'db/chimera.db' }, memory: { adapter, hnsw: { M: 8, ef_construction: 40, ef: 20 } } });
}

describe('composition root: local persona memory', () => {
  it('keeps hnsw memories beside the SQLite file, rebuilds with progress, and exact reads the same rows', async () => {
    const d = tempDir('compose');
    dirs.push(d);
    const cfg = config(d, 'hnsw');
    expect(memoryFolder(cfg)).toBe(join(d, 'db', 'persona-memory'));
    const ports = await composePorts(cfg, new VirtualClock());
    expect(ports.memory.kind).toBe('hnsw');
    const texts = ['running shoes from recycled plastic', 'a lemon cake recipe', 'tax filing deadlines'];
    const vectors = await ports.embedder.embed(texts);
    await ports.memory.upsert(
      texts.map((content, i) => ({ id: `m${i}`, persona_id: 'aria', content, category: 'Semantic' as const, timestamp: '2026-01-01T00:00:00.000Z', vector: vectors[i]!, model_id: ports.embedder.model_id })),
    );
    const bad = (await ports.memory.upsert([{ id: 'x', persona_id: 'aria', content: 'x', category: 'Semantic', timestamp: '2026-01-01T00:00:00.000Z', vector: vectors[0]!, model_id: 'another' }]).catch((e: unknown) => e)) as ChimeraError;
    expect(bad.code).toBe('MODEL_MISMATCH');
    await ports.close();
    expect(existsSync(join(d, 'db', 'persona-memory', 'index.hnsw'))).toBe(true);

    rmSync(join(d, 'db', 'persona-memory', 'index.hnsw'));
    const progress: [string, number, number][] = [];
    const again = await composePorts(cfg, new VirtualClock(), (what, done, total) => progress.push([what, done, total]));
    expect(progress.at(-1)).toEqual([expect.stringMatching(/rebuilding persona-memory index \(missing\)/), 3, 3]);
    const [q] = await again.embedder.embed(['recycled plastic running shoes']);
    expect((await again.memory.search({ vector: q!, k: 1, persona_id: 'aria' }))[0]?.memory.id).toBe('m0');
    await again.close();

    const exact = await composePorts(config(d, 'exact'), new VirtualClock());
    expect(exact.memory.kind).toBe('exact');
    expect(exact.memory.capabilities).toEqual({ exact: true, durable: true });
    expect(await exact.memory.count({ persona_id: 'aria' })).toBe(3);
    expect((await exact.memory.search({ vector: q!, k: 1 }))[0]?.memory.id).toBe('m0');
    await exact.close();
  });

  it('keeps nothing with DATABASE_MODE=in-memory (runs stay reproducible)', async () => {
    const d = tempDir('compose-mem');
    dirs.push(d);
    for (const adapter of ['exact', 'hnsw'] as const) {
      const cfg = parseConfig({ mode: 'in-memory', data_dir: d, memory: { adapter } });
      const ports = await composePorts(cfg, new VirtualClock());
      expect(ports.memory.capabilities.durable).toBe(false);
      const [v] = await ports.embedder.embed(['a memory']);
      await ports.memory.upsert([{ id: 'm', persona_id: 'aria', content: 'a memory', category: 'Episodic', timestamp: '2026-01-01T00:00:00.000Z', vector: v!, model_id: ports.embedder.model_id }]);
      await ports.close();
      const again = await composePorts(cfg, new VirtualClock());
      expect(await again.memory.count()).toBe(0);
      await again.close();
    }
    expect(existsSync(memoryFolder(parseConfig({ data_dir: d })))).toBe(false);
  });
});
