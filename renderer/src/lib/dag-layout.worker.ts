/** Runs layoutDag off the main thread (lib/dag-store.ts sends the DAG, gets the layout back as transferred arrays). */
import { layoutDag } from './dag-layout.ts';

interface Request {
  readonly id: number;
  readonly n: number;
  readonly depStart: Int32Array;
  readonly depList: Int32Array;
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<Request>) => void) | null; postMessage(msg: unknown, transfer: Transferable[]): void };

scope.onmessage = (e) => {
  const { id, n, depStart, depList } = e.data;
  const g = layoutDag(n, depStart, depList);
  // the layers as one flat array (with their offsets), so everything transfers without a copy
  const offsets = new Int32Array(g.layers + 1);
  g.byLayer.forEach((m, L) => (offsets[L + 1] = offsets[L]! + m.length));
  const flat = new Int32Array(offsets[g.layers]!);
  g.byLayer.forEach((m, L) => flat.set(m, offsets[L]!));
  scope.postMessage({ id, layer: g.layer, order: g.order, pos: g.pos, layers: g.layers, span: g.span, crossings: g.crossings, offsets, flat }, [g.layer.buffer, g.order.buffer, g.pos.buffer, offsets.buffer, flat.buffer]);
};
