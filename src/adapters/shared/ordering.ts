/** Orderings and filters that every adapter applies the same way (the contract fixes them). */
import { TASK_STATUSES, type Task, type TaskStatus } from '../../domain/schemas.ts';
import type { TaskQuery } from '../../ports/state-store.ts';

export function byCreatedThenId(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function emptyStatusCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
}

export function matchesTaskQuery(t: Task, q: TaskQuery): boolean {
  if (q.campaign_id && t.campaign_id !== q.campaign_id) return false;
  if (q.after && byCreatedThenId(t, q.after) <= 0) return false;
  if (q.status !== undefined) {
    if (typeof q.status === 'string') return t.status === q.status;
    return q.status.includes(t.status);
  }
  return true;
}
