/**
 * The tick range selected on a chart, shared with whoever follows it (the timeline, the step
 * selection, the other charts). One value for the whole page, no React context needed:
 *
 *   selectTickRange({ from_tick: 120, to_tick: 480, source: 'Throughput' });  // a chart, on drag
 *   const off = onTickRange((r) => jumpTo(r?.from_tick));                       // a listener; r null = cleared
 *   const r = useTickRange();                                                    // in a component
 *
 * Ticks are whole numbers with from_tick <= to_tick (both inclusive). Selecting the same
 * range again notifies nobody; `null` clears the selection.
 */
import { useSyncExternalStore } from 'react';

export interface TickRange {
  readonly from_tick: number;
  readonly to_tick: number;
  /** Who selected it (a chart's title), so a listener can ignore its own echo. */
  readonly source: string;
}

let current: TickRange | null = null;
const listeners = new Set<(r: TickRange | null) => void>();

export function selectTickRange(r: TickRange | null): void {
  const next = r && { from_tick: Math.max(0, Math.round(Math.min(r.from_tick, r.to_tick))), to_tick: Math.max(0, Math.round(Math.max(r.from_tick, r.to_tick))), source: r.source };
  if (next?.from_tick === current?.from_tick && next?.to_tick === current?.to_tick) return;
  current = next;
  for (const l of [...listeners]) l(current);
}

export function currentTickRange(): TickRange | null {
  return current;
}

/** Calls `listener` on every change of the selection; returns the unsubscribe. */
export function onTickRange(listener: (r: TickRange | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useTickRange(): TickRange | null {
  return useSyncExternalStore(onTickRange, currentTickRange);
}
