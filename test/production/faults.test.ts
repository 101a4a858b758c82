/**
 * Faults on the production profile, as tests. A live run reconnects and finishes with no task
 * lost or committed twice (test/support/live-checks.ts) after each of:
 * - the pool's Postgres connections killed mid-run (pg_terminate_backend), at seeded rounds;
 * - the Redis clients killed (CLIENT KILL), at seeded rounds, on a Redis of the test's own;
 * - that Redis server killed and started again mid-run (AOF, appendfsync always);
 * - a worker process SIGKILLed while it holds a lease: the lease lapses and another finishes it;
 * - concurrent Judges in three engines on one campaign: no lost update (every version of the
 *   campaign is written by exactly one unit of work, and the versions have no gap).
 * The seed of each schedule is printed; rounds are counted, never timed.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { runLive, type LiveSummary } from '../../src/app/live.ts';
import { composePorts, type ComposedPorts } from '../../src/config/compose.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { AuditEvent } from '../../src/domain/schemas.ts';
import { taskQueueName } from '../../src/ports/queue.ts';
import { loadScenario, type LoadedScenario } from '../../src/scenarios/load.ts';
import { SystemClock } from '../../src/sim/clock.ts';
import { expectLiveRunSound } from '../support/live-checks.ts';
import { productionStore, type ProductionStore } from './support.ts';
import { ownRedis, type OwnRedis } from './redis-process.ts';
import { startChimera, type ChimeraProcess } from './processes.ts';

const SEED = Number(process.env.CHIMERA_FAULT_SEED ?? 20261128);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function store(label: string, redisUrl?: string): Promise<ProductionStore> {
  const s = await productionStore(label, redisUrl ? { redisUrl } : {});
  cleanups.push(() => s.drop());
  return s;
}

/** A live driver in this process; `onRound` sees every round (with the ports it runs on). */
async function drive(s: ProductionStore, scenario: LoadedScenario, run_id: string, onRound?: (round: number, ports: ComposedPorts, p: { completed: number; campaigns: number }) => void, engine: Record<string, unknown> = {}): Promise<LiveSummary> {
  let ports: ComposedPorts | null = null;
  let round = 0;
  return runLive({
    config: s.config,
    role: 'driver',
    run_id,
    scenario,
    engine: { tick_ms: 400, lease_ticks: 5, max_ticks: 10_000_000, ...engine },
    deadline_ms: 240_000,
    idle: { min: 5, max: 100 },
    // short rounds: the kill schedules count rounds
    round_steps: 4,
    open: async (clock) => (ports = await composePorts(s.config, clock)),
    onProgress: (p) => onRound?.(++round, ports as ComposedPorts, p),
  });
}

async function expectSound(s: ProductionStore, summary: LiveSummary): Promise<void> {
  expect(summary.ended).toBe('completed');
  const ports = await composePorts(s.config, new SystemClock());
  try {
    await expectLiveRunSound(ports, summary.campaign_ids);
  } finally {
    await ports.close();
  }
}

/** `count` distinct rounds from 2 to `spread`, sorted (the kill schedule). */
function schedule(rng: SeededRng, count: number, spread: number): number[] {
  const at = new Set<number>();
  while (at.size < count) at.add(2 + rng.int(spread));
  return [...at].sort((a, b) => a - b);
}

describe('production faults', () => {
  it(`Postgres connections terminated mid-run (seed ${SEED})`, async () => {
    const s = await store('fault_pg');
    const rounds = schedule(new SeededRng(SEED, 'pg-kill'), 4, 30);
    process.stderr.write(`pg_terminate_backend at rounds ${rounds.join(', ')} (seed ${SEED})\n`);
    const admin = new pg.Client({ connectionString: s.pgUrl.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    cleanups.push(() => admin.end());
    const dbName = new URL(s.pgUrl).pathname.slice(1);
    let killed = 0;
    const kills: Promise<unknown>[] = [];
    const summary = await drive(s, loadScenario('storm'), 'fault-pg', (round, _ports, p) => {
      if (rounds.includes(round) && p.completed < p.campaigns) {
        kills.push(
          admin.query('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]).then((r) => {
            if ((r.rows[0] as { n: number }).n > 0) killed += 1;
          }),
        );
      }
    });
    await Promise.all(kills);
    process.stderr.write(`pg faults: ${killed} kills landed, ${summary.rebuilds} engine rebuilds, ${summary.steps} steps\n`);
    expect(killed).toBeGreaterThanOrEqual(2);
    await expectSound(s, summary);
  }, 300_000);

  it(`Redis clients killed mid-run (seed ${SEED})`, async () => {
    const redis = await ownRedis();
    cleanups.push(() => redis.close());
    const s = await store('fault_redis_kill', redis.url);
    const rounds = schedule(new SeededRng(SEED, 'redis-kill'), 4, 30);
    process.stderr.write(`CLIENT KILL at rounds ${rounds.join(', ')} (seed ${SEED})\n`);
    const admin = new Redis(redis.url);
    cleanups.push(async () => void admin.disconnect());
    let killed = 0;
    const kills: Promise<unknown>[] = [];
    const summary = await drive(s, loadScenario('storm'), 'fault-redis', (round, _ports, p) => {
      if (rounds.includes(round) && p.completed < p.campaigns) {
        kills.push(
          admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').then((n) => {
            if (Number(n) > 0) killed += 1;
          }),
        );
      }
    });
    await Promise.all(kills);
    process.stderr.write(`redis client kills: ${killed} landed, ${summary.rebuilds} engine rebuilds\n`);
    expect(killed).toBeGreaterThanOrEqual(2);
    await expectSound(s, summary);
  }, 300_000);

  it(`the Redis server restarted mid-run (seed ${SEED})`, async () => {
    const redis: OwnRedis = await ownRedis();
    cleanups.push(() => redis.close());
    const s = await store('fault_redis_restart', redis.url);
    const [at] = schedule(new SeededRng(SEED, 'redis-restart'), 1, 20);
    process.stderr.write(`redis restart at round ${at} (seed ${SEED})\n`);
    let restart: Promise<void> | null = null;
    const summary = await drive(s, loadScenario('storm'), 'fault-restart', (round, _ports, p) => {
      if (round === at && p.completed < p.campaigns && !restart) restart = redis.kill().then(() => redis.start());
    });
    expect(restart, 'the restart never happened').not.toBeNull();
    await restart;
    process.stderr.write(`redis restart: ${summary.rebuilds} engine rebuilds\n`);
    await expectSound(s, summary);
  }, 300_000);

  it('a worker SIGKILLed while it holds a lease: the lease lapses and another finishes its task', async () => {
    const s = await store('fault_worker_kill');
    const workers: ChimeraProcess[] = [];
    cleanups.push(async () => {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    });
    for (let i = 0; i < 2; i++) workers.push(startChimera(['worker', '--backend', 'production', '--lease-ms', '2000', '--seed', String(7 + i), '--json'], s.env));
    await Promise.all(workers.map((w) => w.waitFor(/serving live campaigns/)));
    const victim = workers[0] as ChimeraProcess;
    const holder = `${hostname()}:${victim.child.pid}/`;
    let lost: { item: string; queue: string } | null = null;
    let looking: Promise<void> | null = null;
    const summary = await drive(
      s,
      loadScenario('storm'),
      'fault-worker',
      (_round, ports) => {
        if (lost || looking) return;
        // does the victim hold a task lease now? (a state read from the store, every round)
        looking = (async () => {
          for (const c of await ports.state.listCampaigns()) {
            for (const l of await ports.taskQueue.leased(taskQueueName(c.id), 100)) {
              if (l.consumer.startsWith(holder) && !lost) {
                victim.child.kill('SIGKILL');
                lost = { item: l.item.id, queue: l.queue };
              }
            }
          }
        })().finally(() => (looking = null));
      },
      { workers: 1, judges: 1 },
    );
    await victim.exited;
    expect(lost, 'the victim never held a lease').not.toBeNull();
    const found = lost as unknown as { item: string };
    await expectSound(s, summary);
    const ports = await composePorts(s.config, new SystemClock());
    try {
      const task = await ports.state.getTask(found.item);
      expect(task?.status === 'COMPLETED' || task?.status === 'FAILED').toBe(true);
      const audit = await ports.state.readAudit();
      const claims = audit.filter((e) => e.entity_id === found.item && e.action === 'task.claimed').map((e) => e.actor);
      expect(claims.length).toBeGreaterThanOrEqual(1);
      // the victim's lapsed lease was put back by a housekeeper (the driver's or the other worker's)
      const other = workers[1] as ChimeraProcess;
      other.child.kill('SIGTERM');
      expect(await other.exited).toBe(0);
      const otherSummary = JSON.parse(other.stdout) as { redelivered: number };
      process.stderr.write(`worker killed holding ${found.item}: claimed (committed) by ${claims.join(', ')}; finally ${task?.status}; leases put back: driver ${summary.redelivered}, other worker ${otherSummary.redelivered}\n`);
      expect(summary.redelivered + otherSummary.redelivered).toBeGreaterThanOrEqual(1);
    } finally {
      await ports.close();
    }
  }, 300_000);

  it('concurrent Judges in three engines on one campaign: no lost update', async () => {
    const s = await store('fault_judges');
    const storm = loadScenario('storm');
    const one: LoadedScenario = { ...storm, scenario: { ...storm.scenario, campaigns: storm.scenario.campaigns.slice(0, 1), operator: [] } };
    const stop = new AbortController();
    const serve = (seed: number) =>
      runLive({ config: s.config, role: 'worker', run_id: 'judges', scenario: storm, engine: { seed, workers: 2, judges: 4, tick_ms: 400, max_ticks: 10_000_000 }, signal: stop.signal, idle: { min: 5, max: 50 } });
    const servers = [serve(31), serve(32)];
    const summary = await drive(s, one, 'judges-driver', undefined, { judges: 4, workers: 2 });
    stop.abort();
    const served = await Promise.all(servers);
    await expectSound(s, summary);
    const ports = await composePorts(s.config, new SystemClock());
    try {
      const [id] = summary.campaign_ids;
      const campaign = await ports.state.getCampaign(id as string);
      const events = (await ports.state.readAudit()).filter((e: AuditEvent) => e.campaign_id === id && e.state_version !== null);
      // each version written by one unit: a unit writes one event per version, except a decision
      // that completes the campaign (decided + completed share it)
      const byVersion = new Map<number, AuditEvent[]>();
      for (const e of events) byVersion.set(e.state_version as number, [...(byVersion.get(e.state_version as number) ?? []), e]);
      const shared = [...byVersion].filter(([, es]) => es.length > 1 && !(es.length === 2 && es.some((e) => e.action === 'campaign.completed')));
      expect(shared.map(([v, es]) => `${v}: ${es.map((e) => e.action).join('+')}`)).toEqual([]);
      const versions = [...byVersion.keys()].sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      expect(campaign?.state_version).toBe(versions[versions.length - 1]);
      const decisions = served.map((x) => x.decided);
      process.stderr.write(`judges: campaign at version ${campaign?.state_version}; decisions by driver ${summary.decided}, servers ${decisions.join('/')}; conflicts ${[summary.conflicts, ...served.map((x) => x.conflicts)].join('/')}\n`);
    } finally {
      await ports.close();
    }
  }, 300_000);
});
