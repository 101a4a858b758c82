/**
 * Simulated skills: deterministic generators driven by the persona's traits and a random
 * stream derived from (task, attempt), so a task's outcome does not depend on which worker
 * ran it, when, or how often it was redelivered (a redelivery is the same attempt). Faults
 * are injected here at the configured rates; slowness is drawn per delivery by the engine.
 */
import type { Rng } from '../ports/rng.ts';
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

function words(rng: Rng, pool: readonly string[], off: readonly string[], n: number, quality: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(rng.next() < quality && pool.length ? rng.pick(pool) : rng.pick(off));
  return out;
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
  const goalWords = goal.toLowerCase().match(/[a-z0-9']{3,}/g) ?? [];
  const pool = [...persona.vocabulary, ...goalWords];
  const quality = low ? 0.15 : 0.9;
  const n = skill === 'content_generation' ? 22 : 14;
  const body = words(rng, pool, FILLER, n, quality);
  let fault: string | null = low ? 'low_quality' : null;
  if (sensitive) {
    const topic = rng.pick(Object.keys(SENSITIVE_LINES));
    body.push(...rng.pick(SENSITIVE_LINES[topic] as readonly string[]).split(' '));
    fault = 'sensitive_topic';
  }
  const hashtags = low ? [rng.pick(FILLER), rng.pick(FILLER), rng.pick(FILLER)] : [rng.pick(pool)];
  const text = body.join(' ');
  const confidence = clamp01(low ? rng.normal(0.55, 0.08) : rng.normal(0.95, 0.025));
  const result: SkillResult = { text, hashtags, skill, angle: params.angle ?? null };
  const reasoning = low
    ? 'draft drifted from the brief; low confidence'
    : `drew on ${persona.name}'s voice and the campaign goal`;
  return { kind: 'ok', result, confidence: Math.round(confidence * 1e4) / 1e4, reasoning, fault };
}
