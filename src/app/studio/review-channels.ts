/** The 'review/…' channels: what the Judge escalated to a person, and the person's decision on it. */
import { NotFoundError } from '../../domain/errors.ts';
import type { ReviewItem } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import { command, withConflictMessage, type Session } from './session.ts';

type ReviewContext = Pick<StudioContext, 'current' | 'exclusive' | 'status'>;

export function reviewChannels(ctx: ReviewContext): NamespaceHandlers<'review'> {
  return {
    'review/list': async (a) => ({ items: await reviewItems(ctx.current(), a.campaign_id) }),
    'review/decide': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const task = await s.sim.ports.state.getTask(a.task_id);
        if (!task) throw new NotFoundError('task', a.task_id);
        await withConflictMessage(s, task.campaign_id, a.expected_version, () =>
          command(s, {
            type: 'human.decide',
            task_id: a.task_id,
            decision: a.decision,
            ...(a.edited_text ? { edited_text: a.edited_text } : {}),
            expected_version: a.expected_version,
            reviewer: 'studio-user',
          }),
        );
        return { status: ctx.status() };
      }),
  };
}

async function reviewItems(s: Session, campaign_id?: string): Promise<ReviewItem[]> {
  const tasks = await s.sim.ports.state.listTasks({ status: 'ESC_HITL', ...(campaign_id ? { campaign_id } : {}), limit: 500 });
  const campaigns = new Map<string, { title: string; state_version: number; persona_id: string }>();
  const out: ReviewItem[] = [];
  for (const t of tasks) {
    let c = campaigns.get(t.campaign_id);
    if (!c) {
      const got = await s.sim.ports.state.getCampaign(t.campaign_id);
      c = { title: got?.title ?? t.campaign_id, state_version: got?.state_version ?? 1, persona_id: got?.persona_id ?? '' };
      campaigns.set(t.campaign_id, c);
    }
    const od = (t.output_data ?? {}) as {
      output?: { result?: { text?: string }; reasoning?: string; confidence_score?: number };
      judge?: { score?: number; reasons?: string[]; sensitive_topics?: string[]; memories?: { id: string; category: string; score: number }[] };
    };
    const memories = [];
    for (const m of od.judge?.memories ?? []) {
      const got = await s.sim.ports.memory.get(m.id);
      memories.push({ id: m.id, category: m.category, score: m.score, content: got?.content ?? null });
    }
    out.push({
      task_id: t.id,
      campaign_id: t.campaign_id,
      campaign_title: c.title,
      state_version: c.state_version,
      persona_id: c.persona_id,
      skill_name: t.skill_name,
      text: od.output?.result?.text ?? '',
      reasoning: od.output?.reasoning ?? '',
      worker_confidence: od.output?.confidence_score ?? null,
      score: od.judge?.score ?? t.confidence_score,
      reasons: od.judge?.reasons ?? [],
      sensitive_topics: od.judge?.sensitive_topics ?? [],
      memories,
    });
  }
  return out;
}
