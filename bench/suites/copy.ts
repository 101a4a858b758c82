/**
 * `chimera copy` at 100,000 tasks (suite `copy`; --quick: 10,000) and at 1,000,000 (suite
 * `copy-1m`, on demand: about half an hour here): a SQLite source filled by direct inserts
 * (campaigns of 1,000 tasks with outputs, one audit event and one idempotency key per task, 10
 * queue items per campaign, a run of 10,000 events), copied by the CLI in a process of its own (so
 * its peak RSS is the copy's) SQLite → SQLite and SQLite → production (this machine's Postgres and
 * Redis: CHIMERA_TEST_PG_URL, CHIMERA_TEST_REDIS_URL), and back (at 100,000). Figures: tasks/s over
 * the whole copy (verification included), records/s, peak RSS and peak heap in use (MB), the time
 * of the verification alone (a re-run of the finished copy only verifies), and the SQLite copy
 * again with V8's old space capped at 128 MB (it completes: the copy's heap does not grow with the
 * state).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { openCopySide, parseCopySide } from '../../src/config/copy-sides.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { AuditDraft, Campaign, Task, WorkerTaskInput } from '../../src/domain/schemas.ts';
import { round, type BenchContext, type BenchSuite } from '../suite.ts';

const PG = (): string => process.env.CHIMERA_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = (): string => process.env.CHIMERA_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'chimera.mjs');

/** Fills a new SQLite file with `campaigns` × `per` tasks (and their audit events, keys, some queue items, a run). */
export async function buildSource(file: string, campaigns: number, per: number): Promise<void> {
  const side = await openCopySide(parseCopySide(`sqlite:${file}`, process.cwd()), 'target', { env: { ...process.env } });
  const rng = new SeededRng(2026, 'copy-bench');
  const p = side.ports;
  try {
    for (let c = 0; c < campaigns; c++) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, c)).toISOString();
      const campaign: Campaign = { id: rng.uuid(), title: `Bench ${c}`, goal: 'Grow the audience', status: 'ACTIVE', state_version: 2, created_at: at, updated_at: at, persona_id: 'aria' };
      await p.state.transaction((tx) => tx.insertCampaign(campaign));
      for (let start = 0; start < per; start += 1000) {
        const tasks: Task[] = [];
        for (let i = start; i < Math.min(per, start + 1000); i++) {
          const id = rng.uuid();
          const done = i % 3 !== 0;
          tasks.push({
            id,
            campaign_id: campaign.id,
            role: 'WORKER',
            skill_name: 'content_generation',
            input_data: { topic: 'sneakers', piece: i },
            output_data: done ? { text: `A post about sneakers, number ${i}, with a few sentences of body text.`, hashtags: ['#eco', '#run'] } : null,
            confidence_score: done ? 0.9 : null,
            status: done ? 'COMPLETED' : 'PENDING',
            attempts: done ? 1 : 0,
            idempotency_key: `key-${id}`,
            depends_on: [],
            branch: 'b1',
            replans: 0,
            supersedes: null,
            created_at: at,
            updated_at: at,
          });
        }
        await p.state.transaction(async (tx) => {
          await tx.insertTasks(tasks);
          for (const t of tasks) {
            await tx.claimIdempotencyKey(`${t.id}:commit`);
            const draft: AuditDraft = {
              id: rng.uuid(),
              actor: 'planner',
              action: 'task.created',
              entity_type: 'task',
              entity_id: t.id,
              campaign_id: campaign.id,
              before_status: null,
              after_status: t.status,
              state_version: 1,
              timestamp: at,
              details: { piece: t.input_data },
            };
            await tx.appendAudit(draft);
          }
        });
      }
      const pending = await p.state.listTasks({ campaign_id: campaign.id, status: 'PENDING', limit: 10 });
      await p.taskQueue.enqueue(
        `task_queue:${campaign.id}`,
        pending.map((t) => ({ id: t.id, payload: { task_id: t.id, skill_name: 'content_generation', params: { n: c }, persona_id: 'aria' } satisfies WorkerTaskInput })),
      );
    }
    await p.personaCache.set('aria', { name: 'Aria', voice: '["warm"]' });
    await p.runLog.startRun({ run_id: 'bench', seed: 1, config: {}, scenario: { name: 'bench' }, created_at: '2026-01-01T00:00:00.000Z' }, { step: 0, tick: 0, clock_ms: 0 });
    for (let s = 0; s < 10; s++) {
      await p.runLog.append(
        Array.from({ length: 1000 }, (_, i) => ({ step: s * 1000 + i, type: 'task.completed', tick: s })),
        { step: s * 1000 + 999, tick: s, clock_ms: s * 100 },
      );
    }
  } finally {
    await side.close();
  }
}

/** Runs `chimera copy FROM TO --json` in its own process; its JSON answer. */
function copyProcess(from: string, to: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, 'copy', from, to, '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, unknown>) : reject(new Error(`chimera copy ${from} ${to} exited ${code}: ${err.slice(-2000)}`))));
  });
}

function figures(j: Record<string, unknown>, tasks: number): Record<string, unknown> {
  const counts = j.counts as Record<string, number>;
  const records = Object.values(counts).reduce((a, b) => a + b, 0);
  const s = j.elapsed_s as number;
  return { tasks, seconds: round(s, 2), tasks_per_s: Math.round(tasks / s), records_per_s: Math.round(records / s), peak_rss_mb: j.peak_rss_mb, peak_heap_used_mb: j.peak_heap_used_mb };
}

/** What one size of the bench copies. */
interface CopyBench {
  readonly campaigns: number;
  /** Copy the production target back to SQLite too. */
  readonly back: boolean;
}

async function runCopyBench(ctx: BenchContext, opts: CopyBench): Promise<Record<string, unknown>> {
  const per = 1000;
  const tasks = opts.campaigns * per;
  const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-copy-'));
  const name = `chimera_bench_copy_${process.pid}`;
  const prefix = `bench-copy:${process.pid}:`;
  const out: Record<string, unknown> = { tasks };
  try {
    const t0 = performance.now();
    await buildSource(join(dir, 'src.db'), opts.campaigns, per);
    out.build_source_s = round((performance.now() - t0) / 1000, 1);
    ctx.log(`source built: ${tasks} tasks in ${out.build_source_s} s`);
    const toSqlite = await copyProcess(`sqlite:${join(dir, 'src.db')}`, `sqlite:${join(dir, 'dst.db')}`, {});
    out.sqlite_to_sqlite = figures(toSqlite, tasks);
    ctx.log(`sqlite → sqlite: ${JSON.stringify(out.sqlite_to_sqlite)}`);
    // the same copy with V8's old space capped at 128 MB: it fits, so what the copy holds does not grow with the state
    const capped = await copyProcess(`sqlite:${join(dir, 'src.db')}`, `sqlite:${join(dir, 'capped.db')}`, {}, ['--max-old-space-size=128']);
    out.sqlite_to_sqlite_heap_capped_128mb = figures(capped, tasks);
    ctx.log(`sqlite → sqlite, old space capped at 128 MB: ${JSON.stringify(out.sqlite_to_sqlite_heap_capped_128mb)}`);
    rmSync(join(dir, 'capped.db'), { force: true });
    const verify = await copyProcess(`sqlite:${join(dir, 'src.db')}`, `sqlite:${join(dir, 'dst.db')}`, {});
    out.verify_only_s = verify.elapsed_s;
    ctx.log(`verification alone: ${String(verify.elapsed_s)} s`);
    const admin = new pg.Client({ connectionString: PG() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(PG());
    u.pathname = `/${name}`;
    const env = { CHIMERA_POSTGRES_URL: u.toString(), CHIMERA_REDIS_URL: REDIS(), CHIMERA_REDIS_PREFIX: prefix, CHIMERA_DATA_DIR: dir };
    const toProd = await copyProcess(`sqlite:${join(dir, 'src.db')}`, 'production', env);
    out.sqlite_to_production = figures(toProd, tasks);
    ctx.log(`sqlite → production: ${JSON.stringify(out.sqlite_to_production)}`);
    let back: Record<string, unknown> | null = null;
    if (opts.back) {
      back = await copyProcess('production', `sqlite:${join(dir, 'back.db')}`, env);
      out.production_to_sqlite = figures(back, tasks);
      ctx.log(`production → sqlite: ${JSON.stringify(out.production_to_sqlite)}`);
    }
    out.digests_equal = toSqlite.digest === capped.digest && toSqlite.digest === toProd.digest && (back === null || toProd.digest === back.digest);
    return out;
  } finally {
    const c = new pg.Client({ connectionString: PG() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
    const r = new Redis(REDIS());
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
    r.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const copySuite: BenchSuite = {
  name: 'copy',
  description: 'chimera copy at 100,000 tasks: SQLite → SQLite and SQLite → production, tasks/s and peak RSS',
  run: (ctx) => runCopyBench(ctx, { campaigns: ctx.quick ? 10 : 100, back: true }),
};

export const copyMillionSuite: BenchSuite = {
  name: 'copy-1m',
  description: 'chimera copy at 1,000,000 tasks: SQLite → SQLite (and with the heap capped at 128 MB) and SQLite → production, tasks/s, peak RSS and heap',
  onDemand: true,
  run: (ctx) => runCopyBench(ctx, { campaigns: ctx.quick ? 20 : 1000, back: false }),
};
