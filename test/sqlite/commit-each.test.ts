/**
 * The contract suites again on SQLite with commit mode 'each' (every unit of work and queue
 * call its own transaction), the mode the default 'batched' one is measured against. The
 * assertions live in the contract suites (test/contract/*.contract.ts), the differential
 * fuzz against the in-memory reference included.
 */
import { describeAdapter } from '../contract/run.ts';
import { stateStoreContract } from '../contract/state-store.contract.ts';
import { queueContract } from '../contract/queue.contract.ts';
import { personaCacheContract } from '../contract/persona-cache.contract.ts';
import { runLogContract } from '../contract/run-log.contract.ts';
import { differentialSuite } from '../contract/differential.contract.ts';
import { sqliteEntryWith } from './sqlite-entry.ts';

const each = sqliteEntryWith('sqlite (commit each)', 'each');
await describeAdapter(each, 'state store contract', stateStoreContract);
await describeAdapter(each, 'queue contract', queueContract);
await describeAdapter(each, 'persona cache contract', personaCacheContract);
await describeAdapter(each, 'run log contract', runLogContract);
await describeAdapter(each, 'differential against the in-memory reference', differentialSuite({ first: 101, seeds: 4, steps: 300 }));
