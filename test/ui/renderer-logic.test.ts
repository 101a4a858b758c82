/** The renderer's pure parts: the list window (the DAG layout: dag-layout.test.ts). */
import { describe, expect, it } from 'vitest';
import { visibleRange } from '../../renderer/src/lib/windowing.ts';

describe('visibleRange', () => {
  it('renders the rows in view plus the overscan, clamped to the list', () => {
    expect(visibleRange(0, 280, 28, 100_000, 5)).toEqual([0, 15]);
    expect(visibleRange(28 * 50_000, 280, 28, 100_000, 5)).toEqual([49_995, 50_015]);
    expect(visibleRange(28 * 99_995, 280, 28, 100_000, 5)).toEqual([99_990, 99_999]);
    expect(visibleRange(0, 280, 28, 0, 5)).toEqual([0, -1]);
  });
});
