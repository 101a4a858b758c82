/**
 * The desktop app's vault for connection profiles' secrets (electron/vault.ts): main seals and
 * opens with safeStorage, the core asks over its port. Tested with a safeStorage stand-in (no
 * Electron binary runs here); build.test.ts runs the real core bundle with it.
 */
import { describe, expect, it } from 'vitest';
import { answerVault, portVault, vaultDescription } from '../../electron/vault.ts';
import { fakeSafeStorage } from './fake-safe-storage.ts';

describe('the vault main offers', () => {
  it('is safeStorage when the OS keeps secrets, and none on a Linux without a keyring (basic_text)', () => {
    expect(vaultDescription(fakeSafeStorage('gnome_libsecret'), 'linux')).toBe('safeStorage (gnome_libsecret)');
    expect(vaultDescription(fakeSafeStorage('basic_text'), 'linux')).toBeNull();
    expect(vaultDescription(fakeSafeStorage('basic_text'), 'darwin')).toBe('safeStorage (OS keychain)');
    expect(vaultDescription({ ...fakeSafeStorage(), isEncryptionAvailable: () => false }, 'win32')).toBeNull();
  });

  it('seals and opens over the port, matching replies by id, and reports a value sealed elsewhere', async () => {
    const safe = fakeSafeStorage();
    const other = fakeSafeStorage('gnome_libsecret', 0x33);
    const replies: (() => void)[] = [];
    // main answers out of order: the core matches each reply to its request
    const side = portVault('safeStorage (test)', (msg) => replies.push(() => side.deliver(answerVault(msg.vault, safe))));
    const a = side.vault.seal('first secret');
    const b = side.vault.seal('second secret');
    for (const r of replies.splice(0).reverse()) r();
    const [sa, sb] = await Promise.all([a, b]);
    expect(sa).not.toContain('first');
    const opened = side.vault.open(sb);
    replies.splice(0).forEach((r) => r());
    expect(await opened).toBe('second secret');
    const foreign = answerVault({ id: 9, op: 'open', data: other.encryptString('x').toString('base64') }, safe);
    expect(foreign).toEqual({ id: 9, ok: false, error: expect.stringMatching(/decrypting/) });
  });

});
