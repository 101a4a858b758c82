/** The operator: scripted pauses and resumes from the scenario, at their ticks. */
import type { AgentHost } from './host.ts';

export async function operatorTurn(h: AgentHost): Promise<boolean> {
  const next = h.scenario.operator[h.operatorDone];
  if (!next || next.tick > h.tickNo) return false;
  h.operatorDone += 1;
  const id = h.ownCampaigns[next.campaign];
  if (!id) {
    h.emit('campaign.paused', { data: { skipped: `no campaign #${next.campaign}` } });
    return true;
  }
  const m = h.mirror(id);
  const want = next.action === 'pause' ? 'PAUSED' : 'ACTIVE';
  if ((want === 'PAUSED' && m.status !== 'ACTIVE') || (want === 'ACTIVE' && m.status !== 'PAUSED')) {
    h.emit(want === 'PAUSED' ? 'campaign.paused' : 'campaign.resumed', { campaign_id: id, data: { skipped: `campaign is ${m.status}` } });
    return true;
  }
  await h.setCampaignStatus(id, want);
  return true;
}
