/**
 * Layered layout of a task DAG (Sugiyama style, without dummy nodes), deterministic and
 * iterative (no recursion limit at 100,000 nodes):
 * 1. layers: a node's layer is the longest path from a root to it (Kahn's order);
 * 2. order within a layer: barycentre sweeps (down over dependencies, up over dependents),
 *    keeping the order with the fewest crossings between adjacent layers (counted with an
 *    accumulator tree, O(edges log nodes));
 * 3. positions: the widest layer is packed (0, 1, 2, …); every other layer is placed where its
 *    neighbours are (the mean position of its already placed neighbours), as close as the
 *    order and a spacing of 1 allow (least squares: pool-adjacent-violators). So layers line
 *    up with each other instead of each being stacked from the top.
 * Positions are in row units (multiply by a row height); the smallest is 0.
 */
export interface DagLayout {
  readonly layer: Int32Array;
  /** Rank within its layer (0 = first). */
  readonly order: Int32Array;
  /** Position along the layer, in row units (>= 0, >= 1 apart within a layer, increasing with order). */
  readonly pos: Float64Array;
  readonly layers: number;
  /** Largest position + 1: the layout's extent along the layers. */
  readonly span: number;
  /** Node indices per layer, in order (so positions ascend). */
  readonly byLayer: readonly Int32Array[];
  /** Crossings between adjacent layers in the chosen order. */
  readonly crossings: number;
}

export interface LayoutOptions {
  /** Barycentre sweeps (each one down and one up); 0 keeps the input order. */
  readonly sweeps?: number;
}

export function layoutDag(n: number, depStart: ArrayLike<number>, depList: ArrayLike<number>, opts: LayoutOptions = {}): DagLayout {
  const sweeps = opts.sweeps ?? 3;
  // ---- adjacency (valid dependencies only), both ways, as flat arrays
  const indeg = new Int32Array(n);
  const outCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
      const d = depList[k]!;
      if (d < 0 || d >= n || d === i) continue;
      outCount[d]! += 1;
      indeg[i]! += 1;
    }
  }
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childStart[i + 1] = childStart[i]! + outCount[i]!;
  const childList = new Int32Array(childStart[n]!);
  const fill = childStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
      const d = depList[k]!;
      if (d < 0 || d >= n || d === i) continue;
      childList[fill[d]!++] = i;
    }
  }

  // ---- 1. longest-path layers
  const layer = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let qt = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) {
    queue[qt++] = i;
    layer[i] = 0;
  }
  const remaining = indeg.slice();
  for (let h = 0; h < qt; h++) {
    const u = queue[h]!;
    for (let k = childStart[u]!; k < childStart[u + 1]!; k++) {
      const v = childList[k]!;
      if (layer[v]! < layer[u]! + 1) layer[v] = layer[u]! + 1;
      if (--remaining[v]! === 0) queue[qt++] = v;
    }
  }
  // a cycle (never in a valid plan) leaves nodes unplaced: put them in a last layer
  let layers = 0;
  for (let i = 0; i < n; i++) layers = Math.max(layers, layer[i]! + 1);
  if (qt < n) {
    for (let i = 0; i < n; i++) if (layer[i]! < 0) layer[i] = layers;
    layers += 1;
  }
  const members: Int32Array[] = [];
  {
    const counts = new Int32Array(layers);
    for (let i = 0; i < n; i++) counts[layer[i]!]! += 1;
    for (let L = 0; L < layers; L++) members.push(new Int32Array(counts[L]!));
    const at = new Int32Array(layers);
    for (let i = 0; i < n; i++) members[layer[i]!]![at[layer[i]!]!++] = i; // index order: the store's order
  }

  // ---- 2. order by barycentre sweeps
  const order = new Int32Array(n);
  const setOrder = (L: number) => members[L]!.forEach((v, r) => (order[v] = r));
  for (let L = 0; L < layers; L++) setOrder(L);
  const key = new Float64Array(n);
  /** Orders layer L by the mean order of its neighbours in layer `towards` (dependencies when towards < L); nodes without any keep their place. */
  const reorder = (L: number, up: boolean) => {
    const m = members[L]!;
    for (let r = 0; r < m.length; r++) {
      const v = m[r]!;
      let sum = 0;
      let c = 0;
      if (!up) {
        for (let k = depStart[v]!; k < depStart[v + 1]!; k++) {
          const d = depList[k]!;
          if (d >= 0 && d < n && layer[d]! < L) {
            sum += order[d]! / Math.max(1, members[layer[d]!]!.length);
            c += 1;
          }
        }
      } else {
        for (let k = childStart[v]!; k < childStart[v + 1]!; k++) {
          const w = childList[k]!;
          if (layer[w]! > L) {
            sum += order[w]! / Math.max(1, members[layer[w]!]!.length);
            c += 1;
          }
        }
      }
      // normalised to the neighbour layers' sizes, so layers of different widths interleave
      key[v] = c ? sum / c : r / Math.max(1, m.length);
    }
    const sorted = Array.from(m).sort((a, b) => key[a]! - key[b]! || order[a]! - order[b]!);
    members[L] = Int32Array.from(sorted);
    setOrder(L);
  };
  let best = countCrossings(layer, order, members, childStart, childList);
  let bestOrder = members.map((m) => m.slice());
  for (let s = 0; s < sweeps && best > 0; s++) {
    for (let L = 1; L < layers; L++) reorder(L, false);
    for (let L = layers - 2; L >= 0; L--) reorder(L, true);
    const c = countCrossings(layer, order, members, childStart, childList);
    // a sweep that does not help ends the search (the next one would start from a worse order)
    if (c >= best) break;
    best = c;
    bestOrder = members.map((m) => m.slice());
  }
  for (let L = 0; L < layers; L++) {
    members[L] = bestOrder[L]!;
    setOrder(L);
  }

  // ---- 3. positions: pack the widest layer, align the others to their neighbours
  const pos = new Float64Array(n).fill(Number.NaN);
  let widest = 0;
  for (let L = 1; L < layers; L++) if (members[L]!.length > members[widest]!.length) widest = L;
  members[widest]?.forEach((v, r) => (pos[v] = r));
  const desired = (L: number, useDeps: boolean): Float64Array => {
    const m = members[L]!;
    const want = new Float64Array(m.length);
    let prev = Number.NaN;
    for (let r = 0; r < m.length; r++) {
      const v = m[r]!;
      let sum = 0;
      let c = 0;
      if (useDeps) {
        for (let k = depStart[v]!; k < depStart[v + 1]!; k++) {
          const d = depList[k]!;
          if (d >= 0 && d < n && !Number.isNaN(pos[d]!)) {
            sum += pos[d]!;
            c += 1;
          }
        }
      } else {
        for (let k = childStart[v]!; k < childStart[v + 1]!; k++) {
          const w = childList[k]!;
          if (!Number.isNaN(pos[w]!)) {
            sum += pos[w]!;
            c += 1;
          }
        }
      }
      // no placed neighbour: right after the previous node
      want[r] = c ? sum / c : Number.isNaN(prev) ? 0 : prev + 1;
      prev = want[r]!;
    }
    return want;
  };
  const place = (L: number, want: Float64Array) => {
    const y = spacedLeastSquares(want);
    members[L]!.forEach((v, r) => (pos[v] = y[r]!));
  };
  for (let L = widest - 1; L >= 0; L--) place(L, desired(L, false));
  for (let L = widest + 1; L < layers; L++) place(L, desired(L, true));
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, pos[i]!);
    max = Math.max(max, pos[i]!);
  }
  if (n) for (let i = 0; i < n; i++) pos[i] = pos[i]! - min;
  return { layer, order, pos, layers, span: n ? max - min + 1 : 0, byLayer: members, crossings: best };
}

/**
 * Positions y (one per node, in order) closest to `want` in least squares with y[i+1] >= y[i] + 1:
 * with z[i] = y[i] - i the constraint is z non-decreasing, an isotonic regression of
 * want[i] - i, solved in O(n) by pooling adjacent violators.
 */
export function spacedLeastSquares(want: ArrayLike<number>): Float64Array {
  const n = want.length;
  const mean = new Float64Array(n);
  const size = new Int32Array(n);
  let blocks = 0;
  for (let i = 0; i < n; i++) {
    mean[blocks] = want[i]! - i;
    size[blocks] = 1;
    blocks++;
    while (blocks > 1 && mean[blocks - 2]! > mean[blocks - 1]!) {
      const a = size[blocks - 2]!;
      const b = size[blocks - 1]!;
      mean[blocks - 2] = (mean[blocks - 2]! * a + mean[blocks - 1]! * b) / (a + b);
      size[blocks - 2] = a + b;
      blocks--;
    }
  }
  const y = new Float64Array(n);
  let i = 0;
  for (let b = 0; b < blocks; b++) for (let k = 0; k < size[b]!; k++, i++) y[i] = mean[b]! + i;
  return y;
}

/**
 * Crossings between adjacent layers: for each pair (L, L+1), edges sorted by their end in L
 * then in L+1, and the inversions of the second ends counted with an accumulator tree.
 */
export function countCrossings(layer: Int32Array, order: Int32Array, members: readonly Int32Array[], childStart: Int32Array, childList: Int32Array): number {
  let total = 0;
  let most = 0;
  for (let v = 0; v + 1 < childStart.length; v++) most = Math.max(most, childStart[v + 1]! - childStart[v]!);
  const ends = new Int32Array(most);
  for (let L = 0; L + 1 < members.length; L++) {
    const top = members[L]!;
    const width = members[L + 1]!.length;
    if (!width) continue;
    let size = 1;
    while (size < width) size *= 2;
    const tree = new Int32Array(2 * size);
    // edges in order of their end in L (top is in order), then of their end in L+1
    for (let r = 0; r < top.length; r++) {
      const v = top[r]!;
      let k = 0;
      for (let c = childStart[v]!; c < childStart[v + 1]!; c++) {
        const w = childList[c]!;
        if (layer[w] === L + 1) ends[k++] = order[w]!;
      }
      const mine = ends.subarray(0, k);
      if (k > 1) mine.sort();
      for (let j = 0; j < k; j++) {
        // edges already inserted ending after this one's end cross it
        let idx = mine[j]! + size;
        tree[idx]! += 1;
        while (idx > 1) {
          if ((idx & 1) === 0) total += tree[idx + 1]!;
          idx >>= 1;
          tree[idx]! += 1;
        }
      }
    }
  }
  return total;
}
