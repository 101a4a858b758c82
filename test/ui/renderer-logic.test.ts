/** The renderer's pure parts: the list window and the DAG layout (at 100,000 tasks too). */
import { describe, expect, it } from 'vitest';
import { visibleRange } from '../../renderer/src/lib/windowing.ts';
import { layoutDag } from '../../renderer/src/lib/dag-layout.ts';

describe('visibleRange', () => {
  it('renders the rows in view plus the overscan, clamped to the list', () => {
    expect(visibleRange(0, 280, 28, 100_000, 5)).toEqual([0, 15]);
    expect(visibleRange(28 * 50_000, 280, 28, 100_000, 5)).toEqual([49_995, 50_015]);
    expect(visibleRange(28 * 99_995, 280, 28, 100_000, 5)).toEqual([99_990, 99_999]);
    expect(visibleRange(0, 280, 28, 0, 5)).toEqual([0, -1]);
  });
});

/** Flattens per-node dependency lists into (dep_start, dep_list) as the core sends them. */
function flat(deps: number[][]): [number[], number[]] {
  const start = [0];
  const list: number[] = [];
  for (const d of deps) {
    list.push(...d);
    start.push(list.length);
  }
  return [start, list];
}

describe('layoutDag', () => {
  it('puts each node one layer past its deepest dependency', () => {
    // 0 → 2, 1 → 2, 2 → 3, 0 → 3
    const [s, l] = flat([[], [], [0, 1], [2, 0]]);
    const g = layoutDag(4, s, l);
    expect([...g.layer]).toEqual([0, 0, 1, 2]);
    expect([...g.row]).toEqual([0, 1, 0, 0]);
    expect(g.layers).toBe(3);
    expect(g.maxRows).toBe(2);
    expect(g.byLayer.map((x) => [...x])).toEqual([[0, 1], [2], [3]]);
  });

  it('survives a cycle (never in a valid plan) by putting its nodes in a last layer', () => {
    const [s, l] = flat([[], [2], [1]]);
    const g = layoutDag(3, s, l);
    expect([...g.layer]).toEqual([0, 1, 1]);
    expect(g.layers).toBe(2);
  });

  it('lays out a 100,003-task plan (the Planner’s shape)', () => {
    const pieces = 50_000;
    // plan, trend, audience; content_i depends on trend+audience; check_i on content_i
    const deps: number[][] = [[], [], []];
    for (let i = 0; i < pieces; i++) deps.push([1, 2]);
    for (let i = 0; i < pieces; i++) deps.push([3 + i]);
    const [s, l] = flat(deps);
    const g = layoutDag(deps.length, s, l);
    expect(g.layers).toBe(3);
    expect(g.maxRows).toBe(pieces);
    expect(g.layer[3 + pieces]).toBe(2);
    // each check sits level with the content it checks, so its edge runs straight
    for (const i of [0, 1, 777, pieces - 1]) expect(g.row[3 + pieces + i]).toBe(g.row[3 + i]);
  });

  it('lays out a 30,000-task chain without recursion (a recursive walk would overflow the stack)', () => {
    const n = 30_000;
    const [s, l] = flat(Array.from({ length: n }, (_, i) => (i === 0 ? [] : [i - 1])));
    const g = layoutDag(n, s, l);
    expect(g.layers).toBe(n);
    expect(g.maxRows).toBe(1);
    expect([g.layer[0], g.layer[n / 2], g.layer[n - 1]]).toEqual([0, n / 2, n - 1]);
  });
});
