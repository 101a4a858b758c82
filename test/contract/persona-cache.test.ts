// The assertions live in persona-cache.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { personaCacheContract } from './persona-cache.contract.ts';

await forEachAdapter('personaCache', 'persona cache contract', personaCacheContract);
