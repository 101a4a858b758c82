/**
 * The run log in Postgres: the run's header (JSON text) and progress in `runs` (one row per
 * schema), its events as JSON text lines in `run_events`. An append is one transaction: the
 * runs row is updated first (which locks it, so appends from two handles take turns) and hands
 * out the events' numbers (gap-free, in append order), then the events are inserted.
 */
import { DuplicateError } from '../../domain/errors.ts';
import { checkEventPage, type RunHeader, type RunLog, type RunProgress, type StoredRunEvent } from '../../ports/run-log.ts';
import { describePgError, isConnectionError, type PgPool } from './pg-pool.ts';

export class PgRunLog implements RunLog {
  readonly kind = 'postgres';
  private closed = false;

  /** The run log on `pool`'s schema; `close()` releases the pool reference it was given. */
  constructor(private readonly pool: PgPool) {}

  private assertOpen(): void {
    if (this.closed) throw new Error('run log is closed');
  }

  async loadRun(): Promise<{ header: RunHeader; progress: RunProgress } | null> {
    this.assertOpen();
    const r = await this.pool.query<{ header: string; step: number; tick: number; clock_ms: number }>(`SELECT header, step, tick, clock_ms FROM runs WHERE slot = 1`);
    const row = r.rows[0];
    return row ? { header: JSON.parse(row.header) as RunHeader, progress: { step: row.step, tick: row.tick, clock_ms: row.clock_ms } } : null;
  }

  async startRun(header: RunHeader, progress: RunProgress): Promise<void> {
    this.assertOpen();
    const r = await this.pool.query(
      `INSERT INTO runs (slot, run_id, header, step, tick, clock_ms) VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (slot) DO NOTHING`,
      [header.run_id, JSON.stringify(header), progress.step, progress.tick, progress.clock_ms],
    );
    if (r.rowCount !== 1) {
      const cur = await this.pool.query<{ run_id: string }>(`SELECT run_id FROM runs WHERE slot = 1`);
      throw new DuplicateError('run', cur.rows[0]?.run_id ?? header.run_id);
    }
  }

  async append(events: readonly unknown[], progress: RunProgress, lines?: readonly string[]): Promise<void> {
    this.assertOpen();
    const client = await this.pool.connect();
    const onError = (): void => {};
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const n = events.length;
        const r = await client.query<{ last_seq: number }>(
          `UPDATE runs SET step = $1, tick = $2, clock_ms = $3, last_seq = last_seq + $4 WHERE slot = 1 RETURNING last_seq`,
          [progress.step, progress.tick, progress.clock_ms, n],
        );
        if (!r.rows[0]) throw new Error('no run started');
        if (n > 0) {
          const first = r.rows[0].last_seq - n + 1;
          await client.query(`INSERT INTO run_events (seq, step, event) SELECT $1::int8 + v.ord - 1, v.step, v.event FROM unnest($2::float8[], $3::text[]) WITH ORDINALITY AS v(step, event, ord)`, [
            first,
            events.map((e) => {
              const s = (e as { step?: unknown } | null)?.step;
              return typeof s === 'number' ? s : null;
            }),
            lines && lines.length === n ? lines : events.map((e) => JSON.stringify(e)),
          ]);
        }
        await client.query('COMMIT');
      } catch (e) {
        if (isConnectionError(e)) broken = e as Error;
        else await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    } catch (e) {
      throw describePgError(e, this.pool.where);
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  async readEvents(after_step = 0, limit = Infinity): Promise<unknown[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    const r = await this.pool.query<{ event: string }>(`SELECT event FROM run_events WHERE step IS NULL OR step > $1 ORDER BY seq LIMIT $2`, [
      after_step,
      limit === Infinity ? null : limit,
    ]);
    return r.rows.map((x) => JSON.parse(x.event) as unknown);
  }

  async readEventsAfter(after_seq = 0, limit = Infinity): Promise<StoredRunEvent[]> {
    checkEventPage(after_seq, limit);
    this.assertOpen();
    if (limit === 0) return [];
    const r = await this.pool.query<{ seq: number; event: string }>(`SELECT seq, event FROM run_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [
      after_seq,
      limit === Infinity ? null : limit,
    ]);
    return r.rows.map((x) => ({ seq: x.seq, event: JSON.parse(x.event) as unknown }));
  }

  async countEvents(): Promise<number> {
    this.assertOpen();
    return (await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM run_events`)).rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.release();
  }
}
