/**
 * Every entry that serves a state store and queues, against the in-memory reference under
 * seeded random operations (the operations live in differential.contract.ts). The reference
 * itself is not compared with itself. The assertions live in differential.contract.ts; this
 * file runs them over every such entry in test/adapters.ts, as the other contract runners do.
 */
import { adaptersFor } from '../adapters.ts';
import { describeAdapter } from './run.ts';
import { differentialSuite } from './differential.contract.ts';

for (const entry of adaptersFor('state', 'queue')) {
  if (entry.name === 'memory') continue; // the reference
  await describeAdapter(entry, 'differential against the in-memory reference', differentialSuite({ first: 1, seeds: 16, steps: 400 }));
}
