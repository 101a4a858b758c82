/**
 * Layered layout of a task DAG: a node's layer is the longest path from a root to it, its row
 * its place within the layer, ordered by where its dependencies sit. O(nodes log nodes +
 * edges), iterative (no recursion limit at 100,000).
 */
export interface DagLayout {
  readonly layer: Int32Array;
  readonly row: Int32Array;
  readonly layers: number;
  readonly maxRows: number;
  /** Node indices per layer, in row order. */
  readonly byLayer: readonly Int32Array[];
}

export function layoutDag(n: number, depStart: readonly number[], depList: readonly number[]): DagLayout {
  const layer = new Int32Array(n).fill(-1);
  const indeg = new Int32Array(n);
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
      const d = depList[k]!;
      if (d < 0 || d >= n || d === i) continue;
      children[d]!.push(i);
      indeg[i]! += 1;
    }
  }
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) {
    queue.push(i);
    layer[i] = 0;
  }
  for (let h = 0; h < queue.length; h++) {
    const u = queue[h] as number;
    for (const v of children[u] as number[]) {
      if (layer[v]! < layer[u]! + 1) layer[v] = layer[u]! + 1;
      indeg[v]! -= 1;
      if (indeg[v] === 0) queue.push(v);
    }
  }
  // a cycle (never in a valid plan) leaves nodes unplaced: put them in a last layer
  let layers = 0;
  for (let i = 0; i < n; i++) layers = Math.max(layers, layer[i]! + 1);
  for (let i = 0; i < n; i++) if (layer[i]! < 0) layer[i] = layers;
  if ([...layer].some((l) => l === layers)) layers += 1;
  const counts = new Int32Array(layers);
  for (let i = 0; i < n; i++) counts[layer[i]!]! += 1;
  const members: number[][] = Array.from(counts, () => []);
  for (let i = 0; i < n; i++) members[layer[i]!]!.push(i);
  // one barycentre pass: order each layer by the mean row of its dependencies, so edges run
  // mostly straight (the first layer keeps the store's order)
  const row = new Int32Array(n);
  const byLayer: Int32Array[] = [];
  const key = new Float64Array(n);
  for (let L = 0; L < layers; L++) {
    const m = members[L]!;
    if (L > 0) {
      for (const i of m) {
        let sum = 0;
        let c = 0;
        for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
          const d = depList[k]!;
          if (d >= 0 && d < n && layer[d]! < L) {
            sum += row[d]!;
            c += 1;
          }
        }
        key[i] = c ? sum / c : Number.MAX_SAFE_INTEGER;
      }
      m.sort((a, b) => key[a]! - key[b]! || a - b);
    }
    const out = new Int32Array(m.length);
    m.forEach((i, r) => {
      row[i] = r;
      out[r] = i;
    });
    byLayer.push(out);
  }
  let maxRows = 0;
  for (const c of counts) maxRows = Math.max(maxRows, c);
  return { layer, row, layers, maxRows, byLayer };
}
