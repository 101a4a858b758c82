/**
 * The app's configuration: a validated file (chimera.config.json, or --config FILE) with
 * DATABASE_MODE and CHIMERA_* environment variables on top. Frozen once loaded.
 *
 * Environment: DATABASE_MODE (in-memory | sqlite | production), CHIMERA_DATA_DIR, and for the
 * production profile CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL (both required) and
 * CHIMERA_WEAVIATE_URL (optional).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../domain/errors.ts';
import { formatIssues } from '../domain/schemas.ts';
import { mergeDeep } from '../util/merge-deep.ts';

export const DATABASE_MODES = ['in-memory', 'sqlite', 'production'] as const;
export type DatabaseMode = (typeof DATABASE_MODES)[number];

export const MEMORY_ADAPTERS = ['memory', 'exact', 'hnsw'] as const;
export const EMBEDDERS = ['hashing', 'transformers'] as const;

export const ConfigSchema = z.strictObject({
  mode: z.enum(DATABASE_MODES).default('in-memory'),
  /** Folder for databases, indexes, models and settings. */
  data_dir: z.string().min(1).default('.data'),
  sqlite: z
    .strictObject({
      path: z.string().min(1).default('chimera.db'),
      /**
       * 'batched' (default): a simulation's checkpoint (the end of every tick) is one commit.
       * 'each': every agent step is a commit during a simulation, every call outside one.
       */
      commit: z.enum(['batched', 'each']).default('batched'),
      /** Open the file (and the persona memory beside it) for reading only: no owner lock, nothing written. */
      read_only: z.boolean().default(false),
    })
    .default({ path: 'chimera.db', commit: 'batched', read_only: false }),
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
  production: z
    .strictObject({
      postgres_url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL').optional(),
      redis_url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
      weaviate_url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL').optional(),
    })
    .default({}),
});
export type ChimeraConfig = z.infer<typeof ConfigSchema>;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The production profile's connection settings: the environment variable and config field of each. */
export const PRODUCTION_SETTINGS = [
  { env: 'CHIMERA_POSTGRES_URL', field: 'postgres_url', required: true },
  { env: 'CHIMERA_REDIS_URL', field: 'redis_url', required: true },
  { env: 'CHIMERA_WEAVIATE_URL', field: 'weaviate_url', required: false },
] as const;

/** Validates a config object; the error names every bad field and where it came from. */
export function parseConfig(raw: unknown, source = 'config'): ChimeraConfig {
  const r = ConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`${source}: ${formatIssues(r.error)}`, r.error.issues);
  if (r.data.mode === 'production') {
    const missing = PRODUCTION_SETTINGS.filter((s) => s.required && !r.data.production[s.field]);
    if (missing.length) {
      throw new ConfigError(
        `${source === 'config' ? '' : `${source}: `}the production profile needs its connection settings: set ${missing.map((s) => s.env).join(' and ')} ` +
          `(CHIMERA_WEAVIATE_URL is optional), or ${missing.map((s) => `production.${s.field}`).join(' and ')} in the config file`,
        { missing: missing.map((s) => s.env) },
      );
    }
  }
  return deepFreeze(r.data);
}

/** Reads the config file (if any) and applies environment overrides. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): ChimeraConfig {
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
  }
  if (env.DATABASE_MODE) {
    if (!(DATABASE_MODES as readonly string[]).includes(env.DATABASE_MODE)) {
      throw new ConfigError(`DATABASE_MODE must be one of ${DATABASE_MODES.join(', ')}, got "${env.DATABASE_MODE}"`);
    }
    raw = { ...raw, mode: env.DATABASE_MODE };
  }
  if (env.CHIMERA_DATA_DIR) raw = { ...raw, data_dir: env.CHIMERA_DATA_DIR };
  const production: Record<string, string> = {};
  for (const s of PRODUCTION_SETTINGS) {
    const v = env[s.env];
    if (v) production[s.field] = v;
  }
  if (Object.keys(production).length) raw = mergeDeep(raw, { production });
  if (opts.overrides) raw = mergeDeep(raw, opts.overrides);
  const fromEnv = env.DATABASE_MODE ? `DATABASE_MODE=${env.DATABASE_MODE}` : '';
  const source = opts.file ? `${opts.file}${fromEnv ? ` with ${fromEnv}` : ''}` : fromEnv || 'config';
  return parseConfig(raw, source);
}
