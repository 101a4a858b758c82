/** Text as people read it: memories without their SOUL.md front matter, cut at a word, and messages without full UUIDs. */

/** The text after a leading YAML front-matter block (`---` … `---`), or the text itself when it has none. */
export function stripFrontMatter(text: string): string {
  const m = /^\uFEFF?---[ \t]*\r?\n[\s\S]*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(text);
  return m ? text.slice(m[0].length) : text;
}

/**
 * A memory as a short snippet: front matter and heading marks dropped, whitespace collapsed, and cut at the last
 * word boundary within `max` characters (an ellipsis marks the cut; a single word longer than
 * `max` is cut at `max`).
 */
export function snippet(text: string, max = 240): string {
  // Markdown heading marks (a SOUL.md's "# Name", "## Voice") read as noise in one line
  const flat = stripFrontMatter(text).replace(/^#{1,6}[ \t]+/gm, '').replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const head = flat.slice(0, max + 1);
  const space = head.lastIndexOf(' ');
  const cut = space > max * 0.5 ? head.slice(0, space) : flat.slice(0, max);
  return `${cut.replace(/[\s,;:.\-–—]+$/, '')}…`;
}

const UUID = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** Replaces every full UUID in `text` with its first 8 characters (short ids stay readable). */
export function shortIds(text: string): string {
  return text.replace(UUID, '$1');
}
