/**
 * The Inspector's persona memory (read-only): the `PersonaMemory` objects of the current profile's
 * store (or, where the profile keeps memory nowhere else, this session's), paged and filtered by
 * persona and category; a plain-words query, embedded on this machine by the app's configured
 * embedder, answered nearest first with each memory's cosine distance as a number and as a bar (a
 * short bar is near); and any memory opened as stored: content, persona, category, timestamp,
 * every stored property, the vector's model and length. An object that does not fit (another
 * program's, or damaged) is shown marked with the Inspector's own BadRow, never breaking the view.
 */
import { useEffect, useState, type ComponentType, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { explainError } from '../lib/errors.ts';
import { snippet } from '../lib/text.ts';
import { MEMORY_CATEGORIES, type BackendKind, type InspectMemorySearchView, type InspectRowView, type MemoryCategory, type MemoryView } from '../../../src/shared/types.ts';

const PAGE = 25;
const K_MAX = 100;
/** What the Inspector's BadRow takes: the view passes its own, so a bad row looks the same in every table. */
type BadRowProps = { row: Extract<InspectRowView, { ok: false }>; cols: number };

/** The bar's full width: a distance of 1 (unrelated); farther ones (pointing away, up to 2) fill it. */
const BAR_FULL = 1;

/** A distance as people compare them: four decimals. */
const fmt = (d: number): string => d.toFixed(4);

/** The distance as a bar on a fixed track (a short bar is near) and as its number. */
function DistanceBar({ d }: { d: number }) {
  return (
    <span className="row" role="img" aria-label={`distance ${fmt(d)}`} style={{ gap: 6, flexWrap: 'nowrap' }}>
      <span style={{ display: 'inline-block', width: 120, height: 8, borderRadius: 4, background: 'var(--bg)', border: '1px solid var(--border)', overflow: 'hidden' }}>
        <span style={{ display: 'block', height: '100%', width: `${Math.min(1, Math.max(0, d / BAR_FULL)) * 100}%`, background: 'var(--accent)' }} />
      </span>
      <b className="num">{fmt(d)}</b>
    </span>
  );
}

/** Where the memories were read, in words. */
function sourceText(backend: string, source: string): string {
  return source === 'store' ? `read from the ${backend} store` : "this session's persona memory (the profile keeps it in this process only)";
}

/** `at`: what the Inspector reads (its 'Inspected store': the session's profile, a deployment, or a connection profile). */
export function InspectorMemories({ BadRow, at = {} }: { BadRow: ComponentType<BadRowProps>; at?: { target?: BackendKind; connection?: string } }) {
  const { api } = useStudio();
  const [persona, setPersona] = useState('');
  const [category, setCategory] = useState<'' | MemoryCategory>('');
  const [stack, setStack] = useState<(string | null)[]>([null]);
  // the memory opened, and from which table (the object opens beside it)
  const [open, setOpen] = useState<{ id: string; from: 'search' | 'list' } | null>(null);
  const [query, setQuery] = useState('');
  const [k, setK] = useState(10);
  const [found, setFound] = useState<InspectMemorySearchView | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string | null>(null);
  useEffect(() => setStack([null]), [persona, category]);
  const filter = { ...(persona ? { persona_id: persona } : {}), ...(category ? { category } : {}) };
  const list = useChannel('inspect/memories', { ...at, limit: PAGE, cursor: stack[stack.length - 1] ?? null, ...filter }, { live: false });

  const search = async (e: FormEvent) => {
    e.preventDefault();
    setSearching(true);
    try {
      setFound(await api['inspect/memory-search']({ ...at, query, k, ...filter }));
      setSearchError(null);
    } catch (err) {
      const x = explainError(err);
      setSearchError(`${x.title}: ${x.text}`);
    } finally {
      setSearching(false);
    }
  };

  return (
    <div className="panel" role="region" aria-labelledby="inspect-memory-h">
      <div className="row-between">
        <h2 id="inspect-memory-h">Persona memory</h2>
        <span className="row filters">
          <label>
            Persona
            <input aria-label="Memory persona filter" value={persona} onChange={(e) => setPersona(e.target.value.trim())} placeholder="persona id (all)" />
          </label>
          <label>
            Category
            <select aria-label="Memory category filter" value={category} onChange={(e) => setCategory(e.target.value as '' | MemoryCategory)}>
              <option value="">All</option>
              {MEMORY_CATEGORIES.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <button type="button" aria-label="Refresh the memories" onClick={list.reload}>
            Refresh
          </button>
        </span>
      </div>
      {list.error && (
        <p className="notice bad" role="alert">
          {list.error.message}
        </p>
      )}

      <form className="row filters" role="search" aria-label="Search persona memory" onSubmit={(e) => void search(e)} style={{ alignItems: 'flex-end' }}>
        <label className="grow">
          Query
          <input type="search" aria-label="Memory query" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="plain words, e.g. repairing denim" required />
        </label>
        <label>
          Results (k)
          <input
            type="number"
            aria-label="Number of nearest memories"
            min={1}
            max={K_MAX}
            value={k}
            onChange={(e) => setK(Math.min(K_MAX, Math.max(1, Math.round(Number(e.target.value)) || 1)))}
          />
        </label>
        <button type="submit" disabled={searching || !query.trim()}>
          Find nearest memories
        </button>
      </form>
      <p className="muted small">The persona and category filters apply to the list and to the search.</p>
      {searchError && (
        <p className="notice bad" role="alert">
          {searchError}
        </p>
      )}
      {found && <SearchResults found={found} BadRow={BadRow} onOpen={(id) => setOpen({ id, from: 'search' })} />}
      {open?.from === 'search' && <MemoryObject at={at} id={open.id} onClose={() => setOpen(null)} />}

      <div className="row-between">
        <h3>
          Memories
          {list.data && (
            <span className="muted small">
              {' '}
              · {list.data.total.toLocaleString()} · {sourceText(list.data.backend, list.data.source)}
            </span>
          )}
        </h3>
        <span className="toolbar small">
          page {stack.length}
          <button type="button" aria-label="Previous page of memories" onClick={() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s))} disabled={stack.length <= 1}>
            Previous
          </button>
          <button
            type="button"
            aria-label="Next page of memories"
            onClick={() => {
              const c = list.data?.next_cursor;
              if (c) setStack((s) => [...s, c]);
            }}
            disabled={!list.data?.next_cursor}
          >
            Next
          </button>
        </span>
      </div>
      <table className="table small" aria-label="Inspected memories">
        <thead>
          <tr>
            <th scope="col">Memory</th>
            <th scope="col">Persona</th>
            <th scope="col">Category</th>
            <th scope="col">Timestamp</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((r, i) =>
            r.ok ? (
              <tr key={r.value.id} aria-selected={open?.id === r.value.id}>
                <td>
                  <MemoryLink m={r.value} onOpen={(id) => setOpen({ id, from: 'list' })} />
                </td>
                <td>{r.value.persona_id}</td>
                <td>
                  <span className={`badge cat-${r.value.category}`}>{r.value.category}</span>
                </td>
                <td className="mono">{r.value.timestamp}</td>
              </tr>
            ) : (
              <BadRow key={`bad-${i}`} row={r} cols={4} />
            ),
          )}
          {list.data && list.data.items.length === 0 && (
            <tr>
              <td colSpan={4} className="muted">
                no persona memory {persona || category ? 'passes these filters' : 'is kept here'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {open?.from === 'list' && <MemoryObject at={at} id={open.id} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** A memory's text as a button that opens the whole object. */
function MemoryLink({ m, onOpen }: { m: MemoryView; onOpen: (id: string) => void }) {
  return (
    <button type="button" className="linklike" aria-label={`Open memory ${m.id}`} onClick={() => onOpen(m.id)}>
      {snippet(m.content, 120)}
    </button>
  );
}

/** The nearest memories, nearest first: rank, distance (number and bar), the memory. */
function SearchResults({ found, BadRow, onOpen }: { found: InspectMemorySearchView; BadRow: ComponentType<BadRowProps>; onOpen: (id: string) => void }) {
  return (
    <>
      <p className="muted small" role="status" data-testid="memory-search-meta">
        {found.items.length} nearest · {found.metric} (0 = same direction, 1 = unrelated, 2 = opposite; a full bar is 1 or more) · query embedded on this machine by {found.embedder.model_id} (
        {found.embedder.dimensions} dimensions) · {found.exact ? 'exact' : 'approximate (an index proposed the candidates)'} ·{' '}
        {sourceText(found.backend, found.source)}
        {found.left_out > 0 && ` · ${found.left_out} left out: embedded by another model or length (${found.left_out_models.join(', ')})`}
      </p>
      <table className="table small" aria-label="Nearest memories">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Distance</th>
            <th scope="col">Memory</th>
            <th scope="col">Persona</th>
            <th scope="col">Category</th>
          </tr>
        </thead>
        <tbody>
          {found.items.map((n, i) =>
            n.ok ? (
              <tr key={n.value.id} data-distance={n.distance}>
                <td className="num">{i + 1}</td>
                <td>
                  <DistanceBar d={n.distance} />
                </td>
                <td>
                  <MemoryLink m={n.value} onOpen={onOpen} />
                </td>
                <td>{n.value.persona_id}</td>
                <td>
                  <span className={`badge cat-${n.value.category}`}>{n.value.category}</span>
                </td>
              </tr>
            ) : (
              <BadRow key={`bad-${i}`} row={{ ok: false, raw: n.raw, problem: `#${i + 1}, distance ${fmt(n.distance)}: ${n.problem}` }} cols={5} />
            ),
          )}
          {found.items.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                no memory could be compared with this query
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}

/** One memory as stored, with every property, its vector's model and length. */
function MemoryObject({ at, id, onClose }: { at: { target?: BackendKind; connection?: string }; id: string; onClose: () => void }) {
  const q = useChannel('inspect/memory', { ...at, id }, { live: false });
  const o = q.data?.object ?? null;
  return (
    <aside className="dag-inspect" aria-label="Memory object" aria-busy={!q.data}>
      <div className="row-between">
        <h3>Memory {id}</h3>
        <button type="button" onClick={onClose} aria-label="Close the memory">
          Close
        </button>
      </div>
      {q.error && <p role="alert">Could not read this memory: {q.error.message}</p>}
      {q.data && !o && <p role="status">no memory {id} in this store</p>}
      {o && !o.row.ok && (
        <p>
          <span className="badge st-FAILED">does not fit</span> {o.row.problem}
        </p>
      )}
      {o?.row.ok && (
        <>
          <p>
            <span className={`badge cat-${o.row.value.category}`}>{o.row.value.category}</span> <b>{o.row.value.persona_id}</b> · <span className="mono">{o.row.value.timestamp}</span>
          </p>
          <pre className="json" aria-label="Memory content">
            {o.row.value.content}
          </pre>
        </>
      )}
      {o && (
        <>
          <dl className="small" aria-label="Memory vector">
            <dt>Embedding model</dt>
            <dd>{o.model_id ?? 'not recorded (written without our model_id property)'}</dd>
            <dt>Vector dimensions</dt>
            <dd>{o.dimensions ?? 'no vector stored'}</dd>
          </dl>
          <h4>Stored properties</h4>
          <pre className="json" aria-label="Stored properties">
            {JSON.stringify(o.properties, null, 2)}
          </pre>
        </>
      )}
    </aside>
  );
}
