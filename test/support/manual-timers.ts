/**
 * Timers a test advances by hand (for InspectReaderPool's idle expiry): time is a number that
 * moves only when the test says so, and a timer fires when it is reached, in the order due.
 */
import type { PoolTimers } from '../../src/app/studio/inspect-pool.ts';

export interface ManualTimers {
  readonly timers: PoolTimers;
  /** Moves time on by `ms`, firing every timer that comes due (earliest first). */
  advance(ms: number): void;
  /** Timers started and neither fired nor cancelled. */
  readonly pending: number;
}

export function manualTimers(): ManualTimers {
  let now = 0;
  let seq = 0;
  const pending = new Set<{ at: number; seq: number; fn: () => void }>();
  return {
    timers: {
      start(fn, ms) {
        const t = { at: now + ms, seq: seq++, fn };
        pending.add(t);
        return { cancel: () => void pending.delete(t) };
      },
    },
    advance(ms) {
      now += ms;
      for (;;) {
        const due = [...pending].filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (!due) return;
        pending.delete(due);
        due.fn();
      }
    },
    get pending() {
      return pending.size;
    },
  };
}
