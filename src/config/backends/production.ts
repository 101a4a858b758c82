/**
 * `production` (DATABASE_MODE=production): the seed's stack. Postgres holds the state store and
 * the run log (`campaigns`, `tasks` and our tables, in `production.schema`); Redis the task and
 * review queues (`task_queue:{id}`, `review_queue:{id}`) and the persona cache
 * (`persona_cache:{id}`), or Postgres the queues too with `production.queues: postgres`;
 * Weaviate persona memory (class `PersonaMemory`) when `CHIMERA_WEAVIATE_URL` is given, else a
 * local HNSW index kept per deployment under the data folder. Any number of processes on any
 * number of machines may share one deployment (multiWriter).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { ChimeraConfig } from '../config.ts';
import { openPostgres, openPgReaders, redactPgUrl } from '../../adapters/postgres/index.ts';
import { redactPassword } from '../../util/redact-url.ts';
import { openRedis } from '../../adapters/redis/redis-open.ts';
import { openWeaviateMemory } from '../../adapters/weaviate/weaviate-persona-memory.ts';
import { openWeaviateMemoryReader } from '../../adapters/weaviate/weaviate-readers.ts';
import { HnswPersonaMemory } from '../../adapters/hnsw/hnsw-persona-memory.ts';
import { ExactPersonaMemory } from '../../adapters/exact/exact-persona-memory.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../domain/schemas.ts';
import type { Readers } from '../../ports/readers.ts';
import { classifierFor } from './classify.ts';
import { ConfigError } from '../../domain/errors.ts';
import type { BackendEntry, ErrorClass } from './types.ts';

/** The `production` section of the config: each connection URL, checked by its scheme. */
export const ProductionProfileSchema = z.strictObject({
  postgres_url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL').optional(),
  redis_url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  weaviate_url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL').optional(),
  /** Weaviate's gRPC port (search and batch go over gRPC; default 50051, 443 for https). */
  weaviate_grpc_port: z.coerce.number().int().min(1).max(65535).optional(),
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
  /** Weaviate's API key, in memory only: put here from a connection profile's secret (a config file holding one is refused). */
  weaviate_api_key: z.string().min(1).optional(),
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
  { env: 'CHIMERA_WEAVIATE_GRPC_PORT', field: 'weaviate_grpc_port', required: false },
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
  // our adapters' own codes (details.code)
  if (['REDIS_OFFLINE', 'REDIS_CONNECTION_LOST', 'REDIS_CONNECT_TIMEOUT', 'REDIS_TIMEOUT', 'WEAVIATE_TRANSIENT', 'WEAVIATE_TIMEOUT'].includes(code)) return 'transient';
  if (code === 'WEAVIATE_AUTH') return 'auth';
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

/** What the config lacks to connect ("needs its connection settings: …"), or null. */
function missingSettings(config: ChimeraConfig): string | null {
  const missing = PRODUCTION_SETTINGS.filter((s) => s.required && !config.production[s.field] && !(s.field === 'redis_url' && config.production.queues === 'postgres'));
  if (!missing.length) return null;
  return (
    `needs its connection settings: set ${missing.map((s) => s.env).join(' and ')} ` +
    `(CHIMERA_WEAVIATE_URL is optional), or ${missing.map((s) => `production.${s.field}`).join(' and ')} in the config file`
  );
}

/** How long an inspection's idle Postgres connection stays open (as long as the studio keeps its readers). */
const INSPECT_PG_IDLE_MS = 60_000;

/** The pool settings of a profile. */
function pgOptions(config: ChimeraConfig) {
  const p = config.production;
  return { url: p.postgres_url as string, schema: p.schema, statementTimeoutMs: p.statement_timeout_ms, applicationName: 'chimera-studio', readOnly: p.read_only };
}

export const productionBackend: BackendEntry = {
  kind: 'production',
  mode: 'production',
  label: 'Production',
  help: 'Postgres, Redis and Weaviate: shared by many processes (CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL, CHIMERA_WEAVIATE_URL)',
  section: { key: 'production', schema: ProductionProfileSchema, env: PRODUCTION_SETTINGS },
  ports: ['state', 'queues', 'cache'],
  capabilities: {
    transactions: true,
    durable: true,
    multiWriter: true,
    // read_only: Postgres read-only sessions, Redis read commands only, Weaviate reads only
    readOnly: true,
    serverTime: true,
    exactSearch: false,
    streamingExport: true,
  },
  classify: classifyProduction,
  describe: (config) => {
    const p = config.production;
    const pgAt = p.postgres_url ? redactPgUrl(p.postgres_url) : '?';
    const redisAt = p.redis_url ? redactPassword(p.redis_url) : '?';
    return `Production (Postgres ${pgAt}, schema ${p.schema}; ${p.queues === 'postgres' ? 'queues in Postgres' : `Redis ${redisAt}`}; memory ${p.weaviate_url ? `Weaviate ${redactPassword(p.weaviate_url)}` : 'local HNSW of this process'}${p.read_only ? '; read-only' : ''})`;
  },
  readOnlyView: (config) => Object.freeze({ ...config, production: Object.freeze({ ...config.production, read_only: true }) }),
  checkpoint: () => 'tick',
  create: async ({ config, clock }) => {
    const p = config.production;
    // a profile of another mode may take a port group from here (ports.<group>): its settings are checked now
    const missing = missingSettings(config);
    if (missing) throw new ConfigError(`the production backend ${missing}`);
    const pg = await openPostgres(pgOptions(config));
    let ok = false;
    try {
      if (p.queues === 'postgres' && !p.redis_url) {
        // a deployment without Redis: everything in Postgres
        const all = { state: pg.state, runLog: pg.runLog, taskQueue: pg.queue<WorkerTaskInput>('task', clock), reviewQueue: pg.queue<WorkerTaskOutput>('review', clock), personaCache: pg.personaCache };
        ok = true;
        return all;
      }
      const redis = await openRedis({ url: p.redis_url as string, prefix: p.redis_prefix, client_name: 'chimera-studio', readOnly: p.read_only });
      try {
        const queues = p.queues === 'postgres' ? { taskQueue: pg.queue<WorkerTaskInput>('task', clock), reviewQueue: pg.queue<WorkerTaskOutput>('review', clock) } : { taskQueue: redis.queue<WorkerTaskInput>('task', clock), reviewQueue: redis.queue<WorkerTaskOutput>('review', clock) };
        const all = { state: pg.state, runLog: pg.runLog, ...queues, personaCache: redis.personaCache() };
        // the cache is Redis's: Postgres's own (opened by the factory) lets its hold on the pool go
        await pg.personaCache.close();
        ok = true;
        return all;
      } finally {
        // the ports hold the connection; the factory's own hold goes
        await redis.close();
      }
    } finally {
      // the ports keep the pool; on failure everything opened goes
      if (ok) await pg.release();
      else await pg.close();
    }
  },
  readers: async (config) => {
    const p = config.production;
    // inspection needs Postgres; Redis only for what it keeps (queues, persona cache)
    if (!p.postgres_url) {
      throw new ConfigError('the production backend needs its connection settings to be inspected: set CHIMERA_POSTGRES_URL (and CHIMERA_REDIS_URL for the queues and persona cache), or production.postgres_url in the config file');
    }
    // named apart from the session's pool (pg_stat_activity), and its connections kept while the
    // studio keeps the readers (src/app/studio/inspect-pool.ts closes them after a minute unused)
    const parts: Readers[] = [await openPgReaders({ ...pgOptions(config), readOnly: true, applicationName: 'chimera-inspector', idleTimeoutMs: INSPECT_PG_IDLE_MS })];
    let memory: Awaited<ReturnType<typeof openWeaviateMemoryReader>> | undefined;
    try {
      if (p.redis_url) {
        // inspection never writes, whatever the profile says
        const redis = await openRedis({ url: p.redis_url, prefix: p.redis_prefix, client_name: 'chimera-inspector', readOnly: true });
        parts.push(redis.readers());
        await redis.close();
      }
      // persona memory is shared only through Weaviate (without it each process keeps its own): read-only, creates nothing
      if (p.weaviate_url) {
        const apiKey = p.weaviate_api_key ?? process.env.CHIMERA_WEAVIATE_API_KEY;
        memory = await openWeaviateMemoryReader({ url: p.weaviate_url, ...(apiKey ? { apiKey } : {}), ...(p.weaviate_grpc_port ? { grpcPort: p.weaviate_grpc_port } : {}) });
      }
    } catch (e) {
      for (const r of parts) await r.close();
      throw e;
    }
    const [pgr, redisr] = parts as [Readers, Readers | undefined];
    // the queues where the profile keeps them; the persona cache is Redis's whenever there is one
    const queuesFrom = p.queues === 'redis' && redisr ? redisr : pgr;
    const cacheFrom = redisr ?? pgr;
    // what the deployment lacks (a database Chimera's own services wrote has no audit log), from the part that would serve it
    const absent = {
      ...(pgr.absent?.audit ? { audit: pgr.absent.audit } : {}),
      ...(!queuesFrom.queues && queuesFrom.absent?.queues ? { queues: queuesFrom.absent.queues } : {}),
      ...(!cacheFrom.personaCache && cacheFrom.absent?.personaCache ? { personaCache: cacheFrom.absent.personaCache } : {}),
    };
    return {
      ...(memory ? { memory } : {}),
      kind: 'production',
      ...(pgr.state ? { state: pgr.state } : {}),
      ...(pgr.audit ? { audit: pgr.audit } : {}),
      ...(queuesFrom.queues ? { queues: queuesFrom.queues } : {}),
      ...(cacheFrom.personaCache ? { personaCache: cacheFrom.personaCache } : {}),
      ...(Object.keys(absent).length ? { absent } : {}),
      close: async () => {
        for (const r of parts) await r.close();
        await memory?.close();
      },
    };
  },
  createMemory: async (config) => {
    const p = config.production;
    if (p.weaviate_url) {
      const apiKey = p.weaviate_api_key ?? process.env.CHIMERA_WEAVIATE_API_KEY;
      return openWeaviateMemory({ url: p.weaviate_url, ...(apiKey ? { apiKey } : {}), ...(p.weaviate_grpc_port ? { grpcPort: p.weaviate_grpc_port } : {}), readOnly: p.read_only });
    }
    // No Weaviate: a local index owned by this process, in a scratch folder removed on close.
    // Many processes share a deployment and an index file has one writer, so without Weaviate
    // persona memory is not shared; a resumed run rebuilds it (recovery reconciles memories).
    if (config.memory.adapter === 'exact') return new ExactPersonaMemory();
    const dir = mkdtempSync(join(tmpdir(), 'chimera-production-memory-'));
    return HnswPersonaMemory.open({ dir, ...config.memory.hnsw, ephemeral: true });
  },
  check(config, source) {
    const missing = missingSettings(config);
    return missing ? `${source === 'config' ? '' : `${source}: `}the production profile ${missing}` : null;
  },
};
