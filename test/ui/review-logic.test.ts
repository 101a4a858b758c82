/** The renderer's pure parts for human review and persona memory: snippets without front matter, the queue's filter and sort, errors in words. */
import { describe, expect, it } from 'vitest';
import { shortIds, snippet, stripFrontMatter } from '../../renderer/src/lib/text.ts';
import { NO_FILTER, filterSortReview, keepSelection } from '../../renderer/src/lib/review.ts';
import { explainError } from '../../renderer/src/lib/errors.ts';
import { RemoteError } from '../../src/shared/errors.ts';
import type { ReviewItem } from '../../src/shared/types.ts';

const SOUL = `---
id: kofi
name: Kofi Mensah
forbidden_topics: [politics, health]
---
# Kofi Mensah

Kofi is a trail runner and coach from Accra who shares training plans, route stories and
gear reviews for runners on a budget.`;

describe('memory snippets', () => {
  it('drop a SOUL.md front matter block and keep the text after it', () => {
    expect(stripFrontMatter(SOUL).startsWith('# Kofi Mensah')).toBe(true);
    expect(stripFrontMatter('no front matter --- here')).toBe('no front matter --- here');
    expect(stripFrontMatter('---\nid: x\n---')).toBe('');
    expect(stripFrontMatter('\uFEFF---\r\nid: x\r\n---\r\nbody')).toBe('body');
  });

  it('cut at a word boundary, never mid-word, with an ellipsis', () => {
    const s = snippet(SOUL, 60);
    expect(s).not.toContain('---');
    expect(s).not.toContain('id: kofi');
    expect(s.startsWith('Kofi Mensah Kofi is a trail runner')).toBe(true);
    expect(s.endsWith('…')).toBe(true);
    expect(s.length).toBeLessThanOrEqual(61);
    const words = stripFrontMatter(SOUL).replace(/#/g, '').replace(/\s+/g, ' ').split(' ');
    // every word of the snippet (but the ellipsis) is a whole word of the text
    for (const w of s.slice(0, -1).split(' ')) expect(words).toContain(w);
    expect(snippet('short text', 60)).toBe('short text');
    expect(snippet('x'.repeat(100), 10)).toBe(`${'x'.repeat(10)}…`);
  });

  it('shortens full UUIDs in messages to 8 characters', () => {
    expect(shortIds('task 3dd2da34-1b2c-4d5e-8f90-123456789abc is COMPLETED')).toBe('task 3dd2da34 is COMPLETED');
  });
});

function item(i: number, over: Partial<ReviewItem> = {}): ReviewItem {
  return {
    task_id: `t${String(i).padStart(5, '0')}`,
    campaign_id: `c${i % 3}`,
    campaign_title: ['Spring', 'Autumn', 'Winter'][i % 3]!,
    state_version: 1,
    persona_id: i % 2 ? 'aria' : 'kofi',
    skill_name: i % 4 ? 'content_generation' : 'trend_analysis',
    escalated_at: `2026-01-01T00:00:${String(59 - (i % 60)).padStart(2, '0')}.000Z`,
    text: `output ${i}`,
    reasoning: '',
    worker_confidence: null,
    score: (i % 10) / 10,
    reasons: [],
    sensitive_topics: i % 5 === 0 ? ['politics'] : [],
    memories: [],
    ...over,
  };
}

describe('the review queue', () => {
  const items = Array.from({ length: 10_000 }, (_, i) => item(i));

  it('filters by campaign, persona, sensitive topics and words, and sorts every way with a stable tie-break', () => {
    expect(filterSortReview(items, NO_FILTER, 'created')).toEqual(items);
    const f = filterSortReview(items, { ...NO_FILTER, campaign_id: 'c1', persona_id: 'aria', sensitive: true }, 'score-asc');
    expect(f.length).toBeGreaterThan(0);
    expect(f.every((x) => x.campaign_id === 'c1' && x.persona_id === 'aria' && x.sensitive_topics.length > 0)).toBe(true);
    expect(f.map((x) => x.score)).toEqual([...f.map((x) => x.score)].sort((a, b) => a! - b!));
    expect(filterSortReview(items, { ...NO_FILTER, text: 'TREND output 12' }, 'created').map((x) => x.task_id)).toEqual(
      items.filter((x) => x.skill_name === 'trend_analysis' && x.text.includes('12')).map((x) => x.task_id),
    );
    const oldest = filterSortReview(items, NO_FILTER, 'oldest');
    expect(oldest[0]!.escalated_at <= oldest[9_999]!.escalated_at).toBe(true);
    expect(filterSortReview(items, NO_FILTER, 'newest')[0]!.escalated_at).toBe(oldest[9_999]!.escalated_at);
    expect(filterSortReview(items, NO_FILTER, 'score-desc')[0]!.score).toBe(0.9);
    const byCampaign = filterSortReview(items, NO_FILTER, 'campaign').map((x) => x.campaign_title);
    expect(byCampaign[0]).toBe('Autumn');
    expect(byCampaign[9_999]).toBe('Winter');
    // sorting does not touch the list it was given
    expect(items[0]!.task_id).toBe('t00000');
  });

  it('keeps the selection on its item, or moves it to the item now in its place', () => {
    const a = items.slice(0, 5);
    expect(keepSelection([], a, null)).toBe('t00000');
    expect(keepSelection(a, a, 't00003')).toBe('t00003');
    // t00002 was decided: the next one takes its place
    const after = a.filter((x) => x.task_id !== 't00002');
    expect(keepSelection(a, after, 't00002')).toBe('t00003');
    expect(keepSelection(a, a.slice(0, 2), 't00004')).toBe('t00001');
    expect(keepSelection(a, [], 't00001')).toBeNull();
  });
});

describe('errors in words', () => {
  it('says a conflict without its code or full ids, by what happened', () => {
    const decided = explainError(new RemoteError('CONFLICT', '“x” of campaign “Spring” was already approved by studio-user elsewhere; nothing was written', { reason: 'decided' }));
    expect(decided).toEqual({ conflict: 'decided', title: 'Decided elsewhere — nothing was written.', text: '“x” of campaign “Spring” was already approved by studio-user elsewhere' });
    const stale = explainError(new RemoteError('CONFLICT', 'campaign "S" changed since you read it (you read state_version 5, it is now 7); nothing was written — re-read and decide again', { reason: 'stale' }));
    expect(stale.text).toBe('campaign "S" changed since you read it (you read state_version 5, it is now 7) — re-read and decide again');
    expect(explainError(new RemoteError('CONFLICT', 'stale', { reason: 'stale' })).conflict).toBe('stale');
    expect(explainError(new RemoteError('CONFLICT', 'old core')).conflict).toBe('stale');
    const nf = explainError(new RemoteError('NOT_FOUND', 'task 3dd2da34-1b2c-4d5e-8f90-123456789abc not found'));
    expect(nf).toEqual({ conflict: null, title: 'It is no longer there', text: 'task 3dd2da34 not found' });
  });
});
