// The assertions live in readers.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { readersContract } from './readers.contract.ts';

await forEachAdapter(['state', 'queue', 'personaCache', 'readers'], 'readers contract', readersContract);
