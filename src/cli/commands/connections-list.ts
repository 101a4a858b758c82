/**
 * `chimera connections list [--config FILE] [--json]`: the connection profiles this machine knows
 * (src/config/connections.ts), as the app's Backend → Connections lists them: the config file's
 * `connections`, then the data folder's connections.json (the app's; a name in both is the config
 * file's). For each: its endpoints, read-only or not, where it came from, and where each secret
 * comes from, never a value (a profile cannot hold one in clear: the schema refuses a password
 * in a URL). A profile with a sealed secret (the desktop app's vault) is listed and marked: only
 * the app can open it.
 *
 * Nothing is resolved here, so a profile whose environment variable is unset is still listed;
 * `chimera connections test NAME` resolves and checks one.
 */
import { resolve } from 'node:path';
import { loadConfig, type ChimeraConfig } from '../../config/config.ts';
import { DEFAULT_MODE } from '../../config/backends/index.ts';
import { CONNECTIONS_FILE, ConnectionsFile, SECRET_FIELDS, type ConnectionSummary } from '../../config/connections.ts';
import { listConnections } from '../../app/studio/connections-channels.ts';
import type { CliIo, Command } from '../command.ts';

/**
 * The config whose profiles are listed or tested: --config and the environment, without
 * CHIMERA_CONNECTION (which would open a profile) and whatever DATABASE_MODE says (the
 * profiles do not depend on the mode this shell would run in).
 */
export function profilesConfig(values: Record<string, unknown>, io: CliIo): { config: ChimeraConfig; file: string | null } {
  const file = values.config === undefined ? null : resolve(io.cwd, String(values.config));
  const { CHIMERA_CONNECTION: _ignored, ...env } = io.env;
  return { config: loadConfig({ ...(file ? { file } : {}), env, overrides: { mode: DEFAULT_MODE } }), file };
}

/** The app's saved profiles: connections.json in the config's data folder. */
export function appConnections(config: ChimeraConfig, io: CliIo): ConnectionsFile {
  return new ConnectionsFile(resolve(io.cwd, config.data_dir), { readOnly: true });
}

/** True when a secret of the profile is sealed in the desktop app's vault. */
export const needsApp = (c: ConnectionSummary): boolean => SECRET_FIELDS.some((f) => c.secrets[f]?.kind === 'sealed');

/** Where one secret comes from, in words (never its value). */
function secretSource(s: ConnectionSummary['secrets'][(typeof SECRET_FIELDS)[number]]): string {
  if (!s) return 'none';
  if (s.kind === 'env') return `environment variable ${s.env}`;
  if (s.kind === 'file') return `file ${s.file}`;
  return "sealed in the desktop app's vault (only the app can open it)";
}

function profileLines(c: ConnectionSummary): string[] {
  const where = [
    `postgres ${c.postgres_url ?? '-'} (schema ${c.schema})`,
    c.redis_url ? `redis ${c.redis_url}${c.redis_prefix ? ` (prefix ${c.redis_prefix})` : ''}` : '',
    `queues in ${c.queues}`,
    c.weaviate_url ? `weaviate ${c.weaviate_url}${c.weaviate_grpc_port ? ` (gRPC ${c.weaviate_grpc_port})` : ''}` : '',
  ].filter(Boolean);
  const head = `${c.name}  ${c.source === 'config' ? 'config file' : 'app'} · ${c.read_only ? 'read-only' : 'read-write'}${needsApp(c) ? ' · needs the desktop app (a secret is sealed in its vault)' : ''}`;
  const secrets = SECRET_FIELDS.filter((f) => c.secrets[f]).map((f) => `    ${f}: ${secretSource(c.secrets[f])}`);
  return [head, `    ${where.join(' · ')}`, ...secrets];
}

export const connectionsListCommand: Command = {
  name: 'connections list',
  summary: 'List the connection profiles (config file and the app\'s), with where each secret comes from',
  usage: [
    '  chimera connections list [--config FILE] [--json]',
    '  The config file\'s "connections" and the data folder\'s connections.json (the app\'s; CHIMERA_DATA_DIR',
    '  or data_dir in the config file). Secrets are named by where they come from, never shown.',
  ].join('\n'),
  options: { config: { type: 'string' }, json: { type: 'boolean', default: false } },
  async run({ values }, io) {
    const { config, file } = profilesConfig(values, io);
    const saved = appConnections(config, io);
    const view = listConnections(config, saved, null);
    for (const n of view.notices) io.stderr.write(`note: ${n}\n`);
    const connections = view.connections.map((c) => ({ ...c, needs_app: needsApp(c) }));
    if (values.json) {
      io.stdout.write(JSON.stringify({ config_file: file, app_file: saved.path, connections, notices: view.notices }) + '\n');
      return 0;
    }
    const text = [`connection profiles (config file: ${file ?? 'none'}; app: ${saved.path}):`];
    for (const c of view.connections) text.push(...profileLines(c).map((l) => `  ${l}`));
    if (!connections.length) text.push(`  (none: add one under "connections" in the config file, or in the app; the app keeps its own in ${CONNECTIONS_FILE})`);
    io.stdout.write(text.join('\n') + '\n');
    return 0;
  },
};
