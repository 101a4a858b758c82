import { forEachAdapter } from './run.ts';
import { personaMemoryContract } from './persona-memory.contract.ts';

await forEachAdapter('memory', personaMemoryContract);
