/** The human reviewer: the simulated one (decides escalated tasks after a delay, with seeded odds) and the decisions a person makes in the UI. */
import { ChimeraError, ConflictError, ValidationError } from '../../domain/errors.ts';
import { HUMAN_DECISION_ACTIONS } from '../../domain/audit.ts';
import type { TaskStatus } from '../../domain/schemas.ts';
import type { AgentState } from '../engine.ts';
import { redactFlagged } from '../judge.ts';
import * as units from '../transactions.ts';
import type { CampaignMirror } from '../mirror.ts';
import type { AgentHost } from './host.ts';

/** The simulated reviewer's turn: the first escalated task whose delay has passed, decided with seeded odds. */
export async function humanTurn(h: AgentHost, a: AgentState): Promise<boolean> {
  for (const id of h.campaignOrder) {
    const m = h.campaigns.get(id) as CampaignMirror;
    if (m.status !== 'ACTIVE') continue;
    for (const tid of m.escalated) {
      const t = m.tasks.get(tid);
      if (!t || t.escalated_tick === null || t.escalated_tick + h.config.human.delay_ticks > h.tickNo) continue;
      const r = h.rng.fork(`human/${tid}/${t.replans}`).next();
      const odds = h.config.human;
      const decision = r < odds.approve ? 'approve' : r < odds.approve + odds.edit ? 'edit' : 'reject';
      try {
        await humanDecide(h, tid, decision, null, 'simulated-reviewer');
      } catch (e) {
        // live mode: another process's reviewer decided it since this mirror was read
        if (!(e instanceof ChimeraError && e.code === 'ILLEGAL_TRANSITION')) throw e;
        m.setStatus(tid, 'PROCESSING', h.tickNo); // off the review list; the next refresh reads what it became
        h.emit('task.duplicate', { campaign_id: m.id, task_id: tid, data: { stage: 'human' } });
        return true;
      }
      a.last = `${decision}d ${tid.slice(0, 8)}`;
      return true;
    }
  }
  return false;
}

/** A human's decision on an escalated task: approve, reject, or edit then approve. */
export async function humanDecide(h: AgentHost, task_id: string, decision: 'approve' | 'reject' | 'edit', edited_text: string | null, reviewer: string, expected_version?: number): Promise<void> {
  const task = await h.ports.state.getTask(task_id);
  if (!task) throw new ValidationError(`unknown task ${task_id}`);
  if (task.status !== 'ESC_HITL') throw new ChimeraError('ILLEGAL_TRANSITION', `task ${task_id} is ${task.status}, not waiting for review`);
  const m = h.mirror(task.campaign_id);
  const route: TaskStatus = decision === 'reject' ? 'FAILED' : 'COMPLETED';
  const prev = (task.output_data ?? {}) as Record<string, unknown>;
  let text = edited_text;
  if (decision === 'edit' && !text) {
    const orig = (prev.output as { result?: { text?: string } } | undefined)?.result?.text ?? '';
    text = redactFlagged(orig, (h.personas.get(m.persona_id) ?? (await h.persona(m.persona_id))));
  }
  const output_data = { ...prev, human: { decision, reviewer }, ...(text ? { edited_text: text } : {}) };
  // the engine event stays 'human.decided' (with the decision in its data); the audit log names each
  // decision, and an edit's audit event carries the text that replaced the output
  const action = HUMAN_DECISION_ACTIONS[decision];
  // a version the reviewer saw is theirs to re-read (its conflict is reported); without one the
  // decision does not depend on the version, so a conflict reads it again and commits on that
  const commit = async () => {
    const c = await h.ports.state.getCampaign(m.id);
    if (!c) throw new ValidationError(`unknown campaign ${m.id}`);
    return h.commitDecision(m, task_id, expected_version ?? c.state_version, route, output_data, task.confidence_score, action, { decision, reviewer, ...(decision === 'edit' && text ? { edited_text: text } : {}) }, 'ESC_HITL');
  };
  let result: Awaited<ReturnType<typeof commit>> | null = null;
  for (let attempt = 1; !result; attempt++) {
    try {
      result = await commit();
    } catch (e) {
      if (!(e instanceof ConflictError) || expected_version !== undefined || attempt >= units.UNIT_ATTEMPTS) throw e;
    }
  }
  const { outcome, written } = result;
  if (outcome === 'duplicate') {
    h.emit('task.duplicate', { campaign_id: m.id, task_id, data: { stage: 'human' } });
    return;
  }
  h.emit('human.decided', { campaign_id: m.id, task_id, data: { decision, reviewer } });
  await h.afterDecision(m, task_id, route, null, outcome === 'completed', written);
}
