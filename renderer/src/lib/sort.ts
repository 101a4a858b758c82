/**
 * Sortable column headers (the Inspector's campaigns and tasks): which way a click sorts, and
 * what `aria-sort` says. The sort itself runs in the store (src/ports/readers.ts), and a page's
 * cursor belongs to its sort, so a new sort starts again from the first page.
 */
import type { SortDirection } from '../../../src/shared/types.ts';

export interface SortState<K extends string> {
  readonly by: K;
  readonly dir: SortDirection;
}

/** The sort after a click on column `key`: the sorted column flips its direction; another column sorts ascending. */
export function nextSort<K extends string>(cur: SortState<K>, key: K): SortState<K> {
  return cur.by === key ? { by: key, dir: cur.dir === 'asc' ? 'desc' : 'asc' } : { by: key, dir: 'asc' };
}

/** A column header's aria-sort: how the list is sorted by it, or 'none'. */
export function ariaSort<K extends string>(cur: SortState<K>, key: K): 'ascending' | 'descending' | 'none' {
  if (cur.by !== key) return 'none';
  return cur.dir === 'asc' ? 'ascending' : 'descending';
}

