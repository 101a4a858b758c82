/**
 * A persona memory reader over a PersonaMemoryStore this process holds open (the in-memory
 * reference reader, src/adapters/memory/memory-readers.ts): what the Inspector reads when the
 * profile's memory lives only in the running session (the in-memory profile; production without
 * Weaviate, where each process keeps its own index). The app reaches it here, the composition
 * root, since it may not import an adapter.
 */
import { memoryReaders } from '../adapters/memory/memory-readers.ts';
import type { PersonaMemoryStore } from '../ports/persona-memory.ts';
import type { PersonaMemoryReader } from '../ports/readers.ts';

/** Reads `store` (never writes it; closing the reader is not needed and leaves the store open). */
export function memoryStoreReader(store: PersonaMemoryStore): PersonaMemoryReader {
  return memoryReaders({ memory: store }).memory as PersonaMemoryReader;
}
