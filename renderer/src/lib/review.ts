/** The review queue's filter and sort (pure, so 10,000 items are narrowed in one pass and tested without a DOM). */
import type { ReviewItem } from '../../../src/shared/types.ts';

export const REVIEW_SORTS = [
  // the order the core lists them in (task creation)
  { id: 'created', label: 'Queue order' },
  { id: 'oldest', label: 'Waiting longest' },
  { id: 'newest', label: 'Escalated last' },
  { id: 'score-asc', label: 'Lowest score first' },
  { id: 'score-desc', label: 'Highest score first' },
  { id: 'campaign', label: 'By campaign' },
] as const;
export type ReviewSort = (typeof REVIEW_SORTS)[number]['id'];

export interface ReviewFilter {
  /** Words that must all appear in the skill, campaign, persona, output, reasons or topics (case-insensitive). */
  readonly text: string;
  readonly campaign_id: string;
  readonly persona_id: string;
  /** Only items that touch a sensitive topic (true), only those that do not (false), or all (null). */
  readonly sensitive: boolean | null;
}

export const NO_FILTER: ReviewFilter = { text: '', campaign_id: '', persona_id: '', sensitive: null };

// built once per item read (a re-read brings new item objects), not once per keystroke
const haystacks = new WeakMap<ReviewItem, string>();
function haystack(it: ReviewItem): string {
  let h = haystacks.get(it);
  if (h === undefined) {
    h = [it.skill_name, it.campaign_title, it.persona_id, it.text, it.reasons.join(' '), it.sensitive_topics.join(' '), it.task_id.slice(0, 8)].join('\n').toLowerCase();
    haystacks.set(it, h);
  }
  return h;
}

const byScore = (it: ReviewItem) => it.score ?? -1;

export function filterSortReview(items: readonly ReviewItem[], f: ReviewFilter, sort: ReviewSort): ReviewItem[] {
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  const out = items.filter((it) => {
    if ((f.campaign_id && it.campaign_id !== f.campaign_id) || (f.persona_id && it.persona_id !== f.persona_id)) return false;
    if (f.sensitive !== null && it.sensitive_topics.length > 0 !== f.sensitive) return false;
    if (words.length === 0) return true;
    const h = haystack(it);
    return words.every((w) => h.includes(w));
  });
  // every order ends on the task id, so equal keys keep one order across re-reads
  const tie = (a: ReviewItem, b: ReviewItem) => (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0);
  const time = (a: ReviewItem, b: ReviewItem) => (a.escalated_at < b.escalated_at ? -1 : a.escalated_at > b.escalated_at ? 1 : 0);
  if (sort === 'created') return out;
  const cmp: Record<Exclude<ReviewSort, 'created'>, (a: ReviewItem, b: ReviewItem) => number> = {
    oldest: (a, b) => time(a, b) || tie(a, b),
    newest: (a, b) => time(b, a) || tie(a, b),
    'score-asc': (a, b) => byScore(a) - byScore(b) || time(a, b) || tie(a, b),
    'score-desc': (a, b) => byScore(b) - byScore(a) || time(a, b) || tie(a, b),
    campaign: (a, b) => a.campaign_title.localeCompare(b.campaign_title) || time(a, b) || tie(a, b),
  };
  return out.sort(cmp[sort]);
}

/** Where the selection goes when the list changes: the same item if it is still there, else the one now at its old place. */
export function keepSelection(prev: readonly ReviewItem[], next: readonly ReviewItem[], selected: string | null): string | null {
  if (next.length === 0) return null;
  if (selected && next.some((it) => it.task_id === selected)) return selected;
  const at = selected ? prev.findIndex((it) => it.task_id === selected) : -1;
  return (next[Math.min(Math.max(at, 0), next.length - 1)] as ReviewItem).task_id;
}

/** A decision's name as the audit log and the toasts say it. */
export const DECIDED: Record<'approve' | 'edit' | 'reject', string> = { approve: 'Approved', edit: 'Edited and approved', reject: 'Rejected' };
