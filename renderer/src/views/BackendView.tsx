/** Backend: the active profile and its capabilities; switch between the core's backends (in-memory, SQLite files, …) at run time. */
import { useState, type FormEvent } from 'react';
import type { BackendChoiceView, BackendKind } from '../../../src/shared/types.ts';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { ConnectionsPanel } from './ConnectionsPanel.tsx';
import { INSPECT_CHOICE_KEY } from './InspectorView.tsx';

/** Opens the Inspector on a connection profile (read-only, with no session on it). */
function inspectConnection(name: string): void {
  try {
    sessionStorage.setItem(INSPECT_CHOICE_KEY, `connection:${name}`);
  } catch {
    // no storage: the Inspector opens on the current profile, where its select offers the connection
  }
  location.hash = '/inspector';
}
import { CopyPanel } from './CopyPanel.tsx';

export function BackendView() {
  const { api, act, toast, status } = useStudio();
  const b = useChannel('backend/status', {});
  const [name, setName] = useState('studio');
  // switching away from an in-memory run that went past its start-up asks first: it is in no file
  const [asking, setAsking] = useState<{ kind: BackendKind; profile?: string } | null>(null);
  const unsaved = !!status && status.backend === 'memory' && status.step > (status.extras?.first_step ?? 0);
  const d = b.data;
  // the backends come from the core's registry: none is named here
  const choices: readonly BackendChoiceView[] = d?.backends ?? [];
  const label = (kind: BackendKind) => choices.find((c) => c.kind === kind)?.label ?? kind;
  const switchTo = async (kind: BackendKind, profile?: string, confirmed = false) => {
    if (unsaved && !confirmed) {
      setAsking({ kind, ...(profile ? { profile } : {}) });
      return;
    }
    setAsking(null);
    const r = await act(() => api['backend/switch']({ kind, ...(profile ? { name: profile } : {}) }));
    if (r) toast('info', `Switched to ${r.description}`);
  };
  const submit = (kind: BackendKind) => (e: FormEvent) => {
    e.preventDefault();
    void switchTo(kind, name);
  };
  return (
    <section aria-labelledby="backend-h" className="view">
      <h1 id="backend-h">Backend</h1>
      {d && (
        <div className="panel">
          <h2>Active profile</h2>
          <p data-testid="active-backend">
            <b>{d.active.name === null ? label(d.active.kind) : `${label(d.active.kind)} “${d.active.name}”`}</b> — {d.description}
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
      {asking && (
        <div className="panel notice confirm" role="alertdialog" aria-labelledby="unsaved-h" aria-describedby="unsaved-d">
          <b id="unsaved-h">The in-memory run is not saved</b>
          <span id="unsaved-d">
            Its {status?.step ?? 0} steps are in no file: after the switch it stays under Simulation → Branches until the app closes, then it is gone.
          </span>
          <button type="button" className="primary" onClick={() => void switchTo(asking.kind, asking.profile, true)}>
            Switch anyway
          </button>
          <button type="button" onClick={() => setAsking(null)}>
            Cancel
          </button>
        </div>
      )}
      <div className="cols">
        <div className="panel grow">
          <h2>Profiles</h2>
          <ul className="profiles">
            {choices
              .filter((c) => c.file_name === null)
              .map((c) => (
                <li key={c.kind}>
                  <b>{c.label}</b> <span className="muted small">{c.help}</span>{' '}
                  <button type="button" onClick={() => void switchTo(c.kind)} disabled={d?.active.kind === c.kind} aria-label={`Switch to the ${c.label.toLowerCase()} backend`}>
                    Use
                  </button>
                </li>
              ))}
            {(d?.sqlite_profiles ?? []).map((p) => (
              <li key={`${p.kind}/${p.name}`}>
                <b>
                  {label(p.kind)} “{p.name}”
                </b>{' '}
                <span className="mono muted small">{p.path}</span> <span className="small">({(p.bytes / 1024).toFixed(0)} KiB)</span>{' '}
                <button
                  type="button"
                  onClick={() => void switchTo(p.kind, p.name)}
                  disabled={d?.active.kind === p.kind && d.active.name === p.name}
                  aria-label={`Switch to ${label(p.kind)} profile ${p.name}`}
                >
                  Use
                </button>
              </li>
            ))}
          </ul>
        </div>
        {choices
          .filter((c) => c.file_name !== null)
          .map((c) => (
            <form key={c.kind} className="panel form" onSubmit={submit(c.kind)} aria-labelledby={`${c.kind}-h`}>
              <h2 id={`${c.kind}-h`}>Open a {c.label} profile</h2>
              <label>
                Profile name
                <input value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9][A-Za-z0-9_\-]*" required />
              </label>
              <p className="muted small">
                The file lives in the data folder (profiles/NAME/{c.file_name}). A profile that holds a run resumes it; a new one starts the current scenario.
              </p>
              <button type="submit">Switch to {c.label} profile</button>
            </form>
          ))}
      </div>
      <ConnectionsPanel onInspect={inspectConnection} />
      <CopyPanel />
    </section>
  );
}
