/** Every backend profile, by DATABASE_MODE. A new technology adds one line. */
import type { ChimeraConfig } from '../config.ts';
import { ConfigError } from '../../domain/errors.ts';
import type { BackendFactory } from './types.ts';
import { memoryBackend } from './memory.ts';
import { sqliteBackend } from './sqlite.ts';

export const BACKENDS: readonly BackendFactory[] = [memoryBackend, sqliteBackend];

/**
 * The factory for the config's profile, or a ConfigError saying that profile is not in this
 * build (the production profile is configured and validated, but not built yet). Callers
 * check this before any work, so a run never starts on a profile it cannot finish on.
 */
export function requireAvailableMode(config: ChimeraConfig): BackendFactory {
  const factory = BACKENDS.find((b) => b.mode === config.mode);
  if (!factory) {
    throw new ConfigError(
      `the ${config.mode} profile is not available in this build yet (available: ${BACKENDS.map((b) => b.mode).join(', ')})`,
    );
  }
  return factory;
}
