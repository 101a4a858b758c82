/** The Planner: turns a PLANNING campaign's goal into a DAG of tasks, and re-plans a failed branch (level 2). */
import { ValidationError } from '../../domain/errors.ts';
import type { AgentState } from '../engine.ts';
import type { CampaignMirror } from '../mirror.ts';
import { planCampaign, replanTask } from '../planner.ts';
import * as units from '../transactions.ts';
import type { AgentHost } from './host.ts';

export async function plannerTurn(h: AgentHost, a: AgentState): Promise<boolean> {
  for (const id of h.campaignOrder) {
    const m = h.campaigns.get(id) as CampaignMirror;
    if (m.status === 'PLANNING') {
      if (!(await plan(h, m))) continue;
      a.last = `planned ${id.slice(0, 8)}`;
      return true;
    }
    if (m.status === 'ACTIVE' && m.toReplan.length) {
      if (!(await replan(h, m, m.toReplan[0] as string))) continue;
      a.last = `re-planned a branch of ${id.slice(0, 8)}`;
      return true;
    }
  }
  return false;
}

/** Plans a campaign; false when another planner (live mode) planned it first (the mirror then waits for the next refresh). */
export async function plan(h: AgentHost, m: CampaignMirror): Promise<boolean> {
  const now = h.clock.iso();
  const { planner, tasks } = planCampaign(
    { campaign_id: m.id, goal: m.goal, persona_id: m.persona_id, content_pieces: h.scenarioPieces.get(m.id) ?? 3, now },
    h.rng.fork(`plan/${m.id}`),
  );
  const c = await units.plan(h.ports.state, h.unitContext, { campaign_id: m.id, planner, tasks });
  if (!c) {
    m.status = 'ACTIVE';
    return false;
  }
  m.status = c.status;
  m.addTask(planner, h.tickNo);
  for (const t of tasks) m.addTask(t, h.tickNo);
  h.emit('campaign.planned', { campaign_id: m.id, data: { tasks: tasks.length, state_version: c.state_version } });
  await h.enqueueTasks(m, m.readyTasks());
  return true;
}

/** Re-plans a failed branch; false when another planner (live mode) did first. */
export async function replan(h: AgentHost, m: CampaignMirror, failed_id: string): Promise<boolean> {
  const failed = await h.ports.state.getTask(failed_id);
  if (!failed) throw new ValidationError(`task ${failed_id} vanished`);
  const replacement = replanTask(failed, h.rng.fork(`replan/${failed_id}`), h.clock.iso());
  const dependents = m.dependents.get(failed_id) ?? [];
  if (!(await units.replan(h.ports.state, h.unitContext, { campaign_id: m.id, failed, replacement, dependents, live: h.live !== null }))) {
    removeFromReplan(m, failed_id); // the next refresh reads the other planner's replacement
    return false;
  }
  m.replaced(failed_id, replacement, h.tickNo);
  h.emit('task.replanned', { campaign_id: m.id, task_id: replacement.id, data: { supersedes: failed_id, branch: failed.branch, replans: replacement.replans } });
  await h.enqueueTasks(m, m.isReady(replacement.id) ? [replacement.id] : []);
  return true;
}

function removeFromReplan(m: CampaignMirror, failed_id: string): void {
  const i = m.toReplan.indexOf(failed_id);
  if (i >= 0) m.toReplan.splice(i, 1);
}
