/** Every backend profile, by DATABASE_MODE. A new technology adds one line. */
import type { BackendFactory } from './types.ts';
import { memoryBackend } from './memory.ts';
import { sqliteBackend } from './sqlite.ts';

export const BACKENDS: readonly BackendFactory[] = [memoryBackend, sqliteBackend];
