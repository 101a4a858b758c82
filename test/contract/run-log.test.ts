// The assertions live in run-log.contract.ts; this file runs them over every adapter in test/adapters.ts.
import { forEachAdapter } from './run.ts';
import { runLogContract } from './run-log.contract.ts';

await forEachAdapter('runLog', 'run log contract', runLogContract);
