// The assertions live in embedder.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { embedderContract } from './embedder.contract.ts';

await forEachAdapter('embedder', 'embedder contract', embedderContract);
