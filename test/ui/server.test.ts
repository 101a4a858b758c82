/**
 * Browser mode's server, over real HTTP and WebSocket (no browser needed): the token guards
 * every route and the socket, Host and Origin must be this server's, every channel refuses a
 * bad argument with 400 + {code:'VALIDATION'}, and changes are pushed over the socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CHANNEL_NAMES } from '../../src/shared/contract.ts';
import type { PushMessage } from '../../src/shared/types.ts';
import { ensureRenderer, startStudio, type RunningStudio } from '../../bench/support/browser.ts';

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
});
