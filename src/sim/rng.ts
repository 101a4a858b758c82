/**
 * TEMPORARY re-export: the seeded RNG moved to src/domain/seeded-rng.ts (the engine may import
 * the domain, not src/sim). Only src/engine/engine.ts still imports this path; when it imports
 * '../domain/seeded-rng.ts', delete this file and its entry in test/layering/layers.ts.
 */
export { SeededRng, auditIdFor, uuidFromKey } from '../domain/seeded-rng.ts';
