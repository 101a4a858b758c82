/**
 * Browser mode's server, over real HTTP and WebSocket (no browser needed): the token guards
 * every route and the socket, Host and Origin must be this server's, every channel refuses a
 * bad argument with 400 + {code:'VALIDATION'}, and changes are pushed over the socket.
 *
 * What a hostile or broken client can send, each with the answer it gets: a body over the
 * limit (413, answered before the rest is read), a malformed URI (400), a body that is not
 * JSON or not declared JSON (400, 415), a wrong method (405), a missing, wrong or malformed
 * token (401), Host/Origin/request-target tricks (403, 400), requests Node's parser refuses
 * (400, 431, as JSON), socket messages (1008, 1009), and sim/open asked for a file outside
 * the data folder (400, never echoing what the file holds).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CHANNEL_NAMES } from '../../src/shared/contract.ts';
import type { PushMessage } from '../../src/shared/types.ts';
import { EXAMPLES_DIR } from '../../src/scenarios/load.ts';
import { MAX_BODY_BYTES, MAX_WS_CLIENTS, MAX_WS_MESSAGE_BYTES } from '../../server/server.ts';
import { ensureRenderer, startStudio, type RunningStudio } from '../../bench/support/browser.ts';

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

  it('refuses a socket over the limit of open sockets with 503, and takes one again once a socket closes', async () => {
    const url = `ws://127.0.0.1:${studio.server.port}/ws?token=${studio.server.token}`;
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < MAX_WS_CLIENTS; i++) {
        const ws = new WebSocket(url);
        open.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
      }
      expect(await upgradeRefusal(url)).toMatchObject({ status: 503, body: expect.stringContaining('BACKEND_UNAVAILABLE') });
      const closed = new Promise<void>((resolve) => open[0]!.once('close', () => resolve()));
      open[0]!.close();
      await closed;
      // the server counts the socket out when its side of the close completes, which may come
      // just after the client's: until then a new socket is refused (503), then it is taken
      let refusals = 0;
      for (;;) {
        const again = new WebSocket(url);
        const opened = await new Promise<boolean>((resolve) => {
          again.once('open', () => resolve(true));
          again.once('unexpected-response', (_req, res) => {
            expect(res.statusCode).toBe(503);
            resolve(false);
          });
          again.once('error', () => resolve(false));
        });
        open.push(again);
        if (opened) break;
        refusals += 1;
        expect(refusals).toBeLessThan(200);
      }
    } finally {
      for (const ws of open) ws.terminate();
    }
  });

  it('closes a socket that sends anything (1008) or a message over the limit (1009)', async () => {
    const url = `ws://127.0.0.1:${studio.server.port}/ws?token=${studio.server.token}`;
    expect(await closeCodeAfterSending(url, '{"type":"hello"}')).toBe(1008);
    expect(await closeCodeAfterSending(url, 'z'.repeat(MAX_WS_MESSAGE_BYTES + 1))).toBe(1009);
    expect((await post('sim/status', '{}')).status).toBe(200);
  });
});

describe('sim/open over the server: shipped scenarios and files inside the data folder only', () => {
  const SECRET = 'TOP-SECRET-7f3a';
  let root: string;
  let dataDir: string;
  let studio: RunningStudio;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'chimera-open-'));
    dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'scenarios', 'personas'), { recursive: true });
    // outside the data folder: a file that must never be read through the UI
    writeFileSync(join(root, 'secret.json'), JSON.stringify({ name: SECRET, personas: [SECRET], campaigns: [] }));
    writeFileSync(join(root, 'secret.md'), `---\n${SECRET}\n---\n`);
    copyFileSync(join(EXAMPLES_DIR, 'scenarios', 'review-queue.json'), join(root, 'outside.json'));
    // inside it: a valid scenario, broken ones, and links that lead out
    const mine = { name: 'mine', personas: ['aria', 'local'], campaigns: [{ title: 'Local', goal: 'Grow tomatoes on a balcony', persona: 'local', content_pieces: 2 }] };
    writeFileSync(join(dataDir, 'scenarios', 'mine.json'), JSON.stringify(mine));
    writeFileSync(join(dataDir, 'scenarios', 'personas', 'local.soul.md'), '---\nid: local\nname: Local Grower\nvoice: [calm]\n---\n## Beliefs\n- compost matters\n');
    writeFileSync(join(dataDir, 'scenarios', 'broken.json'), `{"name": "${SECRET}", oops`);
    writeFileSync(join(dataDir, 'scenarios', 'extra.json'), JSON.stringify({ ...mine, [SECRET]: 1 }));
    writeFileSync(join(dataDir, 'scenarios', 'bad-value.json'), JSON.stringify({ ...mine, campaigns: [{ ...mine.campaigns[0], persona: SECRET }] }));
    writeFileSync(join(dataDir, 'scenarios', 'escape-persona.json'), JSON.stringify({ ...mine, personas: ['../../secret.md'] }));
    writeFileSync(join(dataDir, 'scenarios', 'bad-persona.json'), JSON.stringify({ ...mine, personas: ['leaky'] }));
    writeFileSync(join(dataDir, 'scenarios', 'personas', 'leaky.soul.md'), `---\nid: leaky\n${SECRET}\n---\n`);
    symlinkSync(join(root, 'secret.json'), join(dataDir, 'scenarios', 'link.json'));
    symlinkSync(root, join(dataDir, 'up'));
    execFileSync('mkfifo', [join(dataDir, 'scenarios', 'fifo.json')]);
    studio = await startStudio(dataDir);
  });
  afterAll(async () => {
    await studio.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const open = async (scenario: string) => {
    const res = await fetch(`http://127.0.0.1:${studio.server.port}/api/sim/open`, {
      method: 'POST',
      body: JSON.stringify({ scenario, seed: 3 }),
      headers: { 'content-type': 'application/json', 'x-chimera-token': studio.server.token },
    });
    return { status: res.status, body: (await res.json()) as { ok: boolean; result?: { scenario: string }; error?: { code: string; message: string } } };
  };
  /** Refused with 400 VALIDATION, the message matching `why`, and nothing of the file's contents in it. */
  const refused = async (scenario: string, why: RegExp) => {
    const r = await open(scenario);
    expect({ scenario, status: r.status, code: r.body.error?.code }).toEqual({ scenario, status: 400, code: 'VALIDATION' });
    expect(r.body.error?.message).toMatch(why);
    expect(r.body.error?.message).not.toContain(SECRET);
    expect(r.body.error?.message).not.toContain('root:');
  };

  it('opens a shipped scenario by name, and a scenario file inside the data folder with its own persona', async () => {
    expect(await open('storm')).toMatchObject({ status: 200, body: { ok: true, result: { scenario: 'storm' } } });
    expect(await open('scenarios/mine.json')).toMatchObject({ status: 200, body: { ok: true, result: { scenario: 'mine' } } });
    expect(await open(join(dataDir, 'scenarios', 'mine.json'))).toMatchObject({ status: 200, body: { ok: true, result: { scenario: 'mine' } } });
  });

  it('refuses any path outside the data folder: absolute, `..`, or through a symlink', async () => {
    await refused('/etc/passwd', /unknown scenario/);
    await refused('/etc/hostname.json', /outside the data folder/);
    await refused(join(root, 'secret.json'), /outside the data folder/);
    await refused(join(root, 'outside.json'), /outside the data folder/);
    await refused('../outside.json', /outside the data folder/);
    await refused('scenarios/../../secret.json', /outside the data folder/);
    await refused('scenarios/link.json', /leads outside the data folder/);
    await refused('up/secret.json', /leads outside the data folder/);
    await refused('up/outside.json', /leads outside the data folder/);
  });

  it('says what is wrong with a file inside the data folder without echoing what it holds', async () => {
    await refused('scenarios/none.json', /does not exist/);
    await refused('scenarios/broken.json', /scenarios\/broken\.json is not valid JSON/);
    await refused('scenarios/extra.json', /\(root\): 1 unknown key/);
    await refused('scenarios/bad-value.json', /campaigns\.0\.persona names a persona that is not in personas/);
    await refused('scenarios/escape-persona.json', /personas\.0 is a path outside the data folder/);
    await refused('scenarios/bad-persona.json', /personas\/leaky\.soul\.md:3 is not a valid SOUL\.md persona/);
    await refused('scenarios/fifo.json', /not a regular file/);
    await refused('scenarios', /unknown scenario/);
  });

  it('keeps the session it had when an open is refused', async () => {
    await open('launch-day');
    await refused('../outside.json', /outside/);
    expect(studio.service.status()).toMatchObject({ scenario: 'launch-day', seed: 3 });
  });
});
