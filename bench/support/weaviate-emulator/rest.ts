/**
 * The REST half of the emulator: exactly the routes weaviate-client v3 sends for what the
 * persona-memory adapter does (meta, readiness, schema read/create/delete, add property).
 * Errors are Weaviate's: `{"error":[{"message":…}]}` for 422/500, `{"code":…,"message":…}` for
 * 401/404 of the API layer. Any other route is logged as unknown and answered 404, as Weaviate
 * answers a path it does not have.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatedError, type PropertyDef, type Store } from './store.ts';
import { wait, type CallLog } from './faults.ts';

export interface RestOptions {
  readonly store: Store;
  readonly log: CallLog;
  readonly version: string;
  readonly apiKey?: string;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** The route's name in the log and in fault rules. */
  readonly target: string;
  readonly auth: boolean;
  readonly handle: (m: RegExpExecArray, body: unknown) => { status: number; body?: unknown };
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

function routes(o: RestOptions): Route[] {
  const { store } = o;
  return [
    { method: 'GET', pattern: /^\/v1\/\.well-known\/(ready|live)$/, target: 'GET /v1/.well-known/{ready|live}', auth: false, handle: () => ({ status: 200 }) },
    {
      method: 'GET',
      pattern: /^\/v1\/meta$/,
      target: 'GET /v1/meta',
      auth: true,
      handle: () => ({ status: 200, body: { hostname: 'http://[::]:8080', modules: {}, version: o.version, grpcMaxMessageSize: 104858000 } }),
    },
    { method: 'GET', pattern: /^\/v1\/schema$/, target: 'GET /v1/schema', auth: true, handle: () => ({ status: 200, body: { classes: store.all().map((c) => c.def) } }) },
    {
      method: 'GET',
      pattern: /^\/v1\/schema\/([^/]+)$/,
      target: 'GET /v1/schema/{class}',
      auth: true,
      handle: (m) => {
        const c = store.find(decodeURIComponent(m[1] as string));
        return c ? { status: 200, body: c.def } : { status: 404 };
      },
    },
    { method: 'POST', pattern: /^\/v1\/schema$/, target: 'POST /v1/schema', auth: true, handle: (_m, body) => ({ status: 200, body: store.create(body as Record<string, unknown>) }) },
    {
      method: 'DELETE',
      pattern: /^\/v1\/schema\/([^/]+)$/,
      target: 'DELETE /v1/schema/{class}',
      auth: true,
      handle: (m) => {
        store.drop(decodeURIComponent(m[1] as string));
        return { status: 200 };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/schema\/([^/]+)\/properties$/,
      target: 'POST /v1/schema/{class}/properties',
      auth: true,
      handle: (m, body) => ({ status: 200, body: store.addProperty(decodeURIComponent(m[1] as string), body as PropertyDef) }),
    },
  ];
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0' }).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('body too large'));
      else parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the REST server on 127.0.0.1 (port 0 = any free one). */
export async function startRest(o: RestOptions, port = 0): Promise<{ server: Server; port: number }> {
  const table = routes(o);
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const route = table.find((r) => r.method === req.method && r.pattern.test(url.pathname));
      if (!route) {
        o.log.recordUnknown(`REST ${req.method} ${url.pathname}${url.search}`);
        send(res, 404, { code: 404, message: `path ${url.pathname} was not found` });
        return;
      }
      o.log.record(route.target, `${req.method} ${url.pathname}${url.search}`);
      const raw = await readBody(req);
      const fault = o.log.take(route.target);
      if (fault?.mode === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.mode === 'status') {
        send(res, fault.status ?? 503, { error: [{ message: `emulated fault: ${fault.status ?? 503} on ${route.target}` }] });
        return;
      }
      if (fault?.mode === 'slow') {
        const gone = new AbortController();
        res.on('close', () => gone.abort());
        try {
          await wait(fault.delay_ms ?? 1000, gone.signal);
        } catch {
          return;
        }
      }
      if (route.auth && o.apiKey !== undefined) {
        const auth = req.headers.authorization;
        if (!auth) return send(res, 401, { code: 401, message: 'anonymous access not enabled, please provide an auth scheme such as OIDC' });
        if (auth !== `Bearer ${o.apiKey}`) return send(res, 401, { code: 401, message: 'unauthorized: invalid api key' });
      }
      let body: unknown = undefined;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch (e) {
          return send(res, 400, { code: 400, message: `parsing body body from "" failed, because ${(e as Error).message}` });
        }
      }
      try {
        const r = route.handle(route.pattern.exec(url.pathname) as RegExpExecArray, body);
        send(res, r.status, r.body);
      } catch (e) {
        if (e instanceof EmulatedError) send(res, e.httpStatus, { error: [{ message: e.message }] });
        else send(res, 500, { error: [{ message: String((e as Error).message) }] });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
