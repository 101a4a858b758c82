/**
 * SQLite: our adapters beside raw better-sqlite3 prepared statements doing the same work, in
 * the same run (task state transitions, queue claim+ack, audit appends), the ratio
 * adapter/raw being the figure (target ≥ 0.8):
 * - `per_op_commit`: the adapter in commit mode 'each' against raw BEGIN IMMEDIATE … COMMIT per
 *   operation, with synchronous=FULL and NORMAL (what FULL costs per commit);
 * - `batched`: the adapter in the default 'batched' mode, checkpointing every BATCH operations,
 *   against raw statements in one transaction per BATCH operations (a SAVEPOINT per unit of
 *   work, as rollback of one unit needs).
 * Then simulation throughput on SQLite (and in-memory, same run) with the benchmark workload.
 * Operations are interleaved one by one so disk and machine drift hit both sides alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { openSqliteDatabase, type CommitMode, type SqliteDatabase, type SynchronousMode } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { SqliteQueue } from '../../src/adapters/sqlite/sqlite-queue.ts';
import { sealAuditEvent } from '../../src/domain/audit.ts';
import type { AuditDraft, AuditEvent, Task, TaskStatus } from '../../src/domain/schemas.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { Simulation } from '../../src/app/simulation.ts';
import { parseConfig } from '../../src/config/config.ts';
import { benchScenario, tasksPerCampaign } from '../workload.ts';
import { round, type BenchContext, type BenchSuite } from '../suite.ts';

const N_TASKS = 256;
const BATCH = 100;
const T0 = '2026-01-01T00:00:00.000Z';

interface Pair {
  adapter: () => Promise<number>;
  raw: () => number;
}

interface Mode {
  readonly commit: CommitMode;
  readonly synchronous: SynchronousMode;
}

/** Positional, like the adapter's (binding 14 named parameters from an object costs more than the insert). */
const AUDIT_INSERT = `INSERT INTO audit_log (seq, id, actor, action, entity_type, entity_id, campaign_id, before_status, after_status, state_version, timestamp, details, prev_hash, hash, chain_seq)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function insertAudit(ins: Database.Statement, e: AuditEvent): void {
  ins.run(e.seq, e.id, e.actor, e.action, e.entity_type, e.entity_id, e.campaign_id, e.before_status, e.after_status, e.state_version, e.timestamp, JSON.stringify(e.details), e.prev_hash, e.hash, e.chain_seq);
}

/** Seals the next event of the one chain these drafts share (they have no campaign), after the file's last row. */
function sealNext(head: Database.Statement, d: AuditDraft): AuditEvent {
  const last = head.get() as { seq: number; chain_seq: number; hash: string } | undefined;
  return sealAuditEvent(last ? { chain_seq: last.chain_seq, hash: last.hash } : null, d, (last?.seq ?? 0) + 1);
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

/**
 * The raw side's transaction discipline: per operation BEGIN/COMMIT, or (batched) one
 * transaction per BATCH operations with a SAVEPOINT around each.
 */
function rawUnit(db: Database.Database, commit: CommitMode): (work: () => void) => void {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const end = db.prepare('COMMIT');
  const save = db.prepare('SAVEPOINT unit');
  const release = db.prepare('RELEASE unit');
  let n = 0;
  if (commit === 'each') {
    return (work) => {
      begin.run();
      work();
      end.run();
    };
  }
  return (work) => {
    if (!db.inTransaction) begin.run();
    save.run();
    work();
    release.run();
    if (++n % BATCH === 0) end.run();
  };
}

/** The adapter side's checkpoint every BATCH operations (batched mode; a no-op in 'each'). */
function checkpointer(sdb: SqliteDatabase): () => void {
  let n = 0;
  return () => {
    if (++n % BATCH === 0) sdb.checkpoint();
  };
}

/** Two fresh files with one campaign and N_TASKS pending tasks each: one for the adapter, one for raw statements. */
async function setup(dir: string, label: string, mode: Mode) {
  const rng = new SeededRng(7, label);
  const a = openSqliteDatabase(join(dir, `${label}-adapter.db`), mode);
  const r = openSqliteDatabase(join(dir, `${label}-raw.db`), { synchronous: mode.synchronous, commit: 'each' });
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
    sdb.checkpoint();
    await s.close();
  }
  const done = async () => {
    if (r.db.inTransaction) r.db.exec('COMMIT');
    await Promise.all([a.release(), r.release()]);
  };
  return { a, r, tasks, rng, done };
}

/** PENDING → PROCESSING → PENDING, each change with its audit event, one unit of work per change. */
function transitions(a: SqliteDatabase, r: SqliteDatabase, tasks: Task[], rng: SeededRng, commit: CommitMode): Pair {
  const store = new SqliteStateStore(a);
  const cp = checkpointer(a);
  const status = new Map<string, TaskStatus>(tasks.map((t) => [t.id, 'PENDING']));
  const rawStatus = new Map(status);
  let i = 0;
  let j = 0;
  const db = r.db;
  const unit = rawUnit(db, commit);
  const get = db.prepare('SELECT * FROM tasks WHERE id = ?');
  const upd = db.prepare('UPDATE tasks SET status = ?, updated_at = ? WHERE id = ? AND status = ?');
  const head = db.prepare('SELECT seq, chain_seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const ins = db.prepare(AUDIT_INSERT);
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
      cp();
      return 1;
    },
    raw: () => {
      const t = tasks[j++ % tasks.length] as Task;
      const from = rawStatus.get(t.id) as TaskStatus;
      const to: TaskStatus = from === 'PENDING' ? 'PROCESSING' : 'PENDING';
      unit(() => {
        get.get(t.id);
        if (upd.run(to, T0, t.id, from).changes !== 1) throw new Error('raw transition lost');
        const e = sealNext(head, { ...draft(rng, j), before_status: from, after_status: to });
        insertAudit(ins, e);
      });
      rawStatus.set(t.id, to);
      return 1;
    },
  };
}

/**
 * claim + ack of one item; the queue is refilled in batches of 64 when it runs dry (both sides).
 * The raw side does what the adapter does: claim order from an in-process counter, the lease
 * id from the item's (seq, attempts), no counter row written per call.
 */
function claimAck(a: SqliteDatabase, r: SqliteDatabase, commit: CommitMode): Pair {
  const clock = new VirtualClock();
  const q = new SqliteQueue<{ task_id: string; n: number }>(a, clock, 'bench');
  const cp = checkpointer(a);
  const Q = 'task_queue:bench';
  let na = 0;
  let nr = 0;
  let seq = 0;
  const db = r.db;
  // the schema's queue table has no secondary indexes since migration 0002 (the adapter serves
  // queues from memory and writes rows by rowid); a raw SQL queue needs its waiting and lease
  // indexes, as 0001 had them, so the raw side gets them back
  db.exec(`CREATE INDEX IF NOT EXISTS queue_items_waiting ON queue_items (space, queue, available_at_ms, seq) WHERE lease_id IS NULL;
           CREATE UNIQUE INDEX IF NOT EXISTS queue_items_lease ON queue_items (space, lease_id) WHERE lease_id IS NOT NULL;`);
  const unit = rawUnit(db, commit);
  const insert = db.prepare(
    `INSERT INTO queue_items (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms) VALUES ('bench', ?, ?, ?, ?, 0, ?, ?)`,
  );
  // the claim as one statement, as the adapter's: the head, if available, leased by its (seq, attempts)
  const claim = db.prepare(
    `UPDATE queue_items SET lease_id = 'L' || seq || '.' || attempts, consumer = ?, expires_at_ms = ?
     WHERE rowid = (SELECT rowid FROM queue_items WHERE space = 'bench' AND queue = ? AND lease_id IS NULL ORDER BY available_at_ms, seq LIMIT 1)
       AND lease_id IS NULL AND available_at_ms <= ?
     RETURNING lease_id, id, payload, attempts, enqueued_at_ms, available_at_ms`,
  );
  const ack = db.prepare(`DELETE FROM queue_items WHERE space = 'bench' AND queue = ? AND lease_id = ?`);
  const rawClaim = (): string | null => {
    let id: string | null = null;
    unit(() => {
      const now = clock.now_ms();
      const row = claim.get('w1', now + 1000, Q, now) as { lease_id: string; payload: string } | undefined;
      if (!row) return;
      id = row.lease_id;
      JSON.parse(row.payload);
    });
    return id;
  };
  return {
    adapter: async () => {
      let l = await q.claim(Q, 'w1', 1000);
      if (!l) {
        await q.enqueue(Q, Array.from({ length: 64 }, (_, k) => ({ id: `i${na + k}`, payload: { task_id: `i${na + k}`, n: na + k } })));
        na += 64;
        l = await q.claim(Q, 'w1', 1000);
      }
      if (!(await q.ack(Q, (l as { lease_id: string }).lease_id))) throw new Error('adapter ack lost');
      cp();
      return 1;
    },
    raw: () => {
      let id = rawClaim();
      if (!id) {
        unit(() => {
          for (let k = 0; k < 64; k++) insert.run(Q, `i${nr + k}`, ++seq, JSON.stringify({ task_id: `i${nr + k}`, n: nr + k }), 0, 0);
        });
        nr += 64;
        id = rawClaim();
      }
      const leaseId = id as string;
      unit(() => {
        if (ack.run(Q, leaseId).changes !== 1) throw new Error('raw ack lost');
      });
      return 1;
    },
  };
}

/** One audit event per unit of work. */
function auditAppends(a: SqliteDatabase, r: SqliteDatabase, rng: SeededRng, commit: CommitMode): Pair {
  const store = new SqliteStateStore(a);
  const cp = checkpointer(a);
  const db = r.db;
  const unit = rawUnit(db, commit);
  const head = db.prepare('SELECT seq, chain_seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const ins = db.prepare(AUDIT_INSERT);
  let i = 0;
  return {
    adapter: async () => {
      await store.transaction((tx) => tx.appendAudit(draft(rng, i++)));
      cp();
      return 1;
    },
    raw: () => {
      unit(() => {
        const e = sealNext(head, draft(rng, i++));
        insertAudit(ins, e);
      });
      return 1;
    },
  };
}

/** User + system CPU time of this process, in ms. */
function cpu_ms(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Interleaves the two one operation at a time (adapter then raw, then raw then adapter…),
 * timing each operation by the wall clock and by this process's CPU time, so disk, checkpoint
 * and machine drift hit both sides alike. On a shared machine the CPU-time ratio is the
 * steadier one (time spent waiting for a core is not counted; time waiting on fsync is not
 * either, so the wall-clock ratio is the one that includes the disk).
 */
async function compare(pair: Pair, ctx: BenchContext, name: string): Promise<Record<string, number>> {
  const budget_ms = ctx.quick ? 300 : 3000;
  let ta = 0;
  let tr = 0;
  let ca = 0;
  let cr = 0;
  let n = 0;
  for (let k = 0; k < 200; k++) {
    await pair.adapter(); // warm-up
    pair.raw();
  }
  const t0 = performance.now();
  while (performance.now() - t0 < budget_ms) {
    for (let k = 0; k < 2; k++) {
      const c = cpu_ms();
      const t = performance.now();
      if ((n + k) % 2 === 0) {
        await pair.adapter();
        ta += performance.now() - t;
        ca += cpu_ms() - c;
      } else {
        pair.raw();
        tr += performance.now() - t;
        cr += cpu_ms() - c;
      }
    }
    n += 1;
  }
  const out = {
    adapter_ops_per_s: Math.round(n / (ta / 1000)),
    raw_ops_per_s: Math.round(n / (tr / 1000)),
    ratio: round(tr / ta, 3),
    adapter_cpu_us_per_op: round((ca / n) * 1000, 1),
    raw_cpu_us_per_op: round((cr / n) * 1000, 1),
    cpu_ratio: round(cr / ca, 3),
    ops: n,
  };
  ctx.log(`  ${name}: ${JSON.stringify(out)}`);
  return out;
}

async function adapterVsRaw(dir: string, mode: Mode, ctx: BenchContext): Promise<Record<string, Record<string, number>>> {
  const label = `${mode.commit}-${mode.synchronous}`;
  const out: Record<string, Record<string, number>> = {};
  const cases: [string, (s: Awaited<ReturnType<typeof setup>>) => Pair][] = [
    ['task_transitions', (s) => transitions(s.a, s.r, s.tasks, s.rng, mode.commit)],
    ['queue_claim_ack', (s) => claimAck(s.a, s.r, mode.commit)],
    ['audit_appends', (s) => auditAppends(s.a, s.r, s.rng, mode.commit)],
  ];
  for (const [name, make] of cases) {
    const s = await setup(dir, `${name}-${label}`, mode);
    out[name] = await compare(make(s), ctx, `${label} ${name}`);
    await s.done();
  }
  return out;
}

let simRuns = 0;
/** Runs the benchmark workload to the end; SQLite files are pre-opened so the run joins the chosen mode. */
async function simulate(dir: string, campaigns: number, pieces: number, backend: 'memory' | 'sqlite', mode?: Mode) {
  // a new file per run (the same file again would resume the finished run)
  const db = join(dir, `sim-${backend}-${mode?.commit ?? ''}-${mode?.synchronous ?? ''}-${campaigns}x${pieces}-${++simRuns}.db`);
  const pre = backend === 'sqlite' ? openSqliteDatabase(db, mode) : null;
  const sim = await Simulation.open({
    scenario: benchScenario(campaigns, pieces, { judge: { memory_categories: ['SOUL', 'Semantic'] } }),
    backend,
    db: backend === 'sqlite' ? db : undefined,
    config: parseConfig({}),
    keepEvents: false,
  });
  const t0 = performance.now();
  await sim.run();
  const ms = performance.now() - t0;
  const s = sim.summary();
  await sim.close();
  await pre?.release();
  return { tasks_per_s: Math.round((s.tasks.completed / ms) * 1000), ms: round(ms, 1), completed: s.tasks.completed, sha256: s.eventLogSha256 };
}

async function simulation(dir: string, ctx: BenchContext): Promise<Record<string, unknown>> {
  const campaigns = ctx.quick ? 4 : 10;
  const pieces = ctx.quick ? 25 : 100;
  ctx.log(`  simulation workload: ${campaigns} campaigns × ${tasksPerCampaign(pieces)} worker tasks`);
  const variants: [string, 'memory' | 'sqlite', Mode | undefined][] = [
    ['memory', 'memory', undefined],
    ['sqlite_batched_full', 'sqlite', { commit: 'batched', synchronous: 'FULL' }],
    ['sqlite_batched_normal', 'sqlite', { commit: 'batched', synchronous: 'NORMAL' }],
    ['sqlite_each_full', 'sqlite', { commit: 'each', synchronous: 'FULL' }],
    ['sqlite_each_normal', 'sqlite', { commit: 'each', synchronous: 'NORMAL' }],
  ];
  // V8 keeps optimising for several full-size runs: two warm-up rounds of every variant, then
  // three measured rounds, alternating variants so load on the machine hits them alike; the
  // median of the three is reported (and the first SQLite run of the process beside it)
  const all: Record<string, Awaited<ReturnType<typeof simulate>>[]> = {};
  let cold = 0;
  const rounds = ctx.quick ? 2 : 5;
  const warm = ctx.quick ? 1 : 2;
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const [name, backend, mode] of variants) {
      const r = await simulate(dir, campaigns, pieces, backend, mode);
      if (name === 'sqlite_batched_full' && round_ === 0) cold = r.tasks_per_s;
      if (round_ >= warm) (all[name] ??= []).push(r);
    }
  }
  const runs: Record<string, Awaited<ReturnType<typeof simulate>>> = {};
  for (const [name, list] of Object.entries(all)) {
    const sorted = [...list].sort((a, b) => a.tasks_per_s - b.tasks_per_s);
    runs[name] = sorted[Math.floor((sorted.length - 1) / 2)] as Awaited<ReturnType<typeof simulate>>;
  }
  for (const [name, r] of Object.entries(runs)) ctx.log(`  simulation ${name}: ${r.tasks_per_s} tasks/s (${r.ms} ms)`);
  const same = new Set(Object.values(runs).map((r) => r.sha256)).size === 1;
  const mem = runs.memory as { tasks_per_s: number };
  return {
    workload: { campaigns, tasks_per_campaign: tasksPerCampaign(pieces) },
    tasks_per_s: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.tasks_per_s])),
    tasks_per_s_runs: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.map((r) => r.tasks_per_s)])),
    sqlite_batched_full_first_run_tasks_per_s: cold,
    sqlite_over_memory: round((runs.sqlite_batched_full as { tasks_per_s: number }).tasks_per_s / mem.tasks_per_s, 3),
    same_event_log_on_every_variant: same,
    target_tasks_per_s: 5000,
  };
}

/**
 * Each mode's adapter-vs-raw comparison runs in a child process of its own: in one process the
 * modes share JIT state (one mode's shapes make the code polymorphic for the next), which an
 * app using one mode never sees.
 */
function inChild(mode: Mode, quick: boolean, log: (line: string) => void): Record<string, Record<string, number>> {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), CHILD_FLAG, JSON.stringify({ mode, quick })], {
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`sqlite bench child (${JSON.stringify(mode)}) failed: ${r.stderr}`);
  for (const line of r.stderr.split('\n')) if (line.trim()) log(line);
  return JSON.parse(r.stdout) as Record<string, Record<string, number>>;
}

const CHILD_FLAG = '--sqlite-bench-child';

if (process.argv[2] === CHILD_FLAG) {
  const { mode, quick } = JSON.parse(process.argv[3] as string) as { mode: Mode; quick: boolean };
  const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-sqlite-'));
  try {
    const out = await adapterVsRaw(dir, mode, { quick, log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(JSON.stringify(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sqliteSuite: BenchSuite = {
  name: 'sqlite',
  description: 'SQLite adapters vs raw better-sqlite3 statements (per-op and batched commits, FULL and NORMAL); simulation throughput on SQLite',
  async run(ctx) {
    const batchedFull = inChild({ commit: 'batched', synchronous: 'FULL' }, ctx.quick, ctx.log);
    const eachFull = inChild({ commit: 'each', synchronous: 'FULL' }, ctx.quick, ctx.log);
    const eachNormal = inChild({ commit: 'each', synchronous: 'NORMAL' }, ctx.quick, ctx.log);
    const cost = (k: string) => round((eachNormal[k]?.adapter_ops_per_s ?? 0) / Math.max(1, eachFull[k]?.adapter_ops_per_s ?? 0), 3);
    const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-sqlite-'));
    try {
      const sim = await simulation(dir, ctx);
      return {
        batched: { synchronous_full: batchedFull, batch_ops: BATCH },
        per_op_commit: { synchronous_full: eachFull, synchronous_normal: eachNormal },
        /** NORMAL ÷ FULL adapter throughput with a commit per operation (1.0 = FULL costs nothing). */
        normal_over_full_per_op: { task_transitions: cost('task_transitions'), queue_claim_ack: cost('queue_claim_ack'), audit_appends: cost('audit_appends') },
        simulation: sim,
        target_ratio: 0.8,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
