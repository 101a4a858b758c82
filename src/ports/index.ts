/** Every port the engine talks to. The engine imports only from here and src/domain. */
export type * from './clock.ts';
export type * from './rng.ts';
export type * from './state-store.ts';
export type * from './queue.ts';
export type * from './persona-cache.ts';
export type * from './persona-memory.ts';
export type * from './embedder.ts';
export type * from './run-log.ts';
export { taskQueueName, reviewQueueName } from './queue.ts';
export { personaCacheKey } from './persona-cache.ts';

import type { StateStore } from './state-store.ts';
import type { WorkQueue } from './queue.ts';
import type { PersonaCache } from './persona-cache.ts';
import type { PersonaMemoryStore } from './persona-memory.ts';
import type { Embedder } from './embedder.ts';
import type { RunLog } from './run-log.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../domain/schemas.ts';

/** The set of ports one backend profile provides. */
export interface Ports {
  readonly state: StateStore;
  readonly taskQueue: WorkQueue<WorkerTaskInput>;
  readonly reviewQueue: WorkQueue<WorkerTaskOutput>;
  readonly personaCache: PersonaCache;
  readonly memory: PersonaMemoryStore;
  readonly embedder: Embedder;
  readonly runLog: RunLog;
}
