/** In-memory run log. */
import { DuplicateError } from '../../domain/errors.ts';
import type { RunHeader, RunLog, RunProgress } from '../../ports/run-log.ts';

export class MemoryRunLog implements RunLog {
  readonly kind = 'memory';
  private run: { header: RunHeader; progress: RunProgress } | null = null;
  private events: { step: number }[] = [];

  async loadRun(): Promise<{ header: RunHeader; progress: RunProgress } | null> {
    return this.run;
  }
  async startRun(header: RunHeader, progress: RunProgress): Promise<void> {
    if (this.run) throw new DuplicateError('run', this.run.header.run_id);
    this.run = { header, progress };
  }
  async append(events: readonly unknown[], progress: RunProgress): Promise<void> {
    if (!this.run) throw new Error('no run started');
    for (const e of events) this.events.push(e as { step: number });
    this.run = { header: this.run.header, progress };
  }
  async readEvents(after_step = 0, limit = Infinity): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const e of this.events) {
      if (e.step <= after_step) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }
  async countEvents(): Promise<number> {
    return this.events.length;
  }
  async close(): Promise<void> {}
}
