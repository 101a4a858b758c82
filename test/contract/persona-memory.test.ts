// The assertions live in persona-memory.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { personaMemoryContract } from './persona-memory.contract.ts';

await forEachAdapter('memory', 'persona memory contract', personaMemoryContract);
