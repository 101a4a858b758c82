/**
 * What a finished live run must show, whoever ran its engines: every worker task completed (or
 * failed and superseded by a re-plan), each decision committed once, each campaign completed
 * once, every audit chain and anchor verifying, and no item or lease left in any queue.
 */
import { expect } from 'vitest';
import { isHumanDecisionAction, verifyAuditChain } from '../../src/domain/audit.ts';
import type { Ports } from '../../src/ports/index.ts';
import { reviewQueueName, taskQueueName } from '../../src/ports/queue.ts';

export async function expectLiveRunSound(ports: Pick<Ports, 'state' | 'taskQueue' | 'reviewQueue'>, campaign_ids?: readonly string[]): Promise<{ tasks: number; audit: number; stale: number }> {
  const { state } = ports;
  const campaigns = (await state.listCampaigns()).filter((c) => !campaign_ids || campaign_ids.includes(c.id));
  expect(campaigns.length).toBeGreaterThan(0);
  expect(campaigns.filter((c) => c.status !== 'COMPLETED').map((c) => `${c.id}:${c.status}`)).toEqual([]);
  const ids = new Set(campaigns.map((c) => c.id));
  const tasks = (await state.listTasks()).filter((t) => ids.has(t.campaign_id));
  const superseded = new Set(tasks.map((t) => t.supersedes).filter(Boolean));
  const open = tasks.filter((t) => t.role === 'WORKER' && t.status !== 'COMPLETED' && !(t.status === 'FAILED' && superseded.has(t.id)));
  expect(open.map((t) => `${t.id}:${t.status}`)).toEqual([]);
  const audit = await state.readAudit();
  expect(verifyAuditChain(audit)).toMatchObject({ ok: true, checked: audit.length });
  const decided = new Map<string, number>();
  for (const e of audit) {
    const human = isHumanDecisionAction(e.action);
    if (e.action !== 'judge.decided' && !human) continue;
    const k = `${human ? 'human' : 'judge'}:${e.entity_id}`;
    decided.set(k, (decided.get(k) ?? 0) + 1);
  }
  expect([...decided].filter(([, n]) => n > 1)).toEqual([]);
  const completions = audit.filter((e) => e.action === 'campaign.completed' && e.campaign_id && ids.has(e.campaign_id));
  expect(completions.length).toBe(campaigns.length);
  // No work is lost: whatever is left in a completed campaign's queues is a stale duplicate of a
  // task already decided (a redelivery that a process still held when its campaign completed and
  // the processes stopped; nothing sweeps a completed campaign's queues), never a task waiting.
  const byId = new Map(tasks.map((t) => [t.id, t]));
  let stale = 0;
  for (const c of campaigns) {
    for (const [q, name] of [
      [ports.taskQueue, taskQueueName(c.id)],
      [ports.reviewQueue, reviewQueueName(c.id)],
    ] as const) {
      const left = [...(await q.peek(name, 1000)), ...(await q.leased(name, 1000)).map((l) => l.item)];
      for (const item of left) {
        const task_id = (item.payload as { task_id?: string }).task_id;
        const t = task_id ? byId.get(task_id) : undefined;
        expect(t?.status === 'COMPLETED' || t?.status === 'FAILED', `${name}: item ${item.id} left for task ${task_id} (${t?.status ?? 'missing'})`).toBe(true);
        stale += 1;
      }
    }
  }
  return { tasks: tasks.length, audit: audit.length, stale };
}
