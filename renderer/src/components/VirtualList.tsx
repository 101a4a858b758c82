/**
 * A windowed list: only the rows in view (plus a few either side) are in the DOM, so 100,000
 * rows scroll as smoothly as 100. Rows have one fixed height. Rows not loaded yet render as
 * placeholders; `onRange` tells the owner which rows are visible so it can fetch them.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { visibleRange } from '../lib/windowing.ts';

export interface VirtualListProps {
  readonly count: number;
  readonly rowHeight: number;
  readonly height: number;
  readonly overscan?: number;
  readonly renderRow: (index: number) => ReactNode;
  readonly onRange?: (first: number, last: number) => void;
  readonly label: string;
  readonly header?: ReactNode;
  /** A row to keep in view (e.g. the selected one): scrolled to when it changes. */
  readonly scrollToIndex?: number;
}

export function VirtualList({ count, rowHeight, height, overscan = 6, renderRow, onRange, label, header, scrollToIndex }: VirtualListProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [first, last] = visibleRange(scrollTop, height, rowHeight, count, overscan);

  useEffect(() => {
    if (count > 0) onRange?.(first, last);
  }, [first, last, count, onRange]);

  useEffect(() => {
    // the list shrank under the scroll position (a new run): go back into range
    const el = ref.current;
    if (el && el.scrollTop > count * rowHeight) el.scrollTop = 0;
  }, [count, rowHeight]);

  useEffect(() => {
    const el = ref.current;
    if (!el || scrollToIndex === undefined || scrollToIndex < 0) return;
    const top = scrollToIndex * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  }, [scrollToIndex, rowHeight]);

  const rows: ReactNode[] = [];
  for (let i = first; i <= last; i++) {
    rows.push(
      <div key={i} role="row" aria-rowindex={i + 1} className="vrow" style={{ top: i * rowHeight, height: rowHeight }}>
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div className="vlist-wrap">
      {header}
      <div
        ref={ref}
        className="vlist"
        role="table"
        aria-label={label}
        aria-rowcount={count}
        tabIndex={0}
        style={{ height }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        data-rendered-rows={rows.length}
      >
        <div className="vlist-inner" style={{ height: count * rowHeight }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
