/**
 * Simulated skills: deterministic generators driven by the persona's traits and a random
 * stream derived from (task, attempt), so a task's outcome does not depend on which worker
 * ran it, when, or how often it was redelivered (a redelivery is the same attempt). Faults
 * are injected here at the configured rates; slowness is drawn per delivery by the engine.
 */
import type { Rng } from '../ports/rng.ts';
import { deriveVocabulary } from '../domain/persona.ts';
import type { Faults } from './config.ts';
import type { PersonaView } from './persona-view.ts';

export type SkillOutcome =
  | { kind: 'ok'; result: SkillResult; confidence: number; reasoning: string; fault: string | null }
  | { kind: 'transient'; reason: string }
  | { kind: 'failure'; reason: string };

export interface SkillResult {
  /** What the Judge reads and embeds. */
  readonly text: string;
  readonly hashtags: readonly string[];
  readonly [k: string]: unknown;
}

export const SENSITIVE_LINES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  politics: ['vote for the candidate who backs this', 'the election depends on it'],
  health: ['this will cure your anxiety', 'doctors hate this miracle supplement'],
  financial: ['guaranteed returns of 20 percent', 'invest now for guaranteed profit'],
});

const FILLER =
  'synergy leverage disrupt ecosystem paradigm hustle viral unbox giveaway ranking algorithm metrics quarterly vertical funnel clickbait'.split(
    ' ',
  );

/**
 * Sentence templates per skill: `{}` is a content word, drawn from the persona's vocabulary
 * and the goal with probability `quality`, otherwise from off-persona filler. The glue words
 * make a post read like one; the content words are what the Judge's similarity sees.
 */
const TEMPLATES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  content_generation: [
    'Quick one: {} {} beats {} {}.',
    'This week we tried {} {} with {} {}.',
    'Story time: {} {} and {} {} changed how I see {}.',
    'Three things about {}: {}, {} and {}.',
    'Try this: {} {}, then {} {}.',
    'Why {} {} matters for {} {}.',
  ],
  trend_analysis: ['Trends: {} {} rising, {} {} steady, {} cooling.', 'Rising this week: {}, {} and {} {}.'],
  audience_research: ['Audience: {} {} fans who care about {} and {}.', 'Our people ask about {} {} and {} {}.'],
  persona_consistency_check: ['Voice check: {} {} and {} {} fit; tone {}.', 'Consistency: {} {} matches, {} {} on brand.'],
});

/** Templates split at their `{}` slots, once. */
const SPLIT = new Map<string, readonly string[]>();
function fill(template: string, next: () => string): string {
  let parts = SPLIT.get(template);
  if (!parts) SPLIT.set(template, (parts = template.split('{}')));
  let out = parts[0] as string;
  for (let i = 1; i < parts.length; i++) out += next() + parts[i];
  return out;
}

function compose(rng: Rng, skill: string, pool: readonly string[], quality: number, sentences: number): string {
  const templates = TEMPLATES[skill] ?? (TEMPLATES.content_generation as readonly string[]);
  const word = () => (rng.next() < quality && pool.length ? rng.pick(pool) : rng.pick(FILLER));
  let out = '';
  for (let i = 0; i < sentences; i++) out += (i ? ' ' : '') + fill(rng.pick(templates), word);
  return out;
}

const poolCache = new Map<string, { vocabulary: readonly string[]; words: string[] }>();
/**
 * The words a task of this persona and goal draws on: the persona's vocabulary, then the goal's
 * content words (memoised: every task of a campaign asks for the same pair).
 */
function wordPool(persona: PersonaView, goal: string): readonly string[] {
  const key = `${persona.id}\u0000${goal}`;
  const hit = poolCache.get(key);
  if (hit && hit.vocabulary === persona.vocabulary) return hit.words;
  if (poolCache.size > 1000) poolCache.clear();
  const words = [...persona.vocabulary, ...deriveVocabulary([goal])];
  poolCache.set(key, { vocabulary: persona.vocabulary, words });
  return words;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function runSkill(
  skill: string,
  params: Readonly<Record<string, unknown>>,
  persona: PersonaView,
  goal: string,
  faults: Faults,
  rng: Rng,
): SkillOutcome {
  if (rng.chance(faults.transient_error)) return { kind: 'transient', reason: `${skill}: upstream timeout` };
  if (rng.chance(faults.skill_failure)) return { kind: 'failure', reason: `${skill}: tool returned an error` };
  const low = rng.chance(faults.low_quality);
  const sensitive = rng.chance(faults.sensitive_topic);
  const pool = wordPool(persona, goal);
  const quality = low ? 0.15 : 0.9;
  let text = compose(rng, skill, pool, quality, skill === 'content_generation' ? 3 : 2);
  let fault: string | null = low ? 'low_quality' : null;
  if (sensitive) {
    const topic = rng.pick(Object.keys(SENSITIVE_LINES));
    const line = rng.pick(SENSITIVE_LINES[topic] as readonly string[]);
    text += ` ${line[0]?.toUpperCase()}${line.slice(1)}!`;
    fault = 'sensitive_topic';
  }
  const hashtags = low ? [rng.pick(FILLER), rng.pick(FILLER), rng.pick(FILLER)] : [rng.pick(pool)];
  const confidence = clamp01(low ? rng.normal(0.55, 0.08) : rng.normal(0.95, 0.025));
  const result: SkillResult = { text, hashtags, skill, angle: params.angle ?? null };
  const reasoning = low
    ? 'draft drifted from the brief; low confidence'
    : `drew on ${persona.name}'s voice and the campaign goal`;
  return { kind: 'ok', result, confidence: Math.round(confidence * 1e4) / 1e4, reasoning, fault };
}
