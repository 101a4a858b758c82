/**
 * Semantic persona memory (Weaviate class PersonaMemory): memories with their vectors and a
 * nearest-neighbour search filtered by persona and category. Scores are cosine similarity
 * in [-1, 1]; results are ordered by score descending, then id ascending.
 */
import type { MemoryCategory, PersonaMemory } from '../domain/schemas.ts';

export interface MemoryRecord extends PersonaMemory {
  readonly vector: Float32Array;
  /** The embedding model that made `vector`. */
  readonly model_id: string;
}

export interface MemoryQuery {
  readonly vector: Float32Array;
  readonly k: number;
  readonly persona_id?: string;
  readonly categories?: readonly MemoryCategory[];
}

export interface MemoryHit {
  readonly memory: PersonaMemory;
  readonly score: number;
}

export interface MemoryFilter {
  readonly persona_id?: string;
  readonly categories?: readonly MemoryCategory[];
}

export interface PersonaMemoryCapabilities {
  /** Search returns the true top k (false: approximate, e.g. HNSW). */
  readonly exact: boolean;
  /** Memories survive a restart. */
  readonly durable: boolean;
}

export interface PersonaMemoryStore {
  readonly kind: string;
  readonly capabilities: PersonaMemoryCapabilities;
  /** Inserts or replaces memories by id. ModelMismatchError if a vector's model or length differs from the index's. */
  upsert(records: readonly MemoryRecord[]): Promise<void>;
  /** The k nearest memories to the query vector that pass the filter. */
  search(query: MemoryQuery): Promise<MemoryHit[]>;
  /** One memory, or null. */
  get(id: string): Promise<PersonaMemory | null>;
  /** Memories passing the filter, ordered by (timestamp, id). */
  list(filter?: MemoryFilter, limit?: number, offset?: number): Promise<PersonaMemory[]>;
  /** Removes memories by id; returns how many existed. */
  delete(ids: readonly string[]): Promise<number>;
  /** How many memories pass the filter. */
  count(filter?: MemoryFilter): Promise<number>;
  /** The model and dimensions of the stored vectors, or null while empty. */
  model(): Promise<{ model_id: string; dimensions: number } | null>;
  /**
   * Optional (a store that can hand its vectors back): every memory with its vector and model,
   * a page at a time in an order of the store's own that holds while nothing is written; a null
   * cursor starts, a null next_cursor ends. What a copy of a whole state reads.
   */
  scan?(cursor: string | null, limit: number): Promise<MemoryScanPage>;
  /** Releases files and connections; unusable afterwards. */
  close(): Promise<void>;
}

/** One page of PersonaMemoryStore.scan. */
export interface MemoryScanPage {
  readonly records: MemoryRecord[];
  readonly next_cursor: string | null;
}
