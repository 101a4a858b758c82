/**
 * Inspector (read-only): the current profile's store as its inspection readers see it (the
 * in-memory session's own stores included) — campaigns and tasks (keyset paged, filtered,
 * sorted in the store by a column header; Next pages on in that sort), a task opened in the
 * contents drawer with its input_data and output_data as indented JSON and its audit history
 * (ContentsDrawer.tsx), queues with their depths and a queue's
 * items (lease holder, expiry counting down), persona cache hashes, and every audit chain
 * verified per campaign. A row that does not fit is shown marked (badge and problem), never
 * breaking the view. "Inspected store" picks the current profile or a deployment the config
 * names (production: a cluster Chimera's own services may run), read with no session on it;
 * a store it does not keep (no audit log) is said to be absent.
 */
import { useEffect, useState } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { InspectorMemories } from './InspectorMemories.tsx';
import { CAMPAIGN_STATUSES, TASK_STATUSES, type BackendKind, type CampaignSortKey, type InspectRowView, type InspectQueueView, type TaskSortKey } from '../../../src/shared/types.ts';
import { useContents } from '../components/ContentsDrawer.tsx';
import { SortHeader } from '../components/SortHeader.tsx';
import { showsTask } from '../lib/contents.ts';
import type { SortState } from '../lib/sort.ts';

const PAGE = 25;

/** Keyset paging: the cursors of the pages walked so far (the first page's is null). */
function useCursors(reset: unknown) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  useEffect(() => setStack([null]), [reset]);
  const cursor = stack[stack.length - 1] ?? null;
  return {
    cursor,
    page: stack.length,
    next: (c: string | null) => c && setStack((s) => [...s, c]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

function Pager({ label, page, hasNext, onPrev, onNext }: { label: string; page: number; hasNext: boolean; onPrev: () => void; onNext: () => void }) {
  return (
    <span className="toolbar small">
      page {page}
      <button type="button" aria-label={`Previous page of ${label}`} onClick={onPrev} disabled={page <= 1}>
        Previous
      </button>
      <button type="button" aria-label={`Next page of ${label}`} onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </span>
  );
}

/** A row that did not fit the expected shape: a badge, its problem and the raw row. */
function BadRow({ row, cols }: { row: Extract<InspectRowView, { ok: false }>; cols: number }) {
  return (
    <tr className="bad-row" data-testid="bad-row">
      <td colSpan={cols}>
        <span className="badge st-FAILED">does not fit</span> {row.problem}{' '}
        <code className="muted small">{JSON.stringify(row.raw).slice(0, 160)}</code>
      </td>
    </tr>
  );
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** The deployments the config may name (backends that keep no file and outlive a session), as choices. */
function useTargets(): { kind: BackendKind; label: string }[] {
  const b = useChannel('backend/status', {}, { live: false });
  return (b.data?.backends ?? []).filter((x) => x.capabilities.durable && x.file_name === null).map((x) => ({ kind: x.kind, label: x.label }));
}

/** What the Inspector reads, as the select keeps it: '' (the current profile), a backend kind, or 'connection:NAME'. */
export type InspectChoice = string;
/** The Connections panel's "Inspect" leaves its choice here for the Inspector to open with. */
export const INSPECT_CHOICE_KEY = 'chimera.inspect.choice';

/** The channel arguments for a choice. */
export function inspectArgs(choice: InspectChoice): { target?: BackendKind; connection?: string } {
  if (choice.startsWith('connection:')) return { connection: choice.slice('connection:'.length) };
  return choice ? { target: choice as BackendKind } : {};
}

function initialChoice(): InspectChoice {
  try {
    const v = sessionStorage.getItem(INSPECT_CHOICE_KEY);
    sessionStorage.removeItem(INSPECT_CHOICE_KEY);
    return v ?? '';
  } catch {
    return '';
  }
}

export function InspectorView() {
  const [target, setTarget] = useState<InspectChoice>(initialChoice);
  const at = inspectArgs(target);
  const targets = useTargets();
  const connections = useChannel('connections/list', {}, { live: false });
  const [campaign, setCampaign] = useState('');
  const [taskStatus, setTaskStatus] = useState('');
  const [campaignStatus, setCampaignStatus] = useState('');
  const [campaignSort, setCampaignSort] = useState<SortState<CampaignSortKey>>({ by: 'created_at', dir: 'asc' });
  const [taskSort, setTaskSort] = useState<SortState<TaskSortKey>>({ by: 'created_at', dir: 'asc' });
  const contents = useContents();
  const { api } = useStudio();
  const [queue, setQueue] = useState<InspectQueueView | null>(null);
  // a cursor belongs to its filter and sort: changing either starts again from the first page
  const cc = useCursors(`${target}|${campaignStatus}|${campaignSort.by}|${campaignSort.dir}`);
  const tc = useCursors(`${target}|${campaign}|${taskStatus}|${taskSort.by}|${taskSort.dir}`);
  const campaigns = useChannel('inspect/campaigns', { ...at, limit: PAGE, cursor: cc.cursor, sort: campaignSort, ...(campaignStatus ? { status: campaignStatus as never } : {}) }, { live: false });
  const tasks = useChannel(
    'inspect/tasks',
    { ...at, limit: PAGE, cursor: tc.cursor, sort: taskSort, ...(campaign ? { campaign_id: campaign } : {}), ...(taskStatus ? { status: taskStatus as never } : {}) },
    { live: false },
  );
  const queues = useChannel('inspect/queues', { ...at, limit: 100 }, { live: false });
  const cache = useChannel('inspect/cache', { ...at, limit: 100 }, { live: false });
  const [verifyOn, setVerifyOn] = useState(0);
  const verify = useChannel('inspect/verify', verifyOn ? at : null, { live: false });
  const pickTarget = (v: string) => {
    setTarget(v);
    contents.close();
    setQueue(null);
    setCampaign('');
  };
  // the core keeps the store's readers open between calls: Refresh has them opened afresh (tables added since are seen)
  const refresh = () =>
    void api['inspect/reset'](at)
      .catch(() => undefined)
      .then(() => {
        campaigns.reload();
        tasks.reload();
        queues.reload();
        cache.reload();
      });
  const error = campaigns.error ?? tasks.error;
  return (
    <section aria-labelledby="inspect-h" className="view">
      <div className="row-between">
        <h1 id="inspect-h">Inspector</h1>
        <span className="toolbar">
          <label>
            Inspected store
            <select aria-label="Inspected store" value={target} onChange={(e) => pickTarget(e.target.value)}>
              <option value="">Current profile</option>
              {targets.map((x) => (
                <option key={x.kind} value={x.kind}>
                  {x.label} deployment (from the config)
                </option>
              ))}
              {(connections.data?.connections ?? []).map((c) => (
                <option key={c.name} value={`connection:${c.name}`}>
                  Connection {c.name}
                  {c.read_only ? '' : ' (read-write; read here only)'}
                </option>
              ))}
            </select>
          </label>
          <span className="muted small">read-only{campaigns.data ? ` · ${campaigns.data.backend}` : ''}</span>
          <button type="button" onClick={refresh} aria-label="Refresh the inspector">
            Refresh
          </button>
        </span>
      </div>
      {error && (
        <p className="notice bad" role="alert">
          {error.message}
        </p>
      )}

      <div className="panel">
        <div className="row-between">
          <h2>Campaigns</h2>
          <label>
            Status
            <select aria-label="Campaign status filter" value={campaignStatus} onChange={(e) => setCampaignStatus(e.target.value)}>
              <option value="">All</option>
              {CAMPAIGN_STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <Pager label="campaigns" page={cc.page} hasNext={!!campaigns.data?.next_cursor} onPrev={cc.prev} onNext={() => cc.next(campaigns.data?.next_cursor ?? null)} />
        </div>
        <table className="table small" aria-label="Inspected campaigns">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <SortHeader label="Persona" by="persona_id" sort={campaignSort} onSort={setCampaignSort} />
              <th scope="col">Status</th>
              <th scope="col">v</th>
              <SortHeader label="Created" by="created_at" sort={campaignSort} onSort={setCampaignSort} />
              <th scope="col">Tasks</th>
            </tr>
          </thead>
          <tbody>
            {(campaigns.data?.items ?? []).map((r, i) =>
              r.ok ? (
                <tr key={str(r.value.id)}>
                  <td>{str(r.value.title)}</td>
                  <td>{str(r.value.persona_id)}</td>
                  <td>
                    <span className={`badge st-${str(r.value.status)}`}>{str(r.value.status)}</span>
                  </td>
                  <td className="num">{str(r.value.state_version)}</td>
                  <td className="mono">{str(r.value.created_at)}</td>
                  <td>
                    <button type="button" aria-label={`Show the tasks of campaign ${str(r.value.title)}`} onClick={() => setCampaign(str(r.value.id))}>
                      Tasks
                    </button>
                  </td>
                </tr>
              ) : (
                <BadRow key={`bad-${i}`} row={r} cols={6} />
              ),
            )}
          </tbody>
        </table>
      </div>

      <div className="panel">
        <div className="row-between">
          <h2>Tasks</h2>
          <span className="row filters">
            <label>
              Campaign
              <input aria-label="Task campaign filter" value={campaign} onChange={(e) => setCampaign(e.target.value.trim())} placeholder="campaign id (all)" />
            </label>
            <label>
              Status
              <select aria-label="Task status filter" value={taskStatus} onChange={(e) => setTaskStatus(e.target.value)}>
                <option value="">All</option>
                {TASK_STATUSES.map((s) => (
                  <option key={s}>{s}</option>
                ))}
              </select>
            </label>
          </span>
          <Pager label="tasks" page={tc.page} hasNext={!!tasks.data?.next_cursor} onPrev={tc.prev} onNext={() => tc.next(tasks.data?.next_cursor ?? null)} />
        </div>
        <table className="table small" aria-label="Inspected tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Role</th>
              <SortHeader label="Skill" by="skill_name" sort={taskSort} onSort={setTaskSort} />
              <th scope="col">Status</th>
              <th scope="col">Confidence</th>
              <SortHeader label="Created" by="created_at" sort={taskSort} onSort={setTaskSort} />
            </tr>
          </thead>
          <tbody>
            {(tasks.data?.items ?? []).map((r, i) =>
              r.ok ? (
                <tr key={str(r.value.id)} aria-selected={showsTask(contents.current, str(r.value.id))}>
                  <td className="mono">
                    <button type="button" className="linklike" aria-label={`Inspect task ${str(r.value.id)}`} onClick={() => contents.open({ kind: 'task', task: { id: str(r.value.id), at } })}>
                      {str(r.value.id).slice(0, 8)}
                    </button>
                  </td>
                  <td>{str(r.value.role)}</td>
                  <td>{str(r.value.skill_name)}</td>
                  <td>
                    <span className={`badge st-${str(r.value.status)}`}>{str(r.value.status)}</span>
                  </td>
                  <td className="num">{str(r.value.confidence_score)}</td>
                  <td className="mono">{str(r.value.created_at)}</td>
                </tr>
              ) : (
                <BadRow key={`bad-${i}`} row={r} cols={6} />
              ),
            )}
          </tbody>
        </table>
      </div>

      <div className="panel">
        <h2>Queues</h2>
        {queues.error && <p role="alert">{queues.error.message}</p>}
        <table className="table small" aria-label="Inspected queues">
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">Ready</th>
              <th scope="col">Delayed</th>
              <th scope="col">Leased</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {(queues.data?.items ?? []).map((r, i) =>
              r.ok ? (
                <tr key={`${r.value.space}:${r.value.queue}`}>
                  <td className="mono">{r.value.queue}</td>
                  <td className="num">{r.value.depth.ready}</td>
                  <td className="num">{r.value.depth.delayed}</td>
                  <td className="num">{r.value.depth.leased}</td>
                  <td>
                    <button type="button" aria-label={`Open queue ${r.value.queue}`} onClick={() => setQueue(r.value)}>
                      Items
                    </button>
                  </td>
                </tr>
              ) : (
                <BadRow key={`bad-${i}`} row={r} cols={5} />
              ),
            )}
            {queues.data && queues.data.items.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  no queue holds an item
                </td>
              </tr>
            )}
          </tbody>
        </table>
        {queue && <QueueItems q={queue} at={at} onClose={() => setQueue(null)} />}
      </div>

      <div className="panel">
        <h2>Persona cache</h2>
        <table className="table small" aria-label="Persona cache hashes">
          <thead>
            <tr>
              <th scope="col">Hash</th>
              <th scope="col">Traits</th>
            </tr>
          </thead>
          <tbody>
            {(cache.data?.items ?? []).map((r, i) =>
              r.ok ? (
                <tr key={r.value.persona_id}>
                  <td className="mono">persona_cache:{r.value.persona_id}</td>
                  <td className="num">{r.value.trait_count}</td>
                </tr>
              ) : (
                <BadRow key={`bad-${i}`} row={r} cols={2} />
              ),
            )}
          </tbody>
        </table>
      </div>

      <InspectorMemories BadRow={BadRow} at={at} key={target} />

      <div className="panel">
        <div className="row-between">
          <h2>Audit chains</h2>
          <button type="button" onClick={() => (verifyOn ? verify.reload() : setVerifyOn(1))} disabled={verify.loading}>
            Verify audit chains
          </button>
        </div>
        {verify.error && <p role="alert">{verify.error.message}</p>}
        {verify.data?.absent && (
          <p className="notice" role="status" data-testid="inspect-verify">
            Nothing to verify: {verify.data.absent}
          </p>
        )}
        {verify.data && !verify.data.absent && (
          <>
            <p className={`notice ${verify.data.ok ? 'ok' : 'bad'}`} role="status" data-testid="inspect-verify">
              {verify.data.ok ? 'Every audit chain verified' : 'Audit chains NOT verified'}: {verify.data.checked.toLocaleString()} events
              {verify.data.malformed ? ` · ${verify.data.malformed} malformed rows` : ''}
              {verify.data.broken ? ` · broken at seq ${verify.data.broken.seq}: ${verify.data.broken.reason}` : ''}
            </p>
            <table className="table small" aria-label="Audit chains per campaign">
              <thead>
                <tr>
                  <th scope="col">Chain</th>
                  <th scope="col">Events</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {verify.data.chains.map((c) => (
                  <tr key={c.chain}>
                    <td className="mono">{c.chain}</td>
                    <td className="num">{c.events}</td>
                    <td>
                      <span className={`badge ${c.ok ? 'st-COMPLETED' : 'st-FAILED'}`}>{c.ok ? 'ok' : 'BROKEN'}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
    </section>
  );
}

/** A queue's waiting or leased items; a lease's expiry counts down each second. */
function QueueItems({ q, at, onClose }: { q: InspectQueueView; at: ReturnType<typeof inspectArgs>; onClose: () => void }) {
  const [state, setState] = useState<'waiting' | 'leased'>('waiting');
  const items = useChannel('inspect/queue', { ...at, space: q.space, queue: q.queue, state, limit: 100 }, { live: false });
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  // the server's clock at the read, carried forward by the local clock
  const skew = items.data ? items.data.now_ms - Date.now() : 0;
  return (
    <aside className="dag-inspect" aria-label={`Queue ${q.queue}`}>
      <div className="row-between">
        <h3>{q.queue}</h3>
        <span className="toolbar">
          <label>
            Items
            <select aria-label="Queue item state" value={state} onChange={(e) => setState(e.target.value as 'waiting' | 'leased')}>
              <option value="waiting">waiting</option>
              <option value="leased">leased</option>
            </select>
          </label>
          <button type="button" onClick={onClose} aria-label="Close the queue">
            Close
          </button>
        </span>
      </div>
      {items.error && <p role="alert">{items.error.message}</p>}
      <table className="table small" aria-label={`Items of ${q.queue}`}>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Attempts</th>
            <th scope="col">Lease holder</th>
            <th scope="col">Expiry</th>
            <th scope="col">Payload</th>
          </tr>
        </thead>
        <tbody>
          {(items.data?.items ?? []).map((r, i) =>
            r.ok ? (
              <tr key={r.value.id}>
                <td className="mono">{r.value.id.slice(0, 12)}</td>
                <td className="num">{r.value.attempts}</td>
                <td>{r.value.consumer ?? '—'}</td>
                <td>{r.value.expires_at_ms === null ? '—' : `expires in ${Math.max(0, Math.round((r.value.expires_at_ms - (now + skew)) / 1000))} s`}</td>
                <td className="mono small">{JSON.stringify(r.value.payload).slice(0, 120)}</td>
              </tr>
            ) : (
              <BadRow key={`bad-${i}`} row={r} cols={5} />
            ),
          )}
          {items.data && items.data.items.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                no {state} items
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </aside>
  );
}
