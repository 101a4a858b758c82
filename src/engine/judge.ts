/**
 * The Judge's scoring and routing, as pure functions: rules (safety filter, sensitive topics,
 * style) plus semantic similarity of the output to the persona's SOUL and memories.
 *   score ≥ approve → COMPLETED; review ≤ score < approve → ESC_HITL; below → FAILED,
 *   except that sensitive or unsafe output always goes to a human, and a branch that has
 *   been re-planned max_replans times goes to a human instead of failing again (level 3).
 */
import type { TaskStatus } from '../domain/schemas.ts';
import type { MemoryHit } from '../ports/persona-memory.ts';
import type { EngineConfig } from './config.ts';
import type { PersonaView } from './persona-view.ts';
import { wordEnd, wordStart } from '../domain/words.ts';

export const SENSITIVE_KEYWORDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  politics: ['vote', 'election', 'candidate', 'senator', 'partisan'],
  health: ['cure', 'doctors', 'supplement', 'diagnosis', 'miracle'],
  financial: ['guaranteed', 'returns', 'invest', 'profit', 'crypto'],
});

export type Route = Extract<TaskStatus, 'COMPLETED' | 'ESC_HITL' | 'FAILED'>;

export interface Verdict {
  readonly score: number;
  readonly route: Route;
  readonly reasons: readonly string[];
  readonly similarity: number;
  readonly sensitive_topics: readonly string[];
  readonly unsafe_words: readonly string[];
  readonly memories: readonly { id: string; category: string; score: number }[];
  /** 1 retry, 2 re-plan, 3 human — the escalation level this verdict starts, or 0. */
  readonly escalation: 0 | 2 | 3;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

const TOPIC_NAMES = Object.keys(SENSITIVE_KEYWORDS);
const KEYWORD_TOPIC = new Map<string, number>(TOPIC_NAMES.flatMap((t, i) => (SENSITIVE_KEYWORDS[t] as readonly string[]).map((k) => [k, i] as [string, number])));

/**
 * The sensitive topics a text touches: the built-in keyword topics (in their fixed order), then
 * the persona's forbidden topics named as words. Words are the runs of [a-z0-9'] in the
 * lower-cased text, as the hashing embedder reads them.
 */
export function sensitiveTopics(text: string, persona: PersonaView): string[] {
  return topicsOfLower(text.toLowerCase(), persona);
}

/** sensitiveTopics of a text already lower-cased. */
/**
 * Words worth looking up: (length, first character) pairs of the keywords and of the persona's
 * forbidden topics. Most words of a text match none, and are then never cut out of it.
 */
const KEYWORD_SHAPES = new Set([...KEYWORD_TOPIC.keys()].map((k) => k.length * 65536 + k.charCodeAt(0)));
const topicShapes = new WeakMap<readonly string[], Set<number>>();
function shapesFor(forbidden: readonly string[]): Set<number> {
  let set = topicShapes.get(forbidden);
  if (!set) topicShapes.set(forbidden, (set = new Set([...KEYWORD_SHAPES, ...forbidden.map((k) => k.length * 65536 + k.charCodeAt(0))])));
  return set;
}

function topicsOfLower(s: string, persona: PersonaView): string[] {
  const shapes = shapesFor(persona.forbidden_topics);
  let mask = 0;
  let forbidden: string[] | null = null;
  for (let i = wordStart(s, 0); i < s.length; ) {
    const end = wordEnd(s, i);
    if (shapes.has((end - i) * 65536 + s.charCodeAt(i))) {
      const w = s.slice(i, end);
      const t = KEYWORD_TOPIC.get(w);
      if (t !== undefined) mask |= 1 << t;
      if (persona.forbidden_topics.length && persona.forbidden_topics.includes(w)) (forbidden ??= []).push(w);
    }
    i = wordStart(s, end);
  }
  const topics: string[] = [];
  for (let t = 0; t < TOPIC_NAMES.length; t++) if (mask & (1 << t)) topics.push(TOPIC_NAMES[t] as string);
  if (forbidden) for (const t of persona.forbidden_topics) if (forbidden.includes(t) && !topics.includes(t)) topics.push(t);
  return topics;
}

/**
 * What a human's "edit then approve" does in the simulation: drops every sentence that the
 * Judge's rules flag (a sensitive topic or a forbidden word), keeping the rest as written.
 */
export function redactFlagged(text: string, persona: PersonaView): string {
  const flagged = (sentence: string) => {
    const lower = ` ${sentence.toLowerCase().replace(/[^a-z0-9']+/g, ' ')} `;
    return sensitiveTopics(sentence, persona).length > 0 || persona.forbidden_words.some((w) => lower.includes(` ${w} `));
  };
  return text
    .split(/(?<=[.!?])\s+/)
    .filter((sentence) => !flagged(sentence))
    .join(' ');
}

const padded = new WeakMap<readonly string[], readonly string[]>();
/** The words with a space either side (what the safety filter looks for), made once per list. */
function paddedWords(words: readonly string[]): readonly string[] {
  let p = padded.get(words);
  if (!p) padded.set(words, (p = words.map((w) => ` ${w} `)));
  return p;
}

export function judge(
  output: { text: string; confidence: number; failed: boolean },
  persona: PersonaView,
  hits: readonly MemoryHit[],
  cfg: EngineConfig,
  branch_replans: number,
): Verdict {
  const j = cfg.judge;
  const reasons: string[] = [];
  const top = hits.slice(0, 3);
  const similarity = top.length ? top.reduce((s, h) => s + h.score, 0) / top.length : 0;
  const semantic = Math.min(1, Math.max(0, (similarity - j.semantic_floor) / (j.semantic_ceiling - j.semantic_floor || 1)));
  let score = output.failed ? 0 : j.weight_confidence * output.confidence + j.weight_semantic * semantic;
  if (!output.failed && output.text.length > j.max_chars) {
    score -= 0.1;
    reasons.push(`longer than ${j.max_chars} characters`);
  }
  score = r4(Math.min(1, Math.max(0, score)));
  const lowered = output.text.toLowerCase();
  const lower = ` ${lowered} `;
  const pw = paddedWords(persona.forbidden_words);
  const unsafe_words = persona.forbidden_words.filter((_w, i) => lower.includes(pw[i] as string));
  const sensitive_topics = output.failed ? [] : topicsOfLower(lowered, persona);

  let route: Route;
  let escalation: Verdict['escalation'] = 0;
  if (unsafe_words.length || sensitive_topics.length) {
    route = 'ESC_HITL';
    if (unsafe_words.length) reasons.push(`safety filter: ${unsafe_words.join(', ')}`);
    if (sensitive_topics.length) reasons.push(`sensitive topic: ${sensitive_topics.join(', ')}`);
  } else if (score >= cfg.thresholds.approve) {
    route = 'COMPLETED';
    // reasons are ASCII: an audit record's canonical JSON then stays a one-byte string, which
    // the audit chain stringifies and hashes a third faster than a two-byte one
    reasons.push(`score ${score} >= ${cfg.thresholds.approve}`);
  } else if (score >= cfg.thresholds.review) {
    route = 'ESC_HITL';
    reasons.push(`score ${score} in [${cfg.thresholds.review}, ${cfg.thresholds.approve})`);
  } else if (branch_replans >= cfg.max_replans) {
    route = 'ESC_HITL';
    escalation = 3;
    reasons.push(`score ${score} < ${cfg.thresholds.review} after ${branch_replans} re-plans: human review (level 3)`);
  } else {
    route = 'FAILED';
    escalation = 2;
    reasons.push(`score ${score} < ${cfg.thresholds.review}: re-plan (level 2)`);
  }
  return {
    score,
    route,
    reasons,
    similarity: r4(similarity),
    sensitive_topics,
    unsafe_words,
    memories: hits.map((h) => ({ id: h.memory.id, category: h.memory.category, score: r4(h.score) })),
    escalation,
  };
}
