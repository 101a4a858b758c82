/** Backend: the active profile and its capabilities; switch between in-memory and SQLite files at run time. */
import { useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';

export function BackendView() {
  const { api, act, toast } = useStudio();
  const b = useChannel('backend/status', {});
  const [name, setName] = useState('studio');
  const d = b.data;
  const switchTo = async (kind: 'memory' | 'sqlite', profile?: string) => {
    const r = await act(() => api['backend/switch']({ kind, ...(profile ? { name: profile } : {}) }));
    if (r) toast('info', `Switched to ${r.description}`);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void switchTo('sqlite', name);
  };
  return (
    <section aria-labelledby="backend-h" className="view">
      <h1 id="backend-h">Backend</h1>
      {d && (
        <div className="panel">
          <h2>Active profile</h2>
          <p data-testid="active-backend">
            <b>{d.active.kind === 'memory' ? 'In-memory' : `SQLite “${d.active.name}”`}</b> — {d.description}
          </p>
          <dl className="kv small">
            <div><dt>Transactions</dt><dd>{d.capabilities.transactions ? 'yes' : 'best effort'}</dd></div>
            <div><dt>State survives a restart</dt><dd>{d.capabilities.durable ? 'yes' : 'no'}</dd></div>
            <div><dt>Memory search</dt><dd>{d.capabilities.memory_exact ? 'exact' : 'approximate'}</dd></div>
            <div><dt>Memories survive a restart</dt><dd>{d.capabilities.memory_durable ? 'yes' : 'no'}</dd></div>
            <div><dt>Data folder</dt><dd className="mono">{d.data_dir}</dd></div>
          </dl>
          {d.notices.map((n) => (
            <p key={n} className="notice" role="status">
              {n}
            </p>
          ))}
        </div>
      )}
      <div className="cols">
        <div className="panel grow">
          <h2>Profiles</h2>
          <ul className="profiles">
            <li>
              <b>In-memory</b> <span className="muted small">nothing is kept after the app closes</span>{' '}
              <button type="button" onClick={() => void switchTo('memory')} disabled={d?.active.kind === 'memory'} aria-label="Switch to the in-memory backend">
                Use
              </button>
            </li>
            {(d?.sqlite_profiles ?? []).map((p) => (
              <li key={p.name}>
                <b>SQLite “{p.name}”</b> <span className="mono muted small">{p.path}</span> <span className="small">({(p.bytes / 1024).toFixed(0)} KiB)</span>{' '}
                <button
                  type="button"
                  onClick={() => void switchTo('sqlite', p.name)}
                  disabled={d?.active.kind === 'sqlite' && d.active.name === p.name}
                  aria-label={`Switch to SQLite profile ${p.name}`}
                >
                  Use
                </button>
              </li>
            ))}
          </ul>
        </div>
        <form className="panel form" onSubmit={submit} aria-labelledby="sqlite-h">
          <h2 id="sqlite-h">Open a SQLite profile</h2>
          <label>
            Profile name
            <input value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9][A-Za-z0-9_\-]*" required />
          </label>
          <p className="muted small">The file lives in the data folder (profiles/NAME/chimera.db). A profile that holds a run resumes it; a new one starts the current scenario.</p>
          <button type="submit">Switch to SQLite profile</button>
        </form>
      </div>
    </section>
  );
}
