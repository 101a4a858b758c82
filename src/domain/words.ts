/**
 * What counts as a word wherever text is read by rule (the hashing embedder, the Judge's topic
 * rules): a run of [a-z0-9'] in the lower-cased text.
 */
export const isWordChar = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 39;

/** Where the next word starts at or after `i` (s.length when there is none). */
export function wordStart(s: string, i: number): number {
  const n = s.length;
  while (i < n && !isWordChar(s.charCodeAt(i))) i += 1;
  return i;
}

/** Where the word starting at `i` ends (exclusive). */
export function wordEnd(s: string, i: number): number {
  const n = s.length;
  let end = i + 1;
  while (end < n && isWordChar(s.charCodeAt(end))) end += 1;
  return end;
}
