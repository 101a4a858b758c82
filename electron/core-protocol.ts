/** Messages between Electron's main process and the core utility process. */
import type { WireError } from '../src/shared/errors.ts';
import type { PushMessage } from '../src/shared/types.ts';
import type { VaultReply, VaultRequest } from './vault.ts';

export interface CoreRequest {
  readonly id: number;
  readonly channel: string;
  readonly args: unknown;
}

/** Main's answer to the core's vault request (electron/vault.ts). */
export interface VaultAnswer {
  readonly vaultReply: VaultReply;
}

export type CoreReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError }
  | { readonly push: PushMessage }
  | { readonly ready: true }
  | { readonly vault: VaultRequest };
