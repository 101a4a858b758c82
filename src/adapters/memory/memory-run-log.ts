/**
 * In-memory run log. Events are numbered 1, 2, … in append order (their `seq`); the run and its
 * events live in a MemoryRunLogData that every handle opened on it shares.
 */
import { DuplicateError } from '../../domain/errors.ts';
import { checkEventPage, type RunHeader, type RunLog, type RunProgress, type StoredRunEvent } from '../../ports/run-log.ts';

/** One run and its events, shared by every handle opened on it. */
export class MemoryRunLogData {
  run: { header: RunHeader; progress: RunProgress } | null = null;
  readonly events: { step: number }[] = [];
}

export class MemoryRunLog implements RunLog {
  readonly kind = 'memory';

  /** A handle on `data` (a fresh, empty log by default). */
  constructor(private readonly data: MemoryRunLogData = new MemoryRunLogData()) {}

  async loadRun(): Promise<{ header: RunHeader; progress: RunProgress } | null> {
    return this.data.run;
  }
  async startRun(header: RunHeader, progress: RunProgress): Promise<void> {
    if (this.data.run) throw new DuplicateError('run', this.data.run.header.run_id);
    this.data.run = { header, progress };
  }
  async append(events: readonly unknown[], progress: RunProgress): Promise<void> {
    const d = this.data;
    if (!d.run) throw new Error('no run started');
    for (const e of events) d.events.push(e as { step: number });
    d.run = { header: d.run.header, progress };
  }
  async readEvents(after_step = 0, limit = Infinity): Promise<unknown[]> {
    const out: unknown[] = [];
    if (limit <= 0) return out;
    for (const e of this.data.events) {
      if (e.step <= after_step) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }
  async readEventsAfter(after_seq = 0, limit = Infinity): Promise<StoredRunEvent[]> {
    checkEventPage(after_seq, limit);
    const ev = this.data.events;
    const from = Math.max(0, after_seq);
    const to = Math.min(ev.length, from + limit);
    const out: StoredRunEvent[] = [];
    for (let i = from; i < to; i++) out.push({ seq: i + 1, event: ev[i] });
    return out;
  }
  async countEvents(): Promise<number> {
    return this.data.events.length;
  }
  async close(): Promise<void> {}
}

