/** The Judge: claims an output, scores it against the persona and routes it (approve, escalate to a human, fail and re-plan), on the campaign version it read; a conflict re-reads and re-decides. */
import { ConflictError } from '../../domain/errors.ts';
import type { Task, WorkerTaskOutput } from '../../domain/schemas.ts';
import type { Ports } from '../../ports/index.ts';
import type { Lease } from '../../ports/queue.ts';
import type { AgentState, JudgeBusy } from '../engine.ts';
import { judge, type Verdict } from '../judge.ts';
import type { CampaignMirror } from '../mirror.ts';
import type { AgentHost } from './host.ts';

export async function judgeClaim(h: AgentHost, a: AgentState): Promise<boolean> {
  const got = await h.coord.claimNext(h.mirrorOrder, a, h.ports.reviewQueue, 'reviewQueue');
  if (!got) return false;
  await review(h, a, got.m, got.lease);
  return true;
}

export async function evaluate(h: AgentHost, m: CampaignMirror, task: Task, output: WorkerTaskOutput): Promise<{ verdict: Verdict; vector: Float32Array | null }> {
  const persona = (h.personas.get(m.persona_id) ?? (await h.persona(m.persona_id)));
  const result = (output.result ?? {}) as { text?: string };
  const text = typeof result.text === 'string' ? result.text : '';
  const failed = output.confidence_score === 0 || text.length === 0;
  let vector: Float32Array | null = null;
  let hits: Awaited<ReturnType<Ports['memory']['search']>> = [];
  if (!failed) {
    vector = (await h.ports.embedder.embed([text]))[0] as Float32Array;
    hits = await h.ports.memory.search({ vector, k: h.config.judge.memories_k, persona_id: m.persona_id, categories: h.config.judge.memory_categories });
  }
  return { verdict: judge({ text, confidence: output.confidence_score, failed }, persona, hits, h.config, task.replans), vector };
}

export async function review(h: AgentHost, a: AgentState, m: CampaignMirror, lease: Lease<WorkerTaskOutput>): Promise<void> {
  const task_id = lease.item.payload.task_id;
  const c = await h.ports.state.getCampaign(m.id);
  const task = await h.ports.state.getTask(task_id);
  if (!c || !task || task.status !== 'PROCESSING') {
    await h.coord.ack(h.ports.reviewQueue, lease);
    h.emit('task.duplicate', { campaign_id: m.id, task_id, data: { status: task?.status ?? 'missing', stage: 'review' } });
    a.last = 'skipped a duplicate output';
    return;
  }
  const { verdict, vector } = await evaluate(h, m, task, lease.item.payload);
  if (h.config.judge_think_ticks > 0) {
    a.busy = { lease, campaign_id: m.id, task_id, version: c.state_version, verdict, until_tick: h.tickNo + h.config.judge_think_ticks };
    a.last = `deliberating on ${task_id.slice(0, 8)} (read v${c.state_version})`;
    h.emit('judge.decided', { campaign_id: m.id, task_id, data: { phase: 'read', state_version: c.state_version, score: verdict.score, route: verdict.route } });
    return;
  }
  h.timer?.start('commit');
  try {
    await commitVerdict(h, a, m, lease, task, c.state_version, verdict, vector);
  } finally {
    h.timer?.stop();
  }
}

export async function judgeCommitDeliberated(h: AgentHost, a: AgentState): Promise<boolean> {
  const b = a.busy as JudgeBusy;
  if (h.tickNo < b.until_tick) return false;
  a.busy = null;
  const m = h.mirror(b.campaign_id);
  const task = await h.ports.state.getTask(b.task_id);
  if (!task || task.status !== 'PROCESSING') {
    await h.coord.ack(h.ports.reviewQueue, b.lease);
    h.emit('task.duplicate', { campaign_id: m.id, task_id: b.task_id, data: { status: task?.status ?? 'missing', stage: 'commit' } });
    return true;
  }
  await commitVerdict(h, a, m, b.lease, task, b.version, b.verdict, null);
  return true;
}

/**
 * Commits a verdict on the campaign version the judge read. A conflict means someone else
 * committed since: the judge re-reads and re-decides (never overwrites), or defers if the
 * campaign is no longer active.
 */
export async function commitVerdict(h: AgentHost, a: AgentState, m: CampaignMirror, lease: Lease<WorkerTaskOutput>, task: Task, version: number, verdict: Verdict, vector: Float32Array | null): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const { outcome, written } = await h.commitDecision(m, task.id, version, verdict.route, {
        output: lease.item.payload,
        judge: { score: verdict.score, route: verdict.route, reasons: verdict.reasons, similarity: verdict.similarity, memories: verdict.memories, sensitive_topics: verdict.sensitive_topics, unsafe_words: verdict.unsafe_words },
      }, verdict.score, 'judge.decided', { escalation: verdict.escalation, reasons: verdict.reasons });
      await h.coord.ack(h.ports.reviewQueue, lease);
      if (outcome === 'duplicate') {
        h.emit('task.duplicate', { campaign_id: m.id, task_id: task.id, data: { stage: 'idempotency' } });
        return;
      }
      h.emit('judge.decided', {
        campaign_id: m.id,
        task_id: task.id,
        data: { score: verdict.score, route: verdict.route, escalation: verdict.escalation, similarity: verdict.similarity, sensitive: verdict.sensitive_topics.length > 0 },
      });
      a.last = `${verdict.route === 'COMPLETED' ? 'approved' : verdict.route === 'FAILED' ? 'rejected' : 'escalated'} ${task.id.slice(0, 8)} (${verdict.score})`;
      await h.afterDecision(m, task.id, verdict.route, vector, outcome === 'completed', written);
      return;
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      h.conflicts += 1;
      const fresh = await h.ports.state.getCampaign(m.id);
      h.emit('occ.conflict', { campaign_id: m.id, task_id: task.id, data: { read_version: version, actual_version: fresh?.state_version ?? null } });
      if (!fresh || fresh.status !== 'ACTIVE') {
        await h.coord.retryLease(h.ports.reviewQueue, lease, h.config.tick_ms);
        h.coord.reviewHint.add(m.id);
        h.emit('judge.deferred', { campaign_id: m.id, task_id: task.id, data: { campaign_status: fresh?.status ?? 'missing' } });
        a.last = `deferred ${task.id.slice(0, 8)}: campaign ${fresh?.status}`;
        return;
      }
      const freshTask = await h.ports.state.getTask(task.id);
      if (!freshTask || freshTask.status !== 'PROCESSING') {
        await h.coord.ack(h.ports.reviewQueue, lease);
        h.emit('task.duplicate', { campaign_id: m.id, task_id: task.id, data: { stage: 'reread' } });
        return;
      }
      version = fresh.state_version;
      task = freshTask;
      ({ verdict, vector } = await evaluate(h, m, freshTask, lease.item.payload));
    }
  }
  // others keep committing on this campaign: hand the output back for later instead of failing the run
  await h.coord.retryLease(h.ports.reviewQueue, lease, h.config.tick_ms);
  h.coord.reviewHint.add(m.id);
  h.emit('judge.deferred', { campaign_id: m.id, task_id: task.id, data: { reason: 'conflicts', attempts: 5 } });
  a.last = `deferred ${task.id.slice(0, 8)}: kept conflicting`;
}
