/** Small SVG charts (no chart library): bars, lines and a labelled frame. */
import type { ReactNode } from 'react';

const W = 520;
const H = 180;
const PAD = { l: 40, r: 10, t: 10, b: 24 };

function Frame({ title, max, children, xLabel }: { title: string; max: number; children: ReactNode; xLabel: string }) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title} preserveAspectRatio="none">
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} className="axis" />
        <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} className="axis" />
        <text x={PAD.l - 4} y={PAD.t + 8} className="tick" textAnchor="end">
          {fmt(max)}
        </text>
        <text x={PAD.l - 4} y={H - PAD.b} className="tick" textAnchor="end">
          0
        </text>
        <text x={(W + PAD.l) / 2} y={H - 4} className="tick" textAnchor="middle">
          {xLabel}
        </text>
        {children}
      </svg>
    </figure>
  );
}

const fmt = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n * 100) / 100));

export function BarChart({ title, values, labels, xLabel, className = 'bar' }: { title: string; values: readonly number[]; labels?: readonly string[]; xLabel: string; className?: string }) {
  const max = Math.max(1, ...values);
  const n = Math.max(1, values.length);
  const bw = (W - PAD.l - PAD.r) / n;
  return (
    <Frame title={title} max={max} xLabel={xLabel}>
      {values.map((v, i) => {
        const h = ((H - PAD.t - PAD.b) * v) / max;
        return (
          <rect key={i} x={PAD.l + i * bw + bw * 0.1} y={H - PAD.b - h} width={Math.max(0.5, bw * 0.8)} height={h} className={className}>
            <title>{`${labels?.[i] ?? i}: ${v}`}</title>
          </rect>
        );
      })}
    </Frame>
  );
}

export function LineChart({ title, series, xLabel }: { title: string; series: readonly { name: string; values: readonly number[]; className: string }[]; xLabel: string }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const x = (i: number) => PAD.l + ((W - PAD.l - PAD.r) * i) / (n - 1);
  const y = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / max;
  return (
    <Frame title={title} max={max} xLabel={xLabel}>
      {series.map((s) => (
        <polyline key={s.name} className={`line ${s.className}`} points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}>
          <title>{s.name}</title>
        </polyline>
      ))}
      {series.map((s, i) => (
        <text key={`l-${s.name}`} x={W - PAD.r - 4} y={PAD.t + 12 + i * 14} className={`legend ${s.className}`} textAnchor="end">
          {s.name}
        </text>
      ))}
    </Frame>
  );
}
