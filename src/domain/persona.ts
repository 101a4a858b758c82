/**
 * Parses a persona's SOUL.md: a front-matter block of `key: value` lines (values may be
 * `[a, b]` lists) followed by Markdown sections whose `- ` bullets become traits:
 *
 *   ---
 *   id: aria
 *   name: Aria Chen
 *   forbidden_words: [guaranteed, cure]
 *   ---
 *   ## Voice        (bullets → voice)
 *   ## Style        (→ style_rules)
 *   ## Beliefs      (→ beliefs)
 *   ## Forbidden topics (→ forbidden_topics)
 *   ## Vocabulary   (→ vocabulary)
 *
 * Errors name the file and the line.
 */
import { ValidationError } from './errors.ts';
import { PersonaSchema, formatIssues, type Persona, type PersonaMemory } from './schemas.ts';

const SECTION_FIELDS: Record<string, keyof Persona> = {
  voice: 'voice',
  style: 'style_rules',
  'style rules': 'style_rules',
  beliefs: 'beliefs',
  'forbidden topics': 'forbidden_topics',
  'forbidden words': 'forbidden_words',
  vocabulary: 'vocabulary',
};
const LIST_KEYS = new Set(['voice', 'style_rules', 'beliefs', 'forbidden_topics', 'forbidden_words', 'vocabulary']);
const SCALAR_KEYS = new Set(['id', 'name']);

export function parseSoulMd(text: string, source = 'SOUL.md'): Persona {
  const fail = (line: number, msg: string): never => {
    throw new ValidationError(`${source}:${line}: ${msg}`, { source, line });
  };
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0]?.trim() !== '---') fail(1, 'expected a front-matter block starting with "---"');
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (end < 0) fail(1, 'front-matter block is not closed with "---"');

  const fields: Record<string, unknown> = {
    voice: [],
    style_rules: [],
    beliefs: [],
    forbidden_topics: [],
    forbidden_words: [],
    vocabulary: [],
  };
  for (let i = 1; i < end; i++) {
    const raw = lines[i] ?? '';
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const m = /^([a-z_]+)\s*:\s*(.*)$/.exec(raw.trim());
    if (!m) fail(i + 1, `expected "key: value", found "${raw.trim()}"`);
    const [, key, value] = m as RegExpExecArray & [string, string, string];
    if (SCALAR_KEYS.has(key)) {
      fields[key] = unquote(value);
    } else if (LIST_KEYS.has(key)) {
      if (!/^\[.*\]$/.test(value)) fail(i + 1, `${key} must be a list like [a, b]`);
      fields[key] = value
        .slice(1, -1)
        .split(',')
        .map((s) => unquote(s.trim()))
        .filter(Boolean);
    } else {
      fail(i + 1, `unknown key "${key}" (known: ${[...SCALAR_KEYS, ...LIST_KEYS].join(', ')})`);
    }
  }

  let current: keyof Persona | null = null;
  for (let i = end + 1; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    const h = /^#{1,6}\s+(.+)$/.exec(raw);
    if (h) {
      current = SECTION_FIELDS[(h[1] ?? '').trim().toLowerCase()] ?? null;
      continue;
    }
    const b = /^[-*]\s+(.+)$/.exec(raw);
    if (b && current) (fields[current] as string[]).push((b[1] ?? '').trim());
  }
  if ((fields.vocabulary as string[]).length === 0) {
    fields.vocabulary = deriveVocabulary([...(fields.voice as string[]), ...(fields.beliefs as string[])]);
  }
  fields.soul = text;
  const r = PersonaSchema.safeParse(fields);
  if (!r.success) throw new ValidationError(`${source}: ${formatIssues(r.error)}`, r.error.issues);
  return r.data;
}

function unquote(s: string): string {
  const t = s.trim();
  return /^(["']).*\1$/.test(t) ? t.slice(1, -1) : t;
}

const STOP = new Set(
  'a an and are as at be but by for from has have i in is it its of on or our so that the their them they this to we with you your not no never always about into than then'.split(
    ' ',
  ),
);

/** Content words of the persona's traits, in first-seen order: what its posts sound like. */
export function deriveVocabulary(texts: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const t of texts) {
    for (const w of t.toLowerCase().split(/[^a-z0-9']+/)) {
      if (w.length > 2 && !STOP.has(w)) seen.add(w);
    }
  }
  return [...seen];
}

/** The persona's traits flattened to strings, as the persona cache (a Redis hash) holds them. */
export function personaTraits(p: Persona): Record<string, string> {
  return {
    id: p.id,
    name: p.name,
    voice: JSON.stringify(p.voice),
    style_rules: JSON.stringify(p.style_rules),
    beliefs: JSON.stringify(p.beliefs),
    forbidden_topics: JSON.stringify(p.forbidden_topics),
    forbidden_words: JSON.stringify(p.forbidden_words),
    vocabulary: JSON.stringify(p.vocabulary),
  };
}

/**
 * The memories a persona starts with: its whole SOUL.md (category SOUL, id `soul:<id>`) and
 * each voice, style and belief line as a Semantic memory (`soul:<id>:<kind>:<n>`). Fixed ids,
 * so writing them again replaces rather than duplicates. The engine and `chimera memory
 * import` both use this.
 */
export function personaMemories(p: Persona, timestamp: string): PersonaMemory[] {
  const out: PersonaMemory[] = [{ id: `soul:${p.id}`, persona_id: p.id, content: p.soul, category: 'SOUL', timestamp }];
  const parts: [string, readonly string[]][] = [
    ['voice', p.voice],
    ['style', p.style_rules],
    ['belief', p.beliefs],
  ];
  for (const [kind, lines] of parts) {
    lines.forEach((content, i) => out.push({ id: `soul:${p.id}:${kind}:${i}`, persona_id: p.id, content, category: 'Semantic', timestamp }));
  }
  return out;
}
