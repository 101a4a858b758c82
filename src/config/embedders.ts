/**
 * Builds the embedder and persona memory the config names. New kinds add a case here.
 *
 * - Embedders: 'hashing' (no model file), 'transformers' (transformers.js in a worker, model
 *   read from embedder.model_dir, default <data_dir>/models). A transformers model that cannot
 *   load falls back to the hashing embedder, with a notice saying why and how to fix it.
 * - Persona memory: 'memory' (in this process), 'exact' (brute force) and 'hnsw' (graph
 *   index). In the durable modes the last two keep their rows in the persona-memory folder
 *   beside the SQLite database (memoryFolder), so both read the same memories and either can
 *   be switched on; with DATABASE_MODE=in-memory they keep nothing.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ChimeraConfig } from './config.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { PersonaMemoryStore } from '../ports/persona-memory.ts';
import { HashingEmbedder } from '../adapters/hashing/hashing-embedder.ts';
import { MemoryPersonaMemory } from '../adapters/memory/memory-persona-memory.ts';
import { TransformersEmbedder } from '../adapters/transformers/transformers-embedder.ts';
import { missingModelFiles, modelFolder } from '../adapters/transformers/transformers-model-files.ts';
import { ExactPersonaMemory } from '../adapters/exact/exact-persona-memory.ts';
import { HnswPersonaMemory } from '../adapters/hnsw/hnsw-persona-memory.ts';
import { MemoryRowStore } from '../adapters/hnsw/hnsw-row-store.ts';
import { ChimeraError, ConfigError } from '../domain/errors.ts';
import type { BackendContext } from './backends/types.ts';
import { backendForMode } from './backends/index.ts';

/** The local model folder: embedder.model_dir, else <data_dir>/models. */
export function modelDir(config: ChimeraConfig): string {
  return resolve(config.embedder.model_dir ?? join(config.data_dir, 'models'));
}

/** Where the configured transformers model lives and which of its files are missing ([] when it loads offline). */
export function localModel(config: ChimeraConfig): { model: string; folder: string; missing: string[] } {
  const dir = modelDir(config);
  return { model: config.embedder.model, folder: modelFolder(dir, config.embedder.model), missing: missingModelFiles(dir, config.embedder.model, 'auto') };
}

/** The folder of the exact and HNSW persona memory: `persona-memory/` beside the SQLite database file. */
export function memoryFolder(config: ChimeraConfig): string {
  return join(dirname(resolve(config.data_dir, config.sqlite.path)), 'persona-memory');
}

/** The rows file of the exact and HNSW persona memory kept in `folder` (the truth; an index is a cache of it). */
export function memoryRowsPath(folder: string): string {
  return join(folder, 'rows.sqlite');
}

/** What `chimera memory reindex` reads of a kept persona memory: its rows, with their vectors and model. */
export type StoredMemoryRows = Pick<MemoryRowStore, 'count' | 'model' | 'scan' | 'close'>;

/** Opens the rows of the persona memory kept in `folder` (memoryRowsPath says whether there are any). */
export function openStoredMemoryRows(folder: string): StoredMemoryRows {
  return MemoryRowStore.open(memoryRowsPath(folder));
}

/** Builds the configured embedder, or the hashing one with a notice when the model cannot load. */
export async function createEmbedder(config: ChimeraConfig, _ctx: BackendContext): Promise<{ embedder: Embedder; notice: string | null }> {
  switch (config.embedder.kind) {
    case 'hashing':
      return { embedder: new HashingEmbedder(config.embedder.dimensions), notice: null };
    case 'transformers': {
      try {
        const embedder = await TransformersEmbedder.open({
          model: config.embedder.model,
          model_dir: modelDir(config),
          allow_downloads: config.embedder.allow_downloads,
        });
        return { embedder, notice: null };
      } catch (e) {
        if (!(e instanceof ChimeraError)) throw e;
        const fallback = new HashingEmbedder(config.embedder.dimensions);
        return { embedder: fallback, notice: `${e.message} Using the hashing embedder (${fallback.model_id}) until then.` };
      }
    }
    default:
      throw new ConfigError(`embedder "${String(config.embedder.kind)}" is not available in this build`);
  }
}

/**
 * Builds the configured persona memory (unguarded: the composition root wraps it). With
 * DATABASE_MODE=in-memory nothing is kept: exact lives in memory and HNSW in a scratch folder
 * removed on close, so one run's memories never leak into the next (runs stay reproducible).
 */
export async function createPersonaMemory(config: ChimeraConfig, ctx: BackendContext): Promise<PersonaMemoryStore> {
  const own = backendForMode(config.mode).createMemory;
  if (own) return own(config, ctx, openPersonaMemoryAt);
  // a profile that keeps nothing keeps no persona memory either
  if (!backendForMode(config.mode).capabilities.durable) {
    if (config.memory.adapter === 'exact') return new ExactPersonaMemory();
    if (config.memory.adapter === 'hnsw') {
      const dir = mkdtempSync(join(tmpdir(), 'chimera-memory-'));
      return HnswPersonaMemory.open({ dir, ...config.memory.hnsw, ephemeral: true });
    }
  }
  return openPersonaMemoryAt(config, memoryFolder(config), ctx);
}

/** The configured persona memory kept in `dir` (reindexing builds a new one beside the old). */
export async function openPersonaMemoryAt(config: ChimeraConfig, dir: string, ctx: Pick<BackendContext, 'onProgress'>): Promise<PersonaMemoryStore> {
  switch (config.memory.adapter) {
    case 'memory':
      return new MemoryPersonaMemory();
    case 'exact': {
      const readOnly = config.sqlite.read_only;
      if (!readOnly) mkdirSync(dir, { recursive: true });
      const rows = MemoryRowStore.open(memoryRowsPath(dir), { readOnly });
      const progress = ctx.onProgress;
      return ExactPersonaMemory.open(progress ? { rows, onProgress: (d, t) => progress('loading persona memory', d, t) } : { rows });
    }
    case 'hnsw':
      return HnswPersonaMemory.open({ dir, ...config.memory.hnsw, readOnly: config.sqlite.read_only, ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}) });
    default:
      throw new ConfigError(`persona memory "${String(config.memory.adapter)}" is not available in this build`);
  }
}
