/** Builds the embedder and persona memory the config names. New kinds add a case here. */
import type { ChimeraConfig } from './config.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { PersonaMemoryStore } from '../ports/persona-memory.ts';
import { HashingEmbedder } from '../adapters/hashing/hashing-embedder.ts';
import { MemoryPersonaMemory } from '../adapters/memory/memory-persona-memory.ts';
import { ConfigError } from '../domain/errors.ts';
import type { BackendContext } from './backends/types.ts';

export async function createEmbedder(config: ChimeraConfig, _ctx: BackendContext): Promise<{ embedder: Embedder; notice: string | null }> {
  switch (config.embedder.kind) {
    case 'hashing':
      return { embedder: new HashingEmbedder(config.embedder.dimensions), notice: null };
    default:
      throw new ConfigError(`embedder "${config.embedder.kind}" is not available in this build`);
  }
}

export async function createPersonaMemory(config: ChimeraConfig, _ctx: BackendContext): Promise<PersonaMemoryStore> {
  switch (config.memory.adapter) {
    case 'memory':
      return new MemoryPersonaMemory();
    default:
      throw new ConfigError(`persona memory "${config.memory.adapter}" is not available in this build`);
  }
}
