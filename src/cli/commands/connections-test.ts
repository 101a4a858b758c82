/**
 * `chimera connections test [NAME] [--config FILE] [--timeout-ms N] [--json]`: the app's "Test
 * connection" in the terminal. It resolves the profile's secrets from the environment and the
 * files it names (a sealed one, which only the desktop app can open, is a one-line refusal),
 * runs the connection check (src/config/connection-check.ts: Postgres, Redis and Weaviate at
 * once, each within --timeout-ms, nothing written) and prints one line per service with notes
 * indented under it.
 *
 * Without NAME it tests what `--backend production` would open: CHIMERA_CONNECTION's profile
 * when that is set, else the production settings (CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL,
 * CHIMERA_WEAVIATE_URL and the rest, or the config file's `production` section).
 *
 * Exit 0 when every configured service is ok, 1 when one failed (the report is printed either
 * way), 2 for bad usage or a profile that cannot be resolved. No secret is printed: the report's
 * targets and messages are scrubbed by the check, and nothing else here quotes a URL.
 */
import { resolve } from 'node:path';
import { findConnection, loadConfig } from '../../config/config.ts';
import { DEFAULT_CHECK_TIMEOUT_MS, checkConnections, type ConnectionTarget, type ServiceCheck } from '../../config/connection-check.ts';
import { SERVICE_NAMES } from '../../config/connection-check/classify.ts';
import { resolveConnectionSync, type ResolvedConnection } from '../../config/connections.ts';
import { UsageError, intFlag, type CliIo, type Command } from '../command.ts';
import { appConnections, profilesConfig } from './connections-list.ts';

const MAX_TIMEOUT_MS = 600_000;

/** What is tested, and how the header names it. */
interface Tested {
  readonly connection: string | null;
  readonly source: 'config' | 'app' | 'settings';
  readonly read_only: boolean;
  readonly target: ConnectionTarget;
}

/** The check's target from a production section with its secrets in (as the studio's 'connections/test' builds it). */
function targetOf(p: ResolvedConnection['production'], weaviate_api_key: string | null | undefined): ConnectionTarget {
  return {
    ...(p.postgres_url ? { postgres_url: p.postgres_url } : {}),
    ...(p.redis_url ? { redis_url: p.redis_url } : {}),
    ...(p.weaviate_url ? { weaviate_url: p.weaviate_url } : {}),
    ...(p.weaviate_grpc_port ? { weaviate_grpc_port: p.weaviate_grpc_port } : {}),
    ...(weaviate_api_key ? { weaviate_api_key } : {}),
    schema: p.schema,
    redis_prefix: p.redis_prefix,
  };
}

/** The named profile, its {env}/{file} secrets resolved (a ConfigError naming the secret when one cannot be). */
function namedProfile(name: string, values: Record<string, unknown>, io: CliIo): Tested {
  const { config } = profilesConfig(values, io);
  const { profile, source } = findConnection(config, name, appConnections(config, io));
  const r = resolveConnectionSync(name, profile, io.env);
  return { connection: name, source, read_only: profile.read_only, target: targetOf(r.production, r.weaviate_api_key) };
}

/** The production settings `--backend production` would open without a profile. */
function productionSettings(values: Record<string, unknown>, io: CliIo): Tested {
  const file = values.config === undefined ? undefined : resolve(io.cwd, String(values.config));
  const { CHIMERA_CONNECTION: _none, ...env } = io.env;
  const p = loadConfig({ ...(file ? { file } : {}), env, overrides: { mode: 'production' } }).production;
  // the production backend takes the Weaviate key from here when no profile gives one
  return { connection: null, source: 'settings', read_only: p.read_only, target: targetOf(p, p.weaviate_api_key ?? io.env.CHIMERA_WEAVIATE_API_KEY) };
}

/** A check's message without its "Service at target: " prefix (the line names both already). */
function reasonWords(s: ServiceCheck): string {
  const prefix = `${SERVICE_NAMES[s.service]} at ${s.target}: `;
  return s.message.startsWith(prefix) ? s.message.slice(prefix.length) : s.message;
}

/** One line per service (ok/failed, service, host, version, round trip, what happened), notes indented. */
export function checkLines(services: readonly ServiceCheck[]): string[] {
  const lines: string[] = [];
  const w = Math.max(0, ...services.map((s) => s.target.length));
  for (const s of services) {
    const facts = [s.server_version ? `version ${s.server_version}` : '', s.latency_ms !== null ? `round trip ${s.latency_ms} ms` : ''].filter(Boolean).join(' · ');
    const what = s.ok ? reasonWords(s) : `${s.reason ?? 'other'}: ${reasonWords(s)}`;
    lines.push(`${s.ok ? 'ok    ' : 'failed'}  ${SERVICE_NAMES[s.service].padEnd(8)}  ${s.target.padEnd(w)}  ${facts ? `${facts} · ` : ''}${what}`);
    for (const n of s.notes) lines.push(`          - ${n}`);
  }
  return lines;
}

export const connectionsTestCommand: Command = {
  name: 'connections test',
  summary: 'Test a connection profile (or the production settings): which of Postgres, Redis, Weaviate answers, and why not',
  usage: [
    '  chimera connections test [NAME] [--config FILE] [--timeout-ms N] [--json]',
    '  NAME: a profile of the config file\'s "connections" or the app\'s connections.json; its secrets come from',
    '  the environment variables or files it names (a secret sealed by the desktop app can be tested in the app only).',
    '  Without NAME: what --backend production would open (CHIMERA_CONNECTION\'s profile, else CHIMERA_POSTGRES_URL,',
    '  CHIMERA_REDIS_URL, CHIMERA_WEAVIATE_URL or the config file\'s "production" section).',
    `  --timeout-ms N bounds each service's check (default ${DEFAULT_CHECK_TIMEOUT_MS}, 1 to ${MAX_TIMEOUT_MS}). Nothing is written.`,
    '  Exit 0: every configured service is ok; 1: one failed (the report is printed); 2: bad usage or a profile that cannot be resolved.',
  ].join('\n'),
  options: { config: { type: 'string' }, 'timeout-ms': { type: 'string' }, json: { type: 'boolean', default: false } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length > 1) throw new UsageError(`test one profile at a time: got ${positionals.length} names (${positionals.join(', ')})`);
    const timeout_ms = intFlag(values, 'timeout-ms', 1, MAX_TIMEOUT_MS) ?? DEFAULT_CHECK_TIMEOUT_MS;
    const name = positionals[0] ?? (io.env.CHIMERA_CONNECTION || undefined);
    const tested = name !== undefined ? namedProfile(name, values, io) : productionSettings(values, io);
    const t = tested.target;
    if (!t.postgres_url && !t.redis_url && !t.weaviate_url) throw new UsageError('nothing to test: no Postgres, Redis or Weaviate URL is configured');
    const report = await checkConnections(tested.target, { timeout_ms });
    if (values.json) {
      io.stdout.write(JSON.stringify({ connection: tested.connection, source: tested.source, read_only: tested.read_only, timeout_ms, ...report }) + '\n');
    } else {
      const what = tested.connection !== null ? `connection "${tested.connection}" (${tested.source === 'config' ? 'config file' : 'app'}, ${tested.read_only ? 'read-only' : 'read-write'})` : 'the production settings';
      const failed = report.services.filter((s) => !s.ok).length;
      io.stdout.write([`${what}: ${failed ? `${failed} of ${report.services.length} failed` : `all ${report.services.length} ok`}`, ...checkLines(report.services)].join('\n') + '\n');
    }
    return report.ok ? 0 : 1;
  },
};
