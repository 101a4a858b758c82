/** The tick range a chart selection shares with the page (renderer/src/lib/tick-range.ts). */
import { describe, expect, it } from 'vitest';
import { currentTickRange, onTickRange, selectTickRange, type TickRange } from '../../renderer/src/lib/tick-range.ts';

describe('tick range', () => {
  it('tells its listeners a whole-tick range in order, once per change, and clears', () => {
    const seen: (TickRange | null)[] = [];
    const off = onTickRange((r) => seen.push(r));
    selectTickRange({ from_tick: 480.6, to_tick: 119.7, source: 'Throughput' });
    expect(currentTickRange()).toEqual({ from_tick: 120, to_tick: 481, source: 'Throughput' });
    selectTickRange({ from_tick: 120, to_tick: 481, source: 'Queue depths' }); // the same range: nobody is told
    selectTickRange(null);
    off();
    selectTickRange({ from_tick: 1, to_tick: 2, source: 'x' }); // after unsubscribing: not seen
    expect(seen).toEqual([{ from_tick: 120, to_tick: 481, source: 'Throughput' }, null]);
    selectTickRange(null);
  });
});
