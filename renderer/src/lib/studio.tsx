/** React glue: the client, the live run status, toasts, and a hook that keeps a channel's answer fresh. */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { ArgsOf, ChannelName, ChimeraApi, ResultOf } from '../../../src/shared/contract.ts';
import type { SimStatus } from '../../../src/shared/types.ts';
import { RemoteError } from '../../../src/shared/errors.ts';
import type { ConnectionState, StudioClient } from './client.ts';
import { explainError } from './errors.ts';

export interface Toast {
  readonly id: number;
  readonly kind: 'error' | 'info' | 'conflict';
  readonly text: string;
}

interface StudioContextValue {
  readonly client: StudioClient;
  readonly api: ChimeraApi;
  readonly status: SimStatus | null;
  /** Bumped on every pushed change; queries refetch when it moves. */
  readonly revision: number;
  readonly connection: ConnectionState;
  readonly toasts: readonly Toast[];
  toast(kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
  /** Runs a call, toasting its error (with the error's code) instead of throwing. */
  act<T>(fn: () => Promise<T>): Promise<T | undefined>;
  refresh(): void;
}

const StudioContext = createContext<StudioContextValue | null>(null);

export function StudioProvider({ client, children }: { client: StudioClient; children: ReactNode }) {
  const [status, setStatusRaw] = useState<SimStatus | null>(null);
  // keep the newest snapshot: a reply and a push can arrive in either order
  const setStatus = useCallback((next: SimStatus) => setStatusRaw((cur) => (cur && cur.seq > next.seq ? cur : next)), []);
  const [revision, setRevision] = useState(0);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const toast = useCallback((kind: Toast['kind'], text: string) => {
    const id = nextId.current++;
    setToasts((t) => [...t.slice(-4), { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'info' ? 4000 : 10_000);
  }, []);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const refresh = useCallback(() => setRevision((r) => r + 1), []);

  const act = useCallback(
    async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn();
      } catch (e) {
        const code = e instanceof RemoteError ? e.code : 'INTERNAL';
        // a conflict is said in words (nothing was written; what happened), not as a code
        if (code === 'CONFLICT') {
          const x = explainError(e);
          toast('conflict', `${x.title} ${x.text}`);
        } else toast('error', `${code}: ${(e as Error).message}`);
        return undefined;
      }
    },
    [toast],
  );

  useEffect(() => {
    const offConn = client.onConnection((s) => {
      setConnection(s);
      if (s === 'open') {
        client.api['sim/status']({}).then(setStatus, () => undefined);
        setRevision((r) => r + 1);
      }
    });
    const offPush = client.onPush((msg) => {
      if (msg.type === 'status') {
        setStatus(msg.status);
        setRevision((r) => r + 1);
      } else if (msg.type === 'changed') {
        setRevision((r) => r + 1);
        client.api['sim/status']({}).then(setStatus, () => undefined);
      } else if (msg.type === 'error') {
        toast('error', `${msg.error.code}: ${msg.error.message}`);
      }
    });
    client.api['sim/status']({}).then(setStatus, (e: unknown) => toast('error', `could not reach the core: ${(e as Error).message}`));
    return () => {
      offConn();
      offPush();
    };
  }, [client, toast, setStatus]);

  const value: StudioContextValue = { client, api: client.api, status, revision, connection, toasts, toast, dismiss, act, refresh };
  return <StudioContext.Provider value={value}>{children}</StudioContext.Provider>;
}

export function useStudio(): StudioContextValue {
  const v = useContext(StudioContext);
  if (!v) throw new Error('useStudio outside StudioProvider');
  return v;
}

/**
 * Calls a channel and keeps the answer fresh: refetches when its args change or the core
 * pushes a change. At most one request in flight; changes during it cause one more fetch, so
 * a fast stream of pushes never starves the view.
 */
export function useChannel<C extends ChannelName>(channel: C, args: ArgsOf<C> | null, opts: { live?: boolean; throttle_ms?: number } = {}) {
  const { api, revision } = useStudio();
  const [data, setData] = useState<ResultOf<C> | null>(null);
  const [error, setError] = useState<RemoteError | null>(null);
  const [loading, setLoading] = useState(false);
  const key = args === null ? null : JSON.stringify(args);
  const latestKey = useRef<string | null>(key);
  latestKey.current = key;
  const inflight = useRef(false);
  const again = useRef(false);
  const mounted = useRef(true);
  const [manual, setManual] = useState(0);
  const live = opts.live ?? true;
  const liveRevision = live ? revision : 0;
  // while a run pushes ~10 changes a second, a heavy read (a 100,000-task DAG) is refetched at most this often
  const throttle_ms = opts.throttle_ms ?? 250;
  const lastKey = useRef<string | null>(null);
  const lastStart = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  useEffect(() => {
    if (key === null) return;
    if (inflight.current) {
      again.current = true;
      return;
    }
    // same arguments, refetched too soon: fetch once when the interval is up
    const wait = lastKey.current === key ? lastStart.current + throttle_ms - performance.now() : 0;
    if (wait > 0) {
      timer.current ??= setTimeout(() => {
        timer.current = null;
        if (mounted.current) setManual((m) => m + 1);
      }, wait);
      return;
    }
    lastKey.current = key;
    lastStart.current = performance.now();
    inflight.current = true;
    setLoading(true);
    void (async () => {
      const k = key;
      try {
        const r = await (api[channel] as (a: unknown) => Promise<ResultOf<C>>)(JSON.parse(k));
        if (mounted.current && latestKey.current === k) {
          setData(r);
          setError(null);
        } else if (latestKey.current !== k) again.current = true;
      } catch (e) {
        if (mounted.current && latestKey.current === k) setError(e instanceof RemoteError ? e : new RemoteError('INTERNAL', (e as Error).message));
      } finally {
        inflight.current = false;
        if (mounted.current) {
          setLoading(false);
          // changes that came in meanwhile: one more fetch, through the throttle
          if (again.current) {
            again.current = false;
            setManual((m) => m + 1);
          }
        }
      }
    })();
  }, [api, channel, key, liveRevision, manual, throttle_ms]);

  return { data, error, loading, reload: () => setManual((m) => m + 1) };
}
