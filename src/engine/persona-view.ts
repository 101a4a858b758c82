/** The persona as the engine uses it, rebuilt from the persona cache's flat traits. */
import { ValidationError } from '../domain/errors.ts';

export interface PersonaView {
  readonly id: string;
  readonly name: string;
  readonly vocabulary: readonly string[];
  readonly forbidden_words: readonly string[];
  readonly forbidden_topics: readonly string[];
  readonly style_rules: readonly string[];
}

function list(traits: Readonly<Record<string, string>>, key: string, id: string): string[] {
  const raw = traits[key];
  if (raw === undefined) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // fall through
  }
  throw new ValidationError(`persona_cache:${id}: field ${key} is not a JSON list of strings`);
}

export function personaViewFromTraits(id: string, traits: Readonly<Record<string, string>>): PersonaView {
  return {
    id,
    name: traits.name ?? id,
    vocabulary: list(traits, 'vocabulary', id),
    forbidden_words: list(traits, 'forbidden_words', id).map((w) => w.toLowerCase()),
    forbidden_topics: list(traits, 'forbidden_topics', id).map((w) => w.toLowerCase()),
    style_rules: list(traits, 'style_rules', id),
  };
}
