/** The housekeeper: redelivers work whose lease lapsed, and anchors the audit chains together every ANCHOR_EVERY_TICKS ticks. */
import type { AgentState } from '../engine.ts';
import * as units from '../transactions.ts';
import type { CampaignMirror } from '../mirror.ts';
import type { AgentHost } from './host.ts';

/** How many ticks apart the audit chains are anchored together (when anything was audited in between). */
export const ANCHOR_EVERY_TICKS = 10;

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
  if (!redelivered.length) return anchorDue(h) ? anchorTurn(h, a) : false;
  a.last = `redelivered ${redelivered.length} expired lease(s)`;
  h.emit('lease.expired', { data: { ids: redelivered } });
  return true;
}
