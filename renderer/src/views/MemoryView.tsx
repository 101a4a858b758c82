/** Persona memory: semantic search (embed, then nearest neighbours) with scores and categories; add a memory. */
import { useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { MEMORY_CATEGORIES, type MemoryCategory, type MemoryHitView } from '../../../src/shared/types.ts';
import { PersonaSelect } from '../components/PersonaSelect.tsx';

export function MemoryView() {
  const { api, act, toast } = useStudio();
  const personas = useChannel('memory/personas', {});
  const [query, setQuery] = useState('');
  const [persona, setPersona] = useState('');
  const [cats, setCats] = useState<MemoryCategory[]>([]);
  const [hits, setHits] = useState<MemoryHitView[] | null>(null);
  const [meta, setMeta] = useState<{ model_id: string; exact: boolean } | null>(null);
  const [content, setContent] = useState('');
  const [addPersona, setAddPersona] = useState('');
  const [category, setCategory] = useState<MemoryCategory>('Semantic');

  const search = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act(() => api['memory/search']({ query, k: 10, ...(persona ? { persona_id: persona } : {}), ...(cats.length ? { categories: cats } : {}) }));
    if (r) {
      setHits(r.hits);
      setMeta({ model_id: r.model_id, exact: r.exact });
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const p = addPersona || personas.data?.personas[0]?.id || '';
    const r = await act(() => api['memory/add']({ persona_id: p, content, category }));
    if (r) {
      toast('info', `Added a ${category} memory to ${p}`);
      setContent('');
    }
  };
  return (
    <section aria-labelledby="memory-h" className="view">
      <h1 id="memory-h">Persona memory</h1>
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
          <fieldset className="row">
            <legend>Categories</legend>
            {MEMORY_CATEGORIES.map((c) => (
              <label key={c} className="check">
                <input type="checkbox" checked={cats.includes(c)} onChange={(e) => setCats(e.target.checked ? [...cats, c] : cats.filter((x) => x !== c))} />
                {c}
              </label>
            ))}
          </fieldset>
          <button type="submit">Search memory</button>
          {meta && (
            <p className="muted small">
              {hits?.length ?? 0} results · model {meta.model_id} · {meta.exact ? 'exact search' : 'approximate (HNSW) search'}
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
                  <p className="small">{h.content.length > 300 ? `${h.content.slice(0, 300)}…` : h.content}</p>
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
    </section>
  );
}
