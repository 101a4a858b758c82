/**
 * Time travel in the studio service: replaying from a step starts a branch and keeps the one it
 * came from (in memory and on SQLite, where the branch is a file of its own that survives a
 * restart), the state at any step (rebuilt by replay, equal to what the run held then), breakpoints
 * that pause a run and say why, and a run that waits on people and goes on once they decide.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { openStudio } from './studio-support.ts';
import { untilStatus } from './timetravel-support.ts';
import type { StudioService } from '../../src/app/studio-service.ts';

type Studio = Awaited<ReturnType<typeof openStudio>>;
const opened: Studio[] = [];
async function studio(dir?: string): Promise<Studio> {
  const s = await openStudio(dir);
  opened.push(s);
  return s;
}
/** A fresh studio on the storm scenario (some 190 steps: retries, re-plans, conflicts, escalations). */
async function storm(): Promise<Studio> {
  const s = await studio();
  await s.service.call('sim/open', { scenario: 'storm', seed: 7 });
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.cleanup();
});

/** What the run holds now, to compare with a state rebuilt later. */
async function snapshot(service: StudioService) {
  const campaigns = (await service.call('campaigns/list', {})).campaigns.map((c) => ({ id: c.id, status: c.status, state_version: c.state_version, counts: c.counts }));
  const review = (await service.call('review/list', {})).items.map((i) => i.task_id).sort();
  return { step: service.status().step, campaigns, review };
}

describe('time travel', () => {
  it('keeps every in-memory branch: replay from a step starts one, and switching back finds the old run whole', async () => {
    const s = await storm();
    const first = s.service.status().extras.first_step;
    expect(first).toBeGreaterThan(0);
    await s.service.call('sim/step', { count: 80 });
    const whole = s.service.status();
    // a replay to a start-up step is refused, naming the earliest step
    await expect(s.service.call('sim/scrub', { step: 0 })).rejects.toMatchObject({ code: 'VALIDATION', message: expect.stringContaining(`earliest step to replay to is ${first}`) });
    // replay to the first step lands on it (not past it)
    const atFirst = await s.service.call('sim/scrub', { step: first });
    expect(atFirst.step).toBe(first);
    const b1 = (await s.service.call('sim/branches', {})).branches;
    // (the default run the studio opened with never stepped: it left the list)
    expect(b1).toHaveLength(2);
    const root = b1.find((b) => b.parent === null)!;
    expect(root).toMatchObject({ step: whole.step, active: false, backend: 'memory' });
    expect(b1.find((b) => b.active)).toMatchObject({ parent: root.id, forked_at: first, backend: 'memory' });

    // back to the root: every step is there again
    await s.service.call('sim/branch', { id: root.id });
    expect(s.service.status()).toMatchObject({ step: whole.step, summary: { eventLogSha256: whole.summary.eventLogSha256 } });
    // a second branch from the root at step 40, stepped on: three branches, each reachable
    await s.service.call('sim/scrub', { step: 40 });
    await s.service.call('sim/step', { count: 3 });
    const b2 = await s.service.call('sim/branches', {});
    expect(b2.branches).toHaveLength(3);
    expect(b2.branches.filter((b) => b.parent === root.id).map((b) => b.forked_at).sort()).toEqual([40, first].sort());
    expect(b2.branches.find((b) => b.active)).toMatchObject({ step: 43 });
  });

  it('keeps a SQLite branch on SQLite, in a file beside the original that reopens after a restart', async () => {
    const s = await storm();
    await s.service.call('backend/switch', { kind: 'sqlite', name: 'orig' });
    await s.service.call('sim/open', { scenario: 'storm', seed: 7 });
    await s.service.call('sim/step', { count: 60 });
    const whole = s.service.status();
    const back = await s.service.call('sim/scrub', { step: 30 });
    expect(back).toMatchObject({ step: 30, backend: 'sqlite', replayed_from: 30 });
    const status = await s.service.call('backend/status', {});
    expect(status.active).toMatchObject({ kind: 'sqlite', name: 'orig-at-30' });
    expect(existsSync(status.active.path!)).toBe(true);
    await s.service.call('sim/step', { count: 5 });
    const branches = (await s.service.call('sim/branches', {})).branches;
    expect(branches.map((b) => [b.profile_name, b.parent !== null, b.forked_at])).toEqual([
      ['orig', false, null],
      ['orig-at-30', true, 30],
    ]);
    // the original is untouched: switch back, every step is there
    await s.service.call('sim/branch', { id: branches[0]!.id });
    expect(s.service.status()).toMatchObject({ step: whole.step, backend: 'sqlite', summary: { eventLogSha256: whole.summary.eventLogSha256 } });
    await s.service.call('sim/branch', { id: branches[1]!.id });
    expect(s.service.status().step).toBe(35);
    // a restart reopens the active branch, and the list still has both
    await s.service.close();
    const again = await studio(s.data_dir);
    expect(again.service.status()).toMatchObject({ step: 35, backend: 'sqlite' });
    expect((await again.service.call('sim/branches', {})).branches.map((b) => [b.profile_name, b.active, b.forked_at])).toEqual([
      ['orig', false, null],
      ['orig-at-30', true, 30],
    ]);
    // the reopened branch has its whole history: the state at a step before the fork, and a branch of the branch
    expect((await again.service.call('sim/stepstate', { step: 20 })).source).toBe('replay');
    expect(await again.service.call('sim/scrub', { step: 33 })).toMatchObject({ step: 33, backend: 'sqlite' });
    expect((await again.service.call('backend/status', {})).active.name).toBe('orig-at-30-at-33');
  });

  it('shows the state at a past step as the run held it then, with the step’s input, output and the Judge’s reasons', async () => {
    const s = await storm();
    const seen: Awaited<ReturnType<typeof snapshot>>[] = [];
    for (let i = 0; i < 12; i++) {
      await s.service.call('sim/step', { count: 7 });
      seen.push(await snapshot(s.service));
    }
    // jumps in every direction: each rebuilt state equals what the run held at that step
    for (const i of [3, 0, 9, 4, 11, 5]) {
      const want = seen[i]!;
      const got = await s.service.call('sim/stepstate', { step: want.step });
      expect(got.step).toBe(want.step);
      expect(got.campaigns.map((c) => ({ id: c.id, status: c.status, state_version: c.state_version, counts: c.counts }))).toEqual(want.campaigns);
      expect(got.review.map((r) => r.task_id).sort()).toEqual(want.review);
      expect(got.source).toBe(i === 11 ? 'live' : 'replay');
    }
    // a step where the Judge decided: its task with what went in, what came out and why
    const events = (await s.service.call('sim/events', { type: 'judge.decided', limit: 10_000 })).events.filter((e) => (e.data as { phase?: string }).phase === undefined);
    expect(events.length).toBeGreaterThan(0);
    const judged = await s.service.call('sim/stepstate', { step: events[0]!.step });
    expect(judged.agent).toMatch(/^judge-/);
    const task = judged.tasks.find((t) => t.id === events[0]!.task_id)!;
    expect(task.input).toBeTruthy();
    expect(task.output).toBeTruthy();
    expect(task.judge?.reasons.length).toBeGreaterThan(0);
    expect(judged.dag?.count).toBeGreaterThan(0);
    await expect(s.service.call('sim/stepstate', { step: 100_000 })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('pauses a run at a breakpoint and says why: before an agent kind, on a route, on a task type', async () => {
    const s = await storm();
    await s.service.call('sim/speed', { steps_per_s: 0 });
    await s.service.call('sim/step', { count: 10 });
    // before the Judge: the run stands just before a judge's step (the next step is the judge's)
    await s.service.call('sim/breakpoints', { breakpoints: [{ kind: 'agent', agent: 'judge' }] });
    await s.service.call('sim/run', {});
    await untilStatus(s.service, (st) => !st.running);
    const st = s.service.status();
    expect(st.extras.stop_reason).toMatch(/breakpoint before judge: judge-\d acts next/);
    const here = st.step;
    const r = await s.service.call('sim/step', {});
    expect(r.events[0]!.agent).toMatch(/^judge-/);
    expect(r.status.step).toBe(here + 1);
    // on escalate: stops on the step that escalated
    await s.service.call('sim/breakpoints', { breakpoints: [{ kind: 'route', route: 'escalate' }] });
    await s.service.call('sim/run', {});
    await untilStatus(s.service, (x) => !x.running);
    const esc = s.service.status();
    expect(esc.extras.stop_reason).toMatch(/breakpoint on escalate: judge-\d escalated task [0-9a-f]{8} to human review/);
    const last = (await s.service.call('sim/events', { after_step: esc.step - 1 })).events;
    expect(last.some((e) => e.type === 'judge.decided' && (e.data as { route?: string }).route === 'ESC_HITL')).toBe(true);
    // on a task type
    const skill = (await s.service.call('sim/events', { type: 'task.claimed', limit: 1 })).events[0]!.data!.skill as string;
    await s.service.call('sim/breakpoints', { breakpoints: [{ kind: 'task_type', skill }] });
    await s.service.call('sim/run', {});
    await untilStatus(s.service, (x) => !x.running);
    expect(s.service.status().extras.stop_reason).toContain(`breakpoint on task type ${skill}`);
    // the breakpoint's lookahead changed nothing: the event log is the one a run without breakpoints has
    await s.service.call('sim/breakpoints', { breakpoints: [] });
    await s.service.call('sim/run', {});
    await untilStatus(s.service, (x) => !x.running && x.finished !== null);
    const plain = await storm();
    await plain.service.call('sim/speed', { steps_per_s: 0 });
    await plain.service.call('sim/run', {});
    await untilStatus(plain.service, (x) => !x.running && x.finished !== null);
    expect(s.service.status().summary.eventLogSha256).toBe(plain.service.status().summary.eventLogSha256);
    // on a conflict and on a re-plan (storm has both): each stops on the step that did it
    expect(plain.service.status().summary.conflicts).toBeGreaterThan(0);
    expect(plain.service.status().summary.replans).toBeGreaterThan(0);
    for (const [bp, type] of [
      [{ kind: 'conflict' }, 'occ.conflict'],
      [{ kind: 'route', route: 'replan' }, 'task.replanned'],
    ] as const) {
      const o = await storm();
      await o.service.call('sim/speed', { steps_per_s: 0 });
      await o.service.call('sim/breakpoints', { breakpoints: [bp] });
      await o.service.call('sim/run', {});
      await untilStatus(o.service, (x) => !x.running);
      const at = o.service.status();
      expect(at.finished).toBeNull();
      expect(at.extras.stop_reason).toMatch(bp.kind === 'conflict' ? /breakpoint on conflict/ : /breakpoint on re-plan/);
      const evs = (await o.service.call('sim/events', { after_step: at.step - 1 })).events;
      expect(evs.some((e) => e.type === type)).toBe(true);
    }
  });

  it('says a run waits on human decisions, and goes on by itself once they are made', async () => {
    const s = await studio();
    await s.service.call('sim/speed', { steps_per_s: 0 });
    await s.service.call('sim/run', {});
    await untilStatus(s.service, (x) => !x.running && x.finished !== null);
    const st = s.service.status();
    expect(st.finished).toBe('quiescent');
    expect(st.extras.waiting_on_humans).toBe(st.summary.hitlPending);
    expect(st.extras.waiting_on_humans).toBeGreaterThan(0);
    expect(st.extras.resume_after_humans).toBe(true);
    // decide every item: after each decision the run goes on by itself
    for (let i = 0; i < 100; i++) {
      const items = (await s.service.call('review/list', {})).items;
      if (items.length === 0) break;
      const before = s.service.status().step;
      await s.service.call('review/decide', { task_id: items[0]!.task_id, decision: 'approve', expected_version: items[0]!.state_version });
      await untilStatus(s.service, (x) => !x.running && x.step > before);
    }
    expect(s.service.status()).toMatchObject({ finished: 'completed', extras: { waiting_on_humans: 0 } });
  });
});
