/**
 * The one rule for persona ids, wherever one comes in: the CLI (--persona, JSON-lines
 * memories), scenario files, SOUL.md front matter, the app's contract, and records a store
 * holds. An id names files (`<id>.soul.md`), cache keys (`persona_cache:{id}`) and memory ids,
 * so it is a short lowercase handle: no path separators, no "..", no control or bidi
 * characters (which could hide or reorder what a reviewer reads). This is the renderer's
 * copy of src/domain/persona-id.ts (the renderer cannot import the domain);
 * test/layering/wire-copies.test.ts keeps the two in agreement.
 */
import { z } from 'zod';

export const PERSONA_ID_MAX_CHARS = 64;

/**
 * Whether a character is one a terminal or a review screen should never show as is: a control
 * character (C0, DEL, C1, line and paragraph separators) or a bidi control (U+200E/F,
 * U+202A–U+202E, U+2066–U+2069), which can reorder the text around it.
 */
export function unsafeCharKind(code: number): 'control' | 'bidi' | null {
  if (code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return 'control';
  if (code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return 'bidi';
  return null;
}

const has = (s: string, kind: 'control' | 'bidi'): boolean => {
  for (let i = 0; i < s.length; i++) if (unsafeCharKind(s.charCodeAt(i)) === kind) return true;
  return false;
};

const SHAPE = /^[a-z0-9][a-z0-9_-]*$/;

/** What is wrong with `id` as a persona id, or null when it is a valid one. */
export function personaIdProblem(id: string): string | null {
  if (id.length === 0) return 'a persona id must not be empty';
  if (id.length > PERSONA_ID_MAX_CHARS) return `a persona id must be at most ${PERSONA_ID_MAX_CHARS} characters (got ${id.length})`;
  if (/[/\\]/.test(id)) return 'a persona id must not contain a path separator';
  if (id.includes('..')) return 'a persona id must not contain ".."';
  if (has(id, 'control')) return 'a persona id must not contain control characters';
  if (has(id, 'bidi')) return 'a persona id must not contain bidi control characters';
  if (!SHAPE.test(id)) return 'a persona id must be lowercase letters, digits, "-" or "_", starting with a letter or digit';
  return null;
}

/** A persona id (see personaIdProblem for the rule). */
export const PersonaIdSchema = z.string().superRefine((id, ctx) => {
  const problem = personaIdProblem(id);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
