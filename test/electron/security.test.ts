/**
 * The Electron shell's rules, tested without an Electron binary (none can run here): window
 * options, the sender check, the IPC handlers over a real studio service, the web-contents
 * guards and permission denial, and the preload's bridge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_URL, CONTENT_SECURITY_POLICY, buildHandlers, createWindowOptions, denyPermissions, hardenWebContents, isAllowedSender } from '../../electron/security.ts';
import { buildBridge } from '../../electron/bridge.ts';
import { CHANNEL_NAMES, IPC_PREFIX, IPC_PUSH, type ChannelName } from '../../src/shared/contract.ts';
import { badArguments, openStudio } from '../ui/studio-support.ts';

const OUR_FRAME = { senderFrame: { url: `${APP_URL}#/review` } } as never;
const frame = (url: string | null) => ({ senderFrame: url === null ? null : { url } }) as never;

describe('window options', () => {
  const o = createWindowOptions('/app/dist-electron/preload.cjs');
  it('isolates and sandboxes the renderer, with no Node', () => {
    expect(o.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: '/app/dist-electron/preload.cjs',
    });
  });
  it('shows the window only when ready', () => expect(o.show).toBe(false));
  it('has a strict CSP: nothing inline, nothing remote', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)|https?:|\*/);
  });
});

describe('sender check', () => {
  it.each([APP_URL, `${APP_URL}#/metrics`, 'chimera-app://studio/'])('accepts our app frame %s', (url) => expect(isAllowedSender(url)).toBe(true));
  it.each([
    'file:///app/dist-renderer/index.html',
    'http://127.0.0.1:5173/',
    'https://studio/index.html',
    'chimera-app://evil/index.html',
    'chimera-app://user:pw@studio/',
    'chimera-app://studio:8080/',
    'javascript:alert(1)',
    'about:blank',
    'not a url',
    '',
    null,
    undefined,
  ])('refuses %s', (url) => expect(isAllowedSender(url)).toBe(false));
});

describe('IPC handlers over a real studio service', () => {
  let studio: Awaited<ReturnType<typeof openStudio>>;
  const reached: string[] = [];
  let handlers: ReturnType<typeof buildHandlers>;
  beforeAll(async () => {
    studio = await openStudio();
    handlers = buildHandlers((channel: ChannelName, args: unknown) => {
      reached.push(channel);
      return studio.service.invoke(channel, args);
    });
  });
  afterAll(async () => studio.cleanup());

  it('has exactly one handler per contract channel, all prefixed', () => {
    expect(Object.keys(handlers).sort()).toEqual(CHANNEL_NAMES.map((c) => IPC_PREFIX + c).sort());
  });

  it.each(badArguments().map((c) => [c.channel, JSON.stringify(c.args), c.field, c.args] as const))(
    '%s refuses %s with VALIDATION naming %s, before the core',
    async (channel, _shown, field, args) => {
      reached.length = 0;
      const r = await handlers[IPC_PREFIX + channel]!(OUR_FRAME, args);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('VALIDATION');
        expect(r.error.message).toContain(field);
      }
      expect(reached).toEqual([]);
    },
  );

  it.each(['https://evil.example/', 'file:///etc/passwd', null])('refuses a call from a foreign frame (%s) without reaching the core', async (url) => {
    reached.length = 0;
    const r = await handlers[`${IPC_PREFIX}sim/step`]!(frame(url), {});
    expect(r).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(reached).toEqual([]);
  });

  it('answers a good call from our frame, and returns core errors as {code, message}', async () => {
    const ok = await handlers[`${IPC_PREFIX}sim/step`]!(OUR_FRAME, { count: 2 });
    expect(ok.ok).toBe(true);
    const missing = await handlers[`${IPC_PREFIX}campaigns/dag`]!(OUR_FRAME, { campaign_id: 'nope' });
    expect(missing).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'campaign nope not found', details: { entity: 'campaign', id: 'nope' } } });
  });
});

describe('web contents guards', () => {
  // Electron cannot run here: this records what hardenWebContents registers on a WebContents
  function recorder() {
    const on = new Map<string, (event: { preventDefault(): void; prevented?: boolean }, url?: string) => void>();
    let openHandler: (() => { action: string }) | null = null;
    return {
      contents: { setWindowOpenHandler: (h: () => { action: string }) => (openHandler = h), on: (ev: string, h: never) => on.set(ev, h) },
      open: () => openHandler?.(),
      fire(ev: string, url?: string) {
        const e = { prevented: false, preventDefault() { this.prevented = true; } };
        on.get(ev)?.(e, url);
        return e.prevented;
      },
    };
  }
  it('denies new windows, foreign navigation and redirects, and webviews', () => {
    const r = recorder();
    hardenWebContents(r.contents as never);
    expect(r.open()).toEqual({ action: 'deny' });
    expect(r.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(r.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(r.fire('will-navigate', `${APP_URL}#/audit`)).toBe(false);
    expect(r.fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(r.fire('will-attach-webview')).toBe(true);
  });
  it('denies every permission request and check', () => {
    const got: boolean[] = [];
    let check: (() => boolean) | null = null;
    let device: (() => boolean) | null = null;
    denyPermissions({
      setPermissionRequestHandler: (h: (wc: unknown, p: string, cb: (ok: boolean) => void) => void) => {
        for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read']) h(null, p, (ok) => got.push(ok));
      },
      setPermissionCheckHandler: (h: () => boolean) => (check = h),
      setDevicePermissionHandler: (h: () => boolean) => (device = h),
    } as never);
    expect(got).toEqual([false, false, false, false]);
    expect(check!()).toBe(false);
    expect(device!()).toBe(false);
  });
});

describe('preload bridge', () => {
  it('exposes one function per channel and onPush, nothing else, frozen', async () => {
    const calls: [string, unknown][] = [];
    const listeners = new Map<string, (e: unknown, m: unknown) => void>();
    const bridge = buildBridge({
      invoke: async (c, a) => {
        calls.push([c, a]);
        return { ok: true, result: null };
      },
      on: (c, l) => listeners.set(c, l),
      removeListener: (c) => listeners.delete(c),
    });
    expect(Object.keys(bridge).sort()).toEqual([...CHANNEL_NAMES, 'onPush'].sort());
    expect(Object.isFrozen(bridge)).toBe(true);
    for (const c of CHANNEL_NAMES) expect(typeof bridge[c]).toBe('function');
    await bridge['sim/step']({ count: 1 });
    expect(calls).toEqual([[`${IPC_PREFIX}sim/step`, { count: 1 }]]);
    const got: unknown[] = [];
    const off = bridge.onPush((m) => got.push(m));
    listeners.get(IPC_PUSH)!(null, { type: 'changed', what: 'data' });
    expect(got).toEqual([{ type: 'changed', what: 'data' }]);
    off();
    expect(listeners.has(IPC_PUSH)).toBe(false);
  });
});
