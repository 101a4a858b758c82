/**
 * What a failed connection attempt means, from what the driver threw: pg's SQLSTATEs and
 * messages, node-redis's error replies and classes, fetch/undici's causes, Node's socket and TLS
 * codes, and the few errors the checks raise themselves (a timeout, an HTTP or gRPC status, an
 * answer that is not the service's). Pure: no I/O, nothing but the error is read, so every rule
 * is unit-tested with hand-made errors beside the real ones the check tests provoke.
 *
 * The message is one line in plain words naming the service (and the target, when given) and
 * carrying the driver's code in parentheses, never a password: drivers do not put one in their
 * messages, and checkConnections scrubs the report besides.
 */
import { ChimeraError } from '../../domain/errors.ts';
import type { ConnectionReason, ConnectionService } from './report.ts';
import { MIN_VERSIONS } from './versions.ts';

export interface Classified {
  readonly reason: ConnectionReason;
  readonly message: string;
}

export const SERVICE_NAMES: Readonly<Record<ConnectionService, string>> = { postgres: 'Postgres', redis: 'Redis', weaviate: 'Weaviate' };

/** The check ran out of time: `phase` 'connect' before the socket was accepted, 'answer' after. */
export class CheckTimeoutError extends Error {
  readonly code = 'CHECK_TIMEOUT';
  constructor(
    readonly timeout_ms: number,
    readonly phase: 'connect' | 'answer' | 'unknown',
  ) {
    super(`no answer within ${timeout_ms} ms`);
    this.name = 'CheckTimeoutError';
  }
}

/** An HTTP answer that is not a success (Weaviate's REST API). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`HTTP ${status} on ${path}${detail ? `: ${detail}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

/** A gRPC status other than OK (Weaviate's gRPC port). */
export class GrpcStatusError extends Error {
  constructor(
    readonly grpc_status: number,
    readonly detail: string,
  ) {
    super(`gRPC status ${GRPC_STATUS_NAMES[grpc_status] ?? grpc_status}${detail ? `: ${detail}` : ''}`);
    this.name = 'GrpcStatusError';
  }
}

/** Something answered, but not as the service would. */
export class WrongProtocolError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'WrongProtocolError';
  }
}

/** The server is older than the adapters need (the message says which and why). */
export class VersionTooOldError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'VersionTooOldError';
  }
}

/** A failure on Weaviate's gRPC port, after its REST API answered. */
export class GrpcEndpointError extends Error {
  constructor(
    readonly endpoint: string,
    readonly failure: unknown,
  ) {
    super(`gRPC at ${endpoint}: ${messageOf(failure)}`);
    this.name = 'GrpcEndpointError';
  }
}

/** TLS asked for where the server speaks plain text, or the other way round (found by a probe). */
export class TlsMismatchError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'TlsMismatchError';
  }
}

const GRPC_STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'CANCELLED', 2: 'UNKNOWN', 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED', 12: 'UNIMPLEMENTED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 16: 'UNAUTHENTICATED',
};

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
/** OpenSSL's verification failures, as Node names them in `code`. */
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED',
]);

type Err = { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; hostname?: unknown; address?: unknown; port?: unknown; errno?: unknown };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const messageOf = (e: unknown): string => str((e as Err | null)?.message) ?? String(e);
const codeOf = (e: unknown): string | null => str((e as Err | null)?.code);
/** One line, at most `max` characters. */
export const oneLine = (s: string, max = 300): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
};

/** The error and its causes (fetch wraps the socket's error in `cause`), outermost first, at most 5. */
function chain(e: unknown): Err[] {
  const out: Err[] = [];
  for (let c: unknown = e; c && typeof c === 'object' && out.length < 5; c = (c as Err).cause) out.push(c as Err);
  return out;
}

/** What one Node socket / TLS / DNS error means; null when it is not one. */
function socketError(e: Err): { reason: ConnectionReason; what: string } | null {
  const code = str(e.code);
  const msg = messageOf(e);
  if (code && DNS_CODES.has(code)) {
    const host = str(e.hostname) ?? new RegExp(`${code}\\s+(\\S+)`).exec(msg)?.[1] ?? 'the host';
    if (code === 'EAI_AGAIN') return { reason: 'dns', what: `the name ${host} could not be resolved (EAI_AGAIN: no answer from DNS; try again, or check the name)` };
    return { reason: 'dns', what: `the name ${host} does not resolve (${code})` };
  }
  if (code === 'ECONNREFUSED') {
    const at = str(e.address) && e.port !== undefined ? ` on ${String(e.address)}:${String(e.port)}` : '';
    return { reason: 'refused', what: `nothing accepts connections${at} (ECONNREFUSED): is the server running, and is the port right?` };
  }
  if (code && UNREACHABLE_CODES.has(code)) return { reason: 'refused', what: `the host cannot be reached (${code}): no network route to it` };
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return { reason: 'timeout', what: `the connection timed out (${code}): a firewall, or a wrong host or port?` };
  if ((code && CERT_CODES.has(code)) || /certificate|self[- ]signed/i.test(msg)) {
    return { reason: 'tls', what: `the server's TLS certificate was not accepted (${code ?? 'certificate'}: ${oneLine(msg)})` };
  }
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(msg) || code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return { reason: 'tls', what: `TLS was asked for but the server does not speak it at this port (${code ?? 'TLS'}: ${oneLine(msg)})` };
  }
  if (code && (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) return { reason: 'tls', what: `the TLS handshake failed (${code}: ${oneLine(msg)})` };
  if (code && RESET_CODES.has(code)) return { reason: 'other', what: `the server closed the connection before answering (${code})` };
  // a cancelled stream's cause (next in the chain) says why
  if (code && code.startsWith('ERR_HTTP2_') && !e.cause) return { reason: 'protocol', what: `the port does not speak HTTP/2 as gRPC needs (${code})` };
  if (str(e.message) === 'bad port') return { reason: 'config', what: `the port is one that fetch refuses to connect to (a "bad port" of the Fetch standard); use another` };
  return null;
}

function postgresError(e: Err): { reason: ConnectionReason; what: string } | null {
  const code = str(e.code);
  const msg = oneLine(messageOf(e));
  if (/server does not support SSL/i.test(msg)) {
    return { reason: 'tls', what: `the URL asks for TLS (sslmode) but the server has SSL turned off (${msg}): drop sslmode from the URL or turn ssl on in the server` };
  }
  if (code === '28P01') return { reason: 'auth', what: `the password was not accepted: ${msg} (28P01)` };
  if (code === '28000') return { reason: 'auth', what: `the server refused the login: ${msg} (28000)` };
  if (/client password must be a string|password authentication/i.test(msg)) return { reason: 'auth', what: `the server asks for a password and the URL gives none (${msg})` };
  if (code === '3D000') return { reason: 'config', what: `${msg}: check the database name in the URL (3D000)` };
  if (code === '53300') return { reason: 'other', what: `the server has no free connection slot (${msg}, 53300)` };
  if (code === '57P03') return { reason: 'other', what: `the server is starting up or shutting down (${msg}, 57P03)` };
  if (code === '08P01') return { reason: 'protocol', what: `the server did not follow the Postgres protocol (${msg}, 08P01)` };
  if (/^timeout expired$|connection timeout/i.test(msg)) return { reason: 'timeout', what: `no answer within the connection timeout (${msg})` };
  if (/Connection terminated unexpectedly/i.test(msg)) return { reason: 'other', what: `the server closed the connection before the login completed (${msg}): is this a Postgres port?` };
  if (code === 'ENOENT' || code === 'EACCES') return { reason: 'config', what: `a file the URL names (sslrootcert, sslcert or sslkey) cannot be read (${msg})` };
  // a SQLSTATE: five characters, at least one a digit (so not EPIPE)
  if (code && /^(?=.*\d)[0-9A-Z]{5}$/.test(code)) return { reason: 'other', what: `${msg} (${code})` };
  return null;
}

function redisError(e: Err): { reason: ConnectionReason; what: string } | null {
  const msg = oneLine(messageOf(e));
  const cls = str(e.name) === 'Error' ? ((e as object).constructor?.name ?? '') : (str(e.name) ?? '');
  const prefix = /^-?([A-Z]+)\b/.exec(msg)?.[1] ?? '';
  if (/called without any password configured/i.test(msg)) return { reason: 'auth', what: `the URL gives a password but the server's default user needs none: remove it from the URL (${msg})` };
  if (prefix === 'WRONGPASS') return { reason: 'auth', what: `the user name or password was not accepted (${msg})` };
  if (prefix === 'NOAUTH') return { reason: 'auth', what: `the server needs a password and the URL gives none (${msg})` };
  if (prefix === 'NOPERM') return { reason: 'auth', what: `the user may not do what the check asks (${msg})` };
  if (prefix === 'DENIED') return { reason: 'auth', what: `the server refuses clients without a password from this address (protected mode: ${msg})` };
  if (/unknown command .?(HELLO|ACL|SCAN)/i.test(msg) || /wrong number of arguments for .auth/i.test(msg)) {
    return { reason: 'version', what: `the server does not know what Redis ${MIN_VERSIONS.redis} does (${msg}): it is older than ${MIN_VERSIONS.redis}` };
  }
  if (prefix === 'LOADING') return { reason: 'other', what: `the server is still loading its data set into memory (${msg})` };
  if (/protocol error/i.test(msg)) return { reason: 'protocol', what: `the answer was not Redis's protocol (${msg}): is this a Redis port?` };
  if (cls === 'SocketClosedUnexpectedlyError' || /Socket closed unexpectedly/i.test(msg)) {
    return { reason: 'other', what: `the server closed the connection before answering (is this a Redis port, and does it want TLS, rediss://?)` };
  }
  if (cls === 'ConnectionTimeoutError' || cls === 'SocketTimeoutError' || /^Connection timeout$/i.test(msg)) return { reason: 'timeout', what: `the connection timed out (${msg})` };
  if (prefix === 'ERR' || prefix === 'MASTERDOWN' || prefix === 'READONLY') return { reason: 'other', what: msg };
  return null;
}

function ownError(e: Err, service: ConnectionService): { reason: ConnectionReason; what: string } | null {
  if (e instanceof CheckTimeoutError) {
    const hint =
      e.phase === 'connect'
        ? ': the connection was not accepted (a firewall that drops, or a wrong host or port?)'
        : e.phase === 'answer'
          ? `: the connection was accepted but nothing answered as ${SERVICE_NAMES[service]} would (is this the right port?)`
          : '';
    return { reason: 'timeout', what: `no answer within ${e.timeout_ms} ms${hint}` };
  }
  if (e instanceof HttpStatusError) {
    if (e.status === 401 || e.status === 403) return { reason: 'auth', what: `the API key is missing or not accepted (${e.message})` };
    if (e.status === 404) return { reason: 'protocol', what: `no Weaviate API at this URL (${e.message})` };
    return { reason: 'other', what: `the server answered ${e.message}` };
  }
  if (e instanceof GrpcStatusError) {
    const s = e.grpc_status;
    if (s === 16 || s === 7) return { reason: 'auth', what: `gRPC refused the API key (${e.message})` };
    if (s === 12) return { reason: 'protocol', what: `the gRPC port does not serve health checks (${e.message}): is it Weaviate's gRPC port?` };
    if (s === 4) return { reason: 'timeout', what: `gRPC did not answer in time (${e.message})` };
    return { reason: 'other', what: `gRPC answered ${e.message}` };
  }
  if (e instanceof WrongProtocolError) return { reason: 'protocol', what: e.message };
  if (e instanceof VersionTooOldError) return { reason: 'version', what: e.message };
  if (e instanceof GrpcEndpointError) {
    const inner = explain(service, e.failure);
    return { reason: inner.reason, what: `REST answers, but gRPC at ${e.endpoint} does not: ${inner.what} (the persona memory searches and writes over gRPC)` };
  }
  if (e instanceof TlsMismatchError) return { reason: 'tls', what: e.message };
  if (e instanceof ChimeraError && (e.code === 'CONFIG' || e.code === 'VALIDATION')) return { reason: 'config', what: e.message };
  if (str(e.name) === 'TimeoutError' || str(e.name) === 'AbortError') return { reason: 'timeout', what: `no answer in time (${oneLine(messageOf(e))})` };
  return null;
}

/** The reason, and what happened in words (without the service and target). */
function explain(service: ConnectionService, err: unknown): { reason: ConnectionReason; what: string } {
  const links = chain(err);
  const driver = service === 'postgres' ? postgresError : service === 'redis' ? redisError : () => null;
  for (const e of links) {
    const found = ownError(e, service) ?? driver(e) ?? socketError(e);
    if (found) return found;
  }
  const msg = oneLine(messageOf(err));
  const inner = links.length > 1 ? oneLine(messageOf(links[links.length - 1])) : '';
  const code = links[0] ? codeOf(links[0]) : null;
  return { reason: 'other', what: `${msg}${inner && inner !== msg ? ` (${inner})` : ''}${code && !msg.includes(code) ? ` (${code})` : ''}` };
}

/**
 * The reason and the one-line message for what `service`'s driver threw while connecting (or
 * what the check itself threw). `target` (host:port or a URL without credentials) goes into the
 * message; without it the message names the service only.
 */
export function classifyConnectionError(service: ConnectionService, err: unknown, target?: string): Classified {
  const { reason, what } = explain(service, err);
  return { reason, message: oneLine(`${SERVICE_NAMES[service]}${target ? ` at ${target}` : ''}: ${what}`, 600) };
}
