import { forEachAdapter } from './run.ts';
import { stateStoreContract } from './state-store.contract.ts';

await forEachAdapter('state', stateStoreContract);
