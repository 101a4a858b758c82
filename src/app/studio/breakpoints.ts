/**
 * Breakpoints: where a run pauses by itself. Before the next action of an agent kind (found on
 * a copy one step ahead, so the session stands just before it: StepStates.lookahead), or on a
 * step that did something: a worker claimed a task of a skill (task type), the Judge or a person
 * escalated or rejected, the Planner re-planned, an optimistic-concurrency conflict. Each match
 * says why in words the Simulation view shows.
 */
import type { EngineEvent } from '../../engine/events.ts';
import type { AgentKind } from '../../engine/engine.ts';
import type { Breakpoint } from '../../shared/types.ts';

/** The agent kind of an agent id as the engine names them (worker-3 → worker; ui → human: a person's decision). */
export function agentKind(agents: readonly { id: string; kind: AgentKind }[], agent: string): AgentKind | 'ui' | 'system' {
  if (agent === 'ui' || agent === 'system') return agent;
  return agents.find((a) => a.id === agent)?.kind ?? 'system';
}

/** The first "before an agent kind" breakpoint the next step's agent matches, as a reason, or null. */
export function matchBefore(bps: readonly Breakpoint[], kind: string, agent: string, step: number): string | null {
  for (const b of bps) {
    if (b.kind === 'agent' && b.agent === kind) return `breakpoint before ${b.agent}: ${agent} acts next (step ${step})`;
  }
  return null;
}

/** The first "on …" breakpoint a step's events match, as a reason, or null. */
export function matchOn(bps: readonly Breakpoint[], events: readonly EngineEvent[]): string | null {
  for (const b of bps) {
    for (const e of events) {
      const d = (e.data ?? {}) as Record<string, unknown>;
      const task = e.task_id ? ` task ${e.task_id.slice(0, 8)}` : '';
      switch (b.kind) {
        case 'task_type':
          if (e.type === 'task.claimed' && d.skill === b.skill) return `breakpoint on task type ${b.skill}: ${e.agent} claimed${task} (step ${e.step})`;
          break;
        case 'route': {
          // the Judge's commit (not its first read, which also names a route)
          const judged = e.type === 'judge.decided' && d.phase === undefined;
          if (b.route === 'escalate' && judged && d.route === 'ESC_HITL') return `breakpoint on escalate: ${e.agent} escalated${task} to human review (step ${e.step})`;
          if (b.route === 'reject' && ((judged && d.route === 'FAILED') || (e.type === 'human.decided' && d.decision === 'reject')))
            return `breakpoint on reject: ${e.agent} rejected${task} (step ${e.step})`;
          if (b.route === 'replan' && e.type === 'task.replanned') return `breakpoint on re-plan: ${e.agent} re-planned a failed task as${task} (step ${e.step})`;
          break;
        }
        case 'conflict':
          if (e.type === 'occ.conflict') return `breakpoint on conflict: ${e.agent} read state_version ${String(d.read_version)} but the campaign had moved on (step ${e.step})`;
          break;
        case 'agent':
          break;
      }
    }
  }
  return null;
}
