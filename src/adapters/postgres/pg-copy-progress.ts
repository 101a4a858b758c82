/**
 * Where `chimera copy` keeps its progress in a Postgres target: one row per copy in
 * `copy_progress` (in the Chimera schema, made on first use), holding the copy's record as JSON
 * (the source's identity, what each section has written, whether it finished). It is not part of
 * the state (no snapshot or digest reads it); it lets a killed copy resume and a finished one be
 * recognised.
 */
import { acquirePgPool, type PgConnectOptions } from './pg-pool.ts';

const KEY = 'copy';

/** The progress record of copies into the schema `opts` names. */
export interface PgCopyProgress {
  read(): Promise<unknown>;
  write(record: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function openPgCopyProgress(opts: PgConnectOptions): Promise<PgCopyProgress> {
  const pool = acquirePgPool(opts);
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS copy_progress (target text PRIMARY KEY, record jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  } catch (e) {
    await pool.release();
    throw e;
  }
  return {
    async read() {
      // as text: the pool's connections may hand jsonb back unparsed or parsed
      const r = await pool.query<{ record: string }>(`SELECT record::text AS record FROM copy_progress WHERE target = $1`, [KEY]);
      return r.rows[0] ? (JSON.parse(r.rows[0].record) as unknown) : null;
    },
    async write(record) {
      await pool.query(
        `INSERT INTO copy_progress (target, record) VALUES ($1, $2::jsonb) ON CONFLICT (target) DO UPDATE SET record = excluded.record, updated_at = now()`,
        [KEY, JSON.stringify(record)],
      );
    },
    close: () => pool.release(),
  };
}
