/**
 * Human review: outputs the Judge escalated (ESC_HITL), as a filtered, sorted and windowed list
 * (10,000 items scroll like 10) beside the selected item: score, reasoning, persona and the
 * memories the Judge compared it with. Approve, reject, or edit: editing is a mode of its own,
 * left only by "Save and approve" or "Cancel", and a draft survives a conflict. A decision
 * carries the campaign's state_version as read; a stale read or an item decided elsewhere is a
 * banner (nothing was written) and the list is read again. Keys: j/k move, a/e/r decide.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import type { ReviewItem } from '../../../src/shared/types.ts';
import { VirtualList } from '../components/VirtualList.tsx';
import { explainError, type ConflictKind } from '../lib/errors.ts';
import { DECIDED, NO_FILTER, REVIEW_SORTS, filterSortReview, keepSelection, type ReviewFilter, type ReviewSort } from '../lib/review.ts';
import { snippet } from '../lib/text.ts';

type Decision = 'approve' | 'reject' | 'edit';
interface Banner {
  readonly kind: ConflictKind | 'error';
  readonly title: string;
  readonly text: string;
}

const EMPTY: readonly ReviewItem[] = [];
const EMPTY_TEXTS: Readonly<Record<string, string | null>> = {};
const ROW = 52;
const labelOf = (it: ReviewItem) => `${it.skill_name} for ${it.campaign_title}`;
const isField = (t: EventTarget | null) => {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
};

export function ReviewView() {
  const { api, toast } = useStudio();
  // a 10,000-item list is a few MB: while a run pushes changes, re-read it at most once a second
  const list = useChannel('review/list', {}, { throttle_ms: 1000 });
  // decided here: off the list at once (the next read, up to a second later, agrees), so the
  // selection moves on and a quick second key press never lands on the item just decided
  const [gone, setGone] = useState<ReadonlySet<string>>(new Set());
  const read = list.data?.items ?? EMPTY;
  useEffect(() => {
    setGone((g) => (g.size === 0 ? g : new Set(read.filter((it) => g.has(it.task_id)).map((it) => it.task_id))));
  }, [read]);
  const all = useMemo(() => (gone.size === 0 ? read : read.filter((it) => !gone.has(it.task_id))), [read, gone]);
  const texts = list.data?.memory_texts ?? EMPTY_TEXTS;
  const [filter, setFilter] = useState<ReviewFilter>(NO_FILTER);
  const [sort, setSort] = useState<ReviewSort>('created');
  const shown = useMemo(() => filterSortReview(all, filter, sort), [all, filter, sort]);

  // the selection follows its item across re-reads; when the item goes, the one now in its place
  const [selected, setSelected] = useState<string | null>(null);
  const prevShown = useRef<readonly ReviewItem[]>(EMPTY);
  const currentId = keepSelection(prevShown.current, shown, selected);
  useEffect(() => {
    prevShown.current = shown;
    if (currentId !== selected) setSelected(currentId);
  }, [shown, currentId, selected]);
  const index = currentId ? shown.findIndex((it) => it.task_id === currentId) : -1;
  const current = index >= 0 ? (shown[index] as ReviewItem) : null;

  // edits in progress, by task: leaving an item (or a conflict) keeps its draft until Save or Cancel
  const [drafts, setDrafts] = useState<ReadonlyMap<string, string>>(new Map());
  const draft = current ? drafts.get(current.task_id) : undefined;
  const setDraft = (id: string, text: string | null) =>
    setDrafts((d) => {
      const next = new Map(d);
      if (text === null) next.delete(id);
      else next.set(id, text);
      return next;
    });
  const [busy, setBusy] = useState(false);
  const [banner, setBanner] = useState<Banner | null>(null);
  // what this tab decided, newest first (each read back from the store: the output that stands)
  const [recent, setRecent] = useState<readonly string[]>([]);

  const decide = async (decision: Decision) => {
    const it = current;
    if (!it || busy) return;
    const edited = drafts.get(it.task_id);
    if (decision === 'edit' && !edited?.trim()) return;
    setBusy(true);
    try {
      await api['review/decide']({ task_id: it.task_id, decision, expected_version: it.state_version, ...(decision === 'edit' ? { edited_text: edited } : {}) });
      setGone((g) => new Set(g).add(it.task_id));
      setDraft(it.task_id, null);
      setBanner(null);
      setRecent((r) => [it.task_id, ...r.filter((x) => x !== it.task_id)].slice(0, 5));
      toast('info', `${DECIDED[decision]} ${it.skill_name} of “${it.campaign_title}”`);
    } catch (e) {
      const x = explainError(e);
      if (x.conflict) setBanner({ kind: x.conflict, title: x.title, text: x.conflict === 'stale' && edited !== undefined ? `${x.text} (your edit is kept)` : x.text });
      else setBanner({ kind: 'error', title: x.title, text: x.text });
    } finally {
      setBusy(false);
      list.reload();
    }
  };
  const startEdit = () => {
    if (current && draft === undefined) setDraft(current.task_id, current.text);
  };
  const move = (by: number) => {
    if (shown.length === 0) return;
    const next = Math.min(shown.length - 1, Math.max(0, (index < 0 ? 0 : index) + by));
    setSelected((shown[next] as ReviewItem).task_id);
  };

  // a/e/r and j/k while this view is open and no field has the focus; they are taken before the
  // app-wide run shortcuts (R, E), which mean something else here
  const keys = useRef({ decide, startEdit, move, editing: false });
  keys.current = { decide, startEdit, move, editing: draft !== undefined };
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || isField(ev.target)) return;
      const k = keys.current;
      const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
      if (key === 'j' || key === 'ArrowDown') k.move(1);
      else if (key === 'k' || key === 'ArrowUp') k.move(-1);
      else if (key === 'e') k.startEdit();
      // while editing, a and r would drop the edit: only Save and approve or Cancel leave the mode
      else if (key === 'a' || key === 'r') {
        if (!k.editing) void k.decide(key === 'a' ? 'approve' : 'reject');
      } else return;
      ev.preventDefault();
      ev.stopPropagation();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);

  const campaigns = useMemo(() => [...new Map(all.map((it) => [it.campaign_id, it.campaign_title])).entries()].sort((a, b) => a[1].localeCompare(b[1])), [all]);
  const personas = useMemo(() => [...new Set(all.map((it) => it.persona_id))].sort(), [all]);
  const total = list.data?.total ?? 0;

  const row = (i: number) => {
    const it = shown[i];
    if (!it) return null;
    const sel = it.task_id === currentId;
    return (
      <span role="cell" className="rv-cell">
        <button type="button" className={`rv-row ${sel ? 'sel' : ''}`} aria-current={sel ? 'true' : undefined} onClick={() => setSelected(it.task_id)} aria-label={`Select ${labelOf(it)} (${it.task_id.slice(0, 8)})`}>
          <span className="rv-line">
            <b>{it.skill_name}</b> <span className="muted">· {it.campaign_title}</span>
          </span>
          <span className="rv-line small">
            <span className="num">score {it.score ?? '—'}</span>
            {it.sensitive_topics.length > 0 && <span className="badge st-FAILED">{it.sensitive_topics.join(', ')}</span>}
            {drafts.has(it.task_id) && <span className="badge st-ESC_HITL">draft</span>}
            <span className="muted mono">{it.task_id.slice(0, 8)}</span>
          </span>
        </button>
      </span>
    );
  };

  return (
    <section aria-labelledby="review-h" className="view">
      <h1 id="review-h">Human review</h1>
      {banner && (
        <div className={`notice ${banner.kind === 'error' ? 'bad' : 'conflict'}`} role="alert" data-testid="review-banner">
          <b>{banner.title}</b> {banner.text}{' '}
          <button type="button" onClick={() => setBanner(null)}>
            Dismiss {banner.kind === 'error' ? 'message' : 'conflict message'}
          </button>
        </div>
      )}
      {all.length === 0 ? (
        <p className="panel muted">Nothing is waiting for review. Run the simulation until the Judge escalates an output (Simulation → Run until escalation).</p>
      ) : (
        <>
          <div className="panel row filters" role="search" aria-label="Filter the review queue">
            <label className="grow">
              Find
              <input type="search" value={filter.text} onChange={(e) => setFilter({ ...filter, text: e.target.value })} placeholder="skill, campaign, output, reason, topic or id" />
            </label>
            <label>
              Campaign
              <select value={filter.campaign_id} onChange={(e) => setFilter({ ...filter, campaign_id: e.target.value })}>
                <option value="">All</option>
                {campaigns.map(([id, title]) => (
                  <option key={id} value={id}>
                    {title}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Persona
              <select value={filter.persona_id} onChange={(e) => setFilter({ ...filter, persona_id: e.target.value })}>
                <option value="">All</option>
                {personas.map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            </label>
            <label>
              Sensitive topics
              <select value={filter.sensitive === null ? '' : filter.sensitive ? 'yes' : 'no'} onChange={(e) => setFilter({ ...filter, sensitive: e.target.value === '' ? null : e.target.value === 'yes' })}>
                <option value="">All</option>
                <option value="yes">Touches one</option>
                <option value="no">None</option>
              </select>
            </label>
            <label>
              Sort
              <select value={sort} onChange={(e) => setSort(e.target.value as ReviewSort)}>
                {REVIEW_SORTS.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.label}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <p className="muted small" data-testid="review-count">
            {shown.length.toLocaleString()} shown of {total.toLocaleString()} waiting{total > all.length ? ` (the first ${all.length.toLocaleString()} are listed)` : ''} · Keys: <kbd>J</kbd>/<kbd>K</kbd> next/previous · <kbd>A</kbd> approve · <kbd>E</kbd> edit · <kbd>R</kbd> reject · in the editor <kbd>Ctrl</kbd>+<kbd>Enter</kbd> save and approve, <kbd>Esc</kbd> cancel
          </p>
          <div className="review-layout">
            <div className="review-list">
              <VirtualList label="Waiting for review" count={shown.length} rowHeight={ROW} height={560} renderRow={row} scrollToIndex={index} />
            </div>
            {current ? (
              <ReviewCard
                key={current.task_id}
                item={current}
                texts={texts}
                draft={draft}
                busy={busy}
                onDraft={(t) => setDraft(current.task_id, t)}
                onCancel={() => setDraft(current.task_id, null)}
                onEdit={startEdit}
                onDecide={(d) => void decide(d)}
              />
            ) : (
              <p className="panel muted grow">No waiting item matches the filter.</p>
            )}
          </div>
        </>
      )}
      {recent.length > 0 && (
        <div className="panel" aria-labelledby="decided-h">
          <h2 id="decided-h">Decided here</h2>
          <ul className="memories" aria-label="Decided here">
            {recent.map((id) => (
              <DecidedRow key={id} task_id={id} />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

/** A task this tab decided, as the store holds it now: the decision and the output that stands. */
function DecidedRow({ task_id }: { task_id: string }) {
  const t = useChannel('review/task', { task_id }, { live: false }).data;
  if (!t) return <li className="muted">{task_id.slice(0, 8)}…</li>;
  return (
    <li data-testid="decided">
      <span className={`badge st-${t.status}`}>{t.decision ? DECIDED[t.decision] : t.status}</span> <b>{t.skill_name}</b> <span className="muted">· {t.campaign_title}</span>{' '}
      <span className="muted mono">{t.task_id.slice(0, 8)}</span>
      <blockquote className="output small">{t.output_text || <i>(empty output)</i>}</blockquote>
      {t.original_text !== null && <p className="muted small">Replaced: {snippet(t.original_text, 160)}</p>}
    </li>
  );
}

function ReviewCard(props: {
  item: ReviewItem;
  texts: Readonly<Record<string, string | null>>;
  draft: string | undefined;
  busy: boolean;
  onDraft: (text: string) => void;
  onCancel: () => void;
  onEdit: () => void;
  onDecide: (d: Decision) => void;
}) {
  const { item, texts, draft, busy } = props;
  const editing = draft !== undefined;
  const label = labelOf(item);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing) area.current?.focus();
  }, [editing]);
  const onAreaKey = (e: ReactKeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      props.onCancel();
    } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      if (draft?.trim()) props.onDecide('edit');
    }
  };
  return (
    <article className="panel review grow" aria-label={`Review ${label}`}>
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
        <div><dt>Task</dt><dd className="mono">{item.task_id.slice(0, 8)}</dd></div>
        <div><dt>Why escalated</dt><dd>{item.reasons.join('; ') || '—'}</dd></div>
        {item.sensitive_topics.length > 0 && <div><dt>Sensitive topics</dt><dd>{item.sensitive_topics.join(', ')}</dd></div>}
        <div><dt>Worker reasoning</dt><dd>{item.reasoning}</dd></div>
      </dl>
      {editing ? (
        <div className="editing" role="group" aria-label="Editing">
          <label>
            Edited text <span className="muted small">(kept only by “Save and approve”)</span>
            <textarea ref={area} value={draft} onChange={(e) => props.onDraft(e.target.value)} onKeyDown={onAreaKey} rows={5} />
          </label>
          <details>
            <summary>Original output</summary>
            <blockquote className="output">{item.text || <i>(empty output)</i>}</blockquote>
          </details>
        </div>
      ) : (
        <blockquote className="output">{item.text || <i>(empty output)</i>}</blockquote>
      )}
      <details open>
        <summary>Memories the Judge compared ({item.memories.length})</summary>
        <ul className="memories">
          {item.memories.map((m) => {
            const text = texts[m.id];
            return (
              <li key={m.id}>
                <span className={`badge cat-${m.category}`}>{m.category}</span> <span className="num">{m.score}</span>{' '}
                <span className="small">{typeof text === 'string' ? snippet(text, 240) : '(no longer in memory)'}</span>
              </li>
            );
          })}
        </ul>
      </details>
      <div className="toolbar">
        {editing ? (
          <>
            <button type="button" className="primary" disabled={busy || !draft?.trim()} onClick={() => props.onDecide('edit')} aria-label={`Save and approve ${label}`}>
              Save and approve
            </button>
            <button type="button" disabled={busy} onClick={props.onCancel} aria-label={`Cancel the edit of ${label}`}>
              Cancel
            </button>
          </>
        ) : (
          <>
            <button type="button" className="primary" disabled={busy} onClick={() => props.onDecide('approve')} aria-label={`Approve ${label}`} aria-keyshortcuts="a">
              Approve <kbd>A</kbd>
            </button>
            <button type="button" disabled={busy} onClick={props.onEdit} aria-label={`Edit ${label}`} aria-keyshortcuts="e">
              Edit… <kbd>E</kbd>
            </button>
            <button type="button" disabled={busy} onClick={() => props.onDecide('reject')} aria-label={`Reject ${label}`} aria-keyshortcuts="r">
              Reject <kbd>R</kbd>
            </button>
          </>
        )}
      </div>
    </article>
  );
}
