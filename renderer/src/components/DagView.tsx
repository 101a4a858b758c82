/**
 * A campaign's task DAG in SVG, laid out in aligned layers (lib/dag-layout.ts, in a worker):
 * columns are layers, each node sits level with its neighbours, nodes are coloured by status.
 * Only the nodes in the scrolled window are drawn (binary search per visible layer), so a
 * 100,000-task plan renders as fast as a small one. Labels are fitted to their node (the full
 * text in the node's tooltip); a status filter hides nodes; a click (or Enter or Space) on a
 * node opens the task's contents in the view's contents drawer (ContentsDrawer.tsx), and the
 * node stays marked while it is open.
 */
import { useMemo, useState, type KeyboardEvent } from 'react';
import { STATUS_LETTERS, STATUS_OF_LETTER, TASK_STATUSES, type DagView as Dag, type TaskStatus } from '../../../src/shared/types.ts';
import type { DagLayout } from '../lib/dag-layout.ts';
import { useDagLayout } from '../lib/dag-store.ts';
import { fitText } from '../lib/text-fit.ts';
import { isActivation, shownNode } from '../lib/contents.ts';
import { useContents } from './ContentsDrawer.tsx';

const COL_W = 270;
const ROW_H = 34;
const NODE_W = 230;
const NODE_H = 24;
const PAD = 12;
const OVERSCAN = 4;
const LABEL_FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** The first index in `m` (ascending by pos) whose position is >= y. */
function lowerBound(m: Int32Array, pos: Float64Array, y: number): number {
  let lo = 0;
  let hi = m.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pos[m[mid]!]! < y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function DagView({ dag, height = 420, title }: { dag: Dag; height?: number; title: string }) {
  const layout = useDagLayout(dag);
  const [shown, setShown] = useState<ReadonlySet<TaskStatus>>(() => new Set(TASK_STATUSES));
  const contents = useContents();
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (let i = 0; i < dag.statuses.length; i++) c[dag.statuses[i]!] = (c[dag.statuses[i]!] ?? 0) + 1;
    return c;
  }, [dag.statuses]);
  const toggle = (s: TaskStatus) =>
    setShown((cur) => {
      const next = new Set(cur);
      if (next.has(s)) next.delete(s);
      else next.add(s);
      return next;
    });
  // the node whose contents the drawer shows (none while it shows something else)
  const open = shownNode(contents.current, dag.campaign_id, dag.count);
  const select = (index: number) => contents.open({ kind: 'task', task: { campaign_id: dag.campaign_id, index, count: dag.count } });

  return (
    <div className="dag-box">
      <fieldset className="dag-filter">
        <legend>Show tasks that are</legend>
        {TASK_STATUSES.map((s) => (
          <label key={s} className={`inline badge st-${s}`}>
            <input type="checkbox" checked={shown.has(s)} onChange={() => toggle(s)} />
            {s} <span className="num">{(counts[STATUS_LETTERS[s]] ?? 0).toLocaleString()}</span>
          </label>
        ))}
      </fieldset>
      <div className="dag-wrap">
        {layout ? (
          <DagCanvas dag={dag} layout={layout} height={height} title={title} shown={shown} selected={open} onSelect={select} />
        ) : (
          <p className="dag muted" style={{ height }} aria-busy="true">
            Laying out {dag.count.toLocaleString()} tasks…
          </p>
        )}
      </div>
    </div>
  );
}

function DagCanvas({ dag, layout, height, title, shown, selected, onSelect }: { dag: Dag; layout: DagLayout; height: number; title: string; shown: ReadonlySet<TaskStatus>; selected: number | null; onSelect: (i: number) => void }) {
  const [view, setView] = useState({ top: 0, left: 0, width: 1200 });
  const width = layout.layers * COL_W + PAD * 2;
  const fullH = Math.ceil(layout.span) * ROW_H + PAD * 2;
  const x = (i: number) => PAD + layout.layer[i]! * COL_W;
  const y = (i: number) => PAD + layout.pos[i]! * ROW_H;
  const visibleStatus = (i: number) => shown.has(STATUS_OF_LETTER[dag.statuses[i] ?? 'P'] ?? 'PENDING');

  const firstCol = Math.max(0, Math.floor((view.left - PAD) / COL_W) - 1);
  const lastCol = Math.min(layout.layers - 1, Math.ceil((view.left + view.width) / COL_W) + 1);
  const yFrom = (view.top - PAD) / ROW_H - OVERSCAN;
  const yTo = (view.top + height - PAD) / ROW_H + OVERSCAN;
  const visible: number[] = [];
  for (let L = firstCol; L <= lastCol; L++) {
    const m = layout.byLayer[L]!;
    for (let r = lowerBound(m, layout.pos, yFrom); r < m.length && layout.pos[m[r]!]! <= yTo; r++) if (visibleStatus(m[r]!)) visible.push(m[r]!);
  }
  const edges: [number, number][] = [];
  // (a layout kept while a grown graph is laid out again knows only its first `known` tasks)
  const known = layout.layer.length;
  for (const v of visible) for (let k = dag.dep_start[v]!; k < dag.dep_start[v + 1]!; k++) {
    const d = dag.dep_list[k]!;
    if (d < known && visibleStatus(d)) edges.push([d, v]);
  }
  const key = (e: KeyboardEvent, i: number) => {
    if (isActivation(e.key)) {
      e.preventDefault();
      onSelect(i);
    }
  };

  return (
    <div
      className="dag"
      style={{ height }}
      onScroll={(e) => setView({ top: e.currentTarget.scrollTop, left: e.currentTarget.scrollLeft, width: e.currentTarget.clientWidth })}
      tabIndex={0}
      role="region"
      aria-label={`${title}: task graph, ${dag.count} tasks in ${layout.layers} layers`}
      data-dag-nodes={visible.length}
    >
      <svg width={width} height={fullH} role="group" aria-label={`Task DAG of ${title}`}>
        <g className="edges">
          {edges.map(([a, b]) => {
            const x1 = x(a) + NODE_W;
            const y1 = y(a) + NODE_H / 2;
            const x2 = x(b);
            const y2 = y(b) + NODE_H / 2;
            const mx = (x1 + x2) / 2;
            return <path key={`${a}-${b}`} d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`} />;
          })}
        </g>
        {visible.map((i) => {
          const status = STATUS_OF_LETTER[dag.statuses[i] ?? 'P'] ?? 'PENDING';
          const skill = dag.skills[dag.skill_of[i] ?? 0] ?? '?';
          const full = `${skill} · ${status}`;
          return (
            <g
              key={i}
              transform={`translate(${x(i)},${y(i)})`}
              className={`node st-${status}${selected === i ? ' sel' : ''}`}
              role="button"
              tabIndex={0}
              aria-label={`Task ${i + 1} of ${dag.count}: ${skill}, ${status}`}
              aria-pressed={selected === i}
              onClick={() => onSelect(i)}
              onKeyDown={(e) => key(e, i)}
            >
              <rect width={NODE_W} height={NODE_H} rx={5} />
              <text x={8} y={16}>
                {fitText(full, NODE_W - 16, LABEL_FONT)}
              </text>
              <title>{`task ${i + 1} of ${dag.count}: ${skill} ${status}`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
