/** DATABASE_MODE=in-memory: everything in this process, nothing kept. */
import { MemoryStateStore } from '../../adapters/memory/memory-state-store.ts';
import { MemoryQueue } from '../../adapters/memory/memory-queue.ts';
import { MemoryPersonaCache } from '../../adapters/memory/memory-persona-cache.ts';
import { MemoryRunLog } from '../../adapters/memory/memory-run-log.ts';
import type { BackendFactory } from './types.ts';

export const memoryBackend: BackendFactory = {
  mode: 'in-memory',
  describe: () => 'In-memory (nothing is kept after the app closes)',
  create: async ({ clock }) => ({
    state: new MemoryStateStore(),
    taskQueue: new MemoryQueue(clock),
    reviewQueue: new MemoryQueue(clock),
    personaCache: new MemoryPersonaCache(),
    runLog: new MemoryRunLog(),
  }),
};
