/**
 * Property-based: random sequences of engine steps and outside commands (pause, resume,
 * human decisions, new campaigns), run over every adapter entry that serves the engine's
 * ports (state, both queues, persona cache, run log; persona memory from the entry when it
 * has one, else the in-memory reference, and the hashing embedder). The invariant checkers
 * run after every step, including each step of a multi-step command and of a tick; a
 * command that is not allowed fails with a typed error and changes nothing. fast-check's seed
 * is fixed, so a failure reproduces; its message names the entry, the seed and the step.
 */
import { expect, it } from 'vitest';
import fc from 'fast-check';
import { ChimeraError } from '../../src/domain/errors.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';
import { SwarmEngine, type ExternalCommand } from '../../src/engine/engine.ts';
import type { Ports } from '../../src/ports/index.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../src/domain/schemas.ts';
import { guardStateStore } from '../../src/ports/guards/guarded-state-store.ts';
import { guardPersonaMemory } from '../../src/ports/guards/guarded-persona-memory.ts';
import { MemoryPersonaMemory } from '../../src/adapters/memory/memory-persona-memory.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { parseConfig } from '../../src/config/config.ts';
import { engineConfigFor, loadScenario } from '../../src/scenarios/load.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { forEachAdapter, type Harness } from '../contract/run.ts';

type Cmd =
  | { k: 'steps'; n: number }
  | { k: 'tick' }
  | { k: 'pause' | 'resume'; c: number }
  | { k: 'decide'; t: number; d: 'approve' | 'reject' | 'edit'; stale: boolean }
  | { k: 'create'; pieces: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('steps' as const), n: fc.integer({ min: 1, max: 25 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('pause' as const, 'resume' as const), c: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('decide' as const), t: fc.nat(20), d: fc.constantFrom('approve' as const, 'reject' as const, 'edit' as const), stale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('create' as const), pieces: fc.integer({ min: 1, max: 3 }) }) },
);

const STORM = loadScenario('storm');
/** Sequences per entry: 12 keeps the file near 12 s here (SQLite ~9 s); PROPERTY_RUNS=200 for a deeper look. */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 12);
/** A tick ends within this many steps (bounded, so a stuck engine fails instead of spinning). */
const MAX_TICK_STEPS = 5_000;

/** The engine's ports on a fresh namespace of the entry. */
async function portsOn(h: Harness, clock: VirtualClock): Promise<Ports> {
  const ns = await h.namespace();
  return {
    state: guardStateStore(await h.state(ns)),
    taskQueue: await h.queue<WorkerTaskInput>(ns, clock, 'task'),
    reviewQueue: await h.queue<WorkerTaskOutput>(ns, clock, 'review'),
    personaCache: await h.personaCache(ns),
    runLog: await h.runLog(ns),
    memory: guardPersonaMemory(h.entry.ports.includes('memory') ? await h.memory(ns) : new MemoryPersonaMemory()),
    embedder: new HashingEmbedder(parseConfig({}).embedder.dimensions),
  };
}

function propertySuite(h: Harness): void {
  it(`random command sequences keep every invariant after every step (${RUNS} seeded sequences)`, async () => {
    let runs = 0;
    let checks = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), fc.array(cmd, { minLength: 5, maxLength: 30 }), async (seed, cmds) => {
        runs += 1;
        const clock = new VirtualClock();
        const ports = await portsOn(h, clock);
        const engine = await SwarmEngine.create({
          ports,
          clock,
          scenario: STORM.scenario,
          personas: STORM.personas,
          config: engineConfigFor(STORM.scenario, { seed, human: { enabled: false } }),
        });
        const inv = new InvariantChecker(ports);
        const where = (what: string) => `${h.entry.name}, seed ${seed}, step ${engine.stepNo} (${what})`;
        const checked = async (what: string) => {
          checks += 1;
          const v = await inv.check();
          if (v.length) throw new Error(`invariant broken on ${where(what)}: ${v.join('; ')}`);
        };
        const command = async (c: ExternalCommand) => {
          await engine.command(c);
          await checked(c.type);
        };
        try {
          await checked('start');
          for (const c of cmds) {
            const before = await ports.state.auditHead();
            try {
              if (c.k === 'steps') {
                for (let i = 0; i < c.n && (await engine.step()); i++) await checked('step');
              } else if (c.k === 'tick') {
                const start = engine.tickNo;
                for (let i = 0; i < MAX_TICK_STEPS && !engine.finished && engine.tickNo === start; i++) {
                  await engine.step();
                  await checked('tick');
                }
                expect(engine.finished !== null || engine.tickNo !== start, where('tick ends')).toBe(true);
              } else if (c.k === 'pause' || c.k === 'resume') {
                const id = engine.campaignOrder[c.c % engine.campaignOrder.length]!;
                await command({ type: c.k === 'pause' ? 'campaign.pause' : 'campaign.resume', campaign_id: id });
              } else if (c.k === 'decide') {
                const pending = await ports.state.listTasks({ status: 'ESC_HITL' });
                const t = pending[c.t % Math.max(1, pending.length)];
                if (!t) continue;
                const camp = (await ports.state.getCampaign(t.campaign_id))!;
                await command({ type: 'human.decide', task_id: t.id, decision: c.d, expected_version: camp.state_version - (c.stale ? 1 : 0) });
              } else if (c.k === 'create') {
                await command({ type: 'campaign.create', title: 'Generated', goal: 'Grow the community with repair stories', persona_id: 'aria', content_pieces: c.pieces });
              }
            } catch (e) {
              if (e instanceof Error && e.message.startsWith('invariant broken')) throw e;
              // a decision on a fresh read of an escalated task is always allowed (even while paused)
              if (c.k === 'decide' && !c.stale) throw e;
              // refused commands are typed, and leave the audit log where it was
              expect(e, where(c.k)).toBeInstanceOf(ChimeraError);
              expect(['CONFLICT', 'ILLEGAL_TRANSITION', 'VALIDATION']).toContain((e as ChimeraError).code);
              expect(await ports.state.auditHead(), where(c.k)).toEqual(before);
              await checked(`after refused ${c.k}`);
            }
          }
        } finally {
          for (const p of [ports.state, ports.taskQueue, ports.reviewQueue, ports.personaCache, ports.runLog, ports.memory, ports.embedder]) await p.close();
        }
      }),
      { numRuns: RUNS, seed: 20261126, endOnFailure: true },
    );
    expect(runs).toBe(RUNS);
    // every step of every sequence was checked, not only the ends of commands
    expect(checks).toBeGreaterThan(runs * 20);
  }, RUNS * 20_000); // a server backend (Postgres: every check is a dozen round trips) takes several seconds a sequence
}

await forEachAdapter(['state', 'queue', 'personaCache', 'runLog'], 'engine property', propertySuite);
