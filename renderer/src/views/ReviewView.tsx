/**
 * Human review: outputs the Judge escalated (ESC_HITL) with score, reasoning, persona and the
 * memories it compared them with. Approve, reject, or edit then approve; the decision carries
 * the campaign's state_version as read, so a stale read is refused (CONFLICT) and re-read.
 */
import { useState } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { RemoteError } from '../../../src/shared/errors.ts';
import type { ReviewItem } from '../../../src/shared/types.ts';

export function ReviewView() {
  const items = useChannel('review/list', {});
  const [conflict, setConflict] = useState<string | null>(null);
  const list = items.data?.items ?? [];
  return (
    <section aria-labelledby="review-h" className="view">
      <h1 id="review-h">Human review</h1>
      {conflict && (
        <div className="notice conflict" role="alert">
          <b>Conflict — nothing was written.</b> {conflict}{' '}
          <button type="button" onClick={() => setConflict(null)}>
            Dismiss conflict message
          </button>
        </div>
      )}
      {list.length === 0 && <p className="panel muted">Nothing is waiting for review. Run the simulation until the Judge escalates an output (Simulation → Run until escalation).</p>}
      {list.map((it) => (
        <ReviewCard key={it.task_id} item={it} onConflict={(m) => { setConflict(m); items.reload(); }} />
      ))}
    </section>
  );
}

function ReviewCard({ item, onConflict }: { item: ReviewItem; onConflict: (message: string) => void }) {
  const { api, toast } = useStudio();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(item.text);
  const [busy, setBusy] = useState(false);
  const decide = async (decision: 'approve' | 'reject' | 'edit') => {
    setBusy(true);
    try {
      await api['review/decide']({ task_id: item.task_id, decision, expected_version: item.state_version, ...(decision === 'edit' ? { edited_text: text } : {}) });
      toast('info', `${decision === 'edit' ? 'Edited and approved' : decision === 'approve' ? 'Approved' : 'Rejected'} ${item.skill_name} of “${item.campaign_title}”`);
    } catch (e) {
      if (e instanceof RemoteError && e.code === 'CONFLICT') onConflict(e.message);
      else toast('error', `${e instanceof RemoteError ? e.code : 'INTERNAL'}: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const label = `${item.skill_name} for ${item.campaign_title}`;
  return (
    <article className="panel review" aria-label={`Review ${label}`}>
      <header className="row-between">
        <h2>
          {item.skill_name} <span className="muted">· {item.campaign_title}</span>
        </h2>
        <span className="score" title="Judge score">
          score <b>{item.score ?? '—'}</b>
        </span>
      </header>
      <dl className="kv small">
        <div><dt>Persona</dt><dd>{item.persona_id}</dd></div>
        <div><dt>Worker confidence</dt><dd>{item.worker_confidence ?? '—'}</dd></div>
        <div><dt>state_version read</dt><dd>{item.state_version}</dd></div>
        <div><dt>Why escalated</dt><dd>{item.reasons.join('; ') || '—'}</dd></div>
        {item.sensitive_topics.length > 0 && <div><dt>Sensitive topics</dt><dd>{item.sensitive_topics.join(', ')}</dd></div>}
        <div><dt>Worker reasoning</dt><dd>{item.reasoning}</dd></div>
      </dl>
      {editing ? (
        <label>
          Edited text
          <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} />
        </label>
      ) : (
        <blockquote className="output">{item.text || <i>(empty output)</i>}</blockquote>
      )}
      <details open>
        <summary>Memories the Judge compared ({item.memories.length})</summary>
        <ul className="memories">
          {item.memories.map((m) => (
            <li key={m.id}>
              <span className={`badge cat-${m.category}`}>{m.category}</span> <span className="num">{m.score}</span> <span className="small">{m.content?.slice(0, 240) ?? '(no longer in memory)'}</span>
            </li>
          ))}
        </ul>
      </details>
      <div className="toolbar">
        <button type="button" className="primary" disabled={busy} onClick={() => void decide('approve')} aria-label={`Approve ${label}`}>
          Approve
        </button>
        <button type="button" disabled={busy} onClick={() => void decide('reject')} aria-label={`Reject ${label}`}>
          Reject
        </button>
        {editing ? (
          <button type="button" disabled={busy || !text.trim()} onClick={() => void decide('edit')} aria-label={`Save edit and approve ${label}`}>
            Save edit and approve
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => setEditing(true)} aria-label={`Edit then approve ${label}`}>
            Edit then approve…
          </button>
        )}
      </div>
    </article>
  );
}
