/**
 * Invariant checkers that run beside the system (in tests, after every step), reading only
 * through the ports. Each returns the list of violations; empty means all hold.
 *   1. no lost work: every PENDING task whose dependencies are COMPLETED is in its task queue
 *      (waiting or leased) unless its campaign is paused; every PROCESSING task is in its task
 *      queue or has an output in its review queue;
 *   2. state_version only grows, and campaign statuses only move along the machine;
 *   3. the audit chain verifies;
 *   4. nothing is committed twice: at most one judge decision and one human decision per task;
 *   5. a COMPLETED campaign has every worker task COMPLETED or FAILED-and-superseded.
 */
import { verifyAuditChain, type AuditHeads } from '../domain/audit.ts';
import type { AuditEvent } from '../domain/schemas.ts';
import type { Ports } from '../ports/index.ts';
import { reviewQueueName, taskQueueName } from '../ports/queue.ts';

export class InvariantChecker {
  private readonly versions = new Map<string, number>();
  private auditHeads: AuditHeads | null = null;
  private readonly decisions = new Map<string, number>();

  constructor(private readonly ports: Pick<Ports, 'state' | 'taskQueue' | 'reviewQueue'>) {}

  async check(): Promise<string[]> {
    const v: string[] = [];
    const { state, taskQueue, reviewQueue } = this.ports;
    for (const c of await state.listCampaigns()) {
      const prev = this.versions.get(c.id) ?? 0;
      if (c.state_version < prev) v.push(`campaign ${c.id}: state_version went from ${prev} to ${c.state_version}`);
      this.versions.set(c.id, c.state_version);
      const tasks = await state.listTasks({ campaign_id: c.id });
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const superseded = new Set(tasks.map((t) => t.supersedes).filter((x): x is string => x !== null));
      const tq = taskQueueName(c.id);
      const rq = reviewQueueName(c.id);
      const inTaskQueue = new Set([
        ...(await taskQueue.peek(tq, 1_000_000)).map((i) => i.id),
        ...(await taskQueue.leased(tq, 1_000_000)).map((l) => l.item.id),
      ]);
      const inReview = new Set([
        ...(await reviewQueue.peek(rq, 1_000_000)).map((i) => i.payload.task_id),
        ...(await reviewQueue.leased(rq, 1_000_000)).map((l) => l.item.payload.task_id),
      ]);
      for (const t of tasks) {
        if (t.role !== 'WORKER') continue;
        const ready = t.depends_on.every((d) => byId.get(d)?.status === 'COMPLETED');
        if (t.status === 'PENDING' && ready && c.status === 'ACTIVE' && !inTaskQueue.has(t.id)) {
          v.push(`task ${t.id} (${t.skill_name}) is PENDING and ready but not in ${tq}`);
        }
        if (t.status === 'PROCESSING' && !inTaskQueue.has(t.id) && !inReview.has(t.id)) {
          v.push(`task ${t.id} is PROCESSING but neither leased in ${tq} nor awaiting review in ${rq}`);
        }
        if (c.status === 'COMPLETED' && t.status !== 'COMPLETED' && !(t.status === 'FAILED' && superseded.has(t.id))) {
          v.push(`campaign ${c.id} is COMPLETED but task ${t.id} is ${t.status}`);
        }
      }
    }
    const fresh: AuditEvent[] = await state.readAudit({ after_seq: this.auditHeads?.seq ?? 0 });
    const ver = verifyAuditChain(fresh, this.auditHeads);
    if (!ver.ok) v.push(`audit chain broken at seq ${ver.broken_at}: ${ver.reason}`);
    else this.auditHeads = ver.heads;
    for (const e of fresh) {
      if (e.action !== 'judge.decided' && e.action !== 'human.decided') continue;
      const key = `${e.action}:${e.entity_id}`;
      const n = (this.decisions.get(key) ?? 0) + 1;
      this.decisions.set(key, n);
      if (n > 1) v.push(`task ${e.entity_id}: ${e.action} committed ${n} times`);
    }
    return v;
  }
}
