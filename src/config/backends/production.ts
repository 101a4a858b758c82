/**
 * `production` (DATABASE_MODE=production): Postgres for state, Redis for queues and the persona
 * cache, Weaviate for persona memory. Declared so its settings are validated (and a config that
 * names it says what is missing), but not built yet: it has no `create`, and the registry
 * refuses to open it with a message naming what is available.
 */
import { z } from 'zod';
import { classifierFor } from './classify.ts';
import type { BackendEntry, ErrorClass } from './types.ts';

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

/** What Postgres SQLSTATEs, Redis replies and socket codes mean for the caller. */
function productionCode(code: string): ErrorClass | undefined {
  // Postgres: connection exceptions (08…), an operator's intervention (57P01 terminate, 57P02/03
  // crash and cannot connect now), too many connections, a statement timeout
  if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code === '57014') return 'transient';
  if (code === '40001' || code === '40P01') return 'conflict';
  if (code === '28P01' || code === '28000' || code === '42501') return 'auth';
  if (code === '53100') return 'disk_full';
  // sockets (either server)
  if (['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EAI_AGAIN'].includes(code)) return 'transient';
  if (code === 'ENOTFOUND') return 'fatal';
  // Redis replies (by their first word)
  if (code === 'LOADING' || code === 'BUSY' || code === 'TRYAGAIN' || code === 'CLUSTERDOWN' || code === 'MASTERDOWN') return 'transient';
  if (code === 'NOAUTH' || code === 'WRONGPASS' || code === 'NOPERM') return 'auth';
  if (code === 'OOM') return 'disk_full';
  return undefined;
}

const byCode = classifierFor(productionCode);

/** Drivers that report a lost connection without a code (pg's "Connection terminated", ioredis's "Connection is closed."). */
const LOST_CONNECTION = /connection terminated|connection is closed|not queryable|socket hang up|stream isn't writeable|max retries per request|reached the max retries|ECONNRESET|ECONNREFUSED|server closed the connection|terminating connection|LOADING /i;

function classifyProduction(e: unknown): ErrorClass | null {
  const c = byCode(e);
  if (c !== null && c !== 'fatal') return c;
  // the message, and its cause's, for drivers that give no code
  for (let x: unknown = e, depth = 0; x && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const msg = (x as { message?: unknown }).message;
    if (typeof msg === 'string' && LOST_CONNECTION.test(msg)) return 'transient';
    const name = (x as { name?: unknown }).name;
    if (name === 'MaxRetriesPerRequestError') return 'transient';
  }
  return c;
}

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
  classify: classifyProduction,
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
