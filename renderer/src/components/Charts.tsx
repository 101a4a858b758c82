/**
 * Charts drawn by uPlot (a canvas time-series library: ~50 KB, draws 100,000 points in a few
 * ms): axes with values and gridlines, a live legend with the values under the cursor, and
 * range selection (drag across a time chart) published through lib/tick-range.ts. Time series
 * are downsampled to min/max per pixel bucket (lib/downsample.ts) before uPlot sees them.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { downsampleMinMax } from '../lib/downsample.ts';
import { currentTickRange, selectTickRange, useTickRange, type TickRange } from '../lib/tick-range.ts';

const HEIGHT = 200;

/** The page's theme (data-theme on <html>): charts are drawn again in its colours when it changes. */
function useTheme(): string {
  const [theme, setTheme] = useState(() => document.documentElement.dataset.theme ?? '');
  useEffect(() => {
    const mo = new MutationObserver(() => setTheme(document.documentElement.dataset.theme ?? ''));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);
  return theme;
}

/** A CSS variable of the page's theme, as a colour the canvas understands. */
function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Whole-number steps for axes of ticks and counts (never 0.25 of a tick). */
const INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

const fmt = (n: number) => (Math.abs(n) >= 10_000 ? `${Math.round(n / 1000)}k` : Math.abs(n) >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n * 100) / 100));

function axes(xLabel: string, yLabel: string, xValues?: (self: uPlot, splits: number[]) => string[], xSplits?: () => number[]): uPlot.Axis[] {
  const stroke = cssVar('--muted', '#5d6670');
  const grid = { stroke: cssVar('--border', '#d8dde3'), width: 1 };
  return [
    { label: xLabel, stroke, grid, ticks: grid, incrs: INCRS, values: xValues ?? ((_, splits) => splits.map(fmt)), ...(xSplits ? { splits: xSplits } : {}), labelSize: 18, size: 32 },
    { label: yLabel, stroke, grid, ticks: grid, incrs: INCRS, values: (_, splits) => splits.map(fmt), labelSize: 18, size: 44 },
  ];
}

/** Creates the plot once per `shape`, feeds it `data` on change, fits it to its box; records each draw's time on the element. */
function UPlotBox({ title, shape, opts, data, onPlot }: { title: string; shape: string; opts: (width: number) => uPlot.Options; data: uPlot.AlignedData; onPlot?: (u: uPlot | null) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const optsRef = useRef(opts);
  optsRef.current = opts;
  const dataRef = useRef(data);
  dataRef.current = data;
  const onPlotRef = useRef(onPlot);
  onPlotRef.current = onPlot;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let u: uPlot | null = null;
    let ro: ResizeObserver | null = null;
    // each chart is built in a task of its own, so a view of five charts never blocks the page in one long task
    const timer = setTimeout(() => {
      const t0 = performance.now();
      const o = optsRef.current(Math.max(200, el.clientWidth));
      // the axis values uPlot drew, on the element (for tests and tools: the canvas holds no text)
      const drawn = (p: uPlot) => {
        const values = (i: number) => ((p.axes[i] as { _values?: unknown[] })._values ?? []).filter((v) => v !== '' && v !== null).join(' ');
        el.dataset.xValues = values(0);
        el.dataset.yValues = values(1);
      };
      o.hooks = { ...o.hooks, draw: [...(o.hooks?.draw ?? []), drawn] };
      const plotNow = new uPlot(o, dataRef.current, el);
      u = plotNow;
      el.dataset.drawMs = (performance.now() - t0).toFixed(1);
      plot.current = plotNow;
      onPlotRef.current?.(plotNow);
      ro = new ResizeObserver(() => {
        const w = Math.max(200, el.clientWidth);
        if (Math.abs(w - plotNow.width) > 1) plotNow.setSize({ width: w, height: HEIGHT });
      });
      ro.observe(el);
    }, 0);
    return () => {
      clearTimeout(timer);
      ro?.disconnect();
      if (u) {
        onPlotRef.current?.(null);
        (u as uPlot).destroy();
      }
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    const u = plot.current;
    const el = box.current;
    // (a plot not built yet starts from the newest data)
    if (!u || !el || u.data === data) return;
    const t0 = performance.now();
    u.setData(data);
    el.dataset.drawMs = (performance.now() - t0).toFixed(1);
  }, [data]);

  return <div ref={box} className="uplot-box" role="img" aria-label={title} data-points={data[0]?.length ?? 0} />;
}

export interface TimeSeries {
  readonly name: string;
  readonly values: ArrayLike<number>;
  /** A theme colour variable: '--s1' … '--s4'. */
  readonly color: string;
}

/**
 * A time series chart over ticks. Drag across it to select a tick range (shared through
 * lib/tick-range.ts, so the timeline and the other charts follow); the selection of any chart
 * is drawn on every one.
 */
export function TimeChart({ title, x, series, xLabel = 'tick', yLabel }: { title: string; x: ArrayLike<number>; series: readonly TimeSeries[]; xLabel?: string; yLabel: string }) {
  const [width, setWidth] = useState(600);
  const range = useTickRange();
  const plotRef = useRef<uPlot | null>(null);
  // one bucket per pixel of the plotting area: at most 4 points per pixel reach the canvas
  const data = useMemo<uPlot.AlignedData>(() => {
    const d = downsampleMinMax({ x, ys: series.map((s) => s.values) }, Math.max(50, width - 60));
    return [d.x, ...d.ys] as uPlot.AlignedData;
  }, [x, series, width]);
  const theme = useTheme();
  const shape = `${theme}|${series.map((s) => s.name).join('|')}`;

  const opts = (w: number): uPlot.Options => ({
    width: w,
    height: HEIGHT,
    scales: { x: { time: false } },
    axes: axes(xLabel, yLabel),
    series: [
      { label: xLabel, value: (_, v) => (v === null || v === undefined ? '—' : String(Math.round(v))) },
      ...series.map((s) => ({ label: s.name, stroke: cssVar(s.color, '#3056d3'), width: 1.25, points: { show: false }, value: (_: uPlot, v: number | null) => (v === null || v === undefined ? '—' : fmt(v)) })),
    ],
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    legend: { live: true },
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 2) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          selectTickRange({ from_tick: from, to_tick: to, source: title });
        },
      ],
      ready: [(u) => setWidth(u.width)],
      setSize: [(u) => setWidth(u.width)],
    },
  });

  // draw the shared selection on this chart too (or clear it)
  useEffect(() => {
    if (plotRef.current) showRange(plotRef.current, range);
  }, [range, data]);

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <UPlotBox title={title} shape={shape} opts={opts} data={data} onPlot={(u) => {
          plotRef.current = u;
          if (u) showRange(u, currentTickRange());
        }} />
    </figure>
  );
}

/** Draws `range` as the plot's selection (without announcing it again), or clears it. */
function showRange(u: uPlot, range: TickRange | null): void {
  if (!range) {
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    return;
  }
  const left = u.valToPos(range.from_tick, 'x');
  const right = u.valToPos(range.to_tick, 'x');
  u.setSelect({ left, top: 0, width: Math.max(1, right - left), height: u.over.clientHeight }, false);
}

/** Bars over categories (a histogram, the routes): category labels on the x axis, counts on the y axis. */
export function BarChart({ title, values, labels, xLabel, yLabel = 'count', color = '--s2' }: { title: string; values: readonly number[]; labels: readonly string[]; xLabel: string; yLabel?: string; color?: string }) {
  const data = useMemo<uPlot.AlignedData>(() => [values.map((_, i) => i), [...values]], [values]);
  const theme = useTheme();
  const shape = `${theme}|${labels.join('|')}`;
  const opts = (w: number): uPlot.Options => ({
    width: w,
    height: HEIGHT,
    scales: { x: { time: false, range: [-0.5, Math.max(0.5, values.length - 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    // one split per category, labelled with it (an empty label leaves a gridline without text)
    axes: axes(xLabel, yLabel, (_u, splits) => splits.map((v) => labels[v] ?? ''), () => labels.map((_, i) => i)),
    series: [
      { label: xLabel, value: (_u, v) => (v === null || v === undefined ? '—' : (labels[Math.round(v)] ?? '—')) },
      { label: yLabel, stroke: cssVar(color, '#d98b00'), fill: cssVar(color, '#d98b00'), paths: uPlot.paths.bars?.({ size: [0.8, 60] }), points: { show: false } },
    ],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    legend: { live: true },
  });
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <UPlotBox title={title} shape={shape} opts={opts} data={data} />
    </figure>
  );
}

/**
 * For the `ui` benchmark: downsamples and draws an `n`-point synthetic series (a noisy wave)
 * into a detached 600-pixel chart, and returns the milliseconds taken (downsampling included).
 */
export function measureChartDraw(n: number): { ms: number; points: number } {
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i;
    y[i] = 50 + 40 * Math.sin(i / 500) + ((i * 7919) % 13);
  }
  const el = document.createElement('div');
  document.body.appendChild(el);
  try {
    const t0 = performance.now();
    const d = downsampleMinMax({ x, ys: [y] }, 540);
    const u = new uPlot({ width: 600, height: HEIGHT, scales: { x: { time: false } }, axes: axes('tick', 'value'), series: [{}, { stroke: '#3056d3' }] }, [d.x, d.ys[0]!] as uPlot.AlignedData, el);
    const ms = performance.now() - t0;
    u.destroy();
    return { ms, points: d.x.length };
  } finally {
    el.remove();
  }
}

// the `ui` benchmark calls this from the page (bench/suites/ui.ts); nothing else uses it
(window as unknown as { chimeraChartBench?: typeof measureChartDraw }).chimeraChartBench = measureChartDraw;
