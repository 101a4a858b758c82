/** The housekeeper: redelivers work whose lease lapsed, and anchors the audit chains together every ANCHOR_EVERY_TICKS ticks. */
import type { AgentState } from '../engine.ts';
import * as units from '../transactions.ts';
import type { CampaignMirror } from '../mirror.ts';
import type { AgentHost } from './host.ts';

/** How many ticks apart the audit chains are anchored together (when anything was audited in between). */
export const ANCHOR_EVERY_TICKS = 10;

/**
 * Live mode: how many ticks apart the housekeeper puts ready tasks that are in no queue back on
 * their queue. A decision enqueues the tasks it made ready after its unit commits, from this
 * engine's view of the campaign; a process killed in between, or a view that had not yet seen a
 * re-plan re-point a dependent (another engine's unit), leaves a ready task in no queue. The
 * store is the truth (mirrors are re-read every round) and enqueueing an id that is queued,
 * leased or delayed is a no-op, so the sweep only adds what was missing.
 */
export const READY_SWEEP_EVERY_TICKS = 5;

/** Every ANCHOR_EVERY_TICKS ticks in which audit events were written, the heads of all chains are anchored. */
export function anchorDue(h: AgentHost): boolean {
  return h.auditSinceAnchor > 0 && h.tickNo - h.lastAnchorTick >= ANCHOR_EVERY_TICKS;
}

/**
 * Writes an anchor event into the run's audit chain: the head of every campaign's chain as
 * this unit reads them, binding the chains together (src/domain/audit.ts verifies it).
 */
export async function anchorTurn(h: AgentHost, a: AgentState): Promise<boolean> {
  const chains = await units.anchorAudit(h.ports.state, h.unitContext, { tick: h.tickNo });
  h.auditSinceAnchor = 0;
  h.lastAnchorTick = h.tickNo;
  a.last = `anchored ${chains} audit chain(s)`;
  h.emit('audit.anchored', { data: { chains } });
  return true;
}

/** The housekeeper's turn: redeliver what lapsed (when a lease it knows of may have), else anchor when due. */
export async function housekeeperTurn(h: AgentHost, a: AgentState): Promise<boolean> {
  const now = h.clock.now_ms();
  if (h.coord.soonestLease() > now) return anchorDue(h) ? anchorTurn(h, a) : false;
  // what expired is redelivered now (or was already acked): forget it either way
  h.coord.forgetExpired(now);
  const redelivered: string[] = [];
  for (const id of h.campaignOrder) {
    const m = h.campaigns.get(id) as CampaignMirror;
    if (m.status === 'COMPLETED' || m.status === 'PLANNING') continue;
    const t = await h.ports.taskQueue.redeliverExpired(m.taskQueue);
    const r = await h.ports.reviewQueue.redeliverExpired(m.reviewQueue);
    if (t.length) h.coord.taskHint.add(id);
    if (r.length) h.coord.reviewHint.add(id);
    redelivered.push(...t, ...r);
  }
  if (!redelivered.length) {
    if (h.live && h.tickNo % READY_SWEEP_EVERY_TICKS === 0 && (await readySweep(h, a))) return true;
    return anchorDue(h) ? anchorTurn(h, a) : false;
  }
  a.last = `redelivered ${redelivered.length} expired lease(s)`;
  h.emit('lease.expired', { data: { ids: redelivered } });
  return true;
}

/** Live mode: puts ready tasks of active campaigns that are in no queue back on it (see READY_SWEEP_EVERY_TICKS). */
async function readySweep(h: AgentHost, a: AgentState): Promise<boolean> {
  let added = 0;
  for (const id of h.campaignOrder) {
    const m = h.campaigns.get(id) as CampaignMirror;
    if (m.status !== 'ACTIVE') continue;
    const ready = m.readyTasks();
    if (ready.length) added += await h.enqueueTasks(m, ready);
  }
  if (added) a.last = `put ${added} ready task(s) that were in no queue back on it`;
  return added > 0;
}
