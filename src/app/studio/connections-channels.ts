/**
 * The 'connections/…' channels: the app's connection profiles (src/config/connections.ts).
 *
 * - Secrets never cross back to the UI and are never written in clear: a secret typed in the
 *   app is sealed by the vault (Electron's safeStorage) before it is saved; without a vault
 *   (browser mode) a typed secret is refused and the user names an environment variable or a
 *   file instead.
 * - A saved profile starts read-only; `connections/set-read-only` to false needs `confirm`
 *   (the UI asks the person first), so no single click makes a cluster writable.
 * - The config file's profiles are listed too; they are edited in the file.
 */
import { ConfigError, ReadOnlyError, ValidationError } from '../../domain/errors.ts';
import type { ChimeraConfig } from '../../config/config.ts';
import { findConnection } from '../../config/config.ts';
import { checkConnections } from '../../config/connection-check.ts';
import { SECRET_FIELDS, parseConnection, resolveConnection, summarize, type ConnectionProfile, type ConnectionsFile, type SecretRef, type SecretVault } from '../../config/connections.ts';
import type { ParsedArgsOf } from '../../shared/contract.ts';
import type { ConnectionsView } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';

export interface ConnectionsContext extends Pick<StudioContext, 'config' | 'current' | 'exclusive'> {
  readonly connections: ConnectionsFile;
  readonly vault: SecretVault | null;
}

type Draft = ParsedArgsOf<'connections/save'>;

export function connectionsChannels(ctx: ConnectionsContext): NamespaceHandlers<'connections'> {
  const list = (): ConnectionsView => listConnections(ctx.config, ctx.connections, ctx.vault);
  /** A profile only the app may change (not the config file's), by name. */
  const appProfile = (name: string): ConnectionProfile => {
    const found = findConnection(ctx.config, name, ctx.connections);
    if (found.source === 'config') throw new ValidationError(`connection "${name}" is defined in the config file: edit it there`);
    return found.profile;
  };
  /** Refuses a change to the profile the session runs on (it holds connections and writes). */
  const notActive = (name: string, what: string) => {
    const p = ctx.current().profile;
    if (p.kind === 'production' && p.name === name) throw new ValidationError(`connection "${name}" is the active profile: switch the session to another backend before you ${what}`);
  };
  return {
    'connections/list': async () => list(),
    'connections/save': (a) =>
      ctx.exclusive(async () => {
        if (Object.prototype.hasOwnProperty.call(ctx.config.connections, a.name)) throw new ValidationError(`connection "${a.name}" is defined in the config file: edit it there, or save this one under another name`);
        const existing = ctx.connections.get(a.name);
        if (existing) notActive(a.name, 'edit it');
        ctx.connections.put(a.name, await profileFromDraft(a, existing, ctx.vault));
        return list();
      }),
    'connections/delete': (a) =>
      ctx.exclusive(async () => {
        appProfile(a.name);
        notActive(a.name, 'delete it');
        ctx.connections.delete(a.name);
        return list();
      }),
    'connections/test': async (a) => {
      // a saved profile, or the form's draft (tested before it is saved; nothing is written)
      const profile =
        a.postgres_url !== undefined
          ? await profileFromDraft({ ...a, postgres_url: a.postgres_url }, Object.prototype.hasOwnProperty.call(ctx.config.connections, a.name) ? undefined : ctx.connections.get(a.name), ctx.vault)
          : findConnection(ctx.config, a.name, ctx.connections).profile;
      const r = await resolveConnection(a.name, profile, { vault: ctx.vault });
      const p = r.production;
      return checkConnections({
        postgres_url: p.postgres_url,
        ...(p.redis_url ? { redis_url: p.redis_url } : {}),
        ...(p.weaviate_url ? { weaviate_url: p.weaviate_url } : {}),
        ...(p.weaviate_grpc_port ? { weaviate_grpc_port: p.weaviate_grpc_port } : {}),
        ...(r.weaviate_api_key ? { weaviate_api_key: r.weaviate_api_key } : {}),
        schema: p.schema,
        redis_prefix: p.redis_prefix,
      });
    },
    'connections/set-read-only': (a) =>
      ctx.exclusive(async () => {
        const p = appProfile(a.name);
        if (!a.read_only && p.read_only && a.confirm !== true) {
          throw new ValidationError(`making connection "${a.name}" read-write lets the studio write to that cluster: ask the user, then send confirm: true`);
        }
        if (a.read_only && !p.read_only) notActive(a.name, 'make it read-only');
        ctx.connections.put(a.name, { ...p, read_only: a.read_only });
        return list();
      }),
  };
}

export function listConnections(config: ChimeraConfig, saved: ConnectionsFile, vault: SecretVault | null): ConnectionsView {
  const fromConfig = Object.entries(config.connections).map(([n, p]) => summarize(n, 'config', p as ConnectionProfile));
  const names = new Set(fromConfig.map((c) => c.name));
  const fromApp = saved
    .list()
    .filter(([n]) => !names.has(n))
    .map(([n, p]) => summarize(n, 'app', p));
  return { connections: [...fromConfig, ...fromApp].sort((a, b) => a.name.localeCompare(b.name)), vault: vault?.description ?? null, notices: saved.notice ? [saved.notice] : [] };
}

/** A URL's password taken out (to be sealed), or the URL as it is. */
function splitPassword(url: string | null | undefined): { url: string | undefined; password: string | null } {
  if (!url) return { url: undefined, password: null };
  try {
    const u = new URL(url);
    if (!u.password) return { url, password: null };
    const password = decodeURIComponent(u.password);
    u.password = '';
    return { url: u.toString(), password };
  } catch {
    // the schema names the bad URL
    return { url, password: null };
  }
}

/**
 * The profile a draft makes: its secrets sealed (typed values) or referred to (env, file), a
 * secret left out kept from the saved profile, and read_only kept (a new profile starts read-only).
 */
export async function profileFromDraft(a: Draft, existing: ConnectionProfile | undefined, vault: SecretVault | null): Promise<ConnectionProfile> {
  const pg = splitPassword(a.postgres_url);
  const redis = splitPassword(a.redis_url);
  const typed: Partial<Record<(typeof SECRET_FIELDS)[number], string>> = {};
  // a password pasted inside a URL is a typed secret: with a vault it is sealed, never kept in the URL
  if (vault) {
    if (pg.password) typed.postgres_password = pg.password;
    if (redis.password) typed.redis_password = redis.password;
  }
  const secrets: Partial<Record<(typeof SECRET_FIELDS)[number], SecretRef>> = {};
  for (const f of SECRET_FIELDS) {
    const input = a.secrets?.[f];
    if (input === null) continue;
    if (input === undefined || 'keep' in input) {
      if (typed[f] !== undefined) secrets[f] = { sealed: await seal(vault, a.name, f, typed[f]) };
      else if (existing?.secrets[f]) secrets[f] = existing.secrets[f];
      continue;
    }
    if ('value' in input) secrets[f] = { sealed: await seal(vault, a.name, f, input.value) };
    else secrets[f] = input;
  }
  return parseConnection(a.name, {
    postgres_url: vault ? pg.url : (a.postgres_url ?? undefined),
    ...(a.redis_url ? { redis_url: vault ? redis.url : a.redis_url } : {}),
    ...(a.weaviate_url ? { weaviate_url: a.weaviate_url } : {}),
    ...(a.weaviate_grpc_port ? { weaviate_grpc_port: a.weaviate_grpc_port } : {}),
    ...(a.schema ? { schema: a.schema } : {}),
    ...(a.redis_prefix !== undefined ? { redis_prefix: a.redis_prefix } : {}),
    ...(a.queues ? { queues: a.queues } : {}),
    ...(a.statement_timeout_ms ? { statement_timeout_ms: a.statement_timeout_ms } : {}),
    read_only: existing?.read_only ?? true,
    secrets,
  });
}

async function seal(vault: SecretVault | null, name: string, field: string, value: string): Promise<string> {
  if (!vault) {
    throw new ValidationError(`secrets.${field}: this app (browser mode) keeps no secrets: give the name of an environment variable or of a file that holds it (the desktop app seals typed secrets with the OS keychain)`);
  }
  try {
    return await vault.seal(value);
  } catch (e) {
    throw new ConfigError(`connection "${name}": secrets.${field} could not be sealed (${(e as Error).message})`);
  }
}

/** The refusal for a session on a read-only profile (the Inspector reads it instead). */
export function readOnlyProfileError(name: string): ReadOnlyError {
  return new ReadOnlyError(
    `connection "${name}" is read-only: a simulation writes, so it cannot run there. Inspect it (Inspector → Inspected store), or make the profile read-write first (Backend → Connections; it asks to confirm)`,
    { endpoint: `connection ${name}`, refused: 'open a simulation session' },
  );
}
