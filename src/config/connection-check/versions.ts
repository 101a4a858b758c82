/**
 * The oldest server of each kind that the production adapters work with, and the pure decision
 * "is this version enough?". Each minimum comes from what the adapters actually send (read
 * src/adapters/postgres, src/adapters/redis, src/adapters/weaviate), not from a support policy:
 * a server below it fails on a statement, command or call the adapters make.
 */
import type { ConnectionService } from './report.ts';

/**
 * PostgreSQL 9.6: every pooled connection starts with `idle_in_transaction_session_timeout`
 * (pg-pool.ts; a 9.5 server refuses the connection over the unknown setting), and the
 * migration runner calls `to_regclass(text)` (9.6). Below that, queues claim with
 * `FOR UPDATE SKIP LOCKED` and every upsert is `INSERT … ON CONFLICT` (9.5).
 */
export const POSTGRES_MIN_VERSION = '9.6';

/**
 * Redis 6.0: the readers and the queue listing send `SCAN … TYPE` (6.0), and a URL with
 * `user:password@` logs in as an ACL user (`AUTH username password`, 6.0). The queue scripts
 * need no more than 4.0 (EVALSHA, cjson, redis.sha1hex, HSET with several fields).
 */
export const REDIS_MIN_VERSION = '6.0.0';

/**
 * Weaviate 1.27.0: weaviate-client 3 refuses to open its gRPC channel on anything older
 * ("The gRPC API is not supported …", its supportsCompatibleGrpcService), and the adapter does
 * everything but the schema over gRPC.
 */
export const WEAVIATE_MIN_VERSION = '1.27.0';

/**
 * Weaviate 1.29.0: from here the client counts with gRPC `Aggregate`, the path the adapter is
 * tested on (the emulator serves gRPC only); below it the client falls back to GraphQL.
 */
export const WEAVIATE_TESTED_FROM_VERSION = '1.29.0';

export const MIN_VERSIONS: Readonly<Record<ConnectionService, string>> = Object.freeze({
  postgres: POSTGRES_MIN_VERSION,
  redis: REDIS_MIN_VERSION,
  weaviate: WEAVIATE_MIN_VERSION,
});

/** What the version says about using the server. */
export interface VersionDecision {
  /** False only when the version was read and is below the minimum. */
  readonly ok: boolean;
  readonly minimum: string;
  /** Why not, or what to know (an unread version, an untested range); null when nothing. */
  readonly message: string | null;
}

/** The leading numbers of a version string: "15.20 (Debian 15.20-0+deb12u1)" → [15, 20]; "1.32.4-rc.1" → [1, 32, 4]; null when none. */
export function parseVersion(version: string): number[] | null {
  const m = /^\s*v?(\d+(?:\.\d+)*)/.exec(version);
  return m ? (m[1] as string).split('.').map(Number) : null;
}

/** Compares two parsed versions (missing parts count as 0). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const WHY_NEEDED: Readonly<Record<ConnectionService, string>> = {
  postgres: 'the adapters set idle_in_transaction_session_timeout on every connection and use to_regclass(text), ON CONFLICT and SKIP LOCKED',
  redis: 'the adapters use SCAN … TYPE and ACL logins',
  weaviate: 'weaviate-client 3 needs it for gRPC, which the adapter uses for everything but the schema',
};

const NAMES: Readonly<Record<ConnectionService, string>> = { postgres: 'PostgreSQL', redis: 'Redis', weaviate: 'Weaviate' };

/**
 * Whether `version` (as the server reports it; null when it could not be read) is enough for
 * `service`. Pure. An unread or unparseable version is not held against the server.
 */
export function decideVersion(service: ConnectionService, version: string | null): VersionDecision {
  const minimum = MIN_VERSIONS[service];
  const name = NAMES[service];
  if (version === null) return { ok: true, minimum, message: `the ${name} version could not be read; ${minimum} or newer is needed` };
  const have = parseVersion(version);
  if (!have) return { ok: true, minimum, message: `the ${name} version "${version}" could not be understood; ${minimum} or newer is needed` };
  if (compareVersions(have, parseVersion(minimum) as number[]) < 0) {
    return { ok: false, minimum, message: `${name} ${version} is older than ${minimum}, which ${WHY_NEEDED[service]}` };
  }
  if (service === 'weaviate' && compareVersions(have, parseVersion(WEAVIATE_TESTED_FROM_VERSION) as number[]) < 0) {
    return { ok: true, minimum, message: `Weaviate ${version} works, but below ${WEAVIATE_TESTED_FROM_VERSION} the client counts over GraphQL instead of gRPC, a path not tested here` };
  }
  return { ok: true, minimum, message: null };
}
