/**
 * Metrics folded from the engine's event log (throughput, conflicts, judge scores, routes,
 * human decisions), plus queue depths sampled by the session at each tick it sees. The fold
 * is incremental: it remembers how far into the (append-only) log it has read.
 *
 * The queue-depth history is rebuilt from the events (what each event adds to or acks from a
 * task or review queue; equal to the queues after every step, test/ui/metrics-history.test.ts),
 * so a session opened on a stored run (after a restart) has the whole history, not only the
 * ticks it saw. The session's own samples (`sample`, taken when a step crosses a tick, so they
 * include that step) are kept for callers but no longer drawn.
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
  /** Queue depths rebuilt from the events: the running totals, and their value at the end of each tick. */
  private taskDepth = 0;
  private reviewDepth = 0;
  private readonly derived: { task: number[]; review: number[] } = { task: [], review: [] };
  /** The task whose ack a lost lease voided (its output's ack removes nothing). */
  private lostAck: string | null = null;

  /** Folds the events not seen yet. */
  update(log: readonly EngineEvent[]): void {
    for (; this.read < log.length; this.read++) this.add(log[this.read] as EngineEvent);
  }

  private bump(series: number[], tick: number): void {
    while (series.length <= tick) series.push(0);
    series[tick] = (series[tick] ?? 0) + 1;
  }

  /** Records the running queue totals as the depth at the end of `tick` (and of any tick skipped before it). */
  private settle(tick: number): void {
    const { task, review } = this.derived;
    const last = task.length - 1;
    for (let t = last + 1; t < tick; t++) {
      task.push(task[t - 1] ?? 0);
      review.push(review[t - 1] ?? 0);
    }
    task[tick] = this.taskDepth;
    review[tick] = this.reviewDepth;
  }

  /** What an event does to the queues: enqueues add, acks remove; claims, retries and redeliveries keep an item in its queue. */
  private queues(e: EngineEvent, d: Record<string, unknown>): void {
    switch (e.type) {
      case 'task.enqueued':
        this.taskDepth += typeof d.count === 'number' ? d.count : 0;
        break;
      case 'task.lease_lost':
        if (d.stage === 'ack') this.lostAck = e.task_id ?? null;
        break;
      case 'task.output':
        if (this.lostAck !== e.task_id) this.taskDepth -= 1;
        this.lostAck = null;
        this.reviewDepth += 1;
        break;
      case 'task.duplicate':
        if (d.stage === 'claim') this.taskDepth -= 1;
        else if (d.stage === 'review' || d.stage === 'commit' || d.stage === 'idempotency' || d.stage === 'reread') this.reviewDepth -= 1;
        break;
      case 'judge.decided':
        if (d.phase !== 'read') this.reviewDepth -= 1;
        break;
      default:
        break;
    }
    this.settle(e.tick);
  }

  private add(e: EngineEvent): void {
    const d = (e.data ?? {}) as Record<string, unknown>;
    this.queues(e, d);
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

  /** The queue totals after the last event folded (ready + delayed + leased over every campaign). */
  queueTotals(): { task: number; review: number } {
    return { task: this.taskDepth, review: this.reviewDepth };
  }

  /** Queue depths rebuilt from the events alone, one per tick from 0 to `upTo`. */
  derivedDepths(upTo: number): { tick: number; task: number; review: number }[] {
    const out: { tick: number; task: number; review: number }[] = [];
    let task = 0;
    let review = 0;
    for (let t = 0; t <= upTo; t++) {
      task = this.derived.task[t] ?? task;
      review = this.derived.review[t] ?? review;
      out.push({ tick: t, task, review });
    }
    return out;
  }

  /** One depth per tick from 0 to `upTo`, rebuilt from the events (none before the first event). */
  private queueDepths(upTo: number): { tick: number; task: number; review: number }[] {
    return this.read === 0 ? [] : this.derivedDepths(upTo);
  }

  view(currentTick: number): MetricsView {
    const n = currentTick + 1;
    const pad = (s: number[]) => Array.from({ length: n }, (_, i) => s[i] ?? 0);
    return {
      ticks: Array.from({ length: n }, (_, i) => i),
      throughput: pad(this.throughput),
      conflicts_per_tick: pad(this.conflicts),
      queue_depths: this.queueDepths(currentTick),
      confidence_histogram: [...this.histogram],
      routes: { ...this.routes },
      human: { ...this.human },
      conflicts_total: this.conflictsTotal,
    };
  }
}
