/** Builders for valid domain records; every id comes from a seeded stream. */
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import type { AuditDraft, Campaign, Task } from '../../src/domain/schemas.ts';

export function fixtures(seed = 1) {
  const rng = new SeededRng(seed, 'fixtures');
  const t0 = '2026-01-01T00:00:00.000Z';
  const campaign = (over: Partial<Campaign> = {}): Campaign => ({
    id: rng.uuid(),
    title: 'Spring launch',
    goal: 'Grow the audience for sustainable sneakers',
    status: 'PLANNING',
    state_version: 1,
    created_at: t0,
    updated_at: t0,
    persona_id: 'aria',
    ...over,
  });
  const task = (campaign_id: string, over: Partial<Task> = {}): Task => {
    const id = over.id ?? rng.uuid();
    return {
      id,
      campaign_id,
      role: 'WORKER',
      skill_name: 'content_generation',
      input_data: { topic: 'sneakers' },
      output_data: null,
      confidence_score: null,
      status: 'PENDING',
      attempts: 0,
      idempotency_key: `key-${id}`,
      depends_on: [],
      branch: 'b1',
      replans: 0,
      supersedes: null,
      created_at: t0,
      updated_at: t0,
      ...over,
    };
  };
  const audit = (over: Partial<AuditDraft> = {}): AuditDraft => ({
    id: rng.uuid(),
    actor: 'planner',
    action: 'campaign.created',
    entity_type: 'campaign',
    entity_id: 'c1',
    campaign_id: null,
    before_status: null,
    after_status: 'PLANNING',
    state_version: 1,
    timestamp: t0,
    details: { note: 'x' },
    ...over,
  });
  return { rng, campaign, task, audit, t0 };
}
