/** A sortable column header: a button that sorts by the column (a second click flips the direction), and aria-sort saying how the list is sorted. */
import { ariaSort, nextSort, type SortState } from '../lib/sort.ts';

export function SortHeader<K extends string>({ label, by, sort, onSort }: { label: string; by: K; sort: SortState<K>; onSort: (next: SortState<K>) => void }) {
  const state = ariaSort(sort, by);
  return (
    <th scope="col" aria-sort={state}>
      <button type="button" className="sort-head" onClick={() => onSort(nextSort(sort, by))}>
        {label}
        <span className="sort-mark" aria-hidden="true">
          {state === 'ascending' ? '▲' : state === 'descending' ? '▼' : '↕'}
        </span>
      </button>
    </th>
  );
}
