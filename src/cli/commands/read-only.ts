/**
 * `--read-only`, on every command that opens a backend: the profile is opened for reading only
 * (the backend's read-only view from the registry), so its adapters refuse every write with a
 * READ_ONLY error (exit 2, one line). A backend that cannot be opened so is refused up front.
 */
import type { ChimeraConfig } from '../../config/config.ts';
import { requireReadOnly } from '../../config/backends/index.ts';

export const READ_ONLY_FLAG = { 'read-only': { type: 'boolean', default: false } } as const;

/** One usage line for the flag. */
export const READ_ONLY_USAGE = '  --read-only opens the store for reading only: every write is refused (Postgres read-only sessions, Redis read commands, Weaviate reads, SQLite opened read-only).';

/** `config`, made read-only when --read-only was given. */
export function withReadOnlyFlag(values: Record<string, unknown>, config: ChimeraConfig): ChimeraConfig {
  return values['read-only'] ? requireReadOnly(config) : config;
}
