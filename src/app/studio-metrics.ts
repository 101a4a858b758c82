/**
 * Metrics folded from the engine's event log (throughput, conflicts, judge scores, routes,
 * human decisions), plus queue depths sampled by the session at each tick it sees. The fold
 * is incremental: it remembers how far into the (append-only) log it has read.
 */
import type { EngineEvent } from '../engine/events.ts';
import type { MetricsView } from '../shared/types.ts';

export const HISTOGRAM_BUCKETS = 20;

export class MetricsFold {
  private read = 0;
  private readonly throughput: number[] = [];
  private readonly conflicts: number[] = [];
  private readonly histogram = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  private readonly routes = { approved: 0, review: 0, rejected: 0 };
  private readonly human = { approve: 0, edit: 0, reject: 0 };
  private conflictsTotal = 0;
  /** Queue depths at the end of ticks, in tick order (truncated on a timeline scrub). */
  depths: { tick: number; task: number; review: number }[] = [];

  /** Folds the events not seen yet. */
  update(log: readonly EngineEvent[]): void {
    for (; this.read < log.length; this.read++) this.add(log[this.read] as EngineEvent);
  }

  private bump(series: number[], tick: number): void {
    while (series.length <= tick) series.push(0);
    series[tick] = (series[tick] ?? 0) + 1;
  }

  private add(e: EngineEvent): void {
    const d = (e.data ?? {}) as Record<string, unknown>;
    switch (e.type) {
      case 'judge.decided': {
        if (d.phase === 'read') return;
        const score = typeof d.score === 'number' ? d.score : null;
        if (score !== null) {
          const b = Math.min(HISTOGRAM_BUCKETS - 1, Math.max(0, Math.floor(score * HISTOGRAM_BUCKETS)));
          this.histogram[b] = (this.histogram[b] ?? 0) + 1;
        }
        if (d.route === 'COMPLETED') {
          this.routes.approved += 1;
          this.bump(this.throughput, e.tick);
        } else if (d.route === 'ESC_HITL') this.routes.review += 1;
        else if (d.route === 'FAILED') this.routes.rejected += 1;
        return;
      }
      case 'human.decided': {
        const decision = d.decision === 'reject' ? 'reject' : d.decision === 'edit' ? 'edit' : 'approve';
        this.human[decision] += 1;
        if (decision !== 'reject') this.bump(this.throughput, e.tick);
        return;
      }
      case 'occ.conflict':
        this.conflictsTotal += 1;
        this.bump(this.conflicts, e.tick);
        return;
      default:
        return;
    }
  }

  sample(tick: number, task: number, review: number): void {
    const last = this.depths[this.depths.length - 1];
    if (last && last.tick === tick) this.depths[this.depths.length - 1] = { tick, task, review };
    else this.depths.push({ tick, task, review });
  }

  view(currentTick: number): MetricsView {
    const n = currentTick + 1;
    const pad = (s: number[]) => Array.from({ length: n }, (_, i) => s[i] ?? 0);
    return {
      ticks: Array.from({ length: n }, (_, i) => i),
      throughput: pad(this.throughput),
      conflicts_per_tick: pad(this.conflicts),
      queue_depths: this.depths,
      confidence_histogram: [...this.histogram],
      routes: { ...this.routes },
      human: { ...this.human },
      conflicts_total: this.conflictsTotal,
    };
  }
}
