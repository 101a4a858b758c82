// The assertions live in queue.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { queueContract } from './queue.contract.ts';

await forEachAdapter('queue', 'queue contract', queueContract);
