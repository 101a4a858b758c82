/**
 * Connection profiles: named Postgres + Redis + Weaviate deployments to inspect (and, once a
 * person says so, to run on). A profile is the production section's settings (URLs, schema,
 * Redis prefix, where the queues live) plus where each secret comes from, never the secret:
 *
 * - `{env: NAME}`: an environment variable of the process that opens the profile;
 * - `{file: PATH}`: a file the user names (its first line; `~` is the home folder);
 * - `{sealed: BASE64}`: sealed by the desktop app's vault (Electron's safeStorage, the OS
 *   keychain); only the app that sealed it can open it.
 *
 * Profiles live in two places: the config file's `connections` (for the CLI and a team's shared
 * setup; `env`/`file` secrets only) and the app's `connections.json` in the data folder (what
 * the app's Connections panel saves). Neither ever holds a secret in clear: a URL carrying a
 * password is refused, and studio-settings.json names only the active profile.
 *
 * Profiles start read-only (`read_only: true` by default): inspecting a cluster never writes.
 * Making one read-write is a separate, confirmed step (`setReadOnly`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, ValidationError } from '../domain/errors.ts';
import { formatIssues } from '../domain/schemas.ts';
import { ProductionProfileSchema } from './backends/production.ts';


export const CONNECTIONS_FILE = 'connections.json';

/** A profile's name: what the UI lists and `--connection NAME` picks. */
export const ConnectionNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1–64 letters, digits, _ or - (starting with a letter or digit)');

/** The secrets a profile may need, by field (src/shared/types.ts keeps the wire's copy; test/layering/wire-copies.test.ts keeps them equal). */
export const SECRET_FIELDS = ['postgres_password', 'redis_password', 'weaviate_api_key'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name');
export const SecretRefSchema = z.union([
  z.strictObject({ env: EnvName }),
  z.strictObject({ file: z.string().min(1).max(4096) }),
  z.strictObject({ sealed: z.string().min(1).max(65536) }),
]);
export type SecretRef = z.infer<typeof SecretRefSchema>;

/** A URL's password, if it carries one. */
function urlPassword(url: string | undefined): string {
  if (!url) return '';
  try {
    return new URL(url).password;
  } catch {
    return '';
  }
}

const profileShape = ProductionProfileSchema.extend({
  // a profile opened by a person starts read-only: inspecting never writes
  read_only: z.boolean().default(true),
  secrets: z.strictObject({ postgres_password: SecretRefSchema.optional(), redis_password: SecretRefSchema.optional(), weaviate_api_key: SecretRefSchema.optional() }).default({}),
});

/** One connection profile as stored (config file or connections.json). */
export const ConnectionProfileSchema = profileShape
  .refine((p) => !!p.postgres_url, { message: 'a connection profile needs postgres_url (the seed keeps campaigns and tasks in Postgres)', path: ['postgres_url'] })
  .refine((p) => !!p.redis_url || p.queues === 'postgres', { message: "a connection profile needs redis_url (the seed's queues and persona cache are in Redis), or queues: postgres", path: ['redis_url'] })
  .superRefine((p, ctx) => {
    for (const [field, secret] of [
      ['postgres_url', 'postgres_password'],
      ['redis_url', 'redis_password'],
      ['weaviate_url', 'weaviate_api_key'],
    ] as const) {
      if (urlPassword(p[field])) ctx.addIssue({ code: 'custom', path: [field], message: `carries a password: remove it from the URL and give secrets.${secret} ({env} or {file}) instead, so no secret is written in clear` });
    }
  });
export type ConnectionProfile = z.output<typeof ConnectionProfileSchema>;
export type ConnectionProfileInput = z.input<typeof ConnectionProfileSchema>;

/** The config file's `connections` section. */
export const ConnectionsSectionSchema = z.record(ConnectionNameSchema, ConnectionProfileSchema).default({});

/** Seals and opens secrets (the desktop app's OS keychain through Electron's safeStorage). */
export interface SecretVault {
  /** Shown to the user ("safeStorage (gnome_libsecret)"). */
  readonly description: string;
  seal(plain: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/** Where a resolved secret came from, for messages (never the value). */
export function describeSecret(ref: SecretRef): string {
  if ('env' in ref) return `environment variable ${ref.env}`;
  if ('file' in ref) return `file ${ref.file}`;
  return "the app's vault";
}

export interface ResolveOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly vault?: SecretVault | null;
}

/** An {env} or {file} secret's value now, or null for a sealed one; a ConfigError naming the profile, field and source when it cannot be had. */
function plainSecret(name: string, field: SecretField, ref: SecretRef, env: NodeJS.ProcessEnv): string | null {
  const where = `connection "${name}": secrets.${field}`;
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') throw new ConfigError(`${where} comes from the environment variable ${ref.env}, which is not set`);
    return v;
  }
  if ('file' in ref) {
    const path = ref.file.startsWith('~/') ? join(homedir(), ref.file.slice(2)) : resolve(ref.file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError(`${where} comes from the file ${path}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const v = text.split(/\r?\n/, 1)[0] ?? '';
    if (!v) throw new ConfigError(`${where}: the file ${path} is empty (its first line is the secret)`);
    return v;
  }
  return null;
}

/** One secret's value, unsealing it with the vault if it was sealed. */
export async function resolveSecret(name: string, field: SecretField, ref: SecretRef, opts: ResolveOptions = {}): Promise<string> {
  const plain = plainSecret(name, field, ref, opts.env ?? process.env);
  if (plain !== null) return plain;
  const sealed = (ref as { sealed: string }).sealed;
  const where = `connection "${name}": secrets.${field}`;
  if (!opts.vault) throw new ConfigError(`${where} is sealed in the desktop app's vault, which this process cannot open: run it in the app, or give the secret as {env} or {file}`);
  try {
    return await opts.vault.open(sealed);
  } catch (e) {
    throw new ConfigError(`${where} could not be unsealed (${(e as Error).message}); it may have been sealed on another machine or user account: enter it again`);
  }
}

function withPassword(url: string, password: string, user?: string): string {
  const u = new URL(url);
  if (user !== undefined && !u.username) u.username = user;
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** What opening a profile needs: the production section (secrets in its URLs, held in memory only) and the Weaviate API key. */
export interface ResolvedConnection {
  readonly production: z.output<typeof ProductionProfileSchema>;
  readonly weaviate_api_key: string | null;
}

function assemble(profile: ConnectionProfile, secret: (f: SecretField) => string | null): ResolvedConnection {
  const { secrets: _secrets, ...section } = profile;
  const production = { ...section };
  const pg = secret('postgres_password');
  if (pg !== null && production.postgres_url) production.postgres_url = withPassword(production.postgres_url, pg);
  // Redis AUTH with only a password is the user "default"
  const redis = secret('redis_password');
  if (redis !== null && production.redis_url) production.redis_url = withPassword(production.redis_url, redis, 'default');
  return { production: ProductionProfileSchema.parse(production), weaviate_api_key: secret('weaviate_api_key') };
}

/** A profile's production section with its secrets put in (in memory only; never written or logged). */
export async function resolveConnection(name: string, profile: ConnectionProfile, opts: ResolveOptions = {}): Promise<ResolvedConnection> {
  const values = new Map<SecretField, string>();
  for (const f of SECRET_FIELDS) {
    const ref = profile.secrets[f];
    if (ref) values.set(f, await resolveSecret(name, f, ref, opts));
  }
  return assemble(profile, (f) => values.get(f) ?? null);
}

/** The same for a process without the app's vault (the CLI): {env} and {file} secrets only. */
export function resolveConnectionSync(name: string, profile: ConnectionProfile, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  return assemble(profile, (f) => {
    const ref = profile.secrets[f];
    if (!ref) return null;
    const v = plainSecret(name, f, ref, env);
    if (v === null) throw new ConfigError(`connection "${name}": secrets.${f} is sealed in the desktop app's vault, which this process cannot open: run it in the app, or give the secret as {env} or {file}`);
    return v;
  });
}

/** A profile as the UI may see it: settings, and for each secret only where it comes from (the wire's ConnectionView). */
export interface ConnectionSummary {
  readonly name: string;
  readonly source: 'app' | 'config';
  readonly postgres_url: string | null;
  readonly redis_url: string | null;
  readonly weaviate_url: string | null;
  readonly weaviate_grpc_port: number | null;
  readonly schema: string;
  readonly redis_prefix: string;
  readonly queues: 'redis' | 'postgres';
  readonly statement_timeout_ms: number;
  readonly read_only: boolean;
  readonly secrets: { readonly [F in SecretField]: { readonly kind: 'env'; readonly env: string } | { readonly kind: 'file'; readonly file: string } | { readonly kind: 'sealed' } | null };
}

export function summarize(name: string, source: 'app' | 'config', p: ConnectionProfile): ConnectionSummary {
  const ref = (r: SecretRef | undefined) => (!r ? null : 'env' in r ? { kind: 'env' as const, env: r.env } : 'file' in r ? { kind: 'file' as const, file: r.file } : { kind: 'sealed' as const });
  return {
    name,
    source,
    postgres_url: p.postgres_url ?? null,
    redis_url: p.redis_url ?? null,
    weaviate_url: p.weaviate_url ?? null,
    weaviate_grpc_port: p.weaviate_grpc_port ?? null,
    schema: p.schema,
    redis_prefix: p.redis_prefix,
    queues: p.queues,
    statement_timeout_ms: p.statement_timeout_ms,
    read_only: p.read_only,
    secrets: { postgres_password: ref(p.secrets.postgres_password), redis_password: ref(p.secrets.redis_password), weaviate_api_key: ref(p.secrets.weaviate_api_key) },
  };
}

/** Parses a profile, the error naming the profile and each bad field. */
export function parseConnection(name: string, raw: unknown): ConnectionProfile {
  const n = ConnectionNameSchema.safeParse(name);
  if (!n.success) throw new ValidationError(`connection name "${name.slice(0, 80)}": ${n.error.issues[0]?.message ?? 'invalid'}`);
  const r = ConnectionProfileSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(`connection "${name}": ${formatIssues(r.error)}`, r.error.issues);
  return r.data;
}

const FileSchema = z.strictObject({ version: z.literal(1), connections: z.record(ConnectionNameSchema, ConnectionProfileSchema) });

/**
 * The app's saved profiles: connections.json in the data folder, written atomically. A file that
 * cannot be read is set aside as .bad (with a notice) by the app, which may write the file next,
 * so it is never silently overwritten; a reader that only reads (the CLI, `readOnly`) leaves it
 * where it is and only says so.
 */
export class ConnectionsFile {
  readonly path: string;
  notice: string | null = null;
  private profiles: Record<string, ConnectionProfile>;

  constructor(
    data_dir: string,
    private readonly opts: { readonly readOnly?: boolean } = {},
  ) {
    this.path = join(data_dir, CONNECTIONS_FILE);
    this.profiles = this.read();
  }

  list(): [string, ConnectionProfile][] {
    return Object.entries(this.profiles).sort(([a], [b]) => a.localeCompare(b));
  }

  get(name: string): ConnectionProfile | undefined {
    return Object.prototype.hasOwnProperty.call(this.profiles, name) ? this.profiles[name] : undefined;
  }

  put(name: string, profile: ConnectionProfile): void {
    if (this.opts.readOnly) throw new ValidationError(`${this.path} was opened for reading only`);
    this.write({ ...this.profiles, [name]: parseConnection(name, profile) });
  }

  delete(name: string): boolean {
    if (!this.get(name)) return false;
    if (this.opts.readOnly) throw new ValidationError(`${this.path} was opened for reading only`);
    const next = { ...this.profiles };
    delete next[name];
    this.write(next);
    return true;
  }

  private write(next: Record<string, ConnectionProfile>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, connections: next }, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
    this.profiles = next;
  }

  private read(): Record<string, ConnectionProfile> {
    if (!existsSync(this.path)) return {};
    try {
      return FileSchema.parse(JSON.parse(readFileSync(this.path, 'utf8'))).connections;
    } catch (e) {
      const why = (e instanceof z.ZodError ? formatIssues(e) : (e as Error).message).slice(0, 200);
      if (this.opts.readOnly) {
        this.notice = `connections file ${this.path} could not be read (${why}); its profiles are not listed (the app sets such a file aside as .bad)`;
        return {};
      }
      const bad = `${this.path}.bad`;
      renameSync(this.path, bad);
      this.notice = `connections file ${this.path} could not be read (${why}); moved to ${bad}`;
      return {};
    }
  }
}
