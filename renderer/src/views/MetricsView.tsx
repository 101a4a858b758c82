/** Metrics folded from the event log: throughput, queue depths over time, score histogram, routes, conflicts. */
import { useMemo, useState, type FormEvent } from 'react';
import { useChannel } from '../lib/studio.tsx';
import { BarChart, TimeChart, type TimeSeries } from '../components/Charts.tsx';
import { selectTickRange, useTickRange } from '../lib/tick-range.ts';

const HISTOGRAM_LABELS = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? (i * 0.05).toFixed(1) : ''));

export function MetricsView() {
  // at 100,000 ticks the series are a few MB: refetched at most once a second during a run
  const m = useChannel('metrics/series', {}, { throttle_ms: 1000 });
  const d = m.data;
  const range = useTickRange();
  const perTick = useMemo<TimeSeries[]>(() => (d ? [{ name: 'tasks completed', values: d.throughput, color: '--s3' }] : []), [d]);
  const conflicts = useMemo<TimeSeries[]>(() => (d ? [{ name: 'conflicts', values: d.conflicts_per_tick, color: '--s4' }] : []), [d]);
  const depthTicks = useMemo(() => (d ? d.queue_depths.map((q) => q.tick) : []), [d]);
  const depths = useMemo<TimeSeries[]>(
    () => (d ? [{ name: 'task queues', values: d.queue_depths.map((q) => q.task), color: '--s1' }, { name: 'review queues', values: d.queue_depths.map((q) => q.review), color: '--s2' }] : []),
    [d],
  );
  if (!d) return <p className="panel muted">Loading metrics…</p>;
  const totalRoutes = d.routes.approved + d.routes.review + d.routes.rejected;
  const pct = (n: number) => (totalRoutes ? `${((100 * n) / totalRoutes).toFixed(1)}%` : '—');
  return (
    <section aria-labelledby="metrics-h" className="view">
      <h1 id="metrics-h">Metrics</h1>
      <dl className="stats">
        <div><dt>Auto-approved</dt><dd>{d.routes.approved} ({pct(d.routes.approved)})</dd></div>
        <div><dt>Sent to review</dt><dd>{d.routes.review} ({pct(d.routes.review)})</dd></div>
        <div><dt>Rejected</dt><dd>{d.routes.rejected} ({pct(d.routes.rejected)})</dd></div>
        <div><dt>Human approve / edit / reject</dt><dd>{d.human.approve} / {d.human.edit} / {d.human.reject}</dd></div>
        <div><dt>OCC conflicts</dt><dd>{d.conflicts_total}</dd></div>
      </dl>
      <p className="small muted range-row" aria-live="polite">
        {range ? (
          <>
            Selected ticks <b data-testid="tick-range">{range.from_tick}–{range.to_tick}</b>{' '}
            <button type="button" onClick={() => selectTickRange(null)}>Clear selection</button>
          </>
        ) : (
          'Drag across a time chart to select a range of ticks (or type one here); the values under the cursor show beneath each chart.'
        )}
      </p>
      <RangeForm last={d.ticks.length - 1} />
      <div className="charts">
        <TimeChart title="Throughput: tasks completed per tick" x={d.ticks} series={perTick} yLabel="tasks" />
        <TimeChart title="Queue depths over time" x={depthTicks} series={depths} yLabel="items" />
        <BarChart title="Judge score histogram" values={d.confidence_histogram} labels={HISTOGRAM_LABELS} xLabel="score 0 → 1" yLabel="outputs" />
        <BarChart
          title="Judge routes: approve / review / reject"
          values={[d.routes.approved, d.routes.review, d.routes.rejected]}
          labels={['approve', 'review', 'reject']}
          xLabel="route"
          yLabel="outputs"
          color="--s3"
        />
        <TimeChart title="OCC conflicts per tick" x={d.ticks} series={conflicts} yLabel="conflicts" />
      </div>
    </section>
  );
}

/** The keyboard's way to select a tick range (the same as dragging across a chart). */
function RangeForm({ last }: { last: number }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const a = Number(from);
    const b = Number(to === '' ? last : to);
    if (from === '' || !Number.isFinite(a) || !Number.isFinite(b)) return;
    selectTickRange({ from_tick: Math.max(0, Math.min(a, last)), to_tick: Math.max(0, Math.min(b, last)), source: 'Metrics form' });
  };
  return (
    <form className="inline-form small" onSubmit={submit} aria-label="Select ticks">
      <label className="inline">
        From tick
        <input type="number" min={0} max={last} value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label className="inline">
        to tick
        <input type="number" min={0} max={last} value={to} onChange={(e) => setTo(e.target.value)} placeholder={String(last)} />
      </label>
      <button type="submit">Select ticks</button>
    </form>
  );
}
