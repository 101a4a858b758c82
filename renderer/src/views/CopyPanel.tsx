/**
 * Copy (in the Backend view): a whole state from one store to another — the in-memory run, a
 * SQLite profile (an existing one, or a new name), production as configured — with the progress
 * the core pushes (phase, records, rate, time left), cancel, and the result: the whole-state
 * digests of both sides and every audit chain of the target verified. A copy that was stopped
 * (cancelled, or the app killed) resumes when the same copy is started again, and says so.
 */
import { useEffect, useState } from 'react';
import type { CopySideArg, CopySideView, CopyStatusView } from '../../../src/shared/types.ts';
import { RemoteError } from '../../../src/shared/errors.ts';
import { useChannel, useStudio } from '../lib/studio.tsx';

const NEW = 'new';
/** A field of the row: wide enough for a profile's name and why it cannot be picked, never wider than the panel. */
const FIELD = { flex: '1 1 240px', maxWidth: 420, minWidth: 0 } as const;
const keyOf = (s: CopySideArg) => ('name' in s ? `${s.kind}:${s.name}` : s.kind);
const num = (n: number) => n.toLocaleString('en-US');

function duration(s: number): string {
  if (s < 60) return `${Math.max(0, Math.round(s))} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** What the copy is doing, in words. */
function phaseText(c: CopyStatusView): string {
  if (c.phase === 'opening') return 'Opening both sides';
  if (c.phase === 'copy') return `Copying ${c.section ?? ''}: ${num(c.section_done)} of ${num(c.section_total)}`;
  if (c.phase === 'verify') return `Verifying the ${c.side ?? ''} (digest and audit chains): ${c.section ?? ''} ${num(c.section_done)}`;
  return 'Done';
}

function SideOption({ side, role }: { side: CopySideView; role: 'from' | 'to' }) {
  const why = role === 'from' ? side.not_from : side.not_to;
  return (
    <option value={keyOf(side.side)} disabled={why !== null}>
      {side.label}
      {why ? ` — ${why}` : ''}
    </option>
  );
}

export function CopyPanel() {
  const { api, client } = useStudio();
  const sides = useChannel('copy/sides', {});
  const [copy, setCopy] = useState<CopyStatusView | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState(NEW);
  const [name, setName] = useState('copy');
  const [problem, setProblem] = useState<{ code: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  // the newest report wins: a push and a reply may arrive in either order
  const take = (c: CopyStatusView | null) => {
    if (c) setCopy((cur) => (cur && cur.id === c.id && cur.seq > c.seq ? cur : c));
  };
  useEffect(() => client.onPush((m) => m.type === 'copy' && take(m.copy)), [client]);
  // a view opened late: where the copy stands
  useEffect(() => {
    api['copy/status']({}).then((r) => take(r.copy), () => undefined);
  }, [api]);

  const list = sides.data?.sides ?? [];
  const fromKey = from || keyOf((list.find((s) => s.not_from === null) ?? { side: { kind: 'memory' } as CopySideArg }).side);
  const sideOf = (key: string): CopySideArg | null => (key === NEW ? (name ? { kind: 'sqlite', name } : null) : (list.find((s) => keyOf(s.side) === key)?.side ?? null));
  const running = copy !== null && (copy.state === 'running' || copy.state === 'cancelling');

  const start = async () => {
    const f = sideOf(fromKey);
    const t = sideOf(to);
    if (!f || !t) return;
    setProblem(null);
    setBusy(true);
    try {
      take(await api['copy/start']({ from: f, to: t }));
    } catch (e) {
      setProblem({ code: e instanceof RemoteError ? e.code : 'INTERNAL', message: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="copy-h">
      <h2 id="copy-h">Copy a whole state</h2>
      <p className="muted small">
        Campaigns, tasks and outputs, queues, audit chains, the run and persona memories, page by page. The target must be empty, or hold this same copy
        stopped earlier (it then resumes). Both sides are digested at the end and every audit chain of the target is verified.
      </p>
      <form
        className="row filters"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <label style={FIELD}>
          Copy from
          <select value={fromKey} onChange={(e) => setFrom(e.target.value)} disabled={running}>
            {list.map((s) => (
              <SideOption key={keyOf(s.side)} side={s} role="from" />
            ))}
          </select>
        </label>
        <label style={FIELD}>
          Copy to
          <select value={to} onChange={(e) => setTo(e.target.value)} disabled={running}>
            <option value={NEW}>New SQLite profile…</option>
            {list.map((s) => (
              <SideOption key={keyOf(s.side)} side={s} role="to" />
            ))}
          </select>
        </label>
        {to === NEW && (
          <label>
            New profile name
            <input value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9][A-Za-z0-9_\-]*" required disabled={running} />
          </label>
        )}
        <button type="submit" className="primary" disabled={running || busy}>
          Start copy
        </button>
      </form>
      {list
        .filter((s) => keyOf(s.side) === fromKey || keyOf(s.side) === to)
        .map((s) => (
          <p key={keyOf(s.side)} className="muted small mono">
            {s.label}: {s.detail}
          </p>
        ))}
      {problem && (
        <p className="notice bad" role="alert" data-testid="copy-problem">
          Not started — {problem.code}: {problem.message}
        </p>
      )}
      {copy && <CopyProgressView copy={copy} onCancel={() => void api['copy/cancel']({}).then((r) => take(r.copy), () => undefined)} />}
    </section>
  );
}

function CopyProgressView({ copy: c, onCancel }: { copy: CopyStatusView; onCancel: () => void }) {
  const running = c.state === 'running' || c.state === 'cancelling';
  const r = c.result;
  return (
    <div data-testid="copy-status" aria-live="polite">
      <p>
        <b>
          {c.from_label} → {c.to_label}
        </b>
        {c.resumed && (
          <span className="badge" data-testid="copy-resumed">
            resumed from the copy stopped earlier
          </span>
        )}
      </p>
      <progress aria-label="Copy progress" value={c.done} max={Math.max(1, c.total)} style={{ width: '100%' }} />
      <p className="small num" data-testid="copy-phase">
        {phaseText(c)} · {num(c.done)} of {num(c.total)} records
        {c.rate_per_s !== null && ` · ${num(c.rate_per_s)} records/s`}
        {running && c.eta_s !== null && ` · about ${duration(c.eta_s)} left`}
        {running ? ` · ${duration(c.elapsed_s)} so far` : ` · took ${duration(c.elapsed_s)}`}
      </p>
      {running && (
        <button type="button" onClick={onCancel} disabled={c.state === 'cancelling'}>
          {c.state === 'cancelling' ? 'Cancelling…' : 'Cancel copy'}
        </button>
      )}
      {c.state === 'cancelled' && (
        <p className="notice" role="status">
          Cancelled. What was copied stays in the target; start the same copy again to resume it.
        </p>
      )}
      {c.state === 'failed' && c.error && (
        <p className="notice bad" role="alert" data-testid="copy-error">
          The copy failed — {c.error.code}: {c.error.message}
        </p>
      )}
      {c.state === 'finished' && r && (
        <div className="notice ok" role="status" data-testid="copy-result">
          <p>
            <b>
              {r.digests_equal
                ? `Verified: both sides have the same whole-state digest, and every audit chain of the target (${num(r.chains)}) verifies.`
                : `Verified section by section: equal but ${r.unlisted.join(', ')}, which one side does not keep; every audit chain of the target (${num(r.chains)}) verifies.`}
            </b>
          </p>
          <p className="small">
            {r.already_finished ? 'Already copied: nothing was written, both sides were verified again. ' : r.resumed ? 'Resumed and finished. ' : ''}
            {num(r.written.tasks ?? 0)} tasks copied in {duration(r.seconds)} ({num(r.tasks_per_s)} tasks/s). The target holds {num(r.counts.campaigns ?? 0)} campaigns,{' '}
            {num(r.counts.tasks ?? 0)} tasks, {num(r.counts.audit ?? 0)} audit events, {num(r.counts.queue_items ?? 0)} queue items, {num(r.counts.persona_memories ?? 0)} persona memories
            {r.memories_compared ? '' : ' (not compared)'}, {num(r.counts.run_events ?? 0)} run events.
          </p>
          <p className="mono small">
            digest sha256:{r.digest}
            {r.digests_equal ? '' : ` (source sha256:${r.source_digest})`}
          </p>
          {r.notes.length > 0 && (
            <ul className="small">
              {r.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
