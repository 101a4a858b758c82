/** `memory` (DATABASE_MODE=in-memory): every port in this process, nothing kept. */
import { MemoryStateStore } from '../../adapters/memory/memory-state-store.ts';
import { MemoryQueue } from '../../adapters/memory/memory-queue.ts';
import { MemoryPersonaCache } from '../../adapters/memory/memory-persona-cache.ts';
import { MemoryRunLog } from '../../adapters/memory/memory-run-log.ts';
import { memoryReadersOver } from '../../adapters/memory/memory-readers.ts';
import { classifierFor } from './classify.ts';
import type { BuiltBackend } from './types.ts';

export const memoryBackend: BuiltBackend = {
  kind: 'memory',
  mode: 'in-memory',
  label: 'In-memory',
  help: 'in this process: nothing is kept after it ends',
  ports: ['state', 'queues', 'cache'],
  capabilities: {
    transactions: true,
    durable: false,
    multiWriter: false,
    readOnly: false,
    serverTime: false,
    exactSearch: true,
    streamingExport: true,
  },
  // it has no driver: only the shared reading (conflicts, BACKEND_UNAVAILABLE) applies
  classify: classifierFor(() => undefined),
  describe: () => 'In-memory (nothing is kept after the app closes)',
  create: async ({ clock }) => ({
    state: new MemoryStateStore(),
    taskQueue: new MemoryQueue(clock),
    reviewQueue: new MemoryQueue(clock),
    personaCache: new MemoryPersonaCache(),
    runLog: new MemoryRunLog(),
  }),
  // its stores live in the session that made them: inspected there, over its own ports
  inProcessReaders: (ports) => memoryReadersOver(ports),
};
