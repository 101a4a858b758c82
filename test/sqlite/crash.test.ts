/**
 * Crash safety: `chimera simulate --backend sqlite` runs in a child process and is killed with
 * SIGKILL at seeded points (some while it starts up or resumes, most right after a seeded
 * number of audit commits), restarted each time on the same file, and finally left to finish.
 * Then: the audit chain verifies, no task was decided twice, nothing is left stuck (every
 * acknowledged piece of work reached the state), and the completed tasks are exactly those of
 * an uninterrupted run with the same seed.
 *
 * Waiting here is on real child processes (polling the file every millisecond); no test logic
 * depends on how long anything takes. A failure prints the seed and the kill schedule.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/domain/audit.ts';
import type { AuditEvent } from '../../src/domain/schemas.ts';
import { SeededRng } from '../../src/sim/rng.ts';
import { openSqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/sqlite-state-store.ts';
import { tempDbPath } from './temp-db.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'chimera.mjs');
const SEED = Number(process.env.CHIMERA_CRASH_SEED ?? 20261126);
const SCENARIO = 'storm';
const KILLS = 24;
const MAX_LIVES = 80;

interface Life {
  readonly child: ReturnType<typeof spawn>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly out: () => string;
  readonly err: () => string;
}

function simulate(file: string): Life {
  const child = spawn(
    process.execPath,
    [BIN, 'simulate', '--backend', 'sqlite', '--db', file, '--seed', String(SEED), '--scenario', SCENARIO, '--until-done', '--json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHIMERA_DEBUG: '1' } },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, exited, out: () => out, err: () => err };
}

/** The last committed audit seq, read through a separate read-only connection (0 while there is none). */
function auditSeq(file: string): number {
  if (!existsSync(file)) return 0;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 50');
    return (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM audit_log').get() as { n: number }).n;
  } catch {
    return 0; // not created or not migrated yet
  } finally {
    db?.close();
  }
}

const tick = () => new Promise((r) => setTimeout(r, 1));

interface Outcome {
  completed: string[];
  statuses: Record<string, number>;
  audit: AuditEvent[];
  /** Queue items whose task is not decided. */
  queued: number;
  /** Tasks not COMPLETED or FAILED, with their lineage, for the failure message. */
  stuck: unknown[];
  summary: { finished: string; eventLogSha256: string };
}

async function inspect(file: string, stdout: string): Promise<Outcome> {
  const sdb = openSqliteDatabase(file);
  const store = new SqliteStateStore(sdb);
  await sdb.release();
  try {
    const tasks = await store.listTasks();
    const statuses: Record<string, number> = {};
    for (const t of tasks) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    // items still queued whose task is not decided yet (a leftover duplicate delivery of a decided task is harmless)
    const left = sdb.db.prepare(`SELECT space, queue, id, json_extract(payload, '$.task_id') AS task_id FROM queue_items`).all() as {
      task_id: string;
    }[];
    const decided = new Set(tasks.filter((t) => t.status === 'COMPLETED' || t.status === 'FAILED').map((t) => t.id));
    const queued = left.filter((q) => !decided.has(q.task_id)).length;
    return {
      completed: tasks.filter((t) => t.status === 'COMPLETED').map((t) => t.id).sort(),
      statuses,
      audit: await store.readAudit(),
      queued,
      stuck: tasks
        .filter((t) => t.status !== 'COMPLETED' && t.status !== 'FAILED')
        .map((t) => ({ id: t.id, status: t.status, skill: t.skill_name, branch: t.branch, replans: t.replans, attempts: t.attempts, depends_on: t.depends_on })),
      summary: JSON.parse(stdout) as Outcome['summary'],
    };
  } finally {
    await store.close();
  }
}

/**
 * Why the completed set can match: with batched commits (the default) the file only ever holds
 * the state as of one of the engine's checkpoints (its run-log append at the end of a tick), so
 * a killed run resumes exactly where the log says it stood. With commit mode 'each' it does
 * not match: the engine draws a skill's outcome from `skill/${task_id}/${attempts}`, and a kill
 * between a claim's commit and the output's commit adds a delivery (attempts + 1), so the
 * resumed run draws another outcome.
 */
describe(`sqlite: crash safety (seed ${SEED}, ${KILLS} SIGKILLs, scenario ${SCENARIO})`, () => {
  let want: Outcome;
  let got: Outcome;
  let kills = 0;
  let context = '';
  let finalExit: { code: number | null } = { code: null };
  let finalErr = '';

  beforeAll(async () => {
    const reference = tempDbPath('uninterrupted');
    const ref = simulate(reference);
    const refExit = await ref.exited;
    if (refExit.code !== 0) throw new Error(`uninterrupted run failed: ${ref.err()}`);
    want = await inspect(reference, ref.out());
    const totalAudit = want.audit.length;

    const file = tempDbPath('crashed');
    const rng = new SeededRng(SEED, 'crash-test');
    const schedule: string[] = [];
    let final: Life | null = null;
    for (let life = 0; life < MAX_LIVES && !final; life++) {
      const before = auditSeq(file);
      const p = simulate(file);
      let exited = false;
      void p.exited.then(() => (exited = true));
      if (kills >= KILLS) {
        await p.exited;
        final = p;
        break;
      }
      let plan: string;
      if (rng.chance(0.25)) {
        // during start-up (loading, opening, migrating), before the first commit of this life:
        // at the seeded time, or as soon as this life commits (a fast run can finish in 400 ms)
        const wait_ms = rng.int(400);
        plan = `t+${wait_ms}ms`;
        for (let waited = 0; waited < wait_ms && !exited && auditSeq(file) <= before; waited++) await tick();
      } else {
        // spread the kills over the run: the gap shrinks as the run nears its (estimated) end
        const gap = Math.max(1, Math.floor((totalAudit - before) / (KILLS - kills)));
        const target = before + 1 + rng.int(gap);
        plan = `seq>=${target}`;
        for (let polls = 0; polls < 60_000 && !exited && auditSeq(file) < target; polls++) await tick();
        for (let extra = rng.int(3); extra > 0 && !exited; extra--) await tick();
      }
      if (exited) {
        final = p;
        break;
      }
      p.child.kill('SIGKILL');
      const r = await p.exited;
      if (r.signal !== 'SIGKILL' && r.code === 0) {
        final = p; // it finished on its own just before the kill
        break;
      }
      if (r.signal !== 'SIGKILL') throw new Error(`life ${life} ended with ${r.code}/${r.signal}: ${p.err()}`);
      kills += 1;
      schedule.push(`${plan}@${auditSeq(file)}`);
    }
    context = `reproduce: CHIMERA_CRASH_SEED=${SEED} npx vitest run test/sqlite/crash.test.ts; kills: ${schedule.join(' ')}`;
    if (!final) throw new Error(`the run did not finish within ${MAX_LIVES} lives; ${context}`);
    finalExit = await final.exited;
    finalErr = final.err();
    got = await inspect(file, final.out());
    process.stderr.write(`crash test: ${kills} kills, ${got.audit.length} audit events (uninterrupted: ${totalAudit}); ${context}\n`);
  }, 300_000);

  it('was killed at least 20 times and then ran to completion', () => {
    expect(finalExit.code, `${context}\n${finalErr}`).toBe(0);
    expect(kills, context).toBeGreaterThanOrEqual(20);
    expect(got.summary.finished, context).toBe('completed');
  });

  it('the audit chain verifies end to end', () => {
    expect(verifyAuditChain(got.audit), context).toMatchObject({ ok: true, checked: got.audit.length });
  });

  it('no task was committed twice (one judge and at most one human decision each)', () => {
    const decisions = new Map<string, number>();
    for (const e of got.audit) {
      if (e.entity_type !== 'task' || !['COMPLETED', 'FAILED', 'ESC_HITL'].includes(e.after_status ?? '')) continue;
      const k = `${e.entity_id}:${e.before_status}`;
      decisions.set(k, (decisions.get(k) ?? 0) + 1);
    }
    expect([...decisions].filter(([, n]) => n > 1), context).toEqual([]);
  });

  it('no acknowledged work was lost: nothing queued, pending or in progress; every task decided', () => {
    const stuck = { queued: got.queued, PENDING: got.statuses.PENDING ?? 0, PROCESSING: got.statuses.PROCESSING ?? 0, ESC_HITL: got.statuses.ESC_HITL ?? 0 };
    expect(stuck, `${context}; statuses ${JSON.stringify(got.statuses)}; stuck: ${JSON.stringify(got.stuck)}`).toEqual({
      queued: 0,
      PENDING: 0,
      PROCESSING: 0,
      ESC_HITL: want.statuses.ESC_HITL ?? 0,
    });
  });

  it("the completed tasks equal an uninterrupted run's", () => {
    expect(got.completed, context).toEqual(want.completed);
    expect(got.statuses, context).toEqual(want.statuses);
  });
});
