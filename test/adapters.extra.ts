/**
 * Adapters of other technologies join the contract suites here, one import and one entry
 * each (see test/adapters.ts for the entry's shape).
 */
import type { AdapterEntry } from './adapters.ts';
import { sqliteEntry } from './sqlite/sqlite-entry.ts';
import { SEMANTIC_ENTRIES } from './semantic/semantic-entries.ts';
import { redisEntry } from './redis/redis-entry.ts';
import { postgresEntry } from './postgres/postgres-entry.ts';
import { WEAVIATE_ENTRIES } from './weaviate/weaviate-entry.ts';

export const EXTRA_ADAPTERS: AdapterEntry[] = [sqliteEntry, ...SEMANTIC_ENTRIES, redisEntry, postgresEntry, ...WEAVIATE_ENTRIES];
