import { forEachAdapter } from './run.ts';
import { embedderContract } from './embedder.contract.ts';

await forEachAdapter('embedder', embedderContract);
