import type { SafeStorageLike } from '../../electron/vault.ts';

/** A safeStorage stand-in: a keyed XOR with a header, so a value sealed elsewhere fails to open. */
export function fakeSafeStorage(backend = 'gnome_libsecret', key = 0x5a): SafeStorageLike & { sealedCount: number } {
  const s = {
    sealedCount: 0,
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => backend,
    encryptString(plain: string) {
      s.sealedCount += 1;
      return Buffer.concat([Buffer.from([0xc4, key]), Buffer.from(plain, 'utf8').map((b) => b ^ key)]);
    },
    decryptString(sealed: Buffer) {
      if (sealed[0] !== 0xc4 || sealed[1] !== key) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return Buffer.from(sealed.subarray(2).map((b) => b ^ key)).toString('utf8');
    },
  };
  return s;
}

