/**
 * The run log in the same file as the state: a killed simulation resumes from it. `append`
 * writes the events and the progress in one transaction and is a checkpoint: with batched
 * commits, the state, queues and log written since the last one reach the disk together.
 */
import { DuplicateError } from '../../domain/errors.ts';
import { checkEventPage, type RunHeader, type RunLog, type RunProgress, type StoredRunEvent } from '../../ports/run-log.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { SqliteHandle } from './sqlite-handle.ts';
import { MultiInsert } from './sqlite-multi-insert.ts';

interface RunRow {
  header: string;
  step: number;
  tick: number;
  clock_ms: number;
}

/** A RunLog stored in the shared SQLite file (one run per file). */
export class SqliteRunLog implements RunLog {
  readonly kind = 'sqlite';
  private readonly st;
  private readonly appendTx: (events: readonly unknown[], progress: RunProgress, lines: readonly string[] | undefined) => void;
  private readonly h: SqliteHandle;

  constructor(private readonly sdb: SqliteDatabase) {
    this.h = new SqliteHandle(sdb, 'run log');
    const db = sdb.db;
    const st = (this.st = {
      load: db.prepare(`SELECT header, step, tick, clock_ms FROM runs WHERE slot = 1`),
      start: db.prepare(`INSERT INTO runs (slot, run_id, header, step, tick, clock_ms) VALUES (1, ?, ?, ?, ?, ?)`),
      progress: db.prepare(`UPDATE runs SET step = ?, tick = ?, clock_ms = ? WHERE slot = 1`),
      read: db.prepare(`SELECT event FROM run_events WHERE step > ? ORDER BY seq LIMIT ?`),
      readAfter: db.prepare(`SELECT seq, event FROM run_events WHERE seq > ? ORDER BY seq LIMIT ?`),
      count: db.prepare(`SELECT count(*) AS n FROM run_events`),
    });
    const insertEvents = new MultiInsert(db, 'INSERT', 'run_events', 'step, event');
    this.appendTx = db.transaction((events: readonly unknown[], progress: RunProgress, lines: readonly string[] | undefined) => {
      if (st.progress.run(progress.step, progress.tick, progress.clock_ms).changes !== 1) throw new Error('no run started');
      const json = lines && lines.length === events.length ? lines : null;
      insertEvents.run(events.map((e, i) => [(e as { step: number }).step, json ? (json[i] as string) : JSON.stringify(e)]));
    });
  }

  loadRun(): Promise<{ header: RunHeader; progress: RunProgress } | null> {
    return this.h.read(() => {
      const r = this.st.load.get() as RunRow | undefined;
      if (!r) return null;
      this.sdb.checkpointsOwnedByRun(); // a run resumes here: its checkpoints decide what is durable
      return { header: JSON.parse(r.header) as RunHeader, progress: { step: r.step, tick: r.tick, clock_ms: r.clock_ms } };
    });
  }

  startRun(header: RunHeader, progress: RunProgress): Promise<void> {
    return this.h.write(() => {
      const cur = this.st.load.get() as RunRow | undefined;
      if (cur) throw new DuplicateError('run', (JSON.parse(cur.header) as RunHeader).run_id);
      this.st.start.run(header.run_id, JSON.stringify(header), progress.step, progress.tick, progress.clock_ms);
      this.sdb.checkpointsOwnedByRun();
    }).then(() => this.sdb.checkpoint());
  }

  /** Appends and records progress, then makes the whole batch durable: the engine's checkpoint. */
  append(events: readonly unknown[], progress: RunProgress, lines?: readonly string[]): Promise<void> {
    return this.h.write(() => this.appendTx(events, progress, lines)).then(() => this.sdb.checkpoint());
  }

  readEvents(after_step = 0, limit = Infinity): Promise<unknown[]> {
    const n = Number.isFinite(limit) ? Math.max(0, limit) : -1;
    return this.h.read(() => (this.st.read.all(after_step, n) as { event: string }[]).map((r) => JSON.parse(r.event) as unknown));
  }

  readEventsAfter(after_seq = 0, limit = Infinity): Promise<StoredRunEvent[]> {
    try {
      checkEventPage(after_seq, limit);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const n = Number.isFinite(limit) ? limit : -1;
    return this.h.read(() =>
      (this.st.readAfter.all(after_seq, n) as { seq: number; event: string }[]).map((r) => ({ seq: r.seq, event: JSON.parse(r.event) as unknown })),
    );
  }

  countEvents(): Promise<number> {
    return this.h.read(() => (this.st.count.get() as { n: number }).n);
  }

  close(): Promise<void> {
    return this.h.close();
  }
}
