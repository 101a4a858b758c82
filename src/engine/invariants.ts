/**
 * Invariant checkers that run beside the system (in tests, after every step), reading only
 * through the ports. Each returns the list of violations; empty means all hold.
 *   1. no lost work: every PENDING task whose dependencies are COMPLETED is in its task queue
 *      (waiting or leased) unless its campaign is paused; every PROCESSING task is in its task
 *      queue or has an output in its review queue;
 *   2. state_version only grows, and campaign statuses only move along the machine: every
 *      campaign status change is an audit event whose before → after is a legal transition
 *      from the status the trail last gave it, the stored status is the one its trail ends
 *      at, and between two checks the stored status moves only to one the machine can reach
 *      (with a higher state_version);
 *   3. the audit chain verifies;
 *   4. nothing is committed twice: at most one judge decision and one human decision per task;
 *   5. a COMPLETED campaign has every worker task COMPLETED or FAILED-and-superseded.
 */
import { isHumanDecisionAction, verifyAuditChain, type AuditHeads } from '../domain/audit.ts';
import { CAMPAIGN_STATUSES, type AuditEvent, type CampaignStatus, type Task } from '../domain/schemas.ts';
import { CAMPAIGN_TRANSITIONS, canTransitionCampaign } from '../domain/status.ts';
import type { Ports } from '../ports/index.ts';
import { reviewQueueName, taskQueueName } from '../ports/queue.ts';

/** The statuses the machine can reach from `from` in any number of transitions (itself included). */
function reachable(from: CampaignStatus): Set<CampaignStatus> {
  const seen = new Set<CampaignStatus>([from]);
  const todo = [from];
  while (todo.length) for (const to of CAMPAIGN_TRANSITIONS[todo.pop() as CampaignStatus]) if (!seen.has(to)) todo.push((seen.add(to), to));
  return seen;
}

const isCampaignStatus = (s: unknown): s is CampaignStatus => (CAMPAIGN_STATUSES as readonly unknown[]).includes(s);

export class InvariantChecker {
  private readonly versions = new Map<string, number>();
  /** Each campaign's status at the last check. */
  private readonly statuses = new Map<string, CampaignStatus>();
  /** Each campaign's status as its audit trail has it so far. */
  private readonly audited = new Map<string, CampaignStatus>();
  private auditHeads: AuditHeads | null = null;
  private readonly decisions = new Map<string, number>();

  constructor(private readonly ports: Pick<Ports, 'state' | 'taskQueue' | 'reviewQueue'>) {}

  async check(): Promise<string[]> {
    const v: string[] = [];
    const { state, taskQueue, reviewQueue } = this.ports;
    const campaigns = await state.listCampaigns();
    // every task in one read (one query on a database), grouped by campaign
    const tasksOf = new Map<string, Task[]>();
    for (const t of await state.listTasks()) {
      const list = tasksOf.get(t.campaign_id);
      if (list) list.push(t);
      else tasksOf.set(t.campaign_id, [t]);
    }
    for (const c of campaigns) {
      const prev = this.versions.get(c.id) ?? 0;
      if (c.state_version < prev) v.push(`campaign ${c.id}: state_version went from ${prev} to ${c.state_version}`);
      this.versions.set(c.id, c.state_version);
      const was = this.statuses.get(c.id);
      if (was !== undefined && was !== c.status) {
        if (!reachable(was).has(c.status)) v.push(`campaign ${c.id}: status went from ${was} to ${c.status}, which the status machine cannot reach`);
        if (c.state_version <= prev) v.push(`campaign ${c.id}: status went from ${was} to ${c.status} without a new state_version (still ${c.state_version})`);
      }
      this.statuses.set(c.id, c.status);
      const tasks = tasksOf.get(c.id) ?? [];
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
    for (const e of fresh) this.followCampaignStatus(e, v);
    for (const c of campaigns) {
      const trail = this.audited.get(c.id);
      if (trail !== c.status) v.push(`campaign ${c.id} is ${c.status} but its audit trail ends at ${trail ?? 'no status'} (a status change without its audit event)`);
    }
    for (const e of fresh) {
      // a human's approve, edit and reject are one decision: a second one of any kind is a double commit
      const kind = e.action === 'judge.decided' ? 'judge' : isHumanDecisionAction(e.action) ? 'human' : null;
      if (!kind) continue;
      const key = `${kind}:${e.entity_id}`;
      const n = (this.decisions.get(key) ?? 0) + 1;
      this.decisions.set(key, n);
      if (n > 1) v.push(`task ${e.entity_id}: a ${kind} decision committed ${n} times (${e.action})`);
    }
    return v;
  }

  /** Moves a campaign's audited status along one event, if it is a campaign status change, checking the step. */
  private followCampaignStatus(e: AuditEvent, v: string[]): void {
    if (e.entity_type !== 'campaign' || e.after_status === null) return;
    const id = e.entity_id;
    const to = e.after_status;
    const from = e.before_status;
    if (!isCampaignStatus(to) || (from !== null && !isCampaignStatus(from))) {
      v.push(`audit event ${e.seq} (${e.action}): ${String(from)} → ${to} is not a campaign status change`);
      return;
    }
    const trail = this.audited.get(id);
    if (from === null) {
      if (trail !== undefined || to !== 'PLANNING') v.push(`audit event ${e.seq} (${e.action}): campaign ${id} created as ${to}${trail ? ` after it was ${trail}` : ''}`);
    } else {
      if (trail !== from) v.push(`audit event ${e.seq} (${e.action}): campaign ${id} moves from ${from}, but its trail had it ${trail ?? 'not created'}`);
      if (!canTransitionCampaign(from, to)) v.push(`audit event ${e.seq} (${e.action}): campaign ${id} ${from} → ${to} is not a transition of the status machine`);
    }
    this.audited.set(id, to);
  }
}
