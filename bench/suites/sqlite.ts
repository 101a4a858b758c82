/**
 * SQLite: our adapters beside raw better-sqlite3 prepared statements doing the same work, in
 * the same run (task state transitions, queue claim+ack, audit appends), with
 * synchronous=FULL (what the app uses) and NORMAL; the ratio adapter/raw is the figure
 * (target ≥ 0.8). Operations are interleaved one by one so drift hits both alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqliteDatabase, type SqliteDatabase, type SynchronousMode } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { guardStateStore } from '../../src/ports/guards/guarded-state-store.ts';
import { sealAuditEvent } from '../../src/domain/audit.ts';
import type { AuditDraft, Task, TaskStatus } from '../../src/domain/schemas.ts';
import type { StateStore } from '../../src/ports/state-store.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/sim/rng.ts';
import { round, type BenchContext, type BenchSuite } from '../suite.ts';

const N_TASKS = 256;
const T0 = '2026-01-01T00:00:00.000Z';

interface Pair {
  adapter: () => Promise<number>;
  raw: () => number;
}

function draft(rng: SeededRng, i: number): AuditDraft {
  return {
    id: rng.uuid(),
    actor: 'worker-1',
    action: 'task.status',
    entity_type: 'task',
    entity_id: `t${i}`,
    campaign_id: null,
    before_status: 'PENDING',
    after_status: 'PROCESSING',
    state_version: null,
    timestamp: T0,
    details: { i },
  };
}

/** Two fresh files with one campaign and N_TASKS pending tasks each: one for the adapter, one for raw statements. */
async function setup(dir: string, label: string, synchronous: SynchronousMode) {
  const rng = new SeededRng(7, label);
  const open = (name: string) => openSqliteDatabase(join(dir, `${label}-${name}.db`), { synchronous });
  const a = open('adapter');
  const r = open('raw');
  const campaign_id = rng.uuid();
  const tasks: Task[] = Array.from({ length: N_TASKS }, () => {
    const id = rng.uuid();
    return {
      id, campaign_id, role: 'WORKER', skill_name: 'content_generation', input_data: { topic: 'x' }, output_data: null,
      confidence_score: null, status: 'PENDING', attempts: 0, idempotency_key: `k-${id}`, depends_on: [], branch: 'b', replans: 0,
      supersedes: null, created_at: T0, updated_at: T0,
    };
  });
  for (const sdb of [a, r]) {
    const s = new SqliteStateStore(sdb);
    await s.transaction(async (tx) => {
      await tx.insertCampaign({ id: campaign_id, title: 't', goal: 'g', status: 'ACTIVE', state_version: 1, created_at: T0, updated_at: T0, persona_id: 'aria' });
      await tx.insertTasks(tasks);
    });
    await s.close();
  }
  return { a, r, tasks, rng };
}

/** PENDING → PROCESSING → PENDING, each change with its audit event, one transaction per change. */
function transitions(a: SqliteDatabase, r: SqliteDatabase, tasks: Task[], rng: SeededRng, guarded: boolean): Pair {
  const inner = new SqliteStateStore(a);
  const store: StateStore = guarded ? guardStateStore(inner) : inner;
  const status = new Map<string, TaskStatus>(tasks.map((t) => [t.id, 'PENDING']));
  const rawStatus = new Map(status);
  let i = 0;
  let j = 0;
  const db: Database.Database = r.db;
  const get = db.prepare('SELECT * FROM tasks WHERE id = ?');
  const upd = db.prepare('UPDATE tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?');
  const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const ins = db.prepare(
    `INSERT INTO audit_log (seq, id, actor, action, entity_type, entity_id, campaign_id, before_status, after_status, state_version, timestamp, details, prev_hash, hash)
     VALUES (@seq, @id, @actor, @action, @entity_type, @entity_id, @campaign_id, @before_status, @after_status, @state_version, @timestamp, @details, @prev_hash, @hash)`,
  );
  return {
    adapter: async () => {
      const t = tasks[i++ % tasks.length] as Task;
      const from = status.get(t.id) as TaskStatus;
      const to: TaskStatus = from === 'PENDING' ? 'PROCESSING' : 'PENDING';
      await store.transaction(async (tx) => {
        await tx.updateTask(t.id, { status: to, updated_at: T0 }, from);
        await tx.appendAudit({ ...draft(rng, i), before_status: from, after_status: to });
      });
      status.set(t.id, to);
      return 1;
    },
    raw: () => {
      const t = tasks[j++ % tasks.length] as Task;
      const from = rawStatus.get(t.id) as TaskStatus;
      const to: TaskStatus = from === 'PENDING' ? 'PROCESSING' : 'PENDING';
      db.exec('BEGIN IMMEDIATE');
      get.get(t.id);
      if (upd.run(to, T0, t.id, from).changes !== 1) throw new Error('raw transition lost');
      const e = sealAuditEvent((head.get() as { seq: number; hash: string } | undefined) ?? null, { ...draft(rng, j), before_status: from, after_status: to });
      ins.run({ ...e, details: JSON.stringify(e.details) });
      db.exec('COMMIT');
      rawStatus.set(t.id, to);
      return 1;
    },
  };
}

/** claim + ack of one item; the queue is refilled in batches outside the timed work's count. */
function claimAck(a: SqliteDatabase, r: SqliteDatabase): Pair {
  const clock = new VirtualClock();
  const q = new SqliteQueue<{ task_id: string; n: number }>(a, clock, 'bench');
  const Q = 'task_queue:bench';
  let na = 0;
  let nr = 0;
  const db = r.db;
  db.prepare(`INSERT OR IGNORE INTO queue_counters (space, last_seq, last_lease) VALUES ('bench', 0, 0)`).run();
  const bumpSeq = db.prepare(`UPDATE queue_counters SET last_seq = last_seq + 1 WHERE space = 'bench' RETURNING last_seq`);
  const insert = db.prepare(
    `INSERT INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms) VALUES ('bench', ?, ?, ?, ?, 0, ?, ?)`,
  );
  const head = db.prepare(
    `SELECT rowid AS rid, id, payload, attempts, enqueued_at_ms, available_at_ms FROM queue_items
     WHERE space = 'bench' AND queue = ? AND lease_id IS NULL ORDER BY available_at_ms, seq LIMIT 1`,
  );
  const bumpLease = db.prepare(`UPDATE queue_counters SET last_lease = last_lease + 1 WHERE space = 'bench' RETURNING last_lease`);
  const lease = db.prepare(`UPDATE queue_items SET lease_id = ?, consumer = ?, expires_at_ms = ? WHERE rowid = ?`);
  const ack = db.prepare(`DELETE FROM queue_items WHERE space = 'bench' AND queue = ? AND lease_id = ?`);
  const rawEnqueue = db.transaction((from: number) => {
    for (let k = 0; k < 64; k++) {
      const seq = (bumpSeq.get() as { last_seq: number }).last_seq;
      insert.run(Q, `i${from + k}`, seq, JSON.stringify({ task_id: `i${from + k}`, n: from + k }), 0, 0);
    }
  });
  const rawClaim = db.transaction(() => {
    const row = head.get(Q) as { rid: number; payload: string } | undefined;
    if (!row) return null;
    const id = `L${(bumpLease.get() as { last_lease: number }).last_lease}`;
    lease.run(id, 'w1', clock.now_ms() + 1000, row.rid);
    JSON.parse(row.payload);
    return id;
  });
  return {
    adapter: async () => {
      let l = await q.claim(Q, 'w1', 1000);
      if (!l) {
        await q.enqueue(Q, Array.from({ length: 64 }, (_, k) => ({ id: `i${na + k}`, payload: { task_id: `i${na + k}`, n: na + k } })));
        na += 64;
        l = await q.claim(Q, 'w1', 1000);
      }
      if (!(await q.ack(Q, (l as { lease_id: string }).lease_id))) throw new Error('adapter ack lost');
      return 1;
    },
    raw: () => {
      let id = rawClaim();
      if (!id) {
        rawEnqueue(nr);
        nr += 64;
        id = rawClaim();
      }
      if (ack.run(Q, id).changes !== 1) throw new Error('raw ack lost');
      return 1;
    },
  };
}

/** One audit event per transaction. */
function auditAppends(a: SqliteDatabase, r: SqliteDatabase, rng: SeededRng): Pair {
  const store = new SqliteStateStore(a);
  const db = r.db;
  const head = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const ins = db.prepare(
    `INSERT INTO audit_log (seq, id, actor, action, entity_type, entity_id, campaign_id, before_status, after_status, state_version, timestamp, details, prev_hash, hash)
     VALUES (@seq, @id, @actor, @action, @entity_type, @entity_id, @campaign_id, @before_status, @after_status, @state_version, @timestamp, @details, @prev_hash, @hash)`,
  );
  let i = 0;
  return {
    adapter: async () => {
      await store.transaction((tx) => tx.appendAudit(draft(rng, i++)));
      return 1;
    },
    raw: () => {
      db.exec('BEGIN IMMEDIATE');
      const e = sealAuditEvent((head.get() as { seq: number; hash: string } | undefined) ?? null, draft(rng, i++));
      ins.run({ ...e, details: JSON.stringify(e.details) });
      db.exec('COMMIT');
      return 1;
    },
  };
}

/**
 * Interleaves the two one operation at a time (adapter then raw, then raw then adapter…),
 * timing each operation, so disk and checkpoint drift hit both sides alike.
 */
async function compare(pair: Pair, ctx: BenchContext, name: string): Promise<Record<string, number>> {
  const budget_ms = ctx.quick ? 400 : 4000;
  let ta = 0;
  let tr = 0;
  let n = 0;
  for (let k = 0; k < 100; k++) {
    await pair.adapter(); // warm-up
    pair.raw();
  }
  const t0 = performance.now();
  while (performance.now() - t0 < budget_ms) {
    for (let k = 0; k < 2; k++) {
      if ((n + k) % 2 === 0) {
        const t = performance.now();
        await pair.adapter();
        ta += performance.now() - t;
      } else {
        const t = performance.now();
        pair.raw();
        tr += performance.now() - t;
      }
    }
    n += 1;
  }
  const adapter = n / (ta / 1000);
  const raw = n / (tr / 1000);
  const out = { adapter_ops_per_s: Math.round(adapter), raw_ops_per_s: Math.round(raw), ratio: round(adapter / raw, 3), ops: n };
  ctx.log(`  ${name}: ${JSON.stringify(out)}`);
  return out;
}

async function runMode(dir: string, synchronous: SynchronousMode, ctx: BenchContext): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  {
    const s = await setup(dir, `transitions-${synchronous}`, synchronous);
    out.task_transitions = await compare(transitions(s.a, s.r, s.tasks, s.rng, false), ctx, `${synchronous} task transitions`);
    await Promise.all([s.a.release(), s.r.release()]);
  }
  {
    const s = await setup(dir, `guarded-${synchronous}`, synchronous);
    out.task_transitions_guarded = await compare(transitions(s.a, s.r, s.tasks, s.rng, true), ctx, `${synchronous} task transitions (guarded, as composed)`);
    await Promise.all([s.a.release(), s.r.release()]);
  }
  {
    const s = await setup(dir, `queue-${synchronous}`, synchronous);
    out.queue_claim_ack = await compare(claimAck(s.a, s.r), ctx, `${synchronous} queue claim+ack`);
    await Promise.all([s.a.release(), s.r.release()]);
  }
  {
    const s = await setup(dir, `audit-${synchronous}`, synchronous);
    out.audit_appends = await compare(auditAppends(s.a, s.r, s.rng), ctx, `${synchronous} audit appends`);
    await Promise.all([s.a.release(), s.r.release()]);
  }
  return out;
}

export const sqliteSuite: BenchSuite = {
  name: 'sqlite',
  description: 'SQLite adapters vs raw better-sqlite3 statements (FULL and NORMAL), and what FULL costs',
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-sqlite-'));
    try {
      const full = await runMode(dir, 'FULL', ctx);
      const normal = await runMode(dir, 'NORMAL', ctx);
      const cost = (k: string) => round((normal[k]?.adapter_ops_per_s ?? 0) / Math.max(1, full[k]?.adapter_ops_per_s ?? 0), 3);
      return {
        synchronous_full: full,
        synchronous_normal: normal,
        /** NORMAL throughput ÷ FULL throughput for the adapter (1.0 = FULL costs nothing). */
        normal_over_full: {
          task_transitions: cost('task_transitions'),
          queue_claim_ack: cost('queue_claim_ack'),
          audit_appends: cost('audit_appends'),
        },
        target_ratio: 0.8,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
