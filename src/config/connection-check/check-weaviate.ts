/**
 * The Weaviate check, on the wire the adapter uses (weaviate-client opens with `GET /v1/meta`
 * and a gRPC health check, then reads the class): REST `GET /v1/meta` with the API key (version,
 * and whether the key is accepted), `GET /v1/.well-known/live` for the round trip,
 * `GET /v1/schema/PersonaMemory` (does the seed's class exist, with our properties), and a gRPC
 * `grpc.health.v1.Health/Check` on the gRPC port over HTTP/2. The adapter searches and writes
 * over gRPC only, so a gRPC port that does not answer fails the check.
 *
 * Plain node:http(s) and node:http2 rather than weaviate-client: each step's failure is then
 * the socket's own (refused, a name that does not resolve, TLS), where the client would retry,
 * warn on the console and wrap it, and the timeout can say whether the connection was accepted.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { ConfigError } from '../../domain/errors.ts';
import { ADDED_PROPERTIES, PERSONA_MEMORY_CLASS } from '../../adapters/weaviate/weaviate-schema.ts';
import { GrpcEndpointError, GrpcStatusError, HttpStatusError, VersionTooOldError, WrongProtocolError, oneLine } from './classify.ts';
import { timed, type CheckContext, type Findings } from './context.ts';
import { decideVersion } from './versions.ts';

export interface WeaviateTarget {
  readonly url: string;
  readonly grpcPort?: number;
  readonly apiKey?: string;
}

/** The REST base URL without credentials (what the report names), or null when it does not parse. */
export function weaviateTarget(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}`;
  } catch {
    return null;
  }
}

interface Endpoint {
  readonly base: URL;
  readonly secure: boolean;
  readonly grpcHost: string;
  readonly grpcPort: number;
}

/** The adapter's defaults: gRPC on the URL's host, port 50051 (443 for https without a port). */
function parseEndpoint(t: WeaviateTarget): Endpoint {
  let u: URL;
  try {
    u = new URL(t.url);
  } catch {
    throw new ConfigError('the URL is not valid: expected http(s)://host[:port]');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`the URL's scheme ${u.protocol}// is not Weaviate's: expected http:// or https://`);
  const secure = u.protocol === 'https:';
  const grpcPort = t.grpcPort ?? (secure && !u.port ? 443 : 50051);
  if (!Number.isInteger(grpcPort) || grpcPort < 1 || grpcPort > 65535) throw new ConfigError(`weaviate_grpc_port must be an integer from 1 to 65535, got ${JSON.stringify(grpcPort)}`);
  const base = new URL(`${u.protocol}//${u.host}${u.pathname.replace(/\/$/, '')}`);
  return { base, secure, grpcHost: u.hostname, grpcPort };
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** GET `path` under the base URL on `agent`, the body read whole (at most 1 MiB). */
function get(ep: Endpoint, agent: http.Agent, path: string, headers: Record<string, string>, ctx: CheckContext): Promise<HttpAnswer> {
  const lib = ep.secure ? https : http;
  const url = new URL(`${ep.base.pathname}${path}`.replace(/^\/\//, '/'), ep.base);
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { agent, headers, signal: ctx.signal }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size <= 1 << 20) parts.push(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('socket', (s) => {
      if (!s.connecting) ctx.phase = 'answer';
      else s.once(ep.secure ? 'secureConnect' : 'connect', () => (ctx.phase = 'answer'));
    });
    req.on('error', (e) => reject(ctx.signal.aborted && ctx.signal.reason instanceof Error ? ctx.signal.reason : e));
  });
}

/** Weaviate's error text in a body (`{"message"}` or `{"error":[{"message"}]}`), short. */
function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown; error?: { message?: unknown }[] };
    const m = typeof j.message === 'string' ? j.message : typeof j.error?.[0]?.message === 'string' ? j.error[0].message : '';
    return oneLine(String(m), 160);
  } catch {
    return oneLine(body, 160);
  }
}

/** One gRPC Health/Check over HTTP/2; resolves with the serving status (1 = SERVING). */
export function grpcHealth(authority: string, secure: boolean, apiKey: string | undefined, ctx: CheckContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`${secure ? 'https' : 'http'}://${authority}`);
    let grpcStatus: string | null = null;
    let grpcMessage = '';
    let httpStatus = 0;
    const body: Buffer[] = [];
    const finish = (err: unknown, status?: number): void => {
      ctx.signal.removeEventListener('abort', abort);
      session.destroy();
      if (err) reject(err);
      else resolve(status as number);
    };
    const abort = (): void => finish(ctx.signal.reason);
    ctx.signal.addEventListener('abort', abort, { once: true });
    session.once('connect', () => (ctx.phase = 'answer'));
    session.once('error', (e) => finish(e));
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    });
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(h['grpc-message']));
    };
    req.on('response', (h) => {
      httpStatus = Number(h[':status']);
      take(h);
    });
    req.on('trailers', take);
    req.on('data', (b: Buffer) => body.push(b));
    // a stream cancelled because the session failed carries the session's error (ECONNREFUSED…) as its cause
    req.on('error', (e: Error & { cause?: unknown }) => finish((e as { code?: unknown }).code === 'ERR_HTTP2_STREAM_CANCEL' && e.cause ? e.cause : e));
    req.on('end', () => {
      if (httpStatus !== 200) return finish(new WrongProtocolError(`the gRPC port answered HTTP ${httpStatus}, not gRPC`));
      if (grpcStatus === null) return finish(new WrongProtocolError('the gRPC port answered without a gRPC status'));
      if (grpcStatus !== '0') return finish(new GrpcStatusError(Number(grpcStatus), oneLine(grpcMessage, 160)));
      // a length-prefixed HealthCheckResponse: field 1 (status) is the varint after tag 0x08; absent = 0 (UNKNOWN)
      const msg = Buffer.concat(body);
      finish(null, msg.length >= 7 && msg[5] === 0x08 ? (msg[6] as number) : 0);
    });
    // an empty HealthCheckRequest (service "": the server as a whole), length-prefixed, not compressed
    req.end(Buffer.alloc(5));
  });
}

const SERVING_STATUS: Readonly<Record<number, string>> = { 0: 'UNKNOWN', 1: 'SERVING', 2: 'NOT_SERVING', 3: 'SERVICE_UNKNOWN' };

/** Connects, reads the version, the class and gRPC health into `found`; returns what the ok message says. */
export async function checkWeaviate(t: WeaviateTarget, ctx: CheckContext, found: Findings): Promise<string> {
  const ep = parseEndpoint(t);
  const headers: Record<string, string> = { accept: 'application/json', ...(t.apiKey ? { authorization: `Bearer ${t.apiKey}` } : {}) };
  const agent = new (ep.secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
  try {
    const meta = await get(ep, agent, '/v1/meta', headers, ctx);
    if (meta.status !== 200) throw new HttpStatusError(meta.status, 'GET /v1/meta', errorText(meta.body));
    let version: unknown;
    try {
      version = (JSON.parse(meta.body) as { version?: unknown }).version;
    } catch {
      throw new WrongProtocolError(`GET /v1/meta did not answer JSON: is this Weaviate's REST port?`);
    }
    if (typeof version !== 'string') throw new WrongProtocolError(`GET /v1/meta answered without a version: is this Weaviate's REST port?`);
    found.server_version = version;
    const decision = decideVersion('weaviate', version);
    if (!decision.ok) throw new VersionTooOldError(decision.message as string);
    if (decision.message) found.notes.push(decision.message);
    ctx.checkpoint();
    found.latency_ms = (await timed(() => get(ep, agent, '/v1/.well-known/live', headers, ctx))).ms;
    ctx.checkpoint();
    const cls = await get(ep, agent, `/v1/schema/${PERSONA_MEMORY_CLASS}`, headers, ctx);
    if (cls.status === 200) found.notes.push(classNote(cls.body));
    else if (cls.status === 404) found.notes.push(`class ${PERSONA_MEMORY_CLASS} does not exist: the first read-write open creates it (a read-only profile reads it as empty)`);
    else throw new HttpStatusError(cls.status, `GET /v1/schema/${PERSONA_MEMORY_CLASS}`, errorText(cls.body));
    ctx.checkpoint();
    const authority = `${ep.grpcHost.includes(':') && !ep.grpcHost.startsWith('[') ? `[${ep.grpcHost}]` : ep.grpcHost}:${ep.grpcPort}`;
    ctx.phase = 'connect';
    let serving: number;
    try {
      serving = await grpcHealth(authority, ep.secure, t.apiKey, ctx);
    } catch (e) {
      throw new GrpcEndpointError(authority, e);
    }
    if (serving !== 1) throw new GrpcEndpointError(authority, new Error(`the health check says ${SERVING_STATUS[serving] ?? serving}, not SERVING`));
    return `connected; Weaviate ${version}, gRPC at ${authority} serving`;
  } finally {
    agent.destroy();
  }
}

/** Whether the class has the seed's shape and our two properties. */
function classNote(body: string): string {
  let names: Set<string>;
  try {
    const def = JSON.parse(body) as { properties?: { name?: unknown }[] };
    names = new Set((def.properties ?? []).map((p) => String(p.name)));
  } catch {
    return `class ${PERSONA_MEMORY_CLASS} exists (its definition could not be read)`;
  }
  const missing = ADDED_PROPERTIES.map((p) => p.name).filter((n) => !names.has(n));
  return missing.length
    ? `class ${PERSONA_MEMORY_CLASS} exists without ${missing.join(' and ')}: the first read-write open adds them`
    : `class ${PERSONA_MEMORY_CLASS} exists with Chimera's properties`;
}
