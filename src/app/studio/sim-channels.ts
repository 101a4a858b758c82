/** The 'sim/…' channels: open a run, step, tick, run and pause it, read its events, scrub back, see the swarm. */
import type { EngineEvent } from '../../engine/events.ts';
import { reviewQueueName, taskQueueName } from '../../ports/queue.ts';
import { engineConfigFor, listScenarios, loadScenario } from '../../scenarios/load.ts';
import type { EngineEventView } from '../../shared/types.ts';
import { loadStudioScenario } from '../studio-scenarios.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import { stepOnce } from './session.ts';

type SimContext = Pick<
  StudioContext,
  'config' | 'settings' | 'current' | 'exclusive' | 'status' | 'replaceSession' | 'scrub' | 'startRun' | 'stopRun' | 'branches' | 'switchBranch' | 'stateAt' | 'setBreakpoints'
>;

export function simChannels(ctx: SimContext): NamespaceHandlers<'sim'> {
  return {
    'sim/status': async () => ctx.status(),
    'sim/scenarios': async () => ({
      scenarios: listScenarios().map((name) => {
        const l = loadScenario(name);
        const c = engineConfigFor(l.scenario);
        return { name, description: l.scenario.description, personas: l.scenario.personas, workers: c.workers, seed: c.seed, faults: c.faults, human_enabled: c.human.enabled };
      }),
    }),
    'sim/open': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        // a shipped scenario or a file inside the data folder, never any path (see studio-scenarios.ts)
        const loaded = loadStudioScenario(a.scenario, ctx.config.data_dir);
        const base = engineConfigFor(loaded.scenario);
        const overrides: Record<string, unknown> = { seed: a.seed };
        if (a.workers !== undefined) overrides.workers = a.workers;
        if (a.faults) overrides.faults = a.faults;
        if (a.human_enabled !== undefined) overrides.human = { ...base.human, enabled: a.human_enabled };
        await ctx.replaceSession(s.profile, { loaded, overrides, fresh: true });
        const c = ctx.current().sim.engineConfig;
        ctx.settings.update({ last_run: { scenario: loaded.scenario.name, seed: c.seed, workers: c.workers, faults: c.faults } });
        return ctx.status();
      }),
    'sim/step': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const out: EngineEventView[] = [];
        for (let i = 0; i < (a.count ?? 1); i++) {
          const r = await stepOnce(s);
          if (!r) break;
          out.push(...r.events);
        }
        await s.sim.engine.flush();
        return { status: ctx.status(), events: out.slice(-200) };
      }),
    'sim/tick': async () =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const start = s.sim.engine.tickNo;
        let steps = 0;
        while (!s.sim.engine.finished && s.sim.engine.tickNo === start) {
          if (!(await stepOnce(s))) break;
          steps += 1;
        }
        await s.sim.engine.flush();
        return { status: ctx.status(), steps };
      }),
    'sim/run': async (a) => {
      await ctx.stopRun();
      ctx.startRun(a);
      return ctx.status();
    },
    'sim/pause': async () => {
      await ctx.stopRun();
      return ctx.status();
    },
    'sim/speed': async (a) => {
      ctx.settings.update({ speed: a.steps_per_s });
      return ctx.status();
    },
    'sim/events': async (a) => {
      const all = ctx.current().sim.engine.log.all();
      const after = a.after_step ?? 0;
      const limit = a.limit ?? 500;
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((all[mid] as EngineEvent).step <= after) lo = mid + 1;
        else hi = mid;
      }
      const events: EngineEvent[] = [];
      for (let i = lo; i < all.length && events.length < limit; i++) {
        const e = all[i] as EngineEvent;
        if ((!a.type || e.type === a.type) && (!a.task_id || e.task_id === a.task_id)) events.push(e);
      }
      return { total: all.length, events };
    },
    'sim/scrub': async (a) => ctx.exclusive(async () => ctx.scrub(a.step)),
    'sim/branches': async () => ({ branches: ctx.branches() }),
    'sim/branch': async (a) => ctx.exclusive(async () => ctx.switchBranch(a.id)),
    'sim/stepstate': async (a) => ctx.stateAt(a.step, a.campaign_id),
    'sim/breakpoints': async (a) => ctx.setBreakpoints(a.breakpoints),
    'sim/swarm': async () => {
      const s = ctx.current();
      const queues = [];
      for (const id of s.sim.engine.campaignOrder) {
        const c = await s.sim.ports.state.getCampaign(id);
        queues.push({
          campaign_id: id,
          title: c?.title ?? id,
          task_queue: await s.sim.ports.taskQueue.depth(taskQueueName(id)),
          review_queue: await s.sim.ports.reviewQueue.depth(reviewQueueName(id)),
        });
      }
      return { agents: s.sim.engine.agentStates(), queues };
    },
  };
}
