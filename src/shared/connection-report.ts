/**
 * What "Test connection" reports for a production profile: one entry per configured service
 * (Postgres, Redis, Weaviate) saying whether it can be used and, when not, which of a few
 * kinds of failure it was, in one line of plain words that names the service and its host.
 * The renderer shows it as it is; `reason` lets it offer the right hint (check the host name,
 * start the server, fix the password, turn TLS on or off, upgrade the server).
 *
 * The core fills it (src/config/connection-check.ts). No field ever holds a password or an
 * API key: `target` is host:port (or a URL without credentials). Imports nothing but zod, so
 * the renderer can use it.
 */
import { z } from 'zod';

export const CONNECTION_SERVICES = ['postgres', 'redis', 'weaviate'] as const;
export type ConnectionService = (typeof CONNECTION_SERVICES)[number];

/**
 * Why a service cannot be used:
 * - `config`: what the profile says is unusable (a malformed URL, a wrong scheme, a database
 *   that does not exist, a bad schema name or key prefix): nothing to retry, fix the profile;
 * - `dns`: the host name does not resolve;
 * - `refused`: nothing accepts connections at that address (or the host is unreachable);
 * - `timeout`: no answer within the time allowed (a firewall that drops, a server that is not
 *   what the URL says it is);
 * - `auth`: the server refused the credentials (or wants some, or wants none);
 * - `tls`: TLS asked for and not spoken, or spoken and not asked for, or a certificate refused;
 * - `version`: the server is older than what the adapters use;
 * - `protocol`: something answered, but not as this service would;
 * - `other`: anything else (the message says what).
 */
export const CONNECTION_REASONS = ['config', 'dns', 'refused', 'timeout', 'auth', 'tls', 'version', 'protocol', 'other'] as const;
export type ConnectionReason = (typeof CONNECTION_REASONS)[number];

export interface ServiceCheck {
  readonly service: ConnectionService;
  /** Where it went: host:port (Postgres, Redis) or the REST URL (Weaviate), never credentials. */
  readonly target: string;
  readonly ok: boolean;
  /** Null when ok. */
  readonly reason: ConnectionReason | null;
  /**
   * One line naming the service and host, e.g. "Postgres at db.example:5432: the name
   * db.example does not resolve (ENOTFOUND)".
   */
  readonly message: string;
  /** As the server reports it ("15.20", "7.0.15", "1.32.4"), when it was read. */
  readonly server_version: string | null;
  /** One round trip on the open connection (SELECT 1, PING, GET /v1/.well-known/live), when there was one. */
  readonly latency_ms: number | null;
  /**
   * What else is worth knowing, one sentence each: for Postgres whether the seed's tables and
   * Chimera's migrations are in the schema, for Redis whether it is a replica or the user may
   * not run scripts, for Weaviate whether the PersonaMemory class exists and gRPC answers.
   */
  readonly notes: readonly string[];
}

export interface ConnectionReport {
  /** Every configured service is usable (false when none was configured: nothing was checked). */
  readonly ok: boolean;
  /** One entry per configured service, in the order postgres, redis, weaviate. */
  readonly services: readonly ServiceCheck[];
}

export const ServiceCheckSchema = z.strictObject({
  service: z.enum(CONNECTION_SERVICES),
  target: z.string(),
  ok: z.boolean(),
  reason: z.enum(CONNECTION_REASONS).nullable(),
  message: z.string(),
  server_version: z.string().nullable(),
  latency_ms: z.number().nonnegative().nullable(),
  notes: z.array(z.string()),
});

export const ConnectionReportSchema = z.strictObject({
  ok: z.boolean(),
  services: z.array(ServiceCheckSchema),
});
