/**
 * The engine's derived view of each campaign's DAG: task statuses, dependents and how many
 * tasks are still outstanding. It is a cache of what the state store holds, rebuilt from the
 * store on open and updated after each commit the engine makes; the store stays the truth.
 */
import type { Campaign, CampaignStatus, Task, TaskStatus } from '../domain/schemas.ts';
import { reviewQueueName, taskQueueName } from '../ports/queue.ts';

export interface TaskMirror {
  status: TaskStatus;
  depends_on: string[];
  readonly skill_name: string;
  readonly role: Task['role'];
  readonly replans: number;
  /** What a worker needs from `input_data` (the queue payload's params). */
  readonly params: Record<string, unknown>;
  /** Tick at which it went to ESC_HITL (for the simulated reviewer's delay). */
  escalated_tick: number | null;
}

export class CampaignMirror {
  status: CampaignStatus;
  readonly tasks = new Map<string, TaskMirror>();
  readonly dependents = new Map<string, string[]>();
  /** FAILED tasks that already have a replacement. */
  readonly superseded = new Set<string>();
  /** FAILED tasks waiting for the Planner, in failure order. */
  readonly toReplan: string[] = [];
  /** ESC_HITL tasks in escalation order. */
  readonly escalated: string[] = [];
  /** Worker tasks neither COMPLETED nor FAILED-and-superseded. */
  outstanding = 0;
  /** The campaign's queue names, made once (the engine names them thousands of times). */
  readonly taskQueue: string;
  readonly reviewQueue: string;

  constructor(
    readonly id: string,
    readonly persona_id: string,
    readonly goal: string,
    status: CampaignStatus,
    readonly created_at: string,
  ) {
    this.status = status;
    this.taskQueue = taskQueueName(id);
    this.reviewQueue = reviewQueueName(id);
  }

  static fromStore(c: Campaign, tasks: readonly Task[], tick: number): CampaignMirror {
    const m = new CampaignMirror(c.id, c.persona_id, c.goal, c.status, c.created_at);
    for (const t of tasks) if (t.supersedes) m.superseded.add(t.supersedes);
    for (const t of tasks) m.addTask(t, tick);
    return m;
  }

  addTask(t: Task, tick: number): void {
    this.tasks.set(t.id, {
      status: t.status,
      depends_on: [...t.depends_on],
      skill_name: t.skill_name,
      role: t.role,
      replans: t.replans,
      params: ((t.input_data as { params?: Record<string, unknown> } | null)?.params ?? {}) as Record<string, unknown>,
      escalated_tick: t.status === 'ESC_HITL' ? tick : null,
    });
    for (const d of t.depends_on) {
      const list = this.dependents.get(d);
      if (list) list.push(t.id);
      else this.dependents.set(d, [t.id]);
    }
    if (t.role !== 'WORKER') return;
    if (t.status === 'FAILED' && this.superseded.has(t.id)) return;
    if (t.status !== 'COMPLETED') this.outstanding += 1;
    if (t.status === 'FAILED') this.toReplan.push(t.id);
    if (t.status === 'ESC_HITL') this.escalated.push(t.id);
  }

  setStatus(id: string, status: TaskStatus, tick: number): void {
    const t = this.tasks.get(id);
    if (!t) return;
    const prev = t.status;
    t.status = status;
    if (prev === 'ESC_HITL') removeFrom(this.escalated, id);
    if (status === 'ESC_HITL') {
      t.escalated_tick = tick;
      this.escalated.push(id);
    }
    if (t.role !== 'WORKER') return;
    if (status === 'COMPLETED' && prev !== 'COMPLETED') this.outstanding -= 1;
    if (status === 'FAILED') this.toReplan.push(id);
  }

  /** Records that `replacement` took over the failed task `failed_id`. */
  replaced(failed_id: string, replacement: Task, tick: number): void {
    this.superseded.add(failed_id);
    removeFrom(this.toReplan, failed_id);
    this.outstanding -= 1;
    for (const dep of this.dependents.get(failed_id) ?? []) {
      const d = this.tasks.get(dep);
      if (d) d.depends_on = d.depends_on.map((x) => (x === failed_id ? replacement.id : x));
    }
    this.addTask(replacement, tick);
    const moved = this.dependents.get(failed_id) ?? [];
    if (moved.length) this.dependents.set(replacement.id, [...(this.dependents.get(replacement.id) ?? []), ...moved]);
    this.dependents.delete(failed_id);
  }

  /** PENDING tasks whose dependencies are all COMPLETED. */
  isReady(id: string): boolean {
    const t = this.tasks.get(id);
    if (!t || t.status !== 'PENDING') return false;
    return t.depends_on.every((d) => this.tasks.get(d)?.status === 'COMPLETED');
  }

  readyTasks(): string[] {
    const out: string[] = [];
    for (const [id] of this.tasks) if (this.isReady(id)) out.push(id);
    return out;
  }

  /** Dependents of `id` that became ready. */
  newlyReady(id: string): string[] {
    return (this.dependents.get(id) ?? []).filter((d) => this.isReady(d));
  }
}

function removeFrom(list: string[], id: string): void {
  const i = list.indexOf(id);
  if (i >= 0) list.splice(i, 1);
}
