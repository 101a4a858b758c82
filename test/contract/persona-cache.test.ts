import { forEachAdapter } from './run.ts';
import { personaCacheContract } from './persona-cache.contract.ts';

await forEachAdapter('personaCache', personaCacheContract);
