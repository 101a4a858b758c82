/**
 * The task graph's layered layout (renderer/src/lib/dag-layout.ts): longest-path layers,
 * barycentre ordering that reduces crossings, layers aligned to their neighbours (not stacked
 * from the top), deterministic, at 100,000 tasks too.
 */
import { describe, expect, it } from 'vitest';
import { countCrossings, layoutDag, spacedLeastSquares, type DagLayout } from '../../renderer/src/lib/dag-layout.ts';

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

/** Every layer's positions ascend with its order, at least 1 apart; the smallest position is 0. */
function checkPositions(g: DagLayout) {
  let min = Infinity;
  for (const m of g.byLayer) {
    m.forEach((v, r) => {
      expect(g.order[v]).toBe(r);
      if (r > 0) expect(g.pos[v]! - g.pos[m[r - 1]!]!).toBeGreaterThanOrEqual(1 - 1e-9);
      min = Math.min(min, g.pos[v]!);
    });
  }
  expect(min).toBeCloseTo(0);
}

/** A seeded layered graph: `layers` layers of `width` nodes, each node depending on 1–3 nodes of the layer before. */
function randomLayered(seed: number, layers: number, width: number): number[][] {
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const deps: number[][] = [];
  for (let L = 0; L < layers; L++) {
    for (let i = 0; i < width; i++) {
      if (L === 0) deps.push([]);
      else {
        const k = 1 + Math.floor(rnd() * 3);
        const ds = new Set<number>();
        while (ds.size < k) ds.add((L - 1) * width + Math.floor(rnd() * width));
        deps.push([...ds]);
      }
    }
  }
  return deps;
}

describe('layoutDag', () => {
  it('puts each node one layer past its deepest dependency', () => {
    // 0 → 2, 1 → 2, 2 → 3, 0 → 3
    const [s, l] = flat([[], [], [0, 1], [2, 0]]);
    const g = layoutDag(4, s, l);
    expect([...g.layer]).toEqual([0, 0, 1, 2]);
    expect(g.layers).toBe(3);
    expect(g.byLayer.map((x) => [...x].sort())).toEqual([[0, 1], [2], [3]]);
    checkPositions(g);
  });

  it('survives a cycle (never in a valid plan) by putting its nodes in a last layer', () => {
    const [s, l] = flat([[], [2], [1]]);
    const g = layoutDag(3, s, l);
    expect([...g.layer]).toEqual([0, 1, 1]);
    expect(g.layers).toBe(2);
  });

  it('untangles crossing edges', () => {
    // layer 0: a, b; layer 1: c depends on b, d depends on a → in input order the edges cross
    const [s, l] = flat([[], [], [1], [0]]);
    expect(layoutDag(4, s, l, { sweeps: 0 }).crossings).toBe(1);
    const g = layoutDag(4, s, l);
    expect(g.crossings).toBe(0);
    expect(g.order[2]! < g.order[3]!).toBe(g.order[1]! < g.order[0]!);
  });

  it('reduces crossings on random layered graphs, and counts them right', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const deps = randomLayered(seed, 5, 40);
      const [s, l] = flat(deps);
      const before = layoutDag(deps.length, s, l, { sweeps: 0 });
      const after = layoutDag(deps.length, s, l);
      expect({ seed, fewer: after.crossings < before.crossings }).toEqual({ seed, fewer: true });
      // the accumulator-tree count equals a brute-force count over edge pairs
      const edges: [number, number][] = [];
      deps.forEach((ds, v) => ds.forEach((d) => edges.push([after.order[d]! + 1000 * after.layer[d]!, after.order[v]!])));
      let brute = 0;
      for (let i = 0; i < edges.length; i++)
        for (let j = i + 1; j < edges.length; j++) {
          const [a1, b1] = edges[i]!;
          const [a2, b2] = edges[j]!;
          if (Math.floor(a1 / 1000) === Math.floor(a2 / 1000) && (a1 - a2) * (b1 - b2) < 0) brute++;
        }
      expect(after.crossings).toBe(brute);
      checkPositions(after);
    }
  });

  it('is deterministic', () => {
    const deps = randomLayered(9, 6, 60);
    const [s, l] = flat(deps);
    const a = layoutDag(deps.length, s, l);
    const b = layoutDag(deps.length, s, l);
    expect([...a.pos]).toEqual([...b.pos]);
    expect([...a.order]).toEqual([...b.order]);
  });

  it('aligns a small layer with its neighbours instead of stacking it from the top', () => {
    // one root with 21 children: the root sits level with the middle child
    const deps: number[][] = [[]];
    for (let i = 0; i < 21; i++) deps.push([0]);
    const [s, l] = flat(deps);
    const g = layoutDag(deps.length, s, l);
    expect(g.span).toBe(21);
    expect(g.pos[0]).toBeCloseTo(10);
  });

  it('lays out a 100,003-task plan (the Planner’s shape) with its layers lined up', () => {
    const pieces = 50_000;
    // plan, trend, audience; content_i depends on trend+audience; check_i on content_i
    const deps: number[][] = [[], [], []];
    for (let i = 0; i < pieces; i++) deps.push([1, 2]);
    for (let i = 0; i < pieces; i++) deps.push([3 + i]);
    const [s, l] = flat(deps);
    const g = layoutDag(deps.length, s, l);
    expect(g.layers).toBe(3);
    expect(g.span).toBe(pieces);
    expect(g.layer[3 + pieces]).toBe(2);
    // each check sits level with the content it checks, so its edge runs straight
    for (const i of [0, 1, 777, pieces - 1]) expect(g.pos[3 + pieces + i]).toBe(g.pos[3 + i]);
    // trend and audience sit by the middle of the contents that depend on them, not at the top
    expect(Math.abs(g.pos[1]! - pieces / 2)).toBeLessThan(3);
    expect(Math.abs(g.pos[2]! - pieces / 2)).toBeLessThan(3);
    // content_i × content_j edges to trend and audience always cross: no order does better than the store's
    expect(g.crossings).toBeLessThanOrEqual(layoutDag(deps.length, s, l, { sweeps: 0 }).crossings);
  });

  it('lays out a 30,000-task chain without recursion (a recursive walk would overflow the stack)', () => {
    const n = 30_000;
    const [s, l] = flat(Array.from({ length: n }, (_, i) => (i === 0 ? [] : [i - 1])));
    const g = layoutDag(n, s, l);
    expect(g.layers).toBe(n);
    expect(g.span).toBe(1);
    expect([g.layer[0], g.layer[n / 2], g.layer[n - 1]]).toEqual([0, n / 2, n - 1]);
  });
});

describe('spacedLeastSquares', () => {
  it('keeps wanted positions that are already 1 apart, and spreads a crowd around its mean', () => {
    expect([...spacedLeastSquares([0, 5, 9])]).toEqual([0, 5, 9]);
    expect([...spacedLeastSquares([4, 4, 4])]).toEqual([3, 4, 5]);
    expect([...spacedLeastSquares([10, 0])]).toEqual([4.5, 5.5]);
  });
});

describe('countCrossings', () => {
  it('counts a full crossing of k edges as k(k-1)/2', () => {
    // layer 0: 0..3, layer 1: 4..7 with i → 7 - i
    const layer = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
    const order = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    const members = [Int32Array.from([0, 1, 2, 3]), Int32Array.from([4, 5, 6, 7])];
    const childStart = Int32Array.from([0, 1, 2, 3, 4, 4, 4, 4, 4]);
    const childList = Int32Array.from([7, 6, 5, 4]);
    expect(countCrossings(layer, order, members, childStart, childList)).toBe(6);
  });
});
