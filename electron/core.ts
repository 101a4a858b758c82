/**
 * The core, off the window's thread: Electron starts this file as a utility process. It owns
 * the studio service (simulation, ports, SQLite files) and answers main's requests
 * {id, channel, args} with {id, ok, result | error}; pushed updates go up as {push}.
 */
import { loadConfig } from '../src/config/config.ts';
import { StudioService } from '../src/app/studio-service.ts';
import { toWireError } from '../src/shared/errors.ts';
import type { CoreReply, CoreRequest, VaultAnswer } from './core-protocol.ts';
import { VAULT_ENV, portVault } from './vault.ts';

const port = process.parentPort;
const dataDir = process.env.CHIMERA_DATA_DIR;
// main offers a vault (safeStorage) when the OS keeps secrets; the core asks it over the port
const vaultDescription = process.env[VAULT_ENV];
const vault = vaultDescription ? portVault(vaultDescription, (msg) => port.postMessage(msg satisfies CoreReply)) : null;
const service = await StudioService.open({ config: loadConfig(dataDir ? { overrides: { data_dir: dataDir } } : {}), vault: vault?.vault ?? null });
service.subscribe((push) => port.postMessage({ push } satisfies CoreReply));

port.on('message', (e: { data: CoreRequest | VaultAnswer }) => {
  if ('vaultReply' in e.data) return vault?.deliver(e.data.vaultReply);
  const { id, channel, args } = e.data;
  service.invoke(channel, args).then(
    (result) => port.postMessage({ id, ok: true, result } satisfies CoreReply),
    (err: unknown) => port.postMessage({ id, ok: false, error: toWireError(err) } satisfies CoreReply),
  );
});
port.postMessage({ ready: true } satisfies CoreReply);

process.on('SIGTERM', () => {
  void service.close().finally(() => process.exit(0));
});
