/**
 * `production` (DATABASE_MODE=production): Postgres for state, Redis for queues and the persona
 * cache, Weaviate for persona memory. Declared so its settings are validated (and a config that
 * names it says what is missing), but not built yet: it has no `create`, and the registry
 * refuses to open it with a message naming what is available.
 */
import { z } from 'zod';
import { classifierFor } from './classify.ts';
import type { BackendEntry } from './types.ts';

/** The `production` section of the config: each connection URL, checked by its scheme. */
export const ProductionProfileSchema = z.strictObject({
  postgres_url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL').optional(),
  redis_url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  weaviate_url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL').optional(),
  /** The Postgres schema that holds the seed's tables and ours (tests and side-by-side deployments use their own). */
  schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)').default('public'),
  /** Prepended to every Redis key (the seed's layout has none: Chimera's own services read unprefixed keys). */
  redis_prefix: z.string().regex(/^[A-Za-z0-9_:.{}-]{0,64}$/, 'must be up to 64 letters, digits or _ : . { } -').default(''),
  /** Where the task and review queues live: Redis lists (the seed's layout) or a Postgres table (SKIP LOCKED). */
  queues: z.enum(['redis', 'postgres']).default('redis'),
  /** Postgres statement_timeout for every statement of the profile's pool. */
  statement_timeout_ms: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Open for reading only: Postgres read-only transactions, Redis read commands, Weaviate reads (chimera inspect). */
  read_only: z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean()).default(false),
});

/** The production profile's connection settings: the environment variable and config field of each. */
export const PRODUCTION_SETTINGS = [
  { env: 'CHIMERA_POSTGRES_URL', field: 'postgres_url', required: true },
  { env: 'CHIMERA_REDIS_URL', field: 'redis_url', required: true },
  { env: 'CHIMERA_WEAVIATE_URL', field: 'weaviate_url', required: false },
  { env: 'CHIMERA_POSTGRES_SCHEMA', field: 'schema', required: false },
  { env: 'CHIMERA_REDIS_PREFIX', field: 'redis_prefix', required: false },
  { env: 'CHIMERA_QUEUES', field: 'queues', required: false },
  { env: 'CHIMERA_READ_ONLY', field: 'read_only', required: false },
] as const;

export const productionBackend: BackendEntry = {
  kind: 'production',
  mode: 'production',
  label: 'Production',
  help: 'Postgres, Redis and Weaviate (not built yet)',
  section: { key: 'production', schema: ProductionProfileSchema, env: PRODUCTION_SETTINGS },
  ports: ['state', 'queues', 'cache'],
  capabilities: {
    transactions: true,
    durable: true,
    multiWriter: true,
    readOnly: false,
    serverTime: true,
    exactSearch: false,
    streamingExport: true,
  },
  // Postgres and Redis codes are read here once their adapters exist
  classify: classifierFor(() => undefined),
  describe: (config) => `Production (Postgres ${config.production.postgres_url ?? '?'}, Redis ${config.production.redis_url ?? '?'})`,
  check(config, source) {
    const missing = PRODUCTION_SETTINGS.filter((s) => s.required && !config.production[s.field]);
    if (!missing.length) return null;
    return (
      `${source === 'config' ? '' : `${source}: `}the production profile needs its connection settings: set ${missing.map((s) => s.env).join(' and ')} ` +
      `(CHIMERA_WEAVIATE_URL is optional), or ${missing.map((s) => `production.${s.field}`).join(' and ')} in the config file`
    );
  },
};
