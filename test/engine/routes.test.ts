/**
 * The shipped scenarios exercise every route of DOMAIN.md, with the invariant checkers run
 * after every single step.
 */
import { describe, expect, it } from 'vitest';
import type { ChimeraError } from '../../src/domain/errors.ts';
import { runChecked, openSim } from '../support/sim.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';

describe('routes, with invariants after every step', () => {
  it('launch-day: auto-approves most work, the reviewer handles the rest, every campaign completes', async () => {
    for (const seed of [1, 2, 3]) {
      const sim = await runChecked('launch-day', { seed });
      const s = sim.summary();
      expect(s.finished).toBe('completed');
      expect(s.campaigns).toEqual({ total: 3, completed: 3 });
      const auto = sim.engine.log.all().filter((e) => e.type === 'judge.decided' && e.data?.route === 'COMPLETED').length;
      expect(auto / s.tasks.total).toBeGreaterThan(0.8);
      expect(s.hitlPending).toBe(0);
      const episodic = await sim.ports.memory.count({ categories: ['Episodic'] });
      expect(episodic).toBeGreaterThanOrEqual(12);
      await sim.close();
    }
  });

  it('review-queue: sensitive output waits in ESC_HITL for a human, whatever its score', async () => {
    const sim = await runChecked('review-queue', { seed: 2 });
    const s = sim.summary();
    expect(s.finished).toBe('quiescent');
    expect(s.hitlPending).toBeGreaterThan(0);
    const escalated = await sim.ports.state.listTasks({ status: 'ESC_HITL' });
    expect(escalated.length).toBe(s.hitlPending);
    const sensitive = escalated.filter((t) => (t.output_data as { judge: { sensitive_topics: string[] } }).judge.sensitive_topics.length > 0);
    expect(sensitive.length).toBeGreaterThan(0);
    await sim.close();
  });

  it('storm: retry (level 1), re-plan (level 2), human (level 3), redelivery, duplicates and OCC conflicts all happen, and it still completes', async () => {
    const types = new Map<string, number>();
    const totals = { retries: 0, replans: 0, redeliveries: 0, duplicatesSkipped: 0, conflicts: 0, humanDecisions: 0 };
    for (const seed of [1, 2, 3, 4]) {
      const sim = await runChecked('storm', { seed });
      const s = sim.summary();
      expect(s.finished).toBe('completed');
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += s[k];
      for (const e of sim.engine.log.all()) types.set(e.type, (types.get(e.type) ?? 0) + 1);
      // every failed task was superseded by a re-plan
      const all = await sim.ports.state.listTasks();
      const superseded = new Set(all.map((t) => t.supersedes));
      for (const t of all.filter((x) => x.status === 'FAILED')) expect(superseded.has(t.id)).toBe(true);
      await sim.close();
    }
    expect(totals).toEqual({
      retries: expect.toSatisfy((n: number) => n > 0),
      replans: expect.toSatisfy((n: number) => n > 0),
      redeliveries: expect.toSatisfy((n: number) => n > 0),
      duplicatesSkipped: expect.toSatisfy((n: number) => n > 0),
      conflicts: expect.toSatisfy((n: number) => n > 0),
      humanDecisions: expect.toSatisfy((n: number) => n > 0),
    });
    const seen = Object.fromEntries(['campaign.paused', 'campaign.resumed', 'task.lease_lost', 'memory.written'].map((t) => [t, (types.get(t) ?? 0) > 0]));
    expect(seen).toEqual({ 'campaign.paused': true, 'campaign.resumed': true, 'task.lease_lost': true, 'memory.written': true });
  });

  it('level 3: a branch that keeps failing goes to a human instead of failing again', async () => {
    let level3 = 0;
    for (const seed of [9, 10, 11]) {
      const sim = await runChecked('launch-day', { seed, max_replans: 1, faults: { skill_failure: 0.6 }, human: { enabled: false } });
      const escalated = await sim.ports.state.listTasks({ status: 'ESC_HITL' });
      for (const t of escalated) {
        const j = (t.output_data as { judge: { score: number; reasons: string[]; sensitive_topics: string[]; unsafe_words: string[] } }).judge;
        if (j.score >= 0.7 || j.sensitive_topics.length || j.unsafe_words.length) continue;
        // below the review threshold yet escalated: only after the branch's re-plans ran out
        level3 += 1;
        expect(t.replans).toBeGreaterThanOrEqual(1);
        expect(j.reasons.join(' ')).toMatch(/level 3/);
      }
      await sim.close();
    }
    expect(level3).toBeGreaterThan(0);
  });

  it('thresholds are configuration: approve at 0.99 sends borderline work to review', async () => {
    const strict = await runChecked('launch-day', { seed: 1, thresholds: { approve: 0.99, review: 0.7 }, human: { enabled: false } });
    const normal = await runChecked('launch-day', { seed: 1, human: { enabled: false } });
    expect(strict.summary().tasks.escalated).toBeGreaterThan(normal.summary().tasks.escalated);
    await strict.close();
    await normal.close();
  });
});

describe('optimistic concurrency', () => {
  it('pausing bumps state_version; a decision made on the old version is a conflict and changes nothing', async () => {
    const sim = await openSim('review-queue', { seed: 2 });
    await sim.run();
    const [task] = await sim.ports.state.listTasks({ status: 'ESC_HITL' });
    const c0 = (await sim.ports.state.getCampaign(task!.campaign_id))!;
    await sim.command({ type: 'campaign.pause', campaign_id: c0.id });
    const c1 = (await sim.ports.state.getCampaign(c0.id))!;
    expect(c1.state_version).toBe(c0.state_version + 1);
    expect(c1.status).toBe('PAUSED');
    const err = await sim
      .command({ type: 'human.decide', task_id: task!.id, decision: 'approve', expected_version: c0.state_version })
      .catch((e: unknown) => e);
    expect((err as ChimeraError).code).toBe('CONFLICT');
    expect((await sim.ports.state.getTask(task!.id))?.status).toBe('ESC_HITL');
    expect((await sim.ports.state.getCampaign(c0.id))?.state_version).toBe(c1.state_version);
    // re-read, re-decide: the fresh version commits
    await sim.command({ type: 'human.decide', task_id: task!.id, decision: 'approve', expected_version: c1.state_version });
    expect((await sim.ports.state.getTask(task!.id))?.status).toBe('COMPLETED');
    await sim.close();
  });

  it('a human may decide while a campaign is paused; resuming a campaign with nothing left completes it', async () => {
    let exercised = 0;
    for (let seed = 1; seed <= 12 && exercised < 2; seed++) {
      const sim = await openSim('launch-day', { seed, human: { enabled: false } });
      await sim.run();
      for (const id of sim.engine.campaignOrder) {
        const tasks = await sim.ports.state.listTasks({ campaign_id: id });
        const open = tasks.filter((t) => t.role === 'WORKER' && t.status !== 'COMPLETED' && !(t.status === 'FAILED' && tasks.some((x) => x.supersedes === t.id)));
        if (open.length === 0 || !open.every((t) => t.status === 'ESC_HITL')) continue;
        exercised += 1;
        await sim.command({ type: 'campaign.pause', campaign_id: id });
        for (const t of open) await sim.command({ type: 'human.decide', task_id: t.id, decision: 'approve', reviewer: 'tester' });
        expect((await sim.ports.state.getCampaign(id))?.status).toBe('PAUSED');
        await sim.command({ type: 'campaign.resume', campaign_id: id });
        expect((await sim.ports.state.getCampaign(id))?.status).toBe('COMPLETED');
        const audit = await sim.ports.state.readAudit({ campaign_id: id });
        expect(audit.slice(-2).map((e) => e.action)).toEqual(['campaign.resumed', 'campaign.completed']);
        expect(await new InvariantChecker(sim.ports).check()).toEqual([]);
      }
      await sim.close();
    }
    expect(exercised).toBeGreaterThan(0);
  });

  it('a judge whose campaign was paused while it deliberated defers the review instead of committing', async () => {
    const sim = await openSim('storm', { seed: 2, judge_think_ticks: 3 });
    const inv = new InvariantChecker(sim.ports);
    let read: { campaign_id?: string; task_id?: string } | undefined;
    for (let i = 0; i < 2000 && !read; i++) {
      const r = await sim.step();
      read = r?.events.find((e) => e.type === 'judge.decided' && e.data?.phase === 'read');
    }
    expect(read).toBeDefined();
    await sim.command({ type: 'campaign.pause', campaign_id: read!.campaign_id! });
    let deferred = false;
    for (let i = 0; i < 2000 && !deferred; i++) {
      const r = await sim.step();
      if (!r) break;
      deferred = r.events.some((e) => e.type === 'judge.deferred' && e.task_id === read!.task_id);
      expect(await inv.check()).toEqual([]);
    }
    expect(deferred).toBe(true);
    expect((await sim.ports.state.getTask(read!.task_id!))?.status).toBe('PROCESSING');
    await sim.command({ type: 'campaign.resume', campaign_id: read!.campaign_id! });
    await sim.run();
    expect(['COMPLETED', 'ESC_HITL', 'FAILED']).toContain((await sim.ports.state.getTask(read!.task_id!))?.status);
    await sim.close();
  });

  it('a deliberating judge whose read went stale re-reads and re-decides, never overwrites', async () => {
    const sim = await runChecked('storm', { seed: 3 });
    const log = sim.engine.log.all();
    const conflicts = log.filter((e) => e.type === 'occ.conflict');
    expect(conflicts.length).toBeGreaterThan(0);
    for (const c of conflicts) {
      expect(Number(c.data?.actual_version)).toBeGreaterThan(Number(c.data?.read_version));
      const decisions = log.filter((e) => e.type === 'judge.decided' && e.task_id === c.task_id && e.data?.phase !== 'read');
      expect(decisions.length).toBeLessThanOrEqual(1);
    }
    await sim.close();
  });
});
