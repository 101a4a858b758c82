/**
 * What the preload exposes as `window.chimera`: one function per contract channel and a push
 * subscription, built over an invoke/on/off trio so it is testable without Electron. Nothing
 * else crosses: no ipcRenderer, no generic invoke, no Node.
 */
import { CHANNEL_NAMES, IPC_PREFIX, IPC_PUSH, type ChimeraBridge, type Envelope } from '../src/shared/contract.ts';
import type { PushMessage } from '../src/shared/types.ts';

export interface IpcLike {
  invoke(channel: string, arg: unknown): Promise<unknown>;
  on(channel: string, listener: (event: unknown, msg: unknown) => void): void;
  removeListener(channel: string, listener: (event: unknown, msg: unknown) => void): void;
}

export function buildBridge(ipc: IpcLike): ChimeraBridge {
  const api: Record<string, unknown> = {};
  for (const channel of CHANNEL_NAMES) {
    api[channel] = (args: unknown) => ipc.invoke(IPC_PREFIX + channel, args) as Promise<Envelope<unknown>>;
  }
  api.onPush = (listener: (msg: PushMessage) => void) => {
    const h = (_event: unknown, msg: unknown) => listener(msg as PushMessage);
    ipc.on(IPC_PUSH, h);
    return () => ipc.removeListener(IPC_PUSH, h);
  };
  return Object.freeze(api) as unknown as ChimeraBridge;
}
