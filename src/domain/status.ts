/** The status machines of DOMAIN.md. An illegal transition is an IllegalTransitionError. */
import { IllegalTransitionError } from './errors.ts';
import type { CampaignStatus, TaskStatus } from './schemas.ts';

export const CAMPAIGN_TRANSITIONS: Readonly<Record<CampaignStatus, readonly CampaignStatus[]>> = Object.freeze({
  PLANNING: ['ACTIVE'],
  ACTIVE: ['PAUSED', 'COMPLETED'],
  PAUSED: ['ACTIVE'],
  COMPLETED: [],
});

/**
 * PROCESSING → PENDING is the level-1 retry (a transient error puts the task back on its queue);
 * ESC_HITL → COMPLETED | FAILED are the human's approve and reject.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = Object.freeze({
  PENDING: ['PROCESSING'],
  PROCESSING: ['PENDING', 'COMPLETED', 'FAILED', 'ESC_HITL'],
  ESC_HITL: ['COMPLETED', 'FAILED'],
  COMPLETED: [],
  FAILED: [],
});

export function canTransitionCampaign(from: CampaignStatus, to: CampaignStatus): boolean {
  return CAMPAIGN_TRANSITIONS[from].includes(to);
}
export function canTransitionTask(from: TaskStatus, to: TaskStatus): boolean {
  return (from === to && from === 'PROCESSING') || TASK_TRANSITIONS[from].includes(to);
}

export function assertCampaignTransition(id: string, from: CampaignStatus, to: CampaignStatus): void {
  if (!canTransitionCampaign(from, to)) throw new IllegalTransitionError('campaign', id, from, to);
}
export function assertTaskTransition(id: string, from: TaskStatus, to: TaskStatus): void {
  if (!canTransitionTask(from, to)) throw new IllegalTransitionError('task', id, from, to);
}

export const TERMINAL_TASK_STATUSES: readonly TaskStatus[] = ['COMPLETED', 'FAILED'];
