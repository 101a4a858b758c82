/** The 'campaigns/…' channels: list, create, pause and resume campaigns; page a campaign's tasks; its task DAG. */
import { NotFoundError } from '../../domain/errors.ts';
import type { Task } from '../../domain/schemas.ts';
import type { CampaignView, DagView, TaskRow, TaskStatus } from '../../shared/types.ts';
import { STATUS_LETTERS, TASK_STATUSES } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import { command, studioConflict, withConflictMessage, type Session } from './session.ts';

type CampaignsContext = Pick<StudioContext, 'current' | 'exclusive' | 'status'>;

export function campaignsChannels(ctx: CampaignsContext): NamespaceHandlers<'campaigns'> {
  return {
    'campaigns/list': async () => {
      const s = ctx.current();
      const out: CampaignView[] = [];
      for (const c of await s.sim.ports.state.listCampaigns()) out.push({ ...c, counts: await s.sim.ports.state.countTasks(c.id) });
      return { campaigns: out };
    },
    'campaigns/create': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const before = new Set(s.sim.engine.campaignOrder);
        await command(s, { type: 'campaign.create', title: a.title, goal: a.goal, persona_id: a.persona_id, ...(a.content_pieces ? { content_pieces: a.content_pieces } : {}) });
        const id = s.sim.engine.campaignOrder.find((x) => !before.has(x));
        return { campaign: id ? await campaignView(s, id) : null, status: ctx.status() };
      }),
    'campaigns/pause': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        await refuseUnless(s, a.campaign_id, 'PAUSED');
        await withConflictMessage(s, a.campaign_id, a.expected_version, () =>
          command(s, { type: 'campaign.pause', campaign_id: a.campaign_id, expected_version: a.expected_version }),
        );
        return { campaign: await campaignView(s, a.campaign_id) };
      }),
    'campaigns/resume': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        await refuseUnless(s, a.campaign_id, 'ACTIVE');
        await withConflictMessage(s, a.campaign_id, a.expected_version, () =>
          command(s, { type: 'campaign.resume', campaign_id: a.campaign_id, expected_version: a.expected_version }),
        );
        return { campaign: await campaignView(s, a.campaign_id) };
      }),
    'campaigns/tasks': async (a) => {
      const s = ctx.current();
      await requireCampaign(s, a.campaign_id);
      const counts = await s.sim.ports.state.countTasks(a.campaign_id);
      const total = a.status ? counts[a.status] : TASK_STATUSES.reduce((n, st) => n + counts[st], 0);
      const tasks = await s.sim.ports.state.listTasks({ campaign_id: a.campaign_id, ...(a.status ? { status: a.status } : {}), offset: a.offset, limit: a.limit });
      return { total, offset: a.offset, tasks: tasks.map(taskRow) };
    },
    'campaigns/task': async (a) => {
      const s = ctx.current();
      await requireCampaign(s, a.campaign_id);
      const [t] = await s.sim.ports.state.listTasks({ campaign_id: a.campaign_id, offset: a.index, limit: 1 });
      if (!t) throw new NotFoundError('task', `#${a.index} of campaign ${a.campaign_id}`);
      return { ...taskRow(t), index: a.index, input_data: t.input_data, output_data: t.output_data, created_at: t.created_at };
    },
    'campaigns/dag': async (a) => {
      const s = ctx.current();
      await requireCampaign(s, a.campaign_id);
      return dagView(a.campaign_id, await s.sim.ports.state.listTasks({ campaign_id: a.campaign_id }));
    },
  };
}

/** The compact DAG of a campaign's tasks (in the store's order): one pass, arrays joined once. */
export function dagView(campaign_id: string, tasks: readonly Task[]): DagView {
  const n = tasks.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set((tasks[i] as Task).id, i);
  const skills: string[] = [];
  const skillIndex = new Map<string, number>();
  const skill_of = new Array<number>(n);
  const letters = new Array<string>(n);
  const dep_start = new Array<number>(n + 1);
  const dep_list: number[] = [];
  dep_start[0] = 0;
  for (let i = 0; i < n; i++) {
    const t = tasks[i] as Task;
    let k = skillIndex.get(t.skill_name);
    if (k === undefined) {
      k = skills.push(t.skill_name) - 1;
      skillIndex.set(t.skill_name, k);
    }
    skill_of[i] = k;
    letters[i] = STATUS_LETTERS[t.status as TaskStatus];
    for (const d of t.depends_on) {
      const j = index.get(d);
      if (j !== undefined) dep_list.push(j);
    }
    dep_start[i + 1] = dep_list.length;
  }
  return { campaign_id, count: n, skills, skill_of, statuses: letters.join(''), dep_start, dep_list };
}

async function requireCampaign(s: Session, id: string) {
  const c = await s.sim.ports.state.getCampaign(id);
  if (!c) throw new NotFoundError('campaign', id);
  return c;
}

async function campaignView(s: Session, id: string): Promise<CampaignView> {
  const c = await requireCampaign(s, id);
  return { ...c, counts: await s.sim.ports.state.countTasks(id) };
}

function taskRow(t: Task): TaskRow {
  return {
    id: t.id,
    campaign_id: t.campaign_id,
    role: t.role,
    skill_name: t.skill_name,
    status: t.status as TaskStatus,
    confidence_score: t.confidence_score,
    attempts: t.attempts,
    depends_on: t.depends_on,
    branch: t.branch,
    replans: t.replans,
    updated_at: t.updated_at,
  };
}

/**
 * A pause or resume is an intent, not a toggle: a campaign already in the status asked for
 * (another tab paused it first) or in one it cannot leave that way is a conflict that says
 * so, and nothing is written (the second of two pauses never resumes it).
 */
async function refuseUnless(s: Session, campaign_id: string, to: 'PAUSED' | 'ACTIVE'): Promise<void> {
  const c = await s.sim.ports.state.getCampaign(campaign_id);
  if (!c) throw new NotFoundError('campaign', campaign_id);
  const verb = to === 'PAUSED' ? 'pause' : 'resume';
  if (c.status === to) {
    throw studioConflict(`campaign "${c.title}" is already ${to === 'PAUSED' ? 'paused' : 'running'}: it was ${verb}d elsewhere; nothing was written`, {
      reason: 'already',
      entity: 'campaign',
      id: campaign_id,
      status: c.status,
      actual: c.state_version,
    });
  }
  const from = to === 'PAUSED' ? 'ACTIVE' : 'PAUSED';
  if (c.status !== from) {
    throw studioConflict(`campaign "${c.title}" is ${c.status.toLowerCase()} now, so it cannot be ${verb}d; nothing was written`, {
      reason: 'status',
      entity: 'campaign',
      id: campaign_id,
      status: c.status,
      actual: c.state_version,
    });
  }
}
