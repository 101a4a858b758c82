/**
 * The contents drawer: whatever a view lists — a task (a row or a DAG node), a run event, an
 * audit row — opens here, readable, on a click or Enter/Space, and Escape (or Close) shuts it.
 * One drawer per view (App wraps each view in a ContentsProvider), a column right of the view
 * while open so the list it came from stays in sight; what it links to (an audit row's task, an event's task,
 * a task's audit rows) opens in the same drawer, with Back to return. Focus moves to the
 * drawer's heading on open and back to what opened it on close.
 *
 * A task shows its status, attempts and fields, input_data and output_data as indented JSON,
 * and its audit history (the inspection readers' `inspect/task`, on every profile). A DAG node
 * knows its index, not its id: it is read from the session (`campaigns/task`, current at every
 * step) and its history from the store. An event shows its whole JSON; an audit row every
 * field (hash and prev_hash in full) and its details as JSON.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useChannel } from '../lib/studio.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { auditFields, auditTaskId, contentsLabel, plain, readableJson, type AuditRecord, type Contents, type TaskRef } from '../lib/contents.ts';
import type { EngineEventView } from '../../../src/shared/types.ts';

export interface ContentsApi {
  /** What the drawer shows, or null when it is closed. */
  readonly current: Contents | null;
  /** Opens `c` (what was open before is dropped; Back does not return to it). */
  open(c: Contents): void;
  close(): void;
}

const ContentsContext = createContext<ContentsApi | null>(null);

export function useContents(): ContentsApi {
  const v = useContext(ContentsContext);
  if (!v) throw new Error('useContents outside ContentsProvider');
  return v;
}

/** Gives its children `useContents()` and renders the drawer while something is open. */
export function ContentsProvider({ children }: { children: ReactNode }) {
  const [stack, setStack] = useState<readonly Contents[]>([]);
  const returnTo = useRef<HTMLElement | SVGElement | null>(null);
  const isOpen = stack.length > 0;
  const openNow = useRef(false);
  openNow.current = isOpen;
  const open = useCallback((c: Contents) => {
    // focus goes back to what opened the drawer, not to what was clicked while it was open
    if (!openNow.current) {
      const a = document.activeElement;
      returnTo.current = a instanceof HTMLElement || a instanceof SVGElement ? a : null;
    }
    setStack([c]);
  }, []);
  const close = useCallback(() => {
    setStack([]);
    const back = returnTo.current;
    returnTo.current = null;
    // what opened it may have scrolled out of a windowed list: then focus stays where it falls
    if (back?.isConnected) back.focus();
  }, []);
  const push = useCallback((c: Contents) => setStack((s) => [...s, c]), []);
  const pop = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);

  useEffect(() => {
    if (!isOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      e.preventDefault();
      close();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [isOpen, close]);

  const current = stack[stack.length - 1] ?? null;
  const api = useMemo<ContentsApi>(() => ({ current, open, close }), [current, open, close]);
  return (
    <ContentsContext.Provider value={api}>
      {children}
      {current && <ContentsDrawer key={`${stack.length}:${JSON.stringify(current)}`} contents={current} depth={stack.length} onOpen={push} onBack={pop} onClose={close} />}
    </ContentsContext.Provider>
  );
}

interface DrawerProps {
  readonly contents: Contents;
  readonly depth: number;
  onOpen(c: Contents): void;
  onBack(): void;
  onClose(): void;
}

function ContentsDrawer({ contents, depth, onOpen, onBack, onClose }: DrawerProps) {
  const label = contentsLabel(contents);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const head = (title: ReactNode) => (
    <div className="row-between contents-head">
      <h2 ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <span className="toolbar">
        {depth > 1 && (
          <button type="button" onClick={onBack} aria-label="Back to the previous contents">
            Back
          </button>
        )}
        <button type="button" onClick={onClose} aria-label={`Close the ${label.toLowerCase()}`} aria-keyshortcuts="Escape">
          Close
        </button>
      </span>
    </div>
  );
  return (
    <aside className="contents-drawer" role="complementary" aria-label={label}>
      <ErrorBoundary name="contents">
        {contents.kind === 'task' && <TaskContents task={contents.task} head={head} onOpen={onOpen} />}
        {contents.kind === 'event' && <EventContents event={contents.event} head={head} onOpen={onOpen} />}
        {contents.kind === 'audit' && <AuditContents row={contents.row} head={head} onOpen={onOpen} />}
      </ErrorBoundary>
    </aside>
  );
}

type Head = (title: ReactNode) => ReactNode;

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <>
      <h3>{label}</h3>
      <pre className="json" aria-label={label}>
        {readableJson(value)}
      </pre>
    </>
  );
}

const short = (id: unknown): string => (typeof id === 'string' ? id.slice(0, 8) : plain(id));

/** A task: from the session when opened from the graph (by index), its stored row and audit history from the store. */
function TaskContents({ task, head, onOpen }: { task: TaskRef; head: Head; onOpen(c: Contents): void }) {
  const node = 'index' in task ? task : null;
  const live = useChannel('campaigns/task', node ? { campaign_id: node.campaign_id, index: node.index } : null, { throttle_ms: 1000 });
  const fromSession = node && live.data && live.data.index === node.index && live.data.campaign_id === node.campaign_id ? live.data : null;
  const id = 'id' in task ? task.id : (fromSession?.id ?? null);
  const at = 'id' in task ? (task.at ?? {}) : {};
  const stored = useChannel('inspect/task', id ? { ...at, id } : null, { throttle_ms: 1000 });
  const row = stored.data?.task ?? null;
  const t: Readonly<Record<string, unknown>> | null = (fromSession as unknown as Readonly<Record<string, unknown>> | null) ?? (row?.ok ? row.value : null);
  const skill = t ? plain(t.skill_name) : '';
  const title = node ? `Task ${node.index + 1} of ${node.count.toLocaleString()}${t ? `: ${skill}` : ''}` : `Task ${t ? `${skill} ` : ''}${short(id)}`;
  const error = node ? live.error : stored.error;
  return (
    <>
      {head(title)}
      {error && !t && <p role="alert">Could not read this task: {error.message}</p>}
      {!t && !error && !(stored.data && !row) && <p className="muted">Loading…</p>}
      {stored.data && !row && !fromSession && <p role="status">No task {id} in this store.</p>}
      {row && !row.ok && (
        <>
          <p>
            <span className="badge st-FAILED">does not fit</span> {row.problem}
          </p>
          <Json label="Raw row" value={row.raw} />
        </>
      )}
      {t && (
        <>
          <dl className="kv">
            <dt>Status</dt>
            <dd>
              <span className={`badge st-${plain(t.status)}`}>{plain(t.status)}</span>
            </dd>
            <dt>Attempts</dt>
            <dd>{plain(t.attempts)}</dd>
            <dt>Role</dt>
            <dd>{plain(t.role)}</dd>
            <dt>Skill</dt>
            <dd>{skill}</dd>
            <dt>Confidence</dt>
            <dd>{t.confidence_score === null || t.confidence_score === undefined ? '—' : plain(t.confidence_score)}</dd>
            <dt>Depends on</dt>
            <dd>{Array.isArray(t.depends_on) ? (t.depends_on.length ? `${t.depends_on.length} task${t.depends_on.length === 1 ? '' : 's'}` : 'nothing') : plain(t.depends_on)}</dd>
            <dt>Branch</dt>
            <dd>
              {plain(t.branch)} · re-planned {plain(t.replans)}×
            </dd>
            <dt>Created</dt>
            <dd className="mono">{plain(t.created_at)}</dd>
            <dt>Updated</dt>
            <dd className="mono">{plain(t.updated_at)}</dd>
            <dt>Id</dt>
            <dd className="mono wrap">{plain(t.id)}</dd>
          </dl>
          <Json label="input_data" value={t.input_data} />
          <h3>output_data</h3>
          <pre className="json" aria-label="output_data">
            {t.output_data === null || t.output_data === undefined ? 'none yet' : readableJson(t.output_data)}
          </pre>
        </>
      )}
      <h3>Audit history</h3>
      {stored.error && t && <p role="status">Audit history unavailable: {stored.error.message}</p>}
      {stored.data && (
        <ol className="small history" aria-label="Task audit history">
          {stored.data.history.map((e, i) =>
            e.ok ? (
              <li key={plain(e.value.seq)}>
                <button type="button" className="linklike mono" onClick={() => onOpen({ kind: 'audit', row: e.value })} aria-label={`Open audit row ${plain(e.value.seq)}: ${plain(e.value.action)}`}>
                  #{plain(e.value.seq)}
                </button>{' '}
                {plain(e.value.timestamp)} {plain(e.value.actor)} <strong>{plain(e.value.action)}</strong> {plain(e.value.before_status)} → {plain(e.value.after_status)}
              </li>
            ) : (
              <li key={`bad-${i}`}>
                <span className="badge st-FAILED">does not fit</span> {e.problem}
              </li>
            ),
          )}
          {stored.data.history.length === 0 && (
            <li className="muted">{stored.data.history_absent ?? (row ? 'no audit events name this task' : 'not in the store yet: a file profile writes at the end of each tick')}</li>
          )}
          {stored.data.history_next_cursor && <li className="muted">the oldest {stored.data.history.length} shown (the Audit log view has the rest)</li>}
        </ol>
      )}
    </>
  );
}

/** A run event: its fields, a link to its task, and the whole event as JSON. */
function EventContents({ event, head, onOpen }: { event: EngineEventView; head: Head; onOpen(c: Contents): void }) {
  return (
    <>
      {head(`Event #${event.step}: ${event.type}`)}
      <dl className="kv">
        <dt>Step</dt>
        <dd>{event.step}</dd>
        <dt>Tick</dt>
        <dd>{event.tick}</dd>
        <dt>Agent</dt>
        <dd>{event.agent}</dd>
        <dt>Type</dt>
        <dd>{event.type}</dd>
        <dt>Campaign</dt>
        <dd className="mono wrap">{plain(event.campaign_id)}</dd>
        <dt>Task</dt>
        <dd>
          {event.task_id ? (
            <button type="button" className="linklike mono" onClick={() => onOpen({ kind: 'task', task: { id: event.task_id! } })} aria-label={`Open task ${event.task_id}`}>
              {short(event.task_id)}
            </button>
          ) : (
            '∅'
          )}
        </dd>
      </dl>
      <Json label="Event JSON" value={event} />
    </>
  );
}

/** An audit row: every field as stored (the chain's hashes in full), its details as JSON, a link to its task. */
function AuditContents({ row, head, onOpen }: { row: AuditRecord; head: Head; onOpen(c: Contents): void }) {
  const r = row as Readonly<Record<string, unknown>>;
  const task = auditTaskId(row);
  return (
    <>
      {head(`Audit row #${plain(r.seq)}: ${plain(r.action)}`)}
      {task && (
        <p>
          <button type="button" onClick={() => onOpen({ kind: 'task', task: { id: task } })} aria-label={`Open task ${task}`}>
            Open task {short(task)}
          </button>
        </p>
      )}
      <dl className="kv kv-wide" aria-label="Audit row fields">
        {auditFields(row).map(([k, v]) => (
          <div key={k} className="kv-pair">
            <dt>{k}</dt>
            <dd className={k.endsWith('hash') || k.endsWith('id') ? 'mono wrap' : ''}>{v}</dd>
          </div>
        ))}
      </dl>
      <Json label="details" value={r.details} />
    </>
  );
}
