import { forEachAdapter } from './run.ts';
import { queueContract } from './queue.contract.ts';

await forEachAdapter('queue', queueContract);
