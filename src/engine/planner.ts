/**
 * The Planner: turns a campaign goal into a DAG of worker tasks, and re-plans a failed branch
 * with a replacement task that inherits the failed task's dependents. Ids come from a stream
 * derived from the campaign (or the failed task), so a plan is the same on every backend.
 */
import type { Task } from '../domain/schemas.ts';
import type { Rng } from '../ports/rng.ts';

const PLATFORMS = ['instagram', 'tiktok', 'threads', 'youtube'] as const;

export interface PlanInput {
  readonly campaign_id: string;
  readonly goal: string;
  readonly persona_id: string;
  readonly content_pieces: number;
  readonly now: string;
}

function base(p: PlanInput, rng: Rng, skill: string, branch: string, params: Record<string, unknown>, depends_on: string[]): Task {
  const id = rng.uuid();
  return {
    id,
    campaign_id: p.campaign_id,
    role: 'WORKER',
    skill_name: skill,
    input_data: { skill_name: skill, params, persona_id: p.persona_id },
    output_data: null,
    confidence_score: null,
    status: 'PENDING',
    attempts: 0,
    idempotency_key: `${p.campaign_id}:${branch}:0`,
    depends_on,
    branch,
    replans: 0,
    supersedes: null,
    created_at: p.now,
    updated_at: p.now,
  };
}

/** The plan: research in parallel, then each content piece and its consistency check. */
export function planCampaign(p: PlanInput, rng: Rng): { planner: Task; tasks: Task[] } {
  const tasks: Task[] = [];
  const trend = base(p, rng, 'trend_analysis', 'research-trends', { goal: p.goal }, []);
  const audience = base(p, rng, 'audience_research', 'research-audience', { goal: p.goal }, []);
  tasks.push(trend, audience);
  for (let i = 0; i < p.content_pieces; i++) {
    const platform = PLATFORMS[i % PLATFORMS.length] as string;
    const content = base(p, rng, 'content_generation', `content-${i}`, { angle: i, platform, goal: p.goal }, [trend.id, audience.id]);
    const check = base(p, rng, 'persona_consistency_check', `check-${i}`, { angle: i, platform }, [content.id]);
    tasks.push(content, check);
  }
  const planner: Task = {
    ...base(p, rng, 'plan', 'plan', { goal: p.goal, content_pieces: p.content_pieces }, []),
    role: 'PLANNER',
    status: 'COMPLETED',
    output_data: { tasks: tasks.map((t) => t.id) },
    confidence_score: 1,
    attempts: 1,
  };
  return { planner, tasks };
}

/** A replacement for a failed task: same skill, a new variant, the next replan count. */
export function replanTask(failed: Task, rng: Rng, now: string): Task {
  const replans = failed.replans + 1;
  const input = (failed.input_data ?? {}) as { params?: Record<string, unknown> };
  const params = { ...(input.params ?? {}), variant: replans };
  return {
    ...failed,
    id: rng.uuid(),
    input_data: { ...(failed.input_data as object), params },
    output_data: null,
    confidence_score: null,
    status: 'PENDING',
    attempts: 0,
    idempotency_key: `${failed.campaign_id}:${failed.branch}:${replans}`,
    replans,
    supersedes: failed.id,
    created_at: now,
    updated_at: now,
  };
}
