/** The 'review/…' channels: what the Judge escalated to a person, and the person's decision on it. */
import { NotFoundError } from '../../domain/errors.ts';
import type { Task } from '../../domain/schemas.ts';
import type { ComparedMemory, ReviewItem } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import { command, STUDIO_ACTOR, studioConflict, withConflictMessage, type Session } from './session.ts';

type ReviewContext = Pick<StudioContext, 'current' | 'exclusive' | 'status'>;

/** The most items one read of the review queue returns (the view is virtualised to this many). */
export const REVIEW_LIST_LIMIT = 10_000;

export function reviewChannels(ctx: ReviewContext): NamespaceHandlers<'review'> {
  return {
    'review/list': async (a) => {
      const s = ctx.current();
      const counts = await s.sim.ports.state.countTasks(a.campaign_id);
      const texts = new Map<string, string | null>();
      const items = await reviewItems(s, texts, a.campaign_id);
      return { items, total: counts.ESC_HITL, memory_texts: Object.fromEntries(texts) };
    },
    'review/task': async (a) => {
      const s = ctx.current();
      const t = await s.sim.ports.state.getTask(a.task_id);
      if (!t) throw new NotFoundError('task', a.task_id);
      const c = await s.sim.ports.state.getCampaign(t.campaign_id);
      const od = (t.output_data ?? {}) as { output?: { result?: { text?: string } }; human?: { decision?: string; reviewer?: string }; edited_text?: string };
      const original = od.output?.result?.text ?? '';
      const decision = od.human?.decision;
      return {
        task_id: t.id,
        campaign_title: c?.title ?? t.campaign_id,
        skill_name: t.skill_name,
        status: t.status,
        decision: decision === 'approve' || decision === 'edit' || decision === 'reject' ? decision : null,
        reviewer: od.human?.reviewer ?? null,
        output_text: od.edited_text ?? original,
        original_text: od.edited_text !== undefined ? original : null,
      };
    },
    'review/decide': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const task = await s.sim.ports.state.getTask(a.task_id);
        if (!task) throw new NotFoundError('task', a.task_id);
        // decided in another tab (or by the simulated reviewer) since this one read it: say so, write nothing
        if (task.status !== 'ESC_HITL') throw await decidedElsewhere(s, task);
        await withConflictMessage(s, task.campaign_id, a.expected_version, () =>
          command(s, {
            type: 'human.decide',
            task_id: a.task_id,
            decision: a.decision,
            ...(a.edited_text ? { edited_text: a.edited_text } : {}),
            expected_version: a.expected_version,
            reviewer: STUDIO_ACTOR,
          }),
        );
        return { status: ctx.status() };
      }),
  };
}

const DONE_AS = new Map([
  ['approve', 'approved'],
  ['edit', 'edited and approved'],
  ['reject', 'rejected'],
]);

async function decidedElsewhere(s: Session, task: Task) {
  const c = await s.sim.ports.state.getCampaign(task.campaign_id);
  const human = ((task.output_data ?? {}) as { human?: { decision?: string; reviewer?: string } }).human;
  const what = human?.decision ? (DONE_AS.get(human.decision) ?? human.decision) : `moved on (it is ${task.status.toLowerCase()} now)`;
  const by = human?.reviewer ? ` by ${human.reviewer}` : '';
  return studioConflict(`“${task.skill_name}” of campaign “${c?.title ?? task.campaign_id}” was already ${what}${by} elsewhere; nothing was written`, {
    reason: 'decided',
    entity: 'task',
    id: task.id,
    status: task.status,
    decision: human?.decision ?? null,
    reviewer: human?.reviewer ?? null,
  });
}

async function reviewItems(s: Session, memoryText: Map<string, string | null>, campaign_id?: string): Promise<ReviewItem[]> {
  const tasks = await s.sim.ports.state.listTasks({ status: 'ESC_HITL', ...(campaign_id ? { campaign_id } : {}), limit: REVIEW_LIST_LIMIT });
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
    const memories: ComparedMemory[] = [];
    for (const m of od.judge?.memories ?? []) {
      // the Judge compares most outputs with the same few memories (the persona's SOUL): read and send each once
      if (!memoryText.has(m.id)) memoryText.set(m.id, (await s.sim.ports.memory.get(m.id))?.content ?? null);
      memories.push({ id: m.id, category: m.category, score: m.score });
    }
    out.push({
      task_id: t.id,
      campaign_id: t.campaign_id,
      campaign_title: c.title,
      state_version: c.state_version,
      persona_id: c.persona_id,
      skill_name: t.skill_name,
      escalated_at: t.updated_at,
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
