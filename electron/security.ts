/**
 * The Electron shell's security rules as plain functions, so they are unit-tested without an
 * Electron binary: the window's options, which frames may call the core, the CSP, the IPC
 * handlers (validate every argument, answer {ok,result} | {ok:false,error:{code,message}}),
 * and the guards put on every web contents. This file imports only types from 'electron'.
 */
import type { BrowserWindowConstructorOptions, IpcMainInvokeEvent, Session, WebContents } from 'electron';
import { CHANNEL_NAMES, IPC_PREFIX, parseArgs, type ChannelName, type Envelope } from '../src/shared/contract.ts';
import { toWireError } from '../src/shared/errors.ts';

/** The renderer is served from this privileged scheme (not file://, which would trust the whole disk). */
export const APP_SCHEME = 'chimera-app';
export const APP_HOST = 'studio';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function createWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Chimera Studio',
    backgroundColor: '#14171b',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  };
}

/** True only for a frame showing our own app (scheme and host), never a remote page or file://. */
export function isAllowedSender(url: string | null | undefined): boolean {
  if (!url) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password && !u.port;
}

/** The sender check, for an IPC event: the frame that sent it must be our app's. */
export function senderAllowed(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean {
  return isAllowedSender(event.senderFrame?.url);
}

export type Invoke = (channel: ChannelName, args: unknown) => Promise<unknown>;
export type IpcHandler = (event: Pick<IpcMainInvokeEvent, 'senderFrame'>, raw: unknown) => Promise<Envelope<unknown>>;

/**
 * One ipcMain handler per contract channel (named IPC_PREFIX + channel). Each refuses a
 * foreign sender, validates the argument against the channel's schema, then forwards it to
 * the core; every failure comes back as {code, message}.
 */
export function buildHandlers(invoke: Invoke): Record<string, IpcHandler> {
  const out: Record<string, IpcHandler> = {};
  for (const channel of CHANNEL_NAMES) {
    out[IPC_PREFIX + channel] = async (event, raw) => {
      if (!senderAllowed(event)) {
        return { ok: false, error: { code: 'VALIDATION', message: `${channel}: refused: the call did not come from the studio window` } };
      }
      const parsed = parseArgs(channel, raw);
      if (!parsed.ok) return { ok: false, error: { code: 'VALIDATION', message: parsed.message, details: { fields: parsed.fields } } };
      try {
        return { ok: true, result: await invoke(channel, parsed.value) };
      } catch (e) {
        return { ok: false, error: toWireError(e) };
      }
    };
  }
  return out;
}

/** Denies new windows, navigation away from the app, webviews and redirects. */
export function hardenWebContents(contents: Pick<WebContents, 'setWindowOpenHandler' | 'on'>): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedSender(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedSender(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Refuses every permission (camera, notifications, geolocation, …): the studio needs none. */
export function denyPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
