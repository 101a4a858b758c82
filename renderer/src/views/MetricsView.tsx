/** Metrics folded from the event log: throughput, queue depths over time, judge scores, routes, conflicts. */
import { useChannel } from '../lib/studio.tsx';
import { BarChart, LineChart } from '../components/Charts.tsx';

export function MetricsView() {
  const m = useChannel('metrics/series', {});
  const d = m.data;
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
      <div className="charts">
        <BarChart title="Throughput: tasks completed per tick" values={d.throughput} xLabel="tick" />
        <LineChart
          title="Queue depths over time"
          xLabel="tick"
          series={[
            { name: 'task queues', values: d.queue_depths.map((q) => q.task), className: 's1' },
            { name: 'review queues', values: d.queue_depths.map((q) => q.review), className: 's2' },
          ]}
        />
        <BarChart
          title="Judge score histogram"
          values={d.confidence_histogram}
          labels={d.confidence_histogram.map((_, i) => `${(i * 0.05).toFixed(2)}–${((i + 1) * 0.05).toFixed(2)}`)}
          xLabel="score 0 → 1"
          className="bar s2"
        />
        <BarChart title="Judge routes: approve / review / reject" values={[d.routes.approved, d.routes.review, d.routes.rejected]} labels={['approve', 'review', 'reject']} xLabel="approve · review · reject" className="bar s3" />
        <BarChart title="OCC conflicts per tick" values={d.conflicts_per_tick} xLabel="tick" className="bar s4" />
      </div>
    </section>
  );
}
