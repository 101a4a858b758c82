/**
 * A campaign's task DAG in SVG: columns are layers (longest path from a root), nodes are
 * coloured by status. Only the nodes in the scrolled window are drawn (and the edges into
 * them), so a 100,000-task plan renders as fast as a small one.
 */
import { useMemo, useRef, useState } from 'react';
import { STATUS_OF_LETTER, dagDeps, type DagView as Dag } from '../../../src/shared/types.ts';
import { layoutDag } from '../lib/dag-layout.ts';

const COL_W = 270;
const ROW_H = 34;
const NODE_W = 230;
const NODE_H = 24;
const PAD = 12;

export function DagView({ dag, height = 420, title }: { dag: Dag; height?: number; title: string }) {
  const layout = useMemo(() => layoutDag(dag.count, dag.dep_start, dag.dep_list), [dag]);
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, left: 0 });
  const width = layout.layers * COL_W + PAD * 2;
  const fullH = layout.maxRows * ROW_H + PAD * 2;
  const x = (i: number) => PAD + layout.layer[i]! * COL_W;
  const y = (i: number) => PAD + layout.row[i]! * ROW_H;
  const firstRow = Math.max(0, Math.floor((view.top - PAD) / ROW_H) - 4);
  const lastRow = Math.ceil((view.top + height) / ROW_H) + 4;

  const visible: number[] = [];
  for (const col of layout.byLayer) for (let r = firstRow; r <= Math.min(lastRow, col.length - 1); r++) visible.push(col[r]!);
  const edges: [number, number][] = [];
  for (const v of visible) for (const d of dagDeps(dag, v)) edges.push([d, v]);

  return (
    <div
      ref={ref}
      className="dag"
      style={{ height }}
      onScroll={(e) => setView({ top: e.currentTarget.scrollTop, left: e.currentTarget.scrollLeft })}
      tabIndex={0}
      role="region"
      aria-label={`${title}: task graph, ${dag.count} tasks in ${layout.layers} layers`}
      data-dag-nodes={visible.length}
    >
      <svg width={width} height={fullH} role="img" aria-label={`Task DAG of ${title}`}>
        <g className="edges">
          {edges.map(([a, b]) => (
            <line key={`${a}-${b}`} x1={x(a) + NODE_W} y1={y(a) + NODE_H / 2} x2={x(b)} y2={y(b) + NODE_H / 2} />
          ))}
        </g>
        {visible.map((i) => {
          const status = STATUS_OF_LETTER[dag.statuses[i] ?? 'P'] ?? 'PENDING';
          const skill = dag.skills[dag.skill_of[i] ?? 0];
          return (
            <g key={i} transform={`translate(${x(i)},${y(i)})`} className={`node st-${status}`}>
              <rect width={NODE_W} height={NODE_H} rx={5} />
              <text x={8} y={16}>
                {skill} · {status}
              </text>
              <title>{`task ${i + 1} of ${dag.count}: ${skill} ${status}`}</title>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
