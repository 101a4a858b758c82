/**
 * The table of adapters the contract suites run against. Each technology adds one entry;
 * `ADAPTERS=memory,sqlite npm test` narrows the run. An entry provides a factory for each
 * port it serves; a suite runs only over entries that provide its port.
 */
import type { Clock } from '../src/ports/clock.ts';
import type { Embedder } from '../src/ports/embedder.ts';
import type { PersonaCache } from '../src/ports/persona-cache.ts';
import type { PersonaMemoryStore } from '../src/ports/persona-memory.ts';
import type { WorkQueue } from '../src/ports/queue.ts';
import type { StateStore } from '../src/ports/state-store.ts';
import { MemoryStateStore } from '../src/adapters/memory/memory-state-store.ts';
import { MemoryQueue } from '../src/adapters/memory/memory-queue.ts';
import { MemoryPersonaCache } from '../src/adapters/memory/memory-persona-cache.ts';
import { MemoryPersonaMemory } from '../src/adapters/memory/memory-persona-memory.ts';
import { HashingEmbedder } from '../src/adapters/hashing/hashing-embedder.ts';
import { EXTRA_ADAPTERS } from './adapters.extra.ts';

export interface AdapterEntry {
  readonly name: string;
  /** A fresh, empty state store (unguarded: the suite wraps it as the composition root does). */
  readonly state?: () => Promise<StateStore>;
  /** A fresh, empty queue whose leases run on `clock`. */
  readonly queue?: <T>(clock: Clock) => Promise<WorkQueue<T>>;
  readonly personaCache?: () => Promise<PersonaCache>;
  /** A fresh, empty persona memory (unguarded). */
  readonly memory?: () => Promise<PersonaMemoryStore>;
  readonly embedder?: () => Promise<Embedder>;
  /** Reason this entry cannot run here (printed, and its suites skipped), or null. */
  readonly unavailable?: () => Promise<string | null>;
}

const BUILTIN: AdapterEntry[] = [
  {
    name: 'memory',
    state: async () => new MemoryStateStore(),
    queue: async <T,>(clock: Clock) => new MemoryQueue<T>(clock),
    personaCache: async () => new MemoryPersonaCache(),
    memory: async () => new MemoryPersonaMemory(),
  },
  { name: 'hashing', embedder: async () => new HashingEmbedder(256) },
];

const wanted = (process.env.ADAPTERS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

export const ADAPTERS: readonly AdapterEntry[] = [...BUILTIN, ...EXTRA_ADAPTERS].filter(
  (a) => wanted.length === 0 || wanted.includes(a.name),
);

export function adaptersFor<K extends keyof AdapterEntry>(port: K): (AdapterEntry & Required<Pick<AdapterEntry, K>>)[] {
  return ADAPTERS.filter((a) => a[port] !== undefined) as (AdapterEntry & Required<Pick<AdapterEntry, K>>)[];
}
