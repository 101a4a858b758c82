/**
 * The connection profiles' vault in the desktop app: the core (a utility process) cannot use
 * Electron's safeStorage, which lives in main, so it asks main to seal and open secrets over
 * its port. Main answers with safeStorage (the OS keychain: Keychain, DPAPI, libsecret/kwallet).
 *
 * On Linux without a keyring safeStorage falls back to 'basic_text', a key built into Chromium:
 * that is not a secret store, so main offers no vault then, and the app asks for secrets as
 * environment variables or files, as in browser mode.
 *
 * Built over plain functions (a post and a listener; a safeStorage-like object) so both sides
 * are tested without Electron.
 */
import type { SecretVault } from '../src/config/connections.ts';

export interface VaultRequest {
  readonly id: number;
  readonly op: 'seal' | 'open';
  readonly data: string;
}

export type VaultReply = { readonly id: number; readonly ok: true; readonly data: string } | { readonly id: number; readonly ok: false; readonly error: string };

/** What main uses of Electron's safeStorage. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(sealed: Buffer): string;
  getSelectedStorageBackend?(): string;
}

/** The environment variable main sets for the core when it offers a vault (its value describes it). */
export const VAULT_ENV = 'CHIMERA_VAULT';

/** Main: whether safeStorage is a real secret store here, and how to describe it; null when it is not. */
export function vaultDescription(safe: SafeStorageLike, platform: string = process.platform): string | null {
  if (!safe.isEncryptionAvailable()) return null;
  const backend = platform === 'linux' ? (safe.getSelectedStorageBackend?.() ?? 'unknown') : null;
  if (backend === 'basic_text' || backend === 'unknown') return null;
  return backend ? `safeStorage (${backend})` : 'safeStorage (OS keychain)';
}

/** Main: one request answered with safeStorage. */
export function answerVault(req: VaultRequest, safe: SafeStorageLike): VaultReply {
  try {
    if (req.op === 'seal') return { id: req.id, ok: true, data: safe.encryptString(req.data).toString('base64') };
    return { id: req.id, ok: true, data: safe.decryptString(Buffer.from(req.data, 'base64')) };
  } catch (e) {
    // safeStorage's messages carry no secret
    return { id: req.id, ok: false, error: (e as Error).message };
  }
}

/** The core: a vault that asks main over the port; `deliver` is called with each reply main sends. */
export function portVault(description: string, post: (msg: { vault: VaultRequest }) => void): { vault: SecretVault; deliver(reply: VaultReply): void } {
  let next = 1;
  const pending = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();
  const ask = (op: VaultRequest['op'], data: string) =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      post({ vault: { id, op, data } });
    });
  return {
    vault: { description, seal: (plain) => ask('seal', plain), open: (sealed) => ask('open', sealed) },
    deliver(reply) {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.data);
      else p.reject(new Error(reply.error));
    },
  };
}
