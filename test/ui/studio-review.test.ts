/**
 * Human review and persona memory through the studio service (real ports): two readers
 * deciding one item or pausing one campaign get a conflict that says what happened and
 * writes nothing; approve, edit and reject are three audit actions by one actor; memories are
 * browsed, edited, deleted and searched with k and a minimum score; the view says which model
 * embeds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStudio } from './studio-support.ts';
import type { RemoteError } from '../../src/shared/errors.ts';

type Studio = Awaited<ReturnType<typeof openStudio>>;
const opened: Studio[] = [];
async function studio(): Promise<Studio> {
  const s = await openStudio();
  opened.push(s);
  return s;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.cleanup();
});

/** Steps until at least `n` items wait for review (bounded). */
async function untilWaiting(s: Studio, n: number) {
  for (let i = 0; i < 4000; i++) {
    const r = await s.service.call('review/list', {});
    if (r.items.length >= n) return r.items;
    if (s.service.status().finished) break;
    await s.service.call('sim/step', { count: 5 });
  }
  throw new Error(`fewer than ${n} items were escalated`);
}

async function refusal(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (e) {
    return e as RemoteError;
  }
  throw new Error('the call was not refused');
}

describe('human review through the studio service', () => {
  it('a second decision on one item is "decided elsewhere": nothing written, no raw code or full id in the message', async () => {
    const s = await studio();
    await s.service.call('sim/open', { scenario: 'review-queue', seed: 1, human_enabled: false });
    const [item] = await untilWaiting(s, 1);
    // two tabs read the same item at the same version
    await s.service.call('review/decide', { task_id: item!.task_id, decision: 'edit', edited_text: 'A calmer rewrite.', expected_version: item!.state_version });
    const e = await refusal(s.service.call('review/decide', { task_id: item!.task_id, decision: 'reject', expected_version: item!.state_version }));
    expect(e).toMatchObject({ code: 'CONFLICT', details: { reason: 'decided', decision: 'edit', reviewer: 'studio-user', status: 'COMPLETED' } });
    expect(e.message).toContain('already edited and approved by studio-user elsewhere; nothing was written');
    expect(e.message).not.toMatch(/ILLEGAL_TRANSITION|[0-9a-f]{8}-[0-9a-f]{4}-/);
    // the first decision stands: the edited text is the task's output
    const audit = await s.service.call('audit/list', { offset: 0, limit: 10, campaign_id: item!.campaign_id, text: item!.task_id });
    expect(audit.events.filter((x) => x.action.startsWith('human.')).map((x) => x.action)).toEqual(['human.edited']);
  });

  it('approve, edit and reject are three audit actions, each by the studio user, and the edit is the output', async () => {
    const s = await studio();
    await s.service.call('sim/open', { scenario: 'review-queue', seed: 1, human_enabled: false });
    const items = await untilWaiting(s, 3);
    const decisions = ['approve', 'edit', 'reject'] as const;
    for (const [i, decision] of decisions.entries()) {
      const cur = (await s.service.call('review/list', {})).items.find((x) => x.task_id === items[i]!.task_id)!;
      await s.service.call('review/decide', { task_id: cur.task_id, decision, expected_version: cur.state_version, ...(decision === 'edit' ? { edited_text: 'Kept edit.' } : {}) });
    }
    const audit = await s.service.call('audit/list', { offset: 0, limit: 2000 });
    // newest first: read back in the order they were made
    const human = audit.events.filter((x) => x.action.startsWith('human.')).reverse();
    expect(human.map((x) => [x.action, x.actor, x.entity_id])).toEqual([
      ['human.approved', 'studio-user', items[0]!.task_id],
      ['human.edited', 'studio-user', items[1]!.task_id],
      ['human.rejected', 'studio-user', items[2]!.task_id],
    ]);
    expect(audit.actions).toEqual(expect.arrayContaining(['human.approved', 'human.edited', 'human.rejected']));
    expect(audit.verification.ok).toBe(true);
    expect(human[1]!.details).toMatchObject({ decision: 'edit', reviewer: 'studio-user', edited_text: 'Kept edit.' });
    // the edit is the output that stands; approve and reject keep the worker's
    expect(await s.service.call('review/task', { task_id: items[1]!.task_id })).toMatchObject({
      status: 'COMPLETED',
      decision: 'edit',
      reviewer: 'studio-user',
      output_text: 'Kept edit.',
      original_text: items[1]!.text,
    });
    expect(await s.service.call('review/task', { task_id: items[0]!.task_id })).toMatchObject({ status: 'COMPLETED', decision: 'approve', output_text: items[0]!.text, original_text: null });
    expect(await s.service.call('review/task', { task_id: items[2]!.task_id })).toMatchObject({ status: 'FAILED', decision: 'reject' });
    expect(s.service.status().summary.humanDecisions).toBe(3);
  });

  it('two pauses of one campaign: the second is "already paused" and it stays PAUSED; resume is refused the same way', async () => {
    const s = await studio();
    await untilWaiting(s, 1);
    const [c] = (await s.service.call('campaigns/list', {})).campaigns.filter((x) => x.status === 'ACTIVE');
    const first = await s.service.call('campaigns/pause', { campaign_id: c!.id, expected_version: c!.state_version });
    expect(first.campaign.status).toBe('PAUSED');
    // the second tab read the same version; a fresh read (the version now) is refused too
    for (const v of [c!.state_version, first.campaign.state_version]) {
      const e = await refusal(s.service.call('campaigns/pause', { campaign_id: c!.id, expected_version: v }));
      expect(e).toMatchObject({ code: 'CONFLICT', details: { reason: 'already', status: 'PAUSED' } });
      expect(e.message).toContain('is already paused');
    }
    const now = (await s.service.call('campaigns/list', {})).campaigns.find((x) => x.id === c!.id)!;
    expect(now).toMatchObject({ status: 'PAUSED', state_version: first.campaign.state_version });
    await s.service.call('campaigns/resume', { campaign_id: c!.id, expected_version: now.state_version });
    const e = await refusal(s.service.call('campaigns/resume', { campaign_id: c!.id, expected_version: now.state_version }));
    expect(e).toMatchObject({ code: 'CONFLICT', details: { reason: 'already' } });
    const audit = await s.service.call('audit/list', { offset: 0, limit: 10, campaign_id: c!.id, action: 'campaign.paused' });
    expect(audit.events.map((x) => x.actor)).toEqual(['studio-user']);
  });

  it('lists every waiting item with its total and when it was escalated', async () => {
    const s = await studio();
    const items = await untilWaiting(s, 2);
    const r = await s.service.call('review/list', {});
    expect(r.total).toBe(r.items.length);
    expect(r.total).toBe(s.service.status().summary.hitlPending);
    expect(items[0]!.escalated_at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('persona memory through the studio service', () => {
  it('browses, edits and deletes memories (audited), and searches with k and a minimum score', async () => {
    const s = await studio();
    const { id } = await s.service.call('memory/add', { persona_id: 'aria', content: 'Aria mends denim jackets with sashiko stitching.', category: 'Episodic' });
    const all = await s.service.call('memory/list', { offset: 0, limit: 1000, persona_id: 'aria' });
    expect(all.total).toBe(all.memories.length);
    expect(all.memories.map((m) => m.id)).toContain(id);
    const soul = await s.service.call('memory/list', { offset: 0, limit: 10, persona_id: 'aria', categories: ['SOUL'] });
    expect(soul.memories.every((m) => m.category === 'SOUL')).toBe(true);

    const edited = await s.service.call('memory/update', { id, content: 'Aria teaches visible mending of wool sweaters.', category: 'Semantic' });
    expect(edited.memory).toMatchObject({ id, content: 'Aria teaches visible mending of wool sweaters.', category: 'Semantic' });
    // the edit is embedded again: the new words find it first
    const found = await s.service.call('memory/search', { query: 'visible mending of wool sweaters', k: 1, persona_id: 'aria' });
    expect(found.hits.map((h) => h.id)).toEqual([id]);
    // a minimum score leaves out what scores below it
    const wide = await s.service.call('memory/search', { query: 'visible mending of wool sweaters', k: 20, persona_id: 'aria' });
    const cut = wide.hits[Math.floor(wide.hits.length / 2)]!.score;
    const narrow = await s.service.call('memory/search', { query: 'visible mending of wool sweaters', k: 20, persona_id: 'aria', min_score: cut });
    expect(narrow.hits.every((h) => h.score >= cut)).toBe(true);
    expect(narrow.hits.length).toBe(wide.hits.filter((h) => h.score >= cut).length);

    expect(await s.service.call('memory/delete', { id })).toEqual({ deleted: true });
    expect(await s.service.call('memory/delete', { id })).toEqual({ deleted: false });
    expect((await s.service.call('memory/list', { offset: 0, limit: 1000, persona_id: 'aria' })).total).toBe(all.total - 1);
    await expect(s.service.call('memory/update', { id, content: 'gone' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const audit = await s.service.call('audit/list', { offset: 0, limit: 10, text: id });
    expect(audit.events.map((x) => [x.action, x.actor]).reverse()).toEqual([
      ['memory.added', 'studio-user'],
      ['memory.edited', 'studio-user'],
      ['memory.deleted', 'studio-user'],
    ]);
    expect(audit.verification.ok).toBe(true);
  });

  it('says plainly that the hashing embedder is a stand-in and how to get MiniLM', async () => {
    const s = await studio();
    const m = await s.service.call('memory/model', {});
    expect(m).toMatchObject({ stand_in: true, configured: 'hashing', model: 'Xenova/all-MiniLM-L6-v2', model_installed: false, notice: null });
    expect(m.model_id).toMatch(/^hashing/);
    expect(m.model_folder).toContain(s.data_dir);
    expect(m.install_step).toContain('CHIMERA_EMBEDDER=transformers');
  });
});
