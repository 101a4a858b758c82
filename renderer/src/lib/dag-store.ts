/**
 * The task graph's data and layout, kept per campaign so switching back to a campaign draws
 * at once: `useDag(campaignId)` answers the last DAG fetched for that campaign while a fresh
 * one loads (refetched on pushed changes, at most every 1.5 s, less often for large graphs),
 * `usePrefetchDags(ids)` fetches the others ahead, and `useDagLayout(dag)` lays
 * it out in a Web Worker (lib/dag-layout.worker.ts; on the main thread where a worker cannot
 * start), reusing the layout while the graph's shape stays the same (a run changes statuses,
 * not edges).
 */
import { useEffect, useRef, useState } from 'react';
import type { DagView } from '../../../src/shared/types.ts';
import { useChannel, useStudio } from './studio.tsx';
import { layoutDag, type DagLayout } from './dag-layout.ts';

const KEEP = 6;
const dags = new Map<string, DagView>();
const layouts = new Map<string, DagLayout>();
const inflight = new Map<string, Promise<DagLayout>>();

function remember<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
  while (m.size > KEEP) m.delete(m.keys().next().value as string);
  // how many graphs are held, laid out, for tools and the benchmark (data-dags-laid-out on <html>)
  document.documentElement.dataset.dagsLaidOut = String([...dags.values()].filter((d) => layouts.has(shapeKey(d))).length);
}

/** The DAG of `campaignId`: the fresh answer once it is there, the last one seen until then (null when none). */
export function useDag(campaignId: string | null): { data: DagView | null; fresh: boolean } {
  // a large graph costs the core ~4 ms per 1,000 tasks to read: while a run pushes changes, refetch
  // it at most every 1.5 s, and every 5 s at 100,000 tasks
  const held = campaignId ? dags.get(campaignId) : undefined;
  const q = useChannel('campaigns/dag', campaignId ? { campaign_id: campaignId } : null, { throttle_ms: Math.max(1500, (held?.count ?? 0) / 20) });
  const fresh = q.data && q.data.campaign_id === campaignId ? q.data : null;
  useEffect(() => {
    if (fresh) remember(dags, fresh.campaign_id, fresh);
  }, [fresh]);
  return { data: fresh ?? (campaignId ? (dags.get(campaignId) ?? null) : null), fresh: fresh !== null };
}

/**
 * Fetches and lays out, one at a time and after the page has settled, the graphs of `ids` not
 * held yet (at most as many as the cache keeps), so the first switch to one of them draws at
 * once from this copy (and its fresh copy follows, as on any switch).
 */
export function usePrefetchDags(ids: readonly string[]): void {
  const { api } = useStudio();
  const key = ids.join(',');
  useEffect(() => {
    let live = true;
    const todo = key.split(',').filter((id) => id && !dags.has(id) && !prefetched.has(id)).slice(0, KEEP - 1);
    const timer = setTimeout(() => {
      void (async () => {
        for (const id of todo) {
          if (!live || dags.has(id)) continue;
          prefetched.add(id);
          try {
            const dag = await api['campaigns/dag']({ campaign_id: id });
            if (!dags.has(id)) remember(dags, id, dag);
            const k = shapeKey(dag);
            if (!layouts.has(k)) remember(layouts, k, await layOut(dag));
          } catch {
            prefetched.delete(id); // the next visit fetches it as usual
          }
        }
      })();
    }, 1000);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, key]);
}
const prefetched = new Set<string>();

/** What identifies a graph's shape: tasks are only ever added to a campaign, so its size and edge count. */
export function shapeKey(dag: DagView): string {
  return `${dag.campaign_id}:${dag.count}:${dag.dep_list.length}`;
}

let worker: Worker | null | undefined;
let nextId = 1;
const waiting = new Map<number, (g: DagLayout | null) => void>();

function getWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./dag-layout.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<{ id: number; layer: Int32Array; order: Int32Array; pos: Float64Array; layers: number; span: number; crossings: number; offsets: Int32Array; flat: Int32Array }>) => {
      const r = e.data;
      const byLayer: Int32Array[] = [];
      for (let L = 0; L < r.layers; L++) byLayer.push(r.flat.subarray(r.offsets[L]!, r.offsets[L + 1]!));
      waiting.get(r.id)?.({ layer: r.layer, order: r.order, pos: r.pos, layers: r.layers, span: r.span, crossings: r.crossings, byLayer });
      waiting.delete(r.id);
    };
    worker.onerror = () => {
      // a worker that cannot load (file:// in some shells, a strict policy): lay out here instead
      worker = null;
      for (const done of waiting.values()) done(null);
      waiting.clear();
    };
  } catch {
    worker = null;
  }
  return worker;
}

function layOut(dag: DagView): Promise<DagLayout> {
  const w = getWorker();
  const inline = () => layoutDag(dag.count, dag.dep_start, dag.dep_list);
  if (!w) return Promise.resolve(inline());
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, (g) => resolve(g ?? inline()));
    w.postMessage({ id, n: dag.count, depStart: Int32Array.from(dag.dep_start), depList: Int32Array.from(dag.dep_list) });
  });
}

/**
 * The layout of `dag`: at once when its shape was laid out before; while a new shape of the
 * same campaign is laid out (a re-plan added tasks), the previous one (it covers the tasks it
 * knew: the caller skips the others); null until the worker answers for a campaign not seen.
 */
export function useDagLayout(dag: DagView): DagLayout | null {
  const key = shapeKey(dag);
  const [, setDone] = useState(0);
  const last = useRef<{ campaign: string; layout: DagLayout } | null>(null);
  const exact = layouts.get(key) ?? null;
  if (exact) last.current = { campaign: dag.campaign_id, layout: exact };
  const cached = exact ?? (last.current?.campaign === dag.campaign_id ? last.current.layout : null);
  useEffect(() => {
    if (layouts.has(key)) return;
    let live = true;
    let p = inflight.get(key);
    if (!p) {
      p = layOut(dag).then((g) => {
        remember(layouts, key, g);
        inflight.delete(key);
        return g;
      });
      inflight.set(key, p);
    }
    void p.then(() => {
      if (live) setDone((d) => d + 1);
    });
    return () => {
      live = false;
    };
  }, [key]); // the layout depends on the shape only (the statuses change, the edges do not)
  return cached;
}
