/** Every benchmark suite. A new suite adds one import and one entry. */
import type { BenchSuite } from '../suite.ts';
import { sqliteSuite } from './sqlite.ts';

export const SUITES: BenchSuite[] = [sqliteSuite];
