/**
 * The single-process coordination of simulation mode: what this engine remembers about the
 * queues because it is their only producer and consumer. None of it is the truth (the store
 * is): a hint that says a queue may hold claimable items, the leases this engine took and when
 * they expire. Skipping a queue known to be empty, or a sweep that could find nothing, changes
 * no outcome, only the cost of idle turns. A process sharing the stores with others cannot
 * know these things, which is why live mode will not use this module.
 */
import type { Lease, WorkQueue } from '../ports/queue.ts';
import type { CampaignMirror } from './mirror.ts';

/** The agent state the claim loop reads and moves (its round-robin position). */
interface Claimer {
  readonly id: string;
  offset: number;
}

export class Coordination {
  /** Campaigns whose task queue may hold claimable items (set on every enqueue and return). */
  readonly taskHint = new Set<string>();
  /** Campaigns whose review queue may hold claimable items. */
  readonly reviewHint = new Set<string>();
  /**
   * Every lease on this run's queues and when it expires: the ones this engine took, plus (after
   * a restart) the ones a previous life left. The housekeeper sweeps only when one may have expired.
   */
  readonly leases = new Map<object, number>();

  /**
   * `live`: other processes share the queues, so nothing here is known: every queue may hold
   * work (no hints) and lapsed leases are swept every round (no lease map decides).
   */
  constructor(
    private readonly lease_ms: number,
    readonly live = false,
    /** Live mode: what names this process in a lease's consumer (`<process>/<agent>`), so holders in many processes stay apart. */
    private readonly process_name = '',
  ) {}

  /** Whether a queue of this kind may hold claimable work (always, in live mode). */
  mayClaim(which: 'taskQueue' | 'reviewQueue'): boolean {
    return this.live || (which === 'taskQueue' ? this.taskHint : this.reviewHint).size > 0;
  }

  /**
   * Claims the next item for `a` from the queues of active campaigns, round-robin from where it
   * last found work, skipping queues the hint knows to be empty.
   */
  async claimNext<T>(
    order: readonly CampaignMirror[],
    a: Claimer,
    queue: WorkQueue<T>,
    which: 'taskQueue' | 'reviewQueue',
  ): Promise<{ m: CampaignMirror; lease: Lease<T> } | null> {
    const hint = which === 'taskQueue' ? this.taskHint : this.reviewHint;
    const n = order.length;
    for (let k = 0; k < n; k++) {
      let idx = a.offset + k;
      if (idx >= n) idx %= n;
      const m = order[idx] as CampaignMirror;
      const id = m.id;
      if (m.status !== 'ACTIVE' || (!this.live && !hint.has(id))) continue;
      const lease = await queue.claim(m[which], this.process_name ? `${this.process_name}/${a.id}` : a.id, this.lease_ms);
      if (!lease) {
        // clear the hint unless items are only waiting out a delay
        const d = await queue.depth(m[which]);
        if (d.ready === 0 && d.delayed === 0) hint.delete(id);
        continue;
      }
      this.leases.set(lease, lease.expires_at_ms);
      a.offset = idx + 1;
      return { m, lease };
    }
    return null;
  }

  /** When the first lease on this run's queues expires (Infinity when none is held). */
  soonestLease(): number {
    if (this.live) return -Infinity; // swept every round
    let soonest = Infinity;
    for (const at of this.leases.values()) if (at < soonest) soonest = at;
    return soonest;
  }

  /** Forgets the leases that expired by `now_ms` (the sweep about to run redelivers them, or they were acked). */
  forgetExpired(now_ms: number): void {
    for (const [l, at] of this.leases) if (at <= now_ms) this.leases.delete(l);
  }

  /** Acknowledges a lease this engine holds (and forgets it). */
  ack<T>(queue: WorkQueue<T>, lease: Lease<T>): Promise<boolean> {
    this.leases.delete(lease);
    return queue.ack(lease.queue, lease.lease_id);
  }

  /** Puts a held item back on its queue after `delay_ms` (and forgets the lease). */
  retryLease<T>(queue: WorkQueue<T>, lease: Lease<T>, delay_ms: number): Promise<{ attempts: number } | null> {
    this.leases.delete(lease);
    return queue.retry(lease.queue, lease.lease_id, { delay_ms });
  }
}
