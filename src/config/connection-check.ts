/**
 * "Test connection" for a production profile: can this app use the Postgres, Redis and Weaviate
 * the profile names, and if not, which one failed and why, in words a person can act on.
 *
 * Each configured service is checked at the same time as the others, with the drivers the
 * adapters use (pg, node-redis 5; Weaviate's REST and gRPC wire as weaviate-client opens it),
 * and each check is bounded by `timeout_ms`: when it runs out, its sockets are destroyed and the
 * report says whether the connection had even been accepted. The checks write nothing. A
 * service not configured (field absent or '') is absent from the report; a malformed URL is
 * reason 'config' before anything connects.
 *
 * The caller has resolved the profile's secrets into the URLs and the API key. None of them
 * ever appears in the report: targets are host:port (or a URL without credentials), messages
 * are built from the drivers' errors (which do not quote passwords), and every string is
 * scrubbed of the secrets on the way out besides (tested with secrets present).
 *
 * Pure parts, exported for their tests: classifyConnectionError (what a driver error means)
 * and decideVersion (whether a server is new enough, with the minimums and why).
 */
import { ConfigError } from '../domain/errors.ts';
import type { ConnectionReport, ConnectionService, ServiceCheck } from './connection-check/report.ts';
import { CheckTimeoutError, classifyConnectionError, SERVICE_NAMES } from './connection-check/classify.ts';
import { newContext, type CheckContext, type Findings } from './connection-check/context.ts';
import { checkPostgres, postgresTarget } from './connection-check/check-postgres.ts';
import { checkRedis, redisTarget } from './connection-check/check-redis.ts';
import { checkWeaviate, weaviateTarget } from './connection-check/check-weaviate.ts';

export { CONNECTION_REASONS, CONNECTION_SERVICES, type ConnectionReason, type ConnectionReport, type ConnectionService, type ServiceCheck } from './connection-check/report.ts';
export { classifyConnectionError, type Classified } from './connection-check/classify.ts';
export {
  decideVersion,
  compareVersions,
  parseVersion,
  MIN_VERSIONS,
  POSTGRES_MIN_VERSION,
  REDIS_MIN_VERSION,
  WEAVIATE_MIN_VERSION,
  WEAVIATE_TESTED_FROM_VERSION,
  type VersionDecision,
} from './connection-check/versions.ts';

/** What to check: the profile's endpoints with their secrets resolved. */
export interface ConnectionTarget {
  /** postgres://user:password@host:port/database[?sslmode=…] */
  readonly postgres_url?: string;
  /** redis://[user:password@]host[:port][/db], or rediss:// for TLS */
  readonly redis_url?: string;
  /** Weaviate's REST URL, http(s)://host[:port] */
  readonly weaviate_url?: string;
  /** Weaviate's gRPC port (default 50051; 443 for an https URL without a port), on the URL's host. */
  readonly weaviate_grpc_port?: number;
  /** Sent as `Authorization: Bearer <key>` on REST and gRPC. */
  readonly weaviate_api_key?: string;
  /** The Postgres schema holding Chimera's tables (default 'chimera'). */
  readonly schema?: string;
  /** Prepended to every Redis key (default ''). */
  readonly redis_prefix?: string;
}

export interface ConnectionCheckOptions {
  /** How long each service's check may take, ms (default 5 000, at most 600 000). */
  readonly timeout_ms?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
const MAX_CHECK_TIMEOUT_MS = 600_000;
/** Secrets shorter than this are not scrubbed from messages (scrubbing "a" would mangle every word); none is put there anyway. */
const MIN_SCRUBBED_SECRET = 3;

type Check = (ctx: CheckContext, found: Findings) => Promise<string>;

/** Checks every configured service at once; never throws for a service's failure (only for a bad `timeout_ms`). */
export async function checkConnections(target: ConnectionTarget, opts: ConnectionCheckOptions = {}): Promise<ConnectionReport> {
  const timeout_ms = opts.timeout_ms ?? DEFAULT_CHECK_TIMEOUT_MS;
  if (typeof timeout_ms !== 'number' || !Number.isFinite(timeout_ms) || timeout_ms < 1 || timeout_ms > MAX_CHECK_TIMEOUT_MS) {
    throw new ConfigError(`timeout_ms must be a number of milliseconds from 1 to ${MAX_CHECK_TIMEOUT_MS}, got ${String(timeout_ms)}`);
  }
  const secrets = secretsOf(target);
  const jobs: Promise<ServiceCheck>[] = [];
  const pg = configured(target.postgres_url);
  if (pg !== null) {
    jobs.push(runCheck('postgres', postgresTarget(pg), timeout_ms, (ctx, found) => checkPostgres({ url: pg, ...(target.schema !== undefined ? { schema: target.schema } : {}) }, ctx, found)));
  }
  const redis = configured(target.redis_url);
  if (redis !== null) {
    jobs.push(runCheck('redis', redisTarget(redis), timeout_ms, (ctx, found) => checkRedis({ url: redis, ...(target.redis_prefix !== undefined ? { prefix: target.redis_prefix } : {}) }, ctx, found)));
  }
  const weaviate = configured(target.weaviate_url);
  if (weaviate !== null) {
    const t = {
      url: weaviate,
      ...(target.weaviate_grpc_port !== undefined ? { grpcPort: target.weaviate_grpc_port } : {}),
      ...(target.weaviate_api_key ? { apiKey: target.weaviate_api_key } : {}),
    };
    jobs.push(runCheck('weaviate', weaviateTarget(weaviate), timeout_ms, (ctx, found) => checkWeaviate(t, ctx, found)));
  }
  const services = (await Promise.all(jobs)).map((s) => scrub(s, secrets));
  return { ok: services.length > 0 && services.every((s) => s.ok), services };
}

/** A URL field's value, or null when the service is not configured (absent or ''). */
function configured(url: string | undefined): string | null {
  return url === undefined || url === '' ? null : url;
}

/** One service's check under its own deadline: a report entry whatever happens. */
async function runCheck(service: ConnectionService, target: string | null, timeout_ms: number, check: Check): Promise<ServiceCheck> {
  const shown = target ?? '(unparseable URL)';
  const stop = new AbortController();
  const ctx = newContext(timeout_ms, stop.signal);
  const found: Findings = { server_version: null, latency_ms: null, notes: [] };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new CheckTimeoutError(timeout_ms, ctx.phase);
      stop.abort(e);
      reject(e);
    }, timeout_ms);
  });
  const running = Promise.resolve().then(() => check(ctx, found));
  // after the deadline the check is abandoned; what it throws then is of no interest
  running.catch(() => {});
  try {
    const what = await Promise.race([running, deadline]);
    return { service, target: shown, ok: true, reason: null, message: `${SERVICE_NAMES[service]} at ${shown}: ${what}`, ...findings(found) };
  } catch (e) {
    const { reason, message } = classifyConnectionError(service, e, shown);
    return { service, target: shown, ok: false, reason, message, ...findings(found) };
  } finally {
    clearTimeout(timer);
    // anything the check left open is destroyed
    if (!stop.signal.aborted) stop.abort(new Error('check finished'));
  }
}

function findings(f: Findings): Pick<ServiceCheck, 'server_version' | 'latency_ms' | 'notes'> {
  return { server_version: f.server_version, latency_ms: f.latency_ms, notes: [...f.notes] };
}

/** Every password and key in the target, as given and as URL-decoded. */
function secretsOf(t: ConnectionTarget): string[] {
  const out = new Set<string>();
  const add = (s: string | null | undefined): void => {
    if (!s || s.length < MIN_SCRUBBED_SECRET) return;
    out.add(s);
    try {
      out.add(decodeURIComponent(s));
    } catch {
      // not percent-encoded
    }
  };
  for (const url of [t.postgres_url, t.redis_url, t.weaviate_url]) {
    if (!url) continue;
    try {
      const u = new URL(url);
      add(u.password);
      add(u.searchParams.get('password'));
    } catch {
      // a URL that does not parse is never echoed
    }
  }
  add(t.weaviate_api_key);
  // longest first, so a secret containing another is replaced whole
  return [...out].filter((s) => s.length >= MIN_SCRUBBED_SECRET).sort((a, b) => b.length - a.length);
}

function scrubText(s: string, secrets: readonly string[]): string {
  let out = s;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

function scrub(s: ServiceCheck, secrets: readonly string[]): ServiceCheck {
  if (secrets.length === 0) return s;
  return {
    ...s,
    target: scrubText(s.target, secrets),
    message: scrubText(s.message, secrets),
    server_version: s.server_version === null ? null : scrubText(s.server_version, secrets),
    notes: s.notes.map((n) => scrubText(n, secrets)),
  };
}
