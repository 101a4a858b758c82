/**
 * Crash safety, exactly: `chimera simulate --backend sqlite` runs a run of over 10,000 events in
 * a child process and is SIGKILLed at seeded points (while it starts up or resumes, and at seeded
 * steps of the run), restarted each time on the same file, and finally left to finish. The
 * resumed run must BE the uninterrupted run of the same seed: the same event log hash and run
 * events, audit chain, campaign rows and versions, task rows, idempotency keys and summary
 * counts, and its --out run file replays. Both commit modes: batched (a checkpoint per tick)
 * and each (a checkpoint per step).
 *
 * Files live in /dev/shm when it exists: a SIGKILL leaves the page cache intact, so fsync buys
 * nothing here and would only slow the per-step mode down. Waiting is on the file's recorded
 * progress (a separate read-only connection); no assertion depends on how long anything takes.
 * A failure prints the seed and the kill schedule.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/domain/audit.ts';
import type { AuditEvent } from '../../src/domain/schemas.ts';
import { SeededRng } from '../../src/sim/rng.ts';
import storm from '../../examples/scenarios/storm.json' with { type: 'json' };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'chimera.mjs');
const SEED = Number(process.env.CHIMERA_CRASH_SEED ?? 20261128);
const RUN_SEED = 5;
const KILLS = 10;
const MAX_LIVES = 60;
const DIR = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'chimera-crash-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

// storm's faults, pauses, human review and deliberating judges over 22 campaigns: ~12,000 events
const SCENARIO = join(DIR, 'storm-large.json');
writeFileSync(
  SCENARIO,
  JSON.stringify({
    ...storm,
    name: 'storm-large',
    campaigns: Array.from({ length: 22 }, (_, i) => ({ ...storm.campaigns[i % 2], title: `Campaign ${i}`, content_pieces: 28 })),
  }),
);

interface Life {
  readonly child: ReturnType<typeof spawn>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly out: () => string;
  readonly err: () => string;
}

function simulate(file: string, config: string, out: string): Life {
  const child = spawn(
    process.execPath,
    [BIN, 'simulate', '--backend', 'sqlite', '--db', file, '--config', config, '--seed', String(RUN_SEED), '--scenario', SCENARIO, '--until-done', '--json', '--out', out],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHIMERA_DEBUG: '1' } },
  );
  let o = '';
  let e = '';
  child.stdout?.on('data', (d: Buffer) => (o += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (e += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, exited, out: () => o, err: () => e };
}

/** Reads the file through its own read-only connection (null while it does not hold a run yet). */
function readOnly<T>(file: string, fn: (db: Database.Database) => T): T | null {
  if (!existsSync(file)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 50');
    return fn(db);
  } catch {
    return null; // not created or not migrated yet
  } finally {
    db?.close();
  }
}

const progressStep = (file: string): number => readOnly(file, (db) => (db.prepare('SELECT step FROM runs').get() as { step: number } | undefined)?.step ?? 0) ?? 0;

const poll = () => new Promise((r) => setTimeout(r, 1));

interface Outcome {
  summary: Record<string, unknown>;
  campaigns: unknown[];
  tasks: unknown[];
  audit: AuditEvent[];
  keys: string[];
  events: string[];
  queued: number;
}

function inspect(file: string, stdout: string): Outcome {
  const o = readOnly(file, (db) => ({
    campaigns: db.prepare('SELECT * FROM campaigns ORDER BY id').all(),
    // every column but output_seq (where the output sits in its table), with the output itself
    tasks: db
      .prepare(
        `SELECT t.id, t.campaign_id, t.role, t.skill_name, t.input_data, o.output_data, t.confidence_score, t.status, t.attempts,
                t.idempotency_key, t.depends_on, t.branch, t.replans, t.supersedes, t.created_at, t.updated_at
           FROM tasks t LEFT JOIN task_outputs o ON o.seq = t.output_seq ORDER BY t.id`,
      )
      .all(),
    audit: (db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Record<string, unknown>[]).map((r) => ({
      ...r,
      details: r.details === null ? null : JSON.parse(r.details as string),
    })) as unknown as AuditEvent[],
    keys: (db.prepare('SELECT key FROM idempotency_keys ORDER BY key').all() as { key: string }[]).map((r) => r.key),
    events: (db.prepare('SELECT event FROM run_events ORDER BY seq').all() as { event: string }[]).map((r) => r.event),
    queued: (db.prepare('SELECT count(*) AS n FROM queue_items').get() as { n: number }).n,
  }));
  if (!o) throw new Error(`cannot read ${file}`);
  const summary = JSON.parse(stdout) as Record<string, unknown>;
  // how long it took is the only thing a crash may change
  delete summary.elapsedMs;
  delete summary.tasksPerSecond;
  return { ...o, summary };
}

for (const mode of ['batched', 'each'] as const) {
  describe(`sqlite: a killed run resumes as the same run (commit ${mode}, seed ${SEED}, ${KILLS} SIGKILLs)`, () => {
    const config = join(DIR, `${mode}.json`);
    let want: Outcome;
    let got: Outcome;
    let kills = 0;
    let context = '';
    let final: { code: number | null; err: string; out: string } = { code: null, err: '', out: '' };
    const runFile = join(DIR, `${mode}-crashed.jsonl`);
    const refRunFile = join(DIR, `${mode}-uninterrupted.jsonl`);
    const file = join(DIR, `${mode}-crashed.sqlite`);

    beforeAll(async () => {
      writeFileSync(config, JSON.stringify({ sqlite: { commit: mode } }));
      const reference = join(DIR, `${mode}-uninterrupted.sqlite`);
      const ref = simulate(reference, config, refRunFile);
      const refExit = await ref.exited;
      if (refExit.code !== 0) throw new Error(`uninterrupted run failed: ${ref.err()}`);
      want = inspect(reference, ref.out());
      const totalSteps = want.summary.steps as number;

      const rng = new SeededRng(SEED, `crash-test/${mode}`);
      const schedule: string[] = [];
      let last: Life | null = null;
      for (let life = 0; life < MAX_LIVES; life++) {
        const before = progressStep(file);
        const p = simulate(file, config, runFile);
        let exited = false;
        void p.exited.then(() => (exited = true));
        if (kills >= KILLS) {
          await p.exited;
          last = p;
          break;
        }
        let plan: string;
        if (rng.chance(0.2)) {
          // while it starts up, opens the file or replays to its checkpoint: a seeded number of polls
          const polls = rng.int(300);
          plan = `start+${polls}`;
          for (let i = 0; i < polls && !exited; i++) await poll();
        } else {
          // at a seeded step, spread over what is left of the run
          const gap = Math.max(1, Math.floor((totalSteps - before) / (KILLS - kills)));
          const target = before + 1 + rng.int(gap);
          plan = `step>=${target}`;
          for (let i = 0; i < 600_000 && !exited && progressStep(file) < target; i++) await poll();
        }
        if (exited) {
          last = p;
          break;
        }
        p.child.kill('SIGKILL');
        const r = await p.exited;
        if (r.signal !== 'SIGKILL' && r.code === 0) {
          last = p; // it finished on its own just before the kill
          break;
        }
        if (r.signal !== 'SIGKILL') throw new Error(`life ${life} ended with ${r.code}/${r.signal}: ${p.err()}`);
        kills += 1;
        schedule.push(`${plan}@${progressStep(file)}`);
      }
      context = `reproduce: CHIMERA_CRASH_SEED=${SEED} npx vitest run test/sqlite/crash.test.ts; kills (${mode}): ${schedule.join(' ')}`;
      if (!last) throw new Error(`the run did not finish within ${MAX_LIVES} lives; ${context}`);
      const end = await last.exited;
      final = { code: end.code, err: last.err(), out: last.out() };
      if (end.code !== 0) throw new Error(`the last life failed (${end.code}): ${final.err}; ${context}`);
      got = inspect(file, final.out);
      process.stderr.write(`crash test (${mode}): ${kills} kills landed, ${got.events.length} events; ${context}\n`);
    }, 600_000);

    it(`was killed ${KILLS} times and then ran to completion, over 10,000 events`, () => {
      expect(kills, context).toBe(KILLS);
      expect(got.summary.finished, context).toBe('completed');
      expect(want.events.length).toBeGreaterThan(10_000);
    });

    it('the summary, its event log hash and the run events equal the uninterrupted run', () => {
      expect(got.summary, context).toEqual(want.summary);
      expect(got.events.length, context).toBe(want.events.length);
      expect(got.events, context).toEqual(want.events);
    });

    it('the audit chain, campaign rows, task rows and idempotency keys equal the uninterrupted run', () => {
      expect(verifyAuditChain(got.audit), context).toMatchObject({ ok: true, checked: got.audit.length });
      expect(got.audit, context).toEqual(want.audit);
      expect(got.campaigns, context).toEqual(want.campaigns);
      expect(got.tasks, context).toEqual(want.tasks);
      expect(got.keys, context).toEqual(want.keys);
      expect(got.queued, context).toBe(want.queued);
    });

    it('its --out run file replays, and holds the same events as the uninterrupted one', async () => {
      const { code, out } = await replayRunFile(runFile);
      expect(code, context).toBe(0);
      expect(JSON.parse(out), context).toMatchObject({ replayOk: true, divergedAt: null });
      const lines = (f: string) => readLines(f).slice(1, -1);
      expect(lines(runFile), context).toEqual(lines(refRunFile));
    });

    it('run again on the finished file, it changes nothing and prints the same summary', async () => {
      const p = simulate(file, config, join(DIR, `${mode}-again.jsonl`));
      const r = await p.exited;
      expect(r.code, p.err()).toBe(0);
      expect(inspect(file, p.out()), context).toEqual(got);
    });
  });
}

function readLines(f: string): string[] {
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0);
}

function replayRunFile(runFile: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, 'replay', runFile, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res) => child.on('exit', (code) => res({ code, out })));
}
