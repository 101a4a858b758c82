/**
 * Contract-suite entries for the local semantic memory: the exact and HNSW persona memories
 * (a namespace is a fresh temp folder, removed when the namespace is dropped) and the
 * transformers.js embedder on the tiny test model.
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

/** A fresh temp folder per namespace, removed when the namespace is dropped. */
function folderNamespaces(prefix: string): { namespace(): Promise<string>; drop(dir: string): Promise<void> } {
  return {
    namespace: async () => tempDir(prefix),
    drop: async (dir) => rmSync(dir, { recursive: true, force: true }),
  };
}

export const exactEntry: AdapterEntry = {
  name: 'exact',
  ports: ['memory'],
  setup: async () => ({
    namespace: async () => 'exact',
    memory: async (): Promise<PersonaMemoryStore> => new ExactPersonaMemory(),
  }),
};

export const exactDurableEntry: AdapterEntry = {
  name: 'exact-durable',
  ports: ['memory'],
  setup: async () => ({
    ...folderNamespaces('exact'),
    memory: async (dir): Promise<PersonaMemoryStore> => ExactPersonaMemory.open({ rows: MemoryRowStore.open(join(dir, 'rows.sqlite')) }),
  }),
};

export const hnswEntry: AdapterEntry = {
  name: 'hnsw',
  ports: ['memory'],
  setup: async () => ({
    ...folderNamespaces('hnsw'),
    memory: async (dir): Promise<PersonaMemoryStore> => HnswPersonaMemory.open({ dir, ...TEST_HNSW }),
  }),
};

export const transformersEntry: AdapterEntry = {
  name: 'transformers',
  ports: ['embedder'],
  setup: async () => ({ namespace: async () => 'transformers', embedder: () => openTinyEmbedder() }),
};

export const SEMANTIC_ENTRIES: AdapterEntry[] = [exactEntry, exactDurableEntry, hnswEntry, transformersEntry];
