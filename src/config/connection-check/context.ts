/**
 * What one service's check gets from the runner (connection-check.ts): the time it has, a signal
 * that fires when that time is up (the check destroys its sockets on it), where it stands (so a
 * timeout can say whether the connection was even accepted), and what it has found so far (a
 * version read before a later step failed is still reported).
 */
import { CheckTimeoutError } from './classify.ts';

export interface CheckContext {
  /** The whole check's budget. */
  readonly timeout_ms: number;
  /** Aborted when the budget is spent (reason: a CheckTimeoutError) or when the check is over. */
  readonly signal: AbortSignal;
  /** 'connect' until the socket is accepted, 'answer' after: a timeout says which. */
  phase: 'connect' | 'answer' | 'unknown';
  /** Milliseconds left (at least 1). */
  remaining(): number;
  /** Throws the timeout once the budget is spent (between steps). */
  checkpoint(): void;
}

/** What a check found, filled as it goes. */
export interface Findings {
  server_version: string | null;
  latency_ms: number | null;
  readonly notes: string[];
}

export function newContext(timeout_ms: number, signal: AbortSignal): CheckContext {
  const started = performance.now();
  return {
    timeout_ms,
    signal,
    phase: 'connect',
    remaining: () => Math.max(1, Math.round(timeout_ms - (performance.now() - started))),
    checkpoint() {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new CheckTimeoutError(timeout_ms, this.phase);
    },
  };
}

/** How long `fn` takes, in ms with two decimals, and what it returned. */
export async function timed<R>(fn: () => Promise<R>): Promise<{ value: R; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: Math.round((performance.now() - t0) * 100) / 100 };
}
