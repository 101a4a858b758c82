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
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StudioService } from '../src/app/studio-service.ts';
import { toWireError, type WireErrorCode } from '../src/shared/errors.ts';

export const TOKEN_COOKIE = 'chimera_token';
export const TOKEN_HEADER = 'x-chimera-token';
const MAX_BODY_BYTES = 1 << 20;

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
    return m ? decodeURIComponent(m[1] as string) : null;
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostOk(req) || !originOk(req)) return send(res, 403, { ok: false, error: { code: 'VALIDATION', message: 'request refused: wrong Host or Origin for this local server' } });
    if (!authorised(req, url)) {
      return send(res, 401, { ok: false, error: { code: 'VALIDATION', message: 'missing or wrong token: open the URL the server printed (it carries ?token=…)' } });
    }
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, { ok: false, error: { code: 'VALIDATION', message: 'use POST with a JSON object body' } }, { allow: 'POST' });
      const channel = decodeURIComponent(url.pathname.slice('/api/'.length));
      let args: unknown;
      try {
        const body = await readBody(req);
        args = body.length ? JSON.parse(body) : {};
      } catch (e) {
        return send(res, 400, { ok: false, error: { code: 'VALIDATION', message: `body: ${(e as Error).message}` } });
      }
      try {
        const result = await opts.service.invoke(channel, args);
        return send(res, 200, { ok: true, result });
      } catch (e) {
        const error = toWireError(e);
        return send(res, HTTP_STATUS[error.code] ?? 500, { ok: false, error });
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { ok: false, error: { code: 'VALIDATION', message: 'method not allowed' } });
    return serveStatic(url, req, res);
  }

  function serveStatic(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    let file = normalize(join(staticDir, rel));
    if (!file.startsWith(staticDir + sep)) return send(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'not found' } });
    // the UI is a single page: unknown paths without an extension get index.html
    if (!existsSync(file) && !extname(rel)) file = join(staticDir, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      if (rel === 'index.html') return send(res, 503, { ok: false, error: { code: 'BACKEND_UNAVAILABLE', message: `the renderer is not built (no ${file}); run npm start or npx vite build` } });
      return send(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: `${url.pathname} not found` } });
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
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/ws' || !hostOk(req) || !originOk(req) || !authorised(req, url)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        fail(new Error(`larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}
