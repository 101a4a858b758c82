/**
 * Browser mode's server, over real HTTP and WebSocket (no browser needed): the token guards
 * every route and the socket, Host and Origin must be this server's, every channel refuses a
 * bad argument with 400 + {code:'VALIDATION'}, and changes are pushed over the socket.
 *
 * What a hostile or broken client can send, each with the answer it gets: a body over the
 * limit (413, answered before the rest is read), a malformed URI (400), a body that is not
 * JSON or not declared JSON (400, 415), a wrong method (405), a missing, wrong or malformed
 * token (401), Host/Origin/request-target tricks (403, 400), requests Node's parser refuses
 * (400, 431, as JSON) and socket messages (1008, 1009).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CHANNEL_NAMES } from '../../src/shared/contract.ts';
import type { PushMessage } from '../../src/shared/types.ts';
import { MAX_BODY_BYTES, MAX_WS_MESSAGE_BYTES } from '../../server/server.ts';
import { ensureRenderer, startStudio, type RunningStudio } from './browser.ts';

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/** Sends `text` as it is over TCP and reads the answer until the server closes. */
function raw(port: number, text: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (got += d));
    sock.on('error', reject);
    sock.on('close', () => {
      const cut = got.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), head: got.slice(0, cut), body: got.slice(cut + 4) });
    });
    sock.write(text);
  });
}

/** The WebSocket's close code after it sends `data` (it must be closed by the server). */
function closeCodeAfterSending(url: string, data: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.send(data));
    ws.on('close', (code) => resolve(code));
    ws.on('error', (e) => {
      // ws reports the server's 1009 close as an error on the sending side too; the close event follows
      if (!/1009|payload/i.test(e.message)) reject(e);
    });
  });
}

/** The status and JSON error body of a refused WebSocket upgrade. */
function upgradeRefusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

describe('browser-mode server', () => {
  let dir: string;
  let studio: RunningStudio;
  let base: string;
  beforeAll(async () => {
    await ensureRenderer();
    dir = mkdtempSync(join(tmpdir(), 'chimera-server-'));
    studio = await startStudio(dir);
    base = `http://127.0.0.1:${studio.server.port}`;
  });
  afterAll(async () => {
    await studio.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (channel: string, body: string, headers: Record<string, string> = { 'x-chimera-token': studio.server.token }) =>
    fetch(`${base}/api/${channel}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('listens on 127.0.0.1 only and prints a URL carrying the token', () => {
    expect(studio.server.url).toBe(`http://127.0.0.1:${studio.server.port}/?token=${studio.server.token}`);
    expect(studio.server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the page only with the token, sets an HttpOnly SameSite cookie and a strict CSP', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/assets/whatever.js`)).status).toBe(401);
    const page = await fetch(studio.server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toMatch(/chimera_token=.*HttpOnly; SameSite=Strict/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe/);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/`, { headers: { cookie } })).status).toBe(200);
  });

  it('refuses another Host (DNS rebinding) and a foreign Origin', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: studio.server.port, path: `/?token=${studio.server.token}`, headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    expect((await post('sim/status', '{}', { 'x-chimera-token': studio.server.token, origin: 'http://evil.example' })).status).toBe(403);
  });

  it.each(CHANNEL_NAMES)('%s refuses a bad argument over HTTP with 400 VALIDATION', async (channel) => {
    const res = await post(channel, JSON.stringify({ not_a_field: true }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('not_a_field') } });
  });

  it('refuses bodies that are not JSON, unknown channels and non-POST calls', async () => {
    expect((await post('sim/status', '{nope')).status).toBe(400);
    expect((await post('sim/explode', '{}')).status).toBe(404);
    expect((await fetch(`${base}/api/sim/status`, { headers: { 'x-chimera-token': studio.server.token } })).status).toBe(405);
  });

  it('answers {ok:true,result} and maps errors to HTTP status codes', async () => {
    const ok = await post('sim/status', '{}');
    expect(await ok.json()).toMatchObject({ ok: true, result: { scenario: 'review-queue' } });
    const missing = await post('campaigns/dag', JSON.stringify({ campaign_id: 'nope' }));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('pushes over a WebSocket that needs the token', async () => {
    const refused = new WebSocket(`ws://127.0.0.1:${studio.server.port}/ws`);
    const code = await new Promise<string>((resolve) => {
      refused.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      refused.on('error', (e) => resolve(e.message));
    });
    expect(code).toContain('401');

    const ws = new WebSocket(`ws://127.0.0.1:${studio.server.port}/ws?token=${studio.server.token}`);
    const got: PushMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d) => {
        got.push(JSON.parse(String(d)) as PushMessage);
        if (got.some((m) => m.type === 'changed')) resolve();
      });
      ws.on('open', () => void post('sim/step', '{}'));
      ws.on('error', reject);
    });
    expect(got[0]).toMatchObject({ type: 'status' });
    expect(got.some((m) => m.type === 'changed' && m.what === 'data')).toBe(true);
    ws.close();
  });
  // ------------------------------------------------------------------ hostile and broken clients
  const auth = () => ({ 'x-chimera-token': studio.server.token });
  const errorOf = async (res: Response) => ((await res.json()) as { ok: false; error: { code: string; message: string } }).error;

  it('answers a body declared over the limit with 413 and a JSON error, and goes on serving', async () => {
    const res = await post('sim/status', JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES + 10) }));
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/too large.*limit is 1048576 bytes/) });
    expect((await post('sim/status', '{}')).status).toBe(200);
  });

  it('answers a streamed body with 413 as soon as it passes the limit, before the client has finished sending', async () => {
    // no content-length (chunked); the request is left open: the answer must come without it
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: studio.server.port, method: 'POST', path: '/api/sim/status', headers: { ...auth(), 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write('{"pad":"');
      const chunk = 'x'.repeat(64 << 10);
      let sent = 0;
      const pump = () => {
        while (sent <= MAX_BODY_BYTES) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('too large') } });
    expect((await post('sim/status', '{}')).status).toBe(200);
  });

  it('answers a malformed URI with 400, not 500', async () => {
    for (const path of ['/api/%zz', '/api/sim%2', '/api/sim%00status', '/%E0%A4%A', '/assets/%zz.js']) {
      const res = await fetch(`${base}${path}`, { method: path.startsWith('/api') ? 'POST' : 'GET', body: path.startsWith('/api') ? '{}' : undefined, headers: { ...auth(), 'content-type': 'application/json' } });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(await errorOf(res)).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('malformed URI') });
    }
  });

  it('refuses a body not declared as JSON with 415, and JSON that is not an object with 400', async () => {
    const plain = await post('sim/status', '{}', { ...auth(), 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(await errorOf(plain)).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('application/json') });
    const form = await post('sim/status', 'a=1', { ...auth(), 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    // no content type at all (a raw client): refused too
    const bare = await raw(studio.server.port, `POST /api/sim/status HTTP/1.1\r\nHost: 127.0.0.1:${studio.server.port}\r\nx-chimera-token: ${studio.server.token}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`);
    expect(bare.status).toBe(415);
    // an empty body is the empty argument, whatever the content type
    const empty = await raw(studio.server.port, `POST /api/sim/status HTTP/1.1\r\nHost: 127.0.0.1:${studio.server.port}\r\nx-chimera-token: ${studio.server.token}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    expect(empty.status).toBe(200);
    expect((await post('sim/status', 'application/json; charset=utf-8', { ...auth(), 'content-type': 'application/json; charset=utf-8' })).status).toBe(400);
    for (const body of ['42', '[]', 'null', '"status"', '{"__proto__":{"polluted":true}}']) {
      const res = await post('sim/status', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect((await errorOf(res)).code).toBe('VALIDATION');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers a wrong method with 405 and the allowed ones', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await fetch(`${base}/api/sim/status`, { method, headers: auth() });
      expect({ method, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, status: 405, allow: 'POST' });
    }
    const head = await fetch(`${base}/api/sim/status`, { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(405);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(`${base}/`, { method, headers: auth() });
      expect({ method, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, status: 405, allow: 'GET, HEAD' });
    }
  });

  it('answers a missing, wrong, repeated or malformed token with 401, never 500', async () => {
    const call = (headers: Record<string, string>, query = '') => fetch(`${base}/api/sim/status${query}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...headers } });
    expect((await call({})).status).toBe(401);
    expect((await call({ 'x-chimera-token': '' })).status).toBe(401);
    // same length, one character off
    const t = studio.server.token;
    expect((await call({ 'x-chimera-token': (t[0] === 'a' ? 'b' : 'a') + t.slice(1) })).status).toBe(401);
    expect((await call({ 'x-chimera-token': t + 'x' })).status).toBe(401);
    expect((await call({ cookie: 'chimera_token=%zz' })).status).toBe(401);
    expect((await call({ cookie: `other=1; chimera_token=${t.slice(0, -1)}` })).status).toBe(401);
    // the header twice: Node joins the values, which is not the token
    const twice = await raw(studio.server.port, `POST /api/sim/status HTTP/1.1\r\nHost: 127.0.0.1:${studio.server.port}\r\nx-chimera-token: ${t}\r\nx-chimera-token: ${t}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`);
    expect(twice.status).toBe(401);
    const refused = await call({});
    expect(await errorOf(refused)).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('token') });
    // the token in the query or a cookie is as good as the header
    expect((await call({}, `?token=${t}`)).status).toBe(200);
    expect((await call({ cookie: `chimera_token=${t}` })).status).toBe(200);
  });

  it('refuses Host, Origin and request-target tricks', async () => {
    const port = studio.server.port;
    const t = studio.server.token;
    const get = (target: string, headers: string) => raw(port, `GET ${target} HTTP/1.1\r\n${headers}x-chimera-token: ${t}\r\nconnection: close\r\n\r\n`);
    expect((await get('/', `Host: localhost:${port}\r\n`)).status).toBe(200);
    expect((await get('/', `Host: 127.0.0.1:${port}\r\n`)).status).toBe(200);
    for (const host of [`127.0.0.1:${port}.evil.example`, '127.0.0.1', `127.0.0.1:${port + 1}`, `LOCALHOST.evil:${port}`, `evil.example`]) {
      const a = await get('/', `Host: ${host}\r\n`);
      expect({ host, status: a.status }).toEqual({ host, status: 403 });
    }
    // no Host at all (HTTP/1.0)
    expect((await raw(port, `GET / HTTP/1.0\r\nx-chimera-token: ${t}\r\n\r\n`)).status).toBe(403);
    // absolute-form and scheme-relative targets name another server in the request line
    expect((await get(`http://evil.example/api/sim/status`, `Host: 127.0.0.1:${port}\r\n`)).status).toBe(400);
    expect((await get(`//evil.example/`, `Host: 127.0.0.1:${port}\r\n`)).status).toBe(400);
    for (const origin of ['null', 'http://evil.example', `http://127.0.0.1:${port}.evil.example`, `https://127.0.0.1:${port}`]) {
      const res = await post('sim/status', '{}', { ...auth(), origin });
      expect({ origin, status: res.status }).toEqual({ origin, status: 403 });
    }
    expect((await post('sim/status', '{}', { ...auth(), origin: `http://localhost:${port}` })).status).toBe(200);
  });

  it("answers requests Node's parser refuses with a JSON error, and stays up", async () => {
    const port = studio.server.port;
    // both Content-Length and Transfer-Encoding (request smuggling)
    const smuggle = await raw(port, `POST /api/sim/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
    expect(smuggle.status).toBe(400);
    expect(JSON.parse(smuggle.body)).toMatchObject({ ok: false, error: { code: 'VALIDATION', message: expect.stringContaining('malformed HTTP request') } });
    const badLength = await raw(port, `POST /api/sim/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-length: lots\r\n\r\n`);
    expect(badLength.status).toBe(400);
    const garbage = await raw(port, `HELLO\r\n\r\n`);
    expect(garbage.status).toBe(400);
    const huge = await raw(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-pad: ${'y'.repeat(64 << 10)}\r\n\r\n`);
    expect(huge.status).toBe(431);
    expect(JSON.parse(huge.body)).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect((await post('sim/status', '{}')).status).toBe(200);
  });

  it('refuses socket upgrades with the right status: 404 wrong path, 403 foreign origin, 401 no token', async () => {
    const port = studio.server.port;
    const t = studio.server.token;
    expect(await upgradeRefusal(`ws://127.0.0.1:${port}/nope?token=${t}`)).toMatchObject({ status: 404, body: expect.stringContaining('/ws') });
    expect(await upgradeRefusal(`ws://127.0.0.1:${port}/ws?token=${t}`, { origin: 'http://evil.example' })).toMatchObject({ status: 403 });
    expect(await upgradeRefusal(`ws://127.0.0.1:${port}/ws`)).toMatchObject({ status: 401, body: expect.stringContaining('token') });
    expect(await upgradeRefusal(`ws://127.0.0.1:${port}/ws%zz?token=${t}`)).toMatchObject({ status: 400 });
  });

  it('closes a socket that sends anything (1008) or a message over the limit (1009)', async () => {
    const url = `ws://127.0.0.1:${studio.server.port}/ws?token=${studio.server.token}`;
    expect(await closeCodeAfterSending(url, '{"type":"hello"}')).toBe(1008);
    expect(await closeCodeAfterSending(url, 'z'.repeat(MAX_WS_MESSAGE_BYTES + 1))).toBe(1009);
    expect((await post('sim/status', '{}')).status).toBe(200);
  });
});

