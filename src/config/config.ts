/**
 * The app's configuration: a validated file (chimera.config.json, or --config FILE) with
 * DATABASE_MODE and CHIMERA_* environment variables on top. Frozen once loaded.
 *
 * Environment: DATABASE_MODE (a mode of the backend registry, src/config/backends),
 * CHIMERA_DATA_DIR, and the variables a backend declares for its section (the production
 * profile's CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL and CHIMERA_WEAVIATE_URL).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.ts';
import { formatIssues } from '../domain/schemas.ts';
import { mergeDeep } from '../util/merge-deep.ts';
import { DEFAULT_MODE, backendForMode, backends, databaseModes, registryVersion } from './backends/index.ts';
import { PORT_GROUPS } from './backends/types.ts';
import { SqliteProfileSchema } from './backends/sqlite.ts';
import { ProductionProfileSchema } from './backends/production.ts';
import { ConnectionsFile, ConnectionsSectionSchema, resolveConnectionSync, type ConnectionProfile, type ResolvedConnection } from './connections.ts';

export const MEMORY_ADAPTERS = ['memory', 'exact', 'hnsw'] as const;
export const EMBEDDERS = ['hashing', 'transformers'] as const;

/** The settings that belong to no backend. */
const CommonShape = {
  /** Folder for databases, indexes, models and settings. */
  data_dir: z.string().min(1).default('.data'),
  memory: z
    .strictObject({
      adapter: z.enum(MEMORY_ADAPTERS).default('memory'),
      hnsw: z
        .strictObject({
          M: z.int().min(2).max(128).default(16),
          ef_construction: z.int().min(8).max(2000).default(200),
          ef: z.int().min(8).max(2000).default(100),
        })
        .default({ M: 16, ef_construction: 200, ef: 100 }),
    })
    .default({ adapter: 'memory', hnsw: { M: 16, ef_construction: 200, ef: 100 } }),
  embedder: z
    .strictObject({
      kind: z.enum(EMBEDDERS).default('hashing'),
      dimensions: z.int().min(8).max(4096).default(256),
      model: z.string().min(1).default('Xenova/all-MiniLM-L6-v2'),
      /** Local model folder; defaults to <data_dir>/models. */
      model_dir: z.string().min(1).optional(),
      allow_downloads: z.boolean().default(false),
    })
    .default({ kind: 'hashing', dimensions: 256, model: 'Xenova/all-MiniLM-L6-v2', allow_downloads: false }),
  /** Named connection profiles (src/config/connections.ts): `--connection NAME` or CHIMERA_CONNECTION picks one. */
  connections: ConnectionsSectionSchema,
};

/**
 * The config's static shape (what TypeScript sees): `mode` is any registered DATABASE_MODE, one
 * section per built-in backend, and `ports` picks a backend per port group.
 */
export const StaticConfigSchema = z.strictObject({
  mode: z.string(),
  ...CommonShape,
  sqlite: SqliteProfileSchema,
  production: ProductionProfileSchema,
  ports: z.strictObject({ state: z.string().optional(), queues: z.string().optional(), cache: z.string().optional() }),
});
export type ChimeraConfig = z.infer<typeof StaticConfigSchema>;

let cached: { version: number; schema: z.ZodType } | null = null;

/**
 * The config schema, derived from the backend registry: `mode` is one of its DATABASE_MODEs
 * (default in-memory), each backend's section is its profile schema (with its defaults), and
 * `ports.<group>` names a backend that serves that group.
 */
export function configSchema(): z.ZodType {
  if (cached?.version === registryVersion()) return cached.schema;
  const sections: Record<string, z.ZodType> = {};
  for (const b of backends()) if (b.section) sections[b.section.key] = b.section.schema.default(b.section.schema.parse({}) as never);
  const ports: Record<string, z.ZodType> = {};
  for (const g of PORT_GROUPS) {
    const kinds = backends().filter((b) => b.ports.includes(g)).map((b) => b.kind);
    ports[g] = z.enum(kinds as [string, ...string[]]).optional();
  }
  const schema = z.strictObject({
    mode: z.enum(databaseModes() as [string, ...string[]]).default(DEFAULT_MODE),
    ...CommonShape,
    ...sections,
    ports: z.strictObject(ports).default({}),
  });
  cached = { version: registryVersion(), schema };
  return schema;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}


/** Validates a config object; the error names every bad field and where it came from. */
export function parseConfig(raw: unknown, source = 'config'): ChimeraConfig {
  const r = configSchema().safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`${source}: ${formatIssues(r.error)}`, r.error.issues);
  const config = r.data as ChimeraConfig;
  const problem = backendForMode(config.mode).check?.(config, source);
  if (problem) throw new ConfigError(problem);
  return deepFreeze(config);
}

/**
 * Reads the config file (if any) and applies environment overrides. A connection profile
 * (`connection`, else CHIMERA_CONNECTION) from the config file's `connections` or the data
 * folder's connections.json becomes the production section, its {env}/{file} secrets put in
 * (in memory only), and the mode production.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown>; connection?: string } = {}): ChimeraConfig {
  const config = loadConfigOnly(opts);
  const name = opts.connection ?? (opts.env ?? process.env).CHIMERA_CONNECTION;
  if (!name) return config;
  return withConnection(config, name, opts.env ?? process.env);
}

/** A connection profile by name: the config file's, else the data folder's connections.json; a ConfigError listing the known ones. */
export function findConnection(config: ChimeraConfig, name: string, saved: ConnectionsFile = new ConnectionsFile(config.data_dir, { readOnly: true })): { profile: ConnectionProfile; source: 'config' | 'app' } {
  if (Object.prototype.hasOwnProperty.call(config.connections, name)) return { profile: config.connections[name] as ConnectionProfile, source: 'config' };
  const app = saved.get(name);
  if (app) return { profile: app, source: 'app' };
  const known = [...new Set([...Object.keys(config.connections), ...saved.list().map(([n]) => n)])].sort();
  throw new ConfigError(`no connection profile named "${name}" (${known.length ? `known: ${known.join(', ')}` : 'none is defined: add one under "connections" in the config file, or in the app'})${saved.notice ? `; ${saved.notice}` : ''}`);
}

/** `config` with a resolved connection as its production section (mode production). */
export function configWithConnection(config: ChimeraConfig, name: string, resolved: ResolvedConnection): ChimeraConfig {
  const production = { ...resolved.production, ...(resolved.weaviate_api_key ? { weaviate_api_key: resolved.weaviate_api_key } : {}) };
  return parseConfig({ ...config, mode: 'production', production }, `connection "${name}"`);
}

/** `config` with the named connection profile as its production section, its secrets from the environment or files (the CLI). */
export function withConnection(config: ChimeraConfig, name: string, env: NodeJS.ProcessEnv = process.env): ChimeraConfig {
  return configWithConnection(config, name, resolveConnectionSync(name, findConnection(config, name).profile, env));
}

function loadConfigOnly(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> }): ChimeraConfig {
  const env = opts.env ?? process.env;
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${opts.file}: ${(e as Error).message}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`config file ${opts.file} is not valid JSON: ${(e as Error).message}`);
    }
    const section = raw.production as Record<string, unknown> | undefined;
    if (section && typeof section === 'object' && 'weaviate_api_key' in section) {
      throw new ConfigError(`config file ${opts.file}: production.weaviate_api_key holds a secret in clear: set CHIMERA_WEAVIATE_API_KEY, or use a connection profile whose secrets.weaviate_api_key is {env} or {file}`);
    }
  }
  if (env.DATABASE_MODE) {
    if (!databaseModes().includes(env.DATABASE_MODE)) {
      throw new ConfigError(`DATABASE_MODE must be one of ${databaseModes().join(', ')}, got "${env.DATABASE_MODE}"`);
    }
    raw = { ...raw, mode: env.DATABASE_MODE };
  }
  if (env.CHIMERA_DATA_DIR) raw = { ...raw, data_dir: env.CHIMERA_DATA_DIR };
  // the embedder without a config file: CHIMERA_EMBEDDER=transformers (MiniLM), CHIMERA_ALLOW_DOWNLOADS=1 to fetch it once
  if (env.CHIMERA_EMBEDDER) raw = mergeDeep(raw, { embedder: { kind: env.CHIMERA_EMBEDDER } });
  if (env.CHIMERA_ALLOW_DOWNLOADS === '1') raw = mergeDeep(raw, { embedder: { allow_downloads: true } });
  // each backend's environment variables set fields of its section
  for (const b of backends()) {
    const section: Record<string, string> = {};
    for (const s of b.section?.env ?? []) {
      const v = env[s.env];
      if (v) section[s.field] = v;
    }
    if (b.section && Object.keys(section).length) raw = mergeDeep(raw, { [b.section.key]: section });
  }
  if (opts.overrides) raw = mergeDeep(raw, opts.overrides);
  const fromEnv = env.DATABASE_MODE ? `DATABASE_MODE=${env.DATABASE_MODE}` : '';
  const source = opts.file ? `${opts.file}${fromEnv ? ` with ${fromEnv}` : ''}` : fromEnv || 'config';
  return parseConfig(raw, source);
}
