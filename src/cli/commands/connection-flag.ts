/**
 * `--connection NAME`, on every command that opens a backend: the named connection profile (the
 * config file's `connections`, else the data folder's connections.json, as the app saves them)
 * is the production backend, its secrets from the environment or the files it names. The same as
 * CHIMERA_CONNECTION=NAME. A profile is read-only unless it says `read_only: false`.
 */
import { UsageError } from '../command.ts';

export const CONNECTION_FLAG = { connection: { type: 'string' } } as const;

export const CONNECTION_USAGE = '  --connection NAME opens a named connection profile (config file "connections", or the app\'s); same as CHIMERA_CONNECTION.';

/** The profile named by --connection, refused beside a --backend other than production. */
export function connectionFlag(values: Record<string, unknown>, backend: string | undefined): { connection?: string } {
  if (values.connection === undefined) return {};
  const name = String(values.connection);
  if (backend !== undefined && backend !== 'production') throw new UsageError(`--connection opens a production profile: it cannot be used with --backend ${backend}`);
  return { connection: name };
}
