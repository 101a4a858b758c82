/**
 * Layered layout of a task DAG: a node's layer is the longest path from a root to it, its row
 * its order within the layer. O(nodes + edges), iterative (no recursion limit at 100,000).
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
  const row = new Int32Array(n);
  for (let i = 0; i < n; i++) row[i] = counts[layer[i]!]!++;
  const byLayer = Array.from(counts, (c) => new Int32Array(c));
  for (let i = 0; i < n; i++) byLayer[layer[i]!]![row[i]!] = i;
  let maxRows = 0;
  for (const c of counts) maxRows = Math.max(maxRows, c);
  return { layer, row, layers, maxRows, byLayer };
}
