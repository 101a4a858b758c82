/**
 * Main's side of the core process: numbered requests, replies matched by id, pushed updates
 * handed on. If the core dies, every pending call fails with BACKEND_UNAVAILABLE (the UI shows
 * it) instead of hanging.
 */
import { RemoteError, rebuildWireError } from '../src/shared/errors.ts';
import type { PushMessage } from '../src/shared/types.ts';
import type { CoreReply, CoreRequest, VaultAnswer } from './core-protocol.ts';
import type { VaultReply, VaultRequest } from './vault.ts';

export interface CoreProcessLike {
  postMessage(msg: CoreRequest | VaultAnswer): void;
  on(event: 'message', listener: (msg: CoreReply) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

export class CoreClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private alive = true;
  readonly ready: Promise<void>;

  constructor(
    private readonly proc: CoreProcessLike,
    private readonly onPush: (msg: PushMessage) => void,
    /** Answers the core's vault requests (main's safeStorage); without it they are refused. */
    private readonly onVault: (req: VaultRequest) => VaultReply = (req) => ({ id: req.id, ok: false, error: 'this app offers no vault' }),
  ) {
    let markReady: () => void = () => undefined;
    this.ready = new Promise((r) => (markReady = r));
    proc.on('message', (msg: CoreReply) => {
      if ('ready' in msg) return markReady();
      if ('push' in msg) return this.onPush(msg.push);
      if ('vault' in msg) return this.proc.postMessage({ vaultReply: this.onVault(msg.vault) });
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(rebuildWireError(msg.error));
    });
    proc.on('exit', (code: number) => {
      this.alive = false;
      for (const p of this.pending.values()) p.reject(new RemoteError('BACKEND_UNAVAILABLE', `the core process exited (code ${code})`));
      this.pending.clear();
    });
  }

  async call(channel: string, args: unknown): Promise<unknown> {
    if (!this.alive) throw new RemoteError('BACKEND_UNAVAILABLE', 'the core process is not running');
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.postMessage({ id, channel, args });
    });
  }
}
