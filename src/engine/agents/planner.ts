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
      await plan(h, m);
      a.last = `planned ${id.slice(0, 8)}`;
      return true;
    }
    if (m.status === 'ACTIVE' && m.toReplan.length) {
      await replan(h, m, m.toReplan[0] as string);
      a.last = `re-planned a branch of ${id.slice(0, 8)}`;
      return true;
    }
  }
  return false;
}

export async function plan(h: AgentHost, m: CampaignMirror): Promise<void> {
  const now = h.clock.iso();
  const { planner, tasks } = planCampaign(
    { campaign_id: m.id, goal: m.goal, persona_id: m.persona_id, content_pieces: h.scenarioPieces.get(m.id) ?? 3, now },
    h.rng.fork(`plan/${m.id}`),
  );
  const c = await units.plan(h.ports.state, h.unitContext, { campaign_id: m.id, planner, tasks });
  m.status = c.status;
  m.addTask(planner, h.tickNo);
  for (const t of tasks) m.addTask(t, h.tickNo);
  h.emit('campaign.planned', { campaign_id: m.id, data: { tasks: tasks.length, state_version: c.state_version } });
  await h.enqueueTasks(m, m.readyTasks());
}

export async function replan(h: AgentHost, m: CampaignMirror, failed_id: string): Promise<void> {
  const failed = await h.ports.state.getTask(failed_id);
  if (!failed) throw new ValidationError(`task ${failed_id} vanished`);
  const replacement = replanTask(failed, h.rng.fork(`replan/${failed_id}`), h.clock.iso());
  const dependents = m.dependents.get(failed_id) ?? [];
  await units.replan(h.ports.state, h.unitContext, { campaign_id: m.id, failed, replacement, dependents });
  m.replaced(failed_id, replacement, h.tickNo);
  h.emit('task.replanned', { campaign_id: m.id, task_id: replacement.id, data: { supersedes: failed_id, branch: failed.branch, replans: replacement.replans } });
  await h.enqueueTasks(m, m.isReady(replacement.id) ? [replacement.id] : []);
}
