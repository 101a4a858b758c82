/**
 * How one call to Weaviate is made: what failed is classified from what weaviate-client throws
 * (its error classes are not exported, so by name, HTTP status and the gRPC status in the
 * message), what is safe is retried a bounded number of times with a growing pause, and the
 * rest becomes one typed error that names the operation and the endpoint (never a secret).
 */
import { BackendUnavailableError, ChimeraError, ModelMismatchError, ValidationError } from '../../domain/errors.ts';

/** What went wrong, as far as retrying is concerned. */
export type FailureKind = 'transient' | 'timeout' | 'auth' | 'invalid' | 'not-found' | 'vector-length' | 'other';

export interface Failure {
  readonly kind: FailureKind;
  /** HTTP status, gRPC status name or network error code, when known. */
  readonly status: string | null;
  readonly detail: string;
}

const GRPC_STATUS = /\/weaviate\.v1\.Weaviate\/\w+ ([A-Z_]+):/;
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
/** Weaviate's words when a vector's length is not the index's ("new node has a vector with length 17. Existing nodes have vectors with length 16"). */
const VECTOR_LENGTH = /vector with length|vector lengths? (do not|don't) match|vector dimensions?/i;

function causeCode(e: unknown): string | null {
  for (let c: unknown = e, depth = 0; c && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  }
  return null;
}

/** Classifies what weaviate-client (or fetch, or grpc-js under it) threw. */
export function classify(e: unknown): Failure {
  const err = e as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof err?.name === 'string' ? err.name : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (name === 'WeaviateRequestTimeoutError' || name === 'AbortError') return { kind: 'timeout', status: null, detail: message };
  if (name === 'WeaviateUnauthenticatedError' || name === 'WeaviateInsufficientPermissionsError') return { kind: 'auth', status: null, detail: message };
  if (VECTOR_LENGTH.test(message)) return { kind: 'vector-length', status: null, detail: message };
  if (name === 'WeaviateUnexpectedStatusCodeError' && typeof err.code === 'number') {
    const s = err.code;
    const kind: FailureKind = s === 502 || s === 503 || s === 504 || s === 429 ? 'transient' : s === 404 ? 'not-found' : s === 401 || s === 403 ? 'auth' : s === 422 || s === 400 ? 'invalid' : 'other';
    return { kind, status: `HTTP ${s}`, detail: message };
  }
  const grpc = GRPC_STATUS.exec(message)?.[1];
  if (grpc) {
    const kind: FailureKind =
      grpc === 'UNAVAILABLE' || grpc === 'RESOURCE_EXHAUSTED' || grpc === 'ABORTED'
        ? 'transient'
        : grpc === 'DEADLINE_EXCEEDED' || grpc === 'CANCELLED'
          ? 'timeout'
          : grpc === 'UNAUTHENTICATED' || grpc === 'PERMISSION_DENIED'
            ? 'auth'
            : grpc === 'INVALID_ARGUMENT'
              ? 'invalid'
              : grpc === 'NOT_FOUND'
                ? 'not-found'
                : 'other';
    return { kind, status: grpc, detail: message };
  }
  const net = causeCode(e);
  if (net || /fetch failed|socket hang up|other side closed|connection (was )?(reset|dropped|closed)|Connection dropped/i.test(message)) {
    return { kind: 'transient', status: net, detail: net && !message.includes(net) ? `${message} (${net})` : message };
  }
  if (name === 'WeaviateGRPCUnavailableError' || name === 'WeaviateStartUpError') return { kind: 'transient', status: null, detail: message };
  return { kind: 'other', status: null, detail: message };
}

/**
 * The driver code a failure's error carries in `details.code`, for the backend registry's
 * classifier: WEAVIATE_TRANSIENT and WEAVIATE_TIMEOUT may succeed later, WEAVIATE_AUTH needs
 * credentials, the rest are fatal.
 */
export function weaviateErrorCode(kind: FailureKind): string {
  return `WEAVIATE_${kind.toUpperCase().replace('-', '_')}`;
}

/** Removes user:password from a URL before it is shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export interface RetryPolicy {
  /** Attempts for a call that is safe to repeat (1 = no retry). */
  readonly attempts: number;
  /** Pause before the second attempt; doubled each time after. */
  readonly base_delay_ms: number;
  /** The longest pause between attempts. */
  readonly max_delay_ms: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ attempts: 3, base_delay_ms: 100, max_delay_ms: 2_000 });

/** One call: what it does (for the message), where it goes, and whether repeating it is harmless. */
export interface CallSite {
  /** e.g. "search" */
  readonly op: string;
  /** e.g. "grpc://localhost:50051 weaviate.v1.Weaviate/Search" or "http://localhost:8080/v1/schema" */
  readonly endpoint: string;
  /** Reads, and writes that replace by id: a repeat changes nothing. */
  readonly safe: boolean;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Turns a failure into the error the port reports. */
export function failureError(site: CallSite, f: Failure, attempts: number, timeoutMs: number): ChimeraError {
  const where = `Weaviate ${site.op} at ${site.endpoint}`;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  // `code` is what the composition root's error classifier reads (src/config/backends/classify.ts)
  const details = { code: weaviateErrorCode(f.kind), endpoint: site.endpoint, op: site.op, status: f.status, attempts };
  switch (f.kind) {
    case 'timeout':
      return new BackendUnavailableError(`${where} timed out after ${timeoutMs} ms${tries}`, details);
    case 'auth':
      return new BackendUnavailableError(`${where} was refused: the API key is missing or not accepted (${f.detail})`, details);
    case 'vector-length':
      return new ModelMismatchError(`${where}: ${f.detail}`, details);
    case 'invalid':
      return new ValidationError(`${where} refused the request: ${f.detail}`, details);
    case 'transient':
      return new BackendUnavailableError(
        `${where} failed${tries}${site.safe ? '' : ' (not retried: repeating it is not safe)'}: ${f.detail}`,
        details,
      );
    default:
      return new BackendUnavailableError(`${where} failed: ${f.detail}`, details);
  }
}

/**
 * Runs `fn`, retrying a transient failure while the call is safe and attempts remain; anything
 * else is thrown at once as a typed error naming the call site. `onAttempt` sees each attempt.
 */
export async function call<T>(site: CallSite, policy: RetryPolicy, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const max = site.safe ? Math.max(1, policy.attempts) : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ChimeraError) throw e;
      const f = classify(e);
      if (f.kind !== 'transient' || attempt >= max) throw failureError(site, f, attempt, timeoutMs);
      await pause(Math.min(policy.max_delay_ms, policy.base_delay_ms * 2 ** (attempt - 1)));
    }
  }
}
