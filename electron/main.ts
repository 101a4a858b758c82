/**
 * Electron main: one hardened window over the React renderer, the core in a utility process.
 *
 * - The renderer loads from chimera-app://studio/ (a privileged scheme served from
 *   dist-renderer/ with a strict CSP header), never from file:// or the network.
 * - contextIsolation, sandbox, no Node integration (createWindowOptions); new windows,
 *   navigation, webviews and every permission are denied (hardenWebContents, denyPermissions).
 * - IPC: one handler per contract channel; each checks the sender frame is our app, validates
 *   the argument, and forwards it to the core process (buildHandlers).
 * - The core (simulation, SQLite, persona memory) runs in a utility process, so long runs
 *   never block the window; its data folder is the app's userData folder.
 * - Connection profiles' secrets are sealed here with safeStorage when the core asks
 *   (electron/vault.ts); the core never sees the keychain and the renderer never sees a secret.
 */
import { app, BrowserWindow, ipcMain, net, protocol, safeStorage, session, utilityProcess, type WebContents } from 'electron';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IPC_PUSH } from '../src/shared/contract.ts';
import { APP_HOST, APP_SCHEME, APP_URL, CONTENT_SECURITY_POLICY, buildHandlers, createWindowOptions, denyPermissions, hardenWebContents } from './security.ts';
import { CoreClient } from './core-client.ts';
import { VAULT_ENV, answerVault, vaultDescription } from './vault.ts';
import type { ChannelName } from '../src/shared/contract.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const RENDERER_DIR = join(HERE, '..', 'dist-renderer');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } }]);
app.enableSandbox();

let win: BrowserWindow | null = null;

function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
    const file = normalize(join(RENDERER_DIR, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)));
    if (!file.startsWith(RENDERER_DIR + sep)) return new Response('not found', { status: 404 });
    let res: Response;
    try {
      res = await net.fetch(pathToFileURL(file).href);
    } catch {
      return new Response('not found', { status: 404 });
    }
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

function startCore(): CoreClient {
  // connection profiles' typed secrets are sealed with safeStorage, here in main, when the OS keeps secrets
  const vault = vaultDescription(safeStorage);
  const proc = utilityProcess.fork(join(HERE, 'core.js'), [], {
    serviceName: 'Chimera core',
    stdio: 'inherit',
    env: { ...process.env, CHIMERA_DATA_DIR: app.getPath('userData'), ...(vault ? { [VAULT_ENV]: vault } : {}) },
  });
  return new CoreClient(
    proc as unknown as ConstructorParameters<typeof CoreClient>[0],
    (msg) => {
      if (win && !win.isDestroyed()) win.webContents.send(IPC_PUSH, msg);
    },
    (req) => answerVault(req, safeStorage),
  );
}

async function createWindow(): Promise<void> {
  win = new BrowserWindow(createWindowOptions(join(HERE, 'preload.cjs')));
  win.once('ready-to-show', () => win?.show());
  win.on('closed', () => (win = null));
  await win.loadURL(APP_URL);
}

app.on('web-contents-created', (_event, contents: WebContents) => hardenWebContents(contents));

app.whenReady().then(async () => {
  denyPermissions(session.defaultSession);
  serveRenderer();
  const core = startCore();
  const handlers = buildHandlers((channel: ChannelName, args: unknown) => core.call(channel, args));
  for (const [name, handler] of Object.entries(handlers)) ipcMain.handle(name, handler);
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
