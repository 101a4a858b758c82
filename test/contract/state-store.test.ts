// The assertions live in state-store.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { stateStoreContract } from './state-store.contract.ts';

await forEachAdapter('state', 'state store contract', stateStoreContract);
