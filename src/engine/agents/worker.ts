/** A Worker: claims a ready task, runs its skill (simulated, with fault injection), hands the output to review or retries a transient error (level 1). */
import { ConflictError } from '../../domain/errors.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../domain/schemas.ts';
import type { Lease } from '../../ports/queue.ts';
import type { AgentState, WorkerBusy } from '../engine.ts';
import type { CampaignMirror } from '../mirror.ts';
import { runSkill } from '../skills.ts';
import * as units from '../transactions.ts';
import type { AgentHost } from './host.ts';

export async function workerClaim(h: AgentHost, a: AgentState): Promise<boolean> {
  const got = await h.coord.claimNext(h.mirrorOrder, a, h.ports.taskQueue, 'taskQueue');
  if (!got) return false;
  await startWork(h, a, got.m, got.lease);
  return true;
}

export async function startWork(h: AgentHost, a: AgentState, m: CampaignMirror, lease: Lease<WorkerTaskInput>): Promise<void> {
  const task_id = lease.item.payload.task_id;
  let claimed: Awaited<ReturnType<typeof units.claimTask>>;
  try {
    claimed = await units.claimTask(h.ports.state, h.unitContext, { campaign_id: m.id, task_id });
  } catch (e) {
    // the campaign kept changing under the claim (many claimers at once, live mode): give the
    // item back at once for a later turn instead of stopping the engine
    if (!(e instanceof ConflictError)) throw e;
    await h.coord.retryLease(h.ports.taskQueue, lease, 0);
    h.conflicts += 1;
    h.emit('occ.conflict', { campaign_id: m.id, task_id, data: { stage: 'claim', gave_back: true } });
    a.last = `gave ${task_id.slice(0, 8)} back: the campaign kept changing`;
    return;
  }
  if ('duplicate' in claimed) {
    await h.coord.ack(h.ports.taskQueue, lease);
    h.emit('task.duplicate', { campaign_id: m.id, task_id, data: { status: claimed.duplicate, stage: 'claim' } });
    a.last = 'skipped a duplicate delivery';
    return;
  }
  const { task, updated } = claimed;
  m.setStatus(task_id, 'PROCESSING', h.tickNo);
  const persona = (h.personas.get(m.persona_id) ?? (await h.persona(m.persona_id)));
  h.timer?.start('work');
  const outcome = runSkill(task.skill_name, lease.item.payload.params, persona, m.goal, h.config.faults, h.rng.fork(`skill/${task_id}/${updated.attempts}`));
  h.timer?.stop();
  const slow = h.rng.fork(`slow/${task_id}/${lease.item.attempts}`).chance(h.config.faults.slow_worker);
  const until_tick = h.tickNo + 1 + (slow ? h.config.slow_extra_ticks : 0);
  a.busy = { lease, task_id, campaign_id: m.id, attempt: updated.attempts, until_tick, outcome };
  a.last = `working on ${task.skill_name} ${task_id.slice(0, 8)}`;
  h.emit('task.claimed', { campaign_id: m.id, task_id, data: { attempt: updated.attempts, skill: task.skill_name, redelivery: lease.item.attempts, slow } });
}

export async function workerFinish(h: AgentHost, a: AgentState): Promise<boolean> {
  const b = a.busy as WorkerBusy;
  if (h.tickNo < b.until_tick) return false;
  a.busy = null;
  const m = h.mirror(b.campaign_id);
  let outcome = b.outcome;
  if (outcome.kind === 'transient') {
    if (b.attempt < h.config.retry.max_attempts) {
      const r = await h.coord.retryLease(h.ports.taskQueue, b.lease, h.config.retry.backoff_ticks * h.config.tick_ms);
      h.coord.taskHint.add(m.id);
      if (!r) {
        h.emit('task.lease_lost', { campaign_id: m.id, task_id: b.task_id, data: { stage: 'retry' } });
        a.last = 'lost a lease';
        return true;
      }
      await units.retryTask(h.ports.state, h.unitContext, { campaign_id: m.id, task_id: b.task_id, attempt: b.attempt, reason: outcome.reason });
      m.setStatus(b.task_id, 'PENDING', h.tickNo);
      h.emit('task.retry', { campaign_id: m.id, task_id: b.task_id, data: { attempt: b.attempt, level: 1, reason: outcome.reason } });
      a.last = `retrying ${b.task_id.slice(0, 8)} (level 1)`;
      return true;
    }
    outcome = { kind: 'failure', reason: `${outcome.reason}; still failing after ${b.attempt} attempts` };
  }
  const output: WorkerTaskOutput =
    outcome.kind === 'ok'
      ? { task_id: b.task_id, skill_name: b.lease.item.payload.skill_name, result: outcome.result, confidence_score: outcome.confidence, reasoning: outcome.reasoning }
      : { task_id: b.task_id, skill_name: b.lease.item.payload.skill_name, result: { text: '', error: outcome.reason }, confidence_score: 0, reasoning: `worker error: ${outcome.reason}` };
  await h.ports.reviewQueue.enqueue(m.reviewQueue, [{ id: `${b.task_id}:${b.attempt}`, payload: output }]);
  h.coord.reviewHint.add(m.id);
  const held = await h.coord.ack(h.ports.taskQueue, b.lease);
  if (!held) h.emit('task.lease_lost', { campaign_id: m.id, task_id: b.task_id, data: { stage: 'ack' } });
  h.emit('task.output', {
    campaign_id: m.id,
    task_id: b.task_id,
    data: { attempt: b.attempt, confidence: output.confidence_score, fault: outcome.kind === 'ok' ? outcome.fault : outcome.kind === 'failure' ? 'skill_failure' : null },
  });
  a.last = `handed ${b.task_id.slice(0, 8)} to review`;
  return true;
}
