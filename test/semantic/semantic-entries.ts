/**
 * Contract-suite entries for the local semantic memory: the exact and HNSW persona memories
 * (each in a fresh temp folder, removed on close) and the transformers.js embedder on the
 * tiny test model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterEntry } from '../adapters.ts';
import type { Embedder } from '../../src/ports/embedder.ts';
import type { PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import { ExactPersonaMemory } from '../../src/adapters/exact/exact-persona-memory.ts';
import { HnswPersonaMemory } from '../../src/adapters/hnsw/hnsw-persona-memory.ts';
import { MemoryRowStore } from '../../src/adapters/hnsw/hnsw-row-store.ts';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformers-embedder.ts';
import { TINY_MODEL_ID, writeTinyModel } from '../../bench/support/tiny-model.ts';

/** A fresh temp folder for one test. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `chimera-${prefix}-`));
}

/** Closes `x`, then removes its folder. */
function removingOnClose<T extends { close(): Promise<void> }>(x: T, dir: string): T {
  const close = x.close.bind(x);
  x.close = async () => {
    try {
      await close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return x;
}

/** Small graph parameters: the contract's sets are tiny. */
export const TEST_HNSW = { M: 8, ef_construction: 64, ef: 32 } as const;

/** The tiny model in a fresh folder, loaded through the real transformers.js path in a worker. */
export async function openTinyEmbedder(opts: { quantized?: boolean } = {}): Promise<Embedder> {
  const dir = tempDir('model');
  writeTinyModel(dir, { quantized: opts.quantized ?? true });
  return removingOnClose(await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: dir, batch_size: 2 }), dir);
}

export const exactEntry: AdapterEntry = {
  name: 'exact',
  memory: async (): Promise<PersonaMemoryStore> => new ExactPersonaMemory(),
};

export const exactDurableEntry: AdapterEntry = {
  name: 'exact-durable',
  memory: async (): Promise<PersonaMemoryStore> => {
    const dir = tempDir('exact');
    return removingOnClose(await ExactPersonaMemory.open({ rows: MemoryRowStore.open(join(dir, 'rows.sqlite')) }), dir);
  },
};

export const hnswEntry: AdapterEntry = {
  name: 'hnsw',
  memory: async (): Promise<PersonaMemoryStore> => {
    const dir = tempDir('hnsw');
    return removingOnClose(await HnswPersonaMemory.open({ dir, ...TEST_HNSW }), dir);
  },
};

export const transformersEntry: AdapterEntry = {
  name: 'transformers',
  embedder: () => openTinyEmbedder(),
};

export const SEMANTIC_ENTRIES: AdapterEntry[] = [exactEntry, exactDurableEntry, hnswEntry, transformersEntry];
