/**
 * Browser mode: the studio contract over HTTP and WebSocket, for a normal browser.
 *
 * - Bound to 127.0.0.1 only; a random per-launch token guards everything. The URL the server
 *   prints carries it (?token=…); opening it sets an HttpOnly SameSite=Strict cookie so the
 *   page's own requests carry it too. Requests without the token get 401.
 * - The Host header must name this server (defeats DNS rebinding) and a browser's Origin must
 *   be this server's, so another site cannot drive the API from a user's browser.
 * - POST /api/<namespace>/<verb> with one JSON object → {ok:true,result} | {ok:false,error:{code,message}}.
 * - GET /ws upgrades to a WebSocket that pushes PushMessage JSON (status while running, changes).
 * - Everything else serves the built renderer (dist-renderer/) with a strict CSP.
 * - Whatever a client sends wrong gets a status and a JSON error, never a reset or a 500: 413
 *   for a body over the limit (answered before the rest is read), 400 for a malformed URI or
 *   request, 415 for a body not declared JSON, 405 with Allow, 401/403 as above, 431 for huge
 *   headers; the socket closes on any message it is sent (1008, or 1009 over its limit).
 *   The table is in server/README.md.
 */
import { STATUS_CODES, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StudioService } from '../src/app/studio-service.ts';
import { toWireError, type WireErrorCode } from '../src/shared/errors.ts';

export const TOKEN_COOKIE = 'chimera_token';
export const TOKEN_HEADER = 'x-chimera-token';
/** The largest API request body; a bigger one is answered 413 and not kept in memory. */
export const MAX_BODY_BYTES = 1 << 20;
/** After an early answer (413, 415) the rest of a body is discarded up to this much, then the connection is cut. */
const MAX_DRAIN_BYTES = 64 << 20;
/** The socket only pushes; anything a client sends is refused, and nothing bigger than this is even buffered. */
export const MAX_WS_MESSAGE_BYTES = 4 << 10;
/** Open sockets at once (a page holds one; more are refused with 503 instead of piling up). */
export const MAX_WS_CLIENTS = 64;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const HTTP_STATUS: Partial<Record<WireErrorCode, number>> = {
  VALIDATION: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  DUPLICATE: 409,
  ILLEGAL_TRANSITION: 409,
  BACKEND_UNAVAILABLE: 503,
};

export interface StudioServerOptions {
  readonly service: StudioService;
  /** 0 picks a free port. */
  readonly port?: number;
  /** The built renderer (index.html and assets/). */
  readonly staticDir: string;
  /** Fixed token (tests); by default a random one per launch. */
  readonly token?: string;
}

export interface StudioServer {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function startStudioServer(opts: StudioServerOptions): Promise<StudioServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const staticDir = resolve(opts.staticDir);
  let port = 0;

  const tokenOk = (given: string | null | undefined): boolean => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const cookieToken = (req: IncomingMessage): string | null => {
    const m = /(?:^|;\s*)chimera_token=([^;]+)/.exec(req.headers.cookie ?? '');
    if (!m) return null;
    try {
      return decodeURIComponent(m[1] as string);
    } catch {
      return null; // a malformed cookie is no token
    }
  };
  const hostOk = (req: IncomingMessage) => req.headers.host === `127.0.0.1:${port}` || req.headers.host === `localhost:${port}`;
  const originOk = (req: IncomingMessage) => {
    const o = req.headers.origin;
    return !o || o === `http://127.0.0.1:${port}` || o === `http://localhost:${port}`;
  };
  const authorised = (req: IncomingMessage, url: URL) =>
    tokenOk(req.headers[TOKEN_HEADER] as string | undefined) || tokenOk(url.searchParams.get('token')) || tokenOk(cookieToken(req));

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
    res.end(text);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: toWireError(e) });
      else res.end();
    });
  });

  const refuse = (res: ServerResponse, status: number, code: WireErrorCode, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { ok: false, error: { code, message } }, headers);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseTarget(req.url);
    if (!parsed.ok) return refuse(res, 400, 'VALIDATION', parsed.message);
    const { url, path } = parsed;
    if (!hostOk(req) || !originOk(req)) return refuse(res, 403, 'VALIDATION', 'request refused: wrong Host or Origin for this local server');
    if (!authorised(req, url)) return refuse(res, 401, 'VALIDATION', 'missing or wrong token: open the URL the server printed (it carries ?token=…)');
    if (path.startsWith('/api/')) {
      if (req.method !== 'POST') return refuse(res, 405, 'VALIDATION', `${req.method} is not allowed here: use POST with a JSON object body`, { allow: 'POST' });
      const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
      const hasBody = (declared !== null && declared > 0) || req.headers['transfer-encoding'] !== undefined;
      if (hasBody && !isJson(req.headers['content-type'])) {
        return answerEarly(req, res, () => refuse(res, 415, 'VALIDATION', `the body must be JSON: send content-type: application/json (got ${req.headers['content-type'] ?? 'none'})`));
      }
      if (declared !== null && declared > MAX_BODY_BYTES) return answerEarly(req, res, () => refuse(res, 413, 'VALIDATION', tooLarge(declared, true)));
      const body = await readBody(req, MAX_BODY_BYTES);
      if (!body.ok) return answerEarly(req, res, () => refuse(res, 413, 'VALIDATION', tooLarge(body.bytes, false)));
      let args: unknown;
      try {
        args = body.text.length ? JSON.parse(body.text) : {};
      } catch (e) {
        return refuse(res, 400, 'VALIDATION', `body is not valid JSON: ${(e as Error).message}`);
      }
      const channel = path.slice('/api/'.length);
      try {
        const result = await opts.service.invoke(channel, args);
        return send(res, 200, { ok: true, result });
      } catch (e) {
        const error = toWireError(e);
        return send(res, HTTP_STATUS[error.code] ?? 500, { ok: false, error });
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'VALIDATION', `${req.method} is not allowed here: the UI is served with GET`, { allow: 'GET, HEAD' });
    return serveStatic(url, path, req, res);
  }

  function serveStatic(url: URL, path: string, req: IncomingMessage, res: ServerResponse): void {
    const rel = path === '/' ? 'index.html' : path.slice(1);
    let file = normalize(join(staticDir, rel));
    if (!file.startsWith(staticDir + sep)) return send(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'not found' } });
    // the UI is a single page: unknown paths without an extension get index.html
    if (!existsSync(file) && !extname(rel)) file = join(staticDir, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (rel === 'index.html') return send(res, 503, { ok: false, error: { code: 'BACKEND_UNAVAILABLE', message: `the renderer is not built (no ${file}); run npm start or npx vite build` } });
      return send(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `${path} not found` } });
    }
    const headers: Record<string, string> = {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=31536000, immutable',
    };
    if (file.endsWith('.html')) {
      headers['content-security-policy'] = contentSecurityPolicy(port);
      headers['x-frame-options'] = 'DENY';
      const given = url.searchParams.get('token');
      if (tokenOk(given)) headers['set-cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    res.end(readFileSync(file));
  }

  // ---------------------------------------------------------------- pushed updates
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const parsed = parseTarget(req.url);
    // the same checks in the same order as for HTTP requests
    const why: [number, string] | null = !parsed.ok
      ? [400, parsed.message]
      : !hostOk(req) || !originOk(req)
        ? [403, 'request refused: wrong Host or Origin for this local server']
        : !authorised(req, parsed.url)
          ? [401, 'missing or wrong token: open the URL the server printed (it carries ?token=…)']
          : parsed.path !== '/ws'
            ? [404, `${parsed.path} is not a socket: the socket is /ws`]
            : clients.size >= MAX_WS_CLIENTS
              ? [503, `${MAX_WS_CLIENTS} sockets are open already; close a tab or reload`]
              : null;
    if (why) {
      const code: WireErrorCode = why[0] === 404 ? 'NOT_FOUND' : why[0] === 503 ? 'BACKEND_UNAVAILABLE' : 'VALIDATION';
      const body = JSON.stringify({ ok: false, error: { code, message: why[1] } });
      socket.end(
        `HTTP/1.1 ${why[0]} ${STATUS_CODES[why[0]]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
      // push only: a client that sends anything is told so and closed (1008 policy violation);
      // a message over MAX_WS_MESSAGE_BYTES is closed by ws itself with 1009 before it is buffered
      ws.on('message', () => ws.close(1008, 'this socket only pushes updates; call POST /api/<channel>'));
      try {
        ws.send(JSON.stringify({ type: 'status', status: opts.service.status() }));
      } catch {
        // no session yet: the client asks for status itself
      }
    });
  });
  const unsubscribe = opts.service.subscribe((msg) => {
    const text = JSON.stringify(msg);
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  // requests Node's parser refuses (bad syntax, both Content-Length and Transfer-Encoding,
  // headers over its limit) get a JSON answer too, then the connection is closed
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ ok: false, error: { code: 'VALIDATION', message: `malformed HTTP request (${err.code ?? 'parse error'})` } });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  return {
    url,
    port,
    token,
    async close() {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

type Target = { ok: true; url: URL; path: string } | { ok: false; message: string };

/**
 * The request target as a URL and its decoded path. Only origin-form targets ("/path?query")
 * are served; a malformed %-escape or a NUL in the path is a 400, not a 500.
 */
function parseTarget(target: string | undefined): Target {
  if (!target || !target.startsWith('/') || target.startsWith('//')) return { ok: false, message: 'the request target must be a path starting with a single "/"' };
  let url: URL;
  try {
    url = new URL(target, 'http://127.0.0.1');
  } catch {
    return { ok: false, message: 'the request target is not a valid URL path' };
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { ok: false, message: 'malformed URI: the path has an invalid %-escape' };
  }
  if (path.includes('\0')) return { ok: false, message: 'malformed URI: the path contains a NUL character' };
  return { ok: true, url, path };
}

function isJson(contentType: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(contentType ?? '');
}

function tooLarge(bytes: number, declared: boolean): string {
  return `request body too large: ${declared ? `${bytes} bytes declared` : `more than ${MAX_BODY_BYTES} bytes sent`}, the limit is ${MAX_BODY_BYTES} bytes`;
}

/**
 * Answers before the body was read. The rest of the body is read and thrown away as it arrives
 * (nothing is kept), so the client reads the answer instead of a reset; a client that goes on
 * past MAX_DRAIN_BYTES is cut off.
 */
function answerEarly(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
  answer();
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
  });
  req.resume();
}

/** The body as text, or `{ok:false}` as soon as it passes `max_bytes` (what came so far is dropped, the rest not read). */
function readBody(req: IncomingMessage, max_bytes: number): Promise<{ ok: true; text: string } | { ok: false; bytes: number }> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max_bytes) {
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        ok({ ok: false, bytes: size });
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => ok({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', fail);
  });
}
