/**
 * The renderer's only way to the core: a ChimeraApi built over one of two transports —
 * `window.chimera` (the Electron preload: one function per channel) or, in a normal browser,
 * HTTP POST /api/<channel> plus a WebSocket for pushed updates. Errors come back as
 * RemoteError with the core's code.
 */
import { CHANNEL_NAMES, type ChannelName, type ChimeraApi, type ChimeraBridge, type Envelope } from '../../../src/shared/contract.ts';
import { rebuildWireError } from '../../../src/shared/errors.ts';
import type { PushMessage } from '../../../src/shared/types.ts';

declare global {
  interface Window {
    chimera?: ChimeraBridge;
  }
}

type Transport = (channel: ChannelName, args: unknown) => Promise<Envelope<unknown>>;

export interface StudioClient {
  readonly api: ChimeraApi;
  readonly mode: 'electron' | 'browser';
  onPush(listener: (msg: PushMessage) => void): () => void;
  /** 'open' | 'connecting' | 'closed' for the push channel. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
}
export type ConnectionState = 'open' | 'connecting' | 'closed';

function buildApi(transport: Transport): ChimeraApi {
  const api: Record<string, (args: unknown) => Promise<unknown>> = {};
  for (const c of CHANNEL_NAMES) {
    api[c] = async (args: unknown) => {
      const env = await transport(c, args ?? {});
      if (!env.ok) throw rebuildWireError(env.error);
      return env.result;
    };
  }
  return api as unknown as ChimeraApi;
}

function browserToken(): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) {
    sessionStorage.setItem('chimera-token', fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem('chimera-token') ?? '';
}

export function createClient(): StudioClient {
  const bridge = window.chimera;
  if (bridge) {
    const connListeners = new Set<(s: ConnectionState) => void>();
    return {
      mode: 'electron',
      api: buildApi((c, args) => (bridge[c] as (a: unknown) => Promise<Envelope<unknown>>)(args)),
      onPush: (l) => bridge.onPush(l),
      onConnection: (l) => {
        connListeners.add(l);
        l('open');
        return () => connListeners.delete(l);
      },
    };
  }

  const token = browserToken();
  const transport: Transport = async (channel, args) => {
    let res: Response;
    try {
      res = await fetch(`./api/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-chimera-token': token },
        body: JSON.stringify(args),
      });
    } catch (e) {
      return { ok: false, error: { code: 'BACKEND_UNAVAILABLE', message: `the studio server did not answer (${(e as Error).message}); is it still running?` } };
    }
    try {
      return (await res.json()) as Envelope<unknown>;
    } catch {
      return { ok: false, error: { code: 'INTERNAL', message: `the studio server answered ${res.status} without JSON` } };
    }
  };

  const pushListeners = new Set<(m: PushMessage) => void>();
  const connListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let retry_ms = 250;
  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of connListeners) l(s);
  };
  const connect = () => {
    setState('connecting');
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(token)}`);
    ws.onopen = () => {
      retry_ms = 250;
      setState('open');
    };
    ws.onmessage = (ev) => {
      let msg: PushMessage;
      try {
        msg = JSON.parse(String(ev.data)) as PushMessage;
      } catch {
        return;
      }
      for (const l of pushListeners) l(msg);
    };
    ws.onclose = () => {
      setState('closed');
      setTimeout(connect, retry_ms);
      retry_ms = Math.min(5000, retry_ms * 2);
    };
  };
  connect();
  return {
    mode: 'browser',
    api: buildApi(transport),
    onPush: (l) => {
      pushListeners.add(l);
      return () => pushListeners.delete(l);
    },
    onConnection: (l) => {
      connListeners.add(l);
      l(state);
      return () => connListeners.delete(l);
    },
  };
}
