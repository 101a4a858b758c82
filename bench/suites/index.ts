/** Every benchmark suite. A new suite adds one import and one entry. */
import type { BenchSuite } from '../suite.ts';
import { coreSuite } from './core.ts';
import { sqliteSuite } from './sqlite.ts';
import { memorySuite } from './memory.ts';
import { uiSuite } from './ui.ts';
import { redisClientSuite } from './redis-client.ts';
import { postgresSuite } from './postgres.ts';
import { weaviateSuite } from './weaviate.ts';
import { timetravelSuite } from './timetravel.ts';
import { productionSuite } from './production.ts';
import { copyMillionSuite, copySuite } from './copy.ts';
import { inspectorSuite } from './inspector.ts';

export const SUITES: BenchSuite[] = [coreSuite, sqliteSuite, memorySuite, uiSuite, redisClientSuite, postgresSuite, weaviateSuite, timetravelSuite, productionSuite, copySuite, copyMillionSuite, inspectorSuite];
