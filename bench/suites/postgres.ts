/**
 * Postgres: our adapters beside raw node-postgres statements doing the same work on the same
 * server, in the same run, one operation of each in turn (so load on this shared machine hits
 * both alike), the ratio adapter/raw being the figure:
 * - `transition`: a unit of work moving a task PENDING ⇄ PROCESSING with compare-and-set on its
 *   status and its audit event (raw: BEGIN, UPDATE … WHERE status, lock the chain head, one
 *   statement writing the event, the head and the counter, COMMIT);
 * - `claim_ack`: claim + ack of one queue item (raw: the same SKIP LOCKED claim and DELETE).
 * Then audit appends from 8 concurrent writers, each on its own campaign and all on one: on
 * their own chains they do not wait on one head (the ratio own/shared is the figure).
 * The server is CHIMERA_BENCH_PG_URL (default CHIMERA_TEST_PG_URL, then 127.0.0.1:5432); the
 * suite works in schemas of its own and drops them.
 */
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { sealAuditEvent, GENESIS_HASH } from '../../src/domain/audit.ts';
import type { AuditDraft, Task, TaskStatus } from '../../src/domain/schemas.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { PgPool } from '../../src/adapters/postgres/pg-pool.ts';
import { migratePostgres } from '../../src/adapters/postgres/pg-migrations.ts';
import { PgStateStore } from '../../src/adapters/postgres/pg-state-store.ts';
import { PgQueue } from '../../src/adapters/postgres/pg-queue.ts';
import { round, type BenchContext, type BenchSuite } from '../suite.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const N_TASKS = 64;
const url = (): string => process.env.CHIMERA_BENCH_PG_URL || process.env.CHIMERA_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function draft(rng: SeededRng, campaign_id: string | null, i: number): AuditDraft {
  return { id: rng.uuid(), actor: 'worker-1', action: 'task.status', entity_type: 'task', entity_id: `t${i}`, campaign_id, before_status: 'PENDING', after_status: 'PROCESSING', state_version: null, timestamp: T0, details: { i } };
}

/** A fresh migrated schema with one campaign and N_TASKS pending tasks. */
async function schemaWithTasks(name: string, rng: SeededRng): Promise<{ pool: PgPool; tasks: Task[] }> {
  const pool = new PgPool({ url: url(), schema: name, poolMax: 10 });
  await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  await migratePostgres(pool);
  const campaign_id = rng.uuid();
  const tasks: Task[] = Array.from({ length: N_TASKS }, () => {
    const id = rng.uuid();
    return { id, campaign_id, role: 'WORKER', skill_name: 'content_generation', input_data: { topic: 'x' }, output_data: null, confidence_score: null, status: 'PENDING', attempts: 0, idempotency_key: `k-${id}`, depends_on: [], branch: 'b', replans: 0, supersedes: null, created_at: T0, updated_at: T0 };
  });
  const store = new PgStateStore(pool.retain());
  await store.transaction(async (tx) => {
    await tx.insertCampaign({ id: campaign_id, title: 't', goal: 'g', status: 'ACTIVE', state_version: 1, created_at: T0, updated_at: T0, persona_id: 'aria' });
    await tx.insertTasks(tasks);
  });
  await store.close();
  return { pool, tasks };
}

interface Pair {
  adapter: () => Promise<void>;
  raw: () => Promise<void>;
  /** Gives back what the pair holds. */
  done: () => Promise<void>;
}

async function transitions(a: PgPool, r: PgPool, tasks: Task[], rawTasks: Task[], rng: SeededRng): Promise<Pair> {
  const store = new PgStateStore(a.retain());
  const status = new Map<string, TaskStatus>(tasks.map((t) => [t.id, 'PENDING']));
  const rawStatus = new Map<string, TaskStatus>(rawTasks.map((t) => [t.id, 'PENDING']));
  let i = 0;
  let j = 0;
  const client = await r.pool.connect();
  return {
    adapter: async () => {
      const t = tasks[i++ % tasks.length] as Task;
      const from = status.get(t.id) as TaskStatus;
      const to: TaskStatus = from === 'PENDING' ? 'PROCESSING' : 'PENDING';
      await store.transaction(async (tx) => {
        await tx.updateTask(t.id, { status: to, updated_at: T0 }, from);
        await tx.appendAudit({ ...draft(rng, null, i), before_status: from, after_status: to });
      });
      status.set(t.id, to);
    },
    raw: async () => {
      const t = rawTasks[j++ % rawTasks.length] as Task;
      const from = rawStatus.get(t.id) as TaskStatus;
      const to: TaskStatus = from === 'PENDING' ? 'PROCESSING' : 'PENDING';
      await client.query('BEGIN');
      const u = await client.query(`UPDATE tasks SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 RETURNING id`, [to, T0, t.id, from]);
      if (u.rowCount !== 1) throw new Error('raw transition lost');
      const h = await client.query<{ chain_seq: number; hash: string }>(
        `INSERT INTO audit_heads (chain, chain_seq, hash) VALUES ('', 0, $1) ON CONFLICT (chain) DO UPDATE SET chain = excluded.chain RETURNING chain_seq, hash`,
        [GENESIS_HASH],
      );
      const head = h.rows[0] as { chain_seq: number; hash: string };
      const e = sealAuditEvent(head.chain_seq > 0 ? head : null, { ...draft(rng, null, j), before_status: from, after_status: to }, 0);
      await client.query(
        `WITH c AS (UPDATE audit_counter SET last_seq = last_seq + 1 WHERE slot = 1 RETURNING last_seq),
              h AS (UPDATE audit_heads SET chain_seq = $1, hash = $2 WHERE chain = '')
         INSERT INTO audit_log (seq, chain_seq, id, actor, action, entity_type, entity_id, campaign_id, before_status, after_status, state_version, timestamp, details, prev_hash, hash)
         SELECT c.last_seq, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $2 FROM c`,
        [e.chain_seq, e.hash, e.id, e.actor, e.action, e.entity_type, e.entity_id, e.campaign_id, e.before_status, e.after_status, e.state_version, e.timestamp, JSON.stringify(e.details), e.prev_hash],
      );
      await client.query('COMMIT');
      rawStatus.set(t.id, to);
    },
    done: async () => {
      client.release();
      await store.close();
    },
  };
}

function claimAck(a: PgPool, r: PgPool): Pair {
  const clock = new VirtualClock();
  const q = new PgQueue<{ n: number }>(a.retain(), clock, 'bench');
  const Q = 'task_queue:bench';
  let na = 0;
  let nr = 0;
  const items = (n: number) => Array.from({ length: 64 }, (_, k) => ({ id: `i${n + k}`, payload: { n: n + k } }));
  return {
    adapter: async () => {
      let l = await q.claim(Q, 'w', 1000);
      if (!l) {
        await q.enqueue(Q, items(na));
        na += 64;
        l = await q.claim(Q, 'w', 1000);
      }
      if (!l || !(await q.ack(Q, l.lease_id))) throw new Error('adapter claim/ack lost');
    },
    raw: async () => {
      const claim = async () =>
        (
          await r.query<{ id: string; lease_id: string }>(
            `WITH next AS (SELECT id FROM queue_items WHERE space = 'bench' AND queue = $1 AND lease_id IS NULL AND available_at_ms <= $2 ORDER BY available_at_ms, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
             UPDATE queue_items q SET lease_id = 'L' || nextval('queue_lease_seq'), consumer = 'w', expires_at_ms = $2 + 1000 FROM next WHERE q.space = 'bench' AND q.queue = $1 AND q.id = next.id RETURNING q.id, q.lease_id, q.payload`,
            [Q, clock.now_ms()],
          )
        ).rows[0];
      let l = await claim();
      if (!l) {
        const batch = items(nr);
        nr += 64;
        await r.query(
          `INSERT INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms) SELECT 'bench', $1, v.id, nextval('queue_seq'), v.p, 0, $4, $4 FROM unnest($2::text[], $3::text[]) AS v(id, p) ON CONFLICT DO NOTHING`,
          [Q, batch.map((b) => b.id), batch.map((b) => JSON.stringify(b.payload)), clock.now_ms()],
        );
        l = await claim();
      }
      if (!l || (await r.query(`DELETE FROM queue_items WHERE space = 'bench' AND queue = $1 AND lease_id = $2`, [Q, l.lease_id])).rowCount !== 1) throw new Error('raw claim/ack lost');
    },
    done: () => q.close(),
  };
}

/** One operation of each side in turn for `budget_ms`; ops per second of each and their ratio. */
async function compare(pair: Pair, budget_ms: number): Promise<Record<string, number>> {
  let ta = 0;
  let tr = 0;
  let n = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < budget_ms) {
      let t = performance.now();
      await pair.adapter();
      ta += performance.now() - t;
      t = performance.now();
      await pair.raw();
      tr += performance.now() - t;
      n += 1;
    }
  } finally {
    await pair.done();
  }
  return { ops: n, adapter_ops_per_s: round((n * 1000) / ta, 1), raw_ops_per_s: round((n * 1000) / tr, 1), adapter_over_raw: round(tr / ta) };
}

/** `writers` concurrent writers appending `each` events, each on its own campaign or all on one; appends per second. */
async function auditWriters(pool: PgPool, rng: SeededRng, writers: number, each: number, own: boolean): Promise<number> {
  const stores = Array.from({ length: writers }, () => new PgStateStore(pool.retain()));
  const shared = rng.uuid();
  const t0 = performance.now();
  await Promise.all(
    stores.map(async (s) => {
      const campaign = own ? rng.uuid() : shared;
      for (let i = 0; i < each; i++) await s.transaction((tx) => tx.appendAudit(draft(rng, campaign, i)));
    }),
  );
  const rate = (writers * each * 1000) / (performance.now() - t0);
  for (const s of stores) await s.close();
  return round(rate, 1);
}

export const postgresSuite: BenchSuite = {
  name: 'postgres',
  description: 'Postgres adapters vs raw node-postgres statements (unit of work with audit, queue claim+ack); concurrent audit writers on their own campaigns vs one',
  async run(ctx: BenchContext) {
    const rng = new SeededRng(7, 'bench-postgres');
    const tag = `bench_pg_${process.pid}`;
    const a = await schemaWithTasks(`${tag}_a`, rng);
    const r = await schemaWithTasks(`${tag}_r`, rng);
    const budget = ctx.quick ? 500 : 4000;
    try {
      ctx.log('  transition (unit of work with audit)');
      const transition = await compare(await transitions(a.pool, r.pool, a.tasks, r.tasks, rng), budget);
      ctx.log('  claim + ack');
      const claim_ack = await compare(claimAck(a.pool, r.pool), budget);
      const each = ctx.quick ? 10 : 60;
      ctx.log('  8 audit writers, own campaigns vs one');
      const own = await auditWriters(a.pool, rng, 8, each, true);
      const one = await auditWriters(a.pool, rng, 8, each, false);
      return { transition, claim_ack, audit_writers_8: { own_campaigns_appends_per_s: own, one_campaign_appends_per_s: one, own_over_one: round(own / one) } };
    } finally {
      for (const s of [a, r]) {
        await s.pool.query(`DROP SCHEMA IF EXISTS "${s.pool.schema}" CASCADE`).catch(() => {});
        await s.pool.release();
      }
    }
  },
};
