/**
 * What every reader adapter does the same way (src/ports/readers.ts): cursors (the last row's
 * sort key, tagged with the list it belongs to), rows checked against the domain schemas
 * (a row that does not fit is returned marked, never thrown), and cutting a page.
 */
import { ValidationError } from '../../domain/errors.ts';
import { formatIssues } from '../../domain/schemas.ts';
import type { Page, ReadRow } from '../../ports/readers.ts';

/** What a row is checked with: a domain schema (structurally, so this folder names no package). */
export interface RowSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: Parameters<typeof formatIssues>[0] };
}

/** A sort key: its parts are strings or numbers, in the order the list sorts by. */
export type SortKey = readonly (string | number)[];

/** An opaque cursor for the row whose key is `key` in the list `tag`. */
export function encodeCursor(tag: string, key: SortKey): string {
  return `${tag}~${Buffer.from(JSON.stringify(key)).toString('base64url')}`;
}

/**
 * The key a cursor of list `tag` carries, with the part types `shape` gives ('s' string, 'n'
 * number); null for no cursor; ValidationError for a cursor of another list or a broken one.
 */
export function decodeCursor(tag: string, shape: string, cursor: string | null | undefined): SortKey | null {
  if (cursor === undefined || cursor === null) return null;
  const bad = (): ValidationError => new ValidationError(`invalid cursor for ${tag}: pass a next_cursor this list returned`);
  if (typeof cursor !== 'string' || !cursor.startsWith(`${tag}~`)) throw bad();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor.slice(tag.length + 1), 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(key) || key.length !== shape.length) throw bad();
  for (let i = 0; i < shape.length; i++) {
    const want = shape[i] === 'n' ? 'number' : 'string';
    if (typeof key[i] !== want || (want === 'number' && !Number.isFinite(key[i]))) throw bad();
  }
  return key as SortKey;
}

/** The record `build` makes of `raw`, checked against `schema`; a row that does not fit comes back marked. */
export function checkedRow<T>(schema: RowSchema<T>, raw: unknown, build: (raw: never) => unknown = (r) => r): ReadRow<T> {
  let value: unknown;
  try {
    value = build(raw as never);
  } catch (e) {
    return { ok: false, raw, problem: (e as Error).message };
  }
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, raw, problem: formatIssues(r.error) };
}

/**
 * A page from up to `limit + 1` rows read after the cursor: the first `limit`, and a cursor at
 * the last of them when a further row was read.
 */
export function cutPage<R, T>(tag: string, rows: readonly R[], limit: number, key: (row: R) => SortKey, read: (row: R) => ReadRow<T>): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return {
    items: kept.map(read),
    next_cursor: more ? encodeCursor(tag, key(kept[kept.length - 1] as R)) : null,
  };
}

/** Whether key `a` sorts after key `b` (parts compared in order, as SQLite compares row values). */
export function keyAfter(a: SortKey, b: SortKey): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x !== y) return x > y;
  }
  return false;
}
