/**
 * Persona memory: which model embeds (said plainly: the hashing embedder is a stand-in, and the
 * one step that brings MiniLM), semantic search with k and a minimum score, and the memories
 * themselves: browse by persona and category, add, edit (embedded again) and delete (asked
 * first). Every change is audited as the studio user.
 */
import { useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { MEMORY_CATEGORIES, type EmbedderView, type MemoryCategory, type MemoryHitView, type MemoryView as Memory } from '../../../src/shared/types.ts';
import { PersonaSelect } from '../components/PersonaSelect.tsx';
import { explainError } from '../lib/errors.ts';
import { snippet } from '../lib/text.ts';

const PAGE = 50;

export function MemoryView() {
  const { api, toast } = useStudio();
  const personas = useChannel('memory/personas', {});
  const model = useChannel('memory/model', {}, { live: false });
  const [query, setQuery] = useState('');
  const [persona, setPersona] = useState('');
  const [cats, setCats] = useState<MemoryCategory[]>([]);
  const [k, setK] = useState(10);
  const [minScore, setMinScore] = useState(0);
  const [hits, setHits] = useState<MemoryHitView[] | null>(null);
  const [meta, setMeta] = useState<{ model_id: string; exact: boolean } | null>(null);
  const [content, setContent] = useState('');
  const [addPersona, setAddPersona] = useState('');
  const [category, setCategory] = useState<MemoryCategory>('Semantic');
  const [editing, setEditing] = useState<{ id: string; content: string; category: MemoryCategory } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  /** Runs a call; a refusal is shown in words above the view (no raw codes). */
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      const r = await fn();
      setError(null);
      return r;
    } catch (e) {
      const x = explainError(e);
      setError(`${x.title}: ${x.text}`);
      return undefined;
    }
  };
  const search = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!query.trim()) return;
    const r = await run(() => api['memory/search']({ query, k, min_score: minScore, ...(persona ? { persona_id: persona } : {}), ...(cats.length ? { categories: cats } : {}) }));
    if (r) {
      setHits(r.hits);
      setMeta({ model_id: r.model_id, exact: r.exact });
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const p = addPersona || personas.data?.personas[0]?.id || '';
    const r = await run(() => api['memory/add']({ persona_id: p, content, category }));
    if (r) {
      toast('info', `Added a ${category} memory to ${p}`);
      setContent('');
    }
  };
  const save = async () => {
    if (!editing) return;
    const r = await run(() => api['memory/update']({ id: editing.id, content: editing.content, category: editing.category }));
    if (r) {
      toast('info', `Saved the memory (embedded again by ${model.data?.model_id ?? 'the current model'})`);
      setEditing(null);
      setHits((h) => h?.map((x) => (x.id === r.memory.id ? { ...x, ...r.memory } : x)) ?? null);
    }
  };
  const remove = async (id: string) => {
    const r = await run(() => api['memory/delete']({ id }));
    setConfirmDelete(null);
    if (r) {
      toast('info', r.deleted ? 'Deleted the memory' : 'That memory was already gone');
      setHits((h) => h?.filter((x) => x.id !== id) ?? null);
      if (editing?.id === id) setEditing(null);
    }
  };
  const actions = { editing, setEditing, confirmDelete, setConfirmDelete, save: () => void save(), remove: (id: string) => void remove(id) };

  return (
    <section aria-labelledby="memory-h" className="view">
      <h1 id="memory-h">Persona memory</h1>
      {error && (
        <div className="notice bad" role="alert">
          {error}{' '}
          <button type="button" onClick={() => setError(null)}>
            Dismiss message
          </button>
        </div>
      )}
      {model.data && <ModelPanel m={model.data} />}
      <div className="cols">
        <form className="panel grow form" onSubmit={(e) => void search(e)} aria-labelledby="search-h">
          <h2 id="search-h">Semantic search</h2>
          <div className="row">
            <label className="grow">
              Search text
              <input value={query} onChange={(e) => setQuery(e.target.value)} type="search" required />
            </label>
            <PersonaSelect value={persona} onChange={setPersona} personas={personas.data?.personas} allLabel="All personas" showCounts />
          </div>
          <div className="row">
            <fieldset className="row">
              <legend>Categories</legend>
              {MEMORY_CATEGORIES.map((c) => (
                <label key={c} className="check">
                  <input type="checkbox" checked={cats.includes(c)} onChange={(e) => setCats(e.target.checked ? [...cats, c] : cats.filter((x) => x !== c))} />
                  {c}
                </label>
              ))}
            </fieldset>
            <label>
              Results (k)
              <input type="number" min={1} max={100} value={k} onChange={(e) => setK(Math.min(100, Math.max(1, Math.round(Number(e.target.value)) || 1)))} />
            </label>
            <label>
              Minimum score
              <input type="number" min={-1} max={1} step={0.05} value={minScore} onChange={(e) => setMinScore(Math.min(1, Math.max(-1, Number(e.target.value) || 0)))} />
            </label>
          </div>
          <button type="submit">Search memory</button>
          {meta && (
            <p className="muted small" data-testid="search-meta">
              {hits?.length ?? 0} results (k {k}, score ≥ {minScore}) · embedded by {meta.model_id} · {meta.exact ? 'exact search' : 'approximate (HNSW) search'}
            </p>
          )}
          {hits && (
            <ol className="hits" aria-label="Search results">
              {hits.map((h) => (
                <li key={h.id}>
                  <div className="row-between">
                    <span>
                      <span className={`badge cat-${h.category}`}>{h.category}</span> <b>{h.persona_id}</b>
                    </span>
                    <span className="scorebar" role="img" aria-label={`score ${h.score}`}>
                      <span style={{ width: `${Math.max(0, h.score) * 100}%` }} />
                      <b className="num">{h.score.toFixed(3)}</b>
                    </span>
                  </div>
                  <MemoryBody m={h} {...actions} />
                </li>
              ))}
            </ol>
          )}
        </form>
        <form className="panel form" onSubmit={(e) => void add(e)} aria-labelledby="add-h">
          <h2 id="add-h">Add a memory</h2>
          <PersonaSelect value={addPersona} onChange={setAddPersona} personas={personas.data?.personas} />
          <label>
            Category
            <select value={category} onChange={(e) => setCategory(e.target.value as MemoryCategory)}>
              {MEMORY_CATEGORIES.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label>
            Memory text
            <textarea value={content} onChange={(e) => setContent(e.target.value)} rows={4} required />
          </label>
          <button type="submit">Add memory</button>
        </form>
      </div>
      <Browse personas={personas.data?.personas} actions={actions} />
    </section>
  );
}

/** Which model embeds, plainly; for the stand-in, the one step to MiniLM. */
function ModelPanel({ m }: { m: EmbedderView }) {
  return (
    <div className={`notice ${m.stand_in ? '' : 'ok'} model-panel`} role="status" aria-label="Embedding model" data-testid="embedder">
      {m.stand_in ? (
        <>
          <p>
            <b>Memories are embedded by {m.model_id}</b>, a stand-in: it matches shared words, not meaning. Search, the Judge and everything here keep working with
            it.
          </p>
          {m.notice && <p className="small">{m.notice}</p>}
          {m.model_installed ? (
            <p className="small">
              {m.model} is already in <code>{m.model_folder}</code>. To embed with it, start the studio with: <code>{m.offline_step}</code>
            </p>
          ) : (
            <p className="small">
              To embed with {m.model} (MiniLM, 384 dimensions, runs on this machine), one step while online: <code>{m.install_step}</code> — it downloads the model once
              into <code>{m.model_folder}</code>; later starts need no network: <code>{m.offline_step}</code>
            </p>
          )}
        </>
      ) : (
        <p>
          <b>Memories are embedded by {m.model_id}</b> ({m.dimensions} dimensions), on this machine.
        </p>
      )}
      {m.stored_model_id && m.stored_model_id !== m.model_id && (
        <p className="small">
          The stored memories were embedded by {m.stored_model_id}; <code>npx chimera memory reindex</code> embeds them again with the current model.
        </p>
      )}
    </div>
  );
}

interface Actions {
  readonly editing: { id: string; content: string; category: MemoryCategory } | null;
  readonly setEditing: (e: { id: string; content: string; category: MemoryCategory } | null) => void;
  readonly confirmDelete: string | null;
  readonly setConfirmDelete: (id: string | null) => void;
  readonly save: () => void;
  readonly remove: (id: string) => void;
}

/** A memory's text with its Edit and Delete controls (or its editor, or the delete question). */
function MemoryBody({ m, editing, setEditing, confirmDelete, setConfirmDelete, save, remove }: { m: Memory } & Actions) {
  const short = snippet(m.content, 80);
  if (editing?.id === m.id) {
    return (
      <div className="memory-edit" role="group" aria-label={`Editing memory ${short}`}>
        <label>
          Memory text
          <textarea value={editing.content} onChange={(e) => setEditing({ ...editing, content: e.target.value })} rows={5} />
        </label>
        <label>
          Category
          <select value={editing.category} onChange={(e) => setEditing({ ...editing, category: e.target.value as MemoryCategory })}>
            {MEMORY_CATEGORIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <div className="toolbar">
          <button type="button" className="primary" disabled={!editing.content.trim()} onClick={save}>
            Save memory
          </button>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </div>
      </div>
    );
  }
  return (
    <div>
      <p className="small">{snippet(m.content, 300)}</p>
      <div className="toolbar small">
        <button type="button" onClick={() => setEditing({ id: m.id, content: m.content, category: m.category })} aria-label={`Edit memory ${short}`}>
          Edit
        </button>
        {confirmDelete === m.id ? (
          <>
            <span>Delete this memory for good?</span>
            <button type="button" onClick={() => remove(m.id)} aria-label={`Yes, delete memory ${short}`}>
              Delete
            </button>
            <button type="button" onClick={() => setConfirmDelete(null)} aria-label={`Keep memory ${short}`}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirmDelete(m.id)} aria-label={`Delete memory ${short}`}>
            Delete…
          </button>
        )}
      </div>
    </div>
  );
}

/** Every stored memory of a persona (or all), by time, a page at a time. */
function Browse({ personas, actions }: { personas: readonly { id: string; memories: number }[] | undefined; actions: Actions }) {
  const [persona, setPersona] = useState('');
  const [cat, setCat] = useState<MemoryCategory | ''>('');
  const [page, setPage] = useState(0);
  const list = useChannel('memory/list', { offset: page * PAGE, limit: PAGE, ...(persona ? { persona_id: persona } : {}), ...(cat ? { categories: [cat] } : {}) });
  const total = list.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  return (
    <section className="panel" aria-labelledby="browse-h">
      <h2 id="browse-h">Browse memories</h2>
      <div className="row filters">
        <PersonaSelect value={persona} onChange={(p) => {
            setPersona(p);
            setPage(0);
          }} personas={personas} allLabel="All personas" showCounts />
        <label>
          Category
          <select value={cat} onChange={(e) => {
              setCat(e.target.value as MemoryCategory | '');
              setPage(0);
            }}>
            <option value="">All</option>
            {MEMORY_CATEGORIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <span className="grow" />
        <span className="small">
          {total.toLocaleString()} memories · page {page + 1} of {pages}
        </span>
        <span className="toolbar">
          <button type="button" onClick={() => setPage((p) => Math.max(0, p - 1))} disabled={page === 0}>
            Previous page
          </button>
          <button type="button" onClick={() => setPage((p) => Math.min(pages - 1, p + 1))} disabled={page >= pages - 1}>
            Next page
          </button>
        </span>
      </div>
      <ol className="hits" aria-label="Stored memories" start={page * PAGE + 1}>
        {(list.data?.memories ?? []).map((m) => (
          <li key={m.id}>
            <div className="row-between">
              <span>
                <span className={`badge cat-${m.category}`}>{m.category}</span> <b>{m.persona_id}</b>
              </span>
              <span className="muted small mono">{m.timestamp.slice(0, 19).replace('T', ' ')}</span>
            </div>
            <MemoryBody m={m} {...actions} />
          </li>
        ))}
      </ol>
    </section>
  );
}
