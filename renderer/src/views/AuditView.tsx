/**
 * Audit log: filter by campaign, action, actor or text; newest first; the hash chain's
 * verification on top. A click on a row (or Enter or Space on its seq) opens every field of it
 * in the contents drawer, with its task a click further.
 */
import { useState } from 'react';
import { useChannel } from '../lib/studio.tsx';
import { shortIds, snippet } from '../lib/text.ts';
import { useContents } from '../components/ContentsDrawer.tsx';
import { showsAudit } from '../lib/contents.ts';

const PAGE = 100;

export function AuditView() {
  const [campaign, setCampaign] = useState('');
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [text, setText] = useState('');
  const [page, setPage] = useState(0);
  const contents = useContents();
  const campaigns = useChannel('campaigns/list', {}, { live: false });
  const audit = useChannel('audit/list', {
    offset: page * PAGE,
    limit: PAGE,
    ...(campaign ? { campaign_id: campaign } : {}),
    ...(action ? { action } : {}),
    ...(actor ? { actor } : {}),
    ...(text ? { text } : {}),
  });
  const v = audit.data?.verification;
  const total = audit.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const reset = <T,>(set: (x: T) => void) => (x: T) => {
    set(x);
    setPage(0);
  };
  return (
    <section aria-labelledby="audit-h" className="view">
      <h1 id="audit-h">Audit log</h1>
      {v && (
        <p className={`notice ${v.ok ? 'ok' : 'bad'}`} role="status" data-testid="chain">
          {v.ok
            ? `Hash chain verified: ${v.checked.toLocaleString()} events, head ${v.head_hash.slice(0, 16)}…`
            : `Hash chain BROKEN at event ${v.broken_at}: ${v.reason}`}
        </p>
      )}
      <div className="panel">
        <div className="row filters">
          <label>
            Campaign
            <select value={campaign} onChange={(e) => reset(setCampaign)(e.target.value)}>
              <option value="">All</option>
              {(campaigns.data?.campaigns ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title}
                </option>
              ))}
            </select>
          </label>
          <label>
            Action
            <select value={action} onChange={(e) => reset(setAction)(e.target.value)}>
              <option value="">All</option>
              {(audit.data?.actions ?? []).map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label>
            Actor
            <select value={actor} onChange={(e) => reset(setActor)(e.target.value)}>
              <option value="">All</option>
              {(audit.data?.actors ?? []).map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label className="grow">
            Text
            <input type="search" value={text} onChange={(e) => reset(setText)(e.target.value)} placeholder="entity id, action or details" />
          </label>
        </div>
        <div className="row-between small">
          <span>
            {total.toLocaleString()} events · page {page + 1} of {pages}
          </span>
          <span className="toolbar">
            <button type="button" onClick={() => setPage((p) => Math.max(0, p - 1))} disabled={page === 0}>
              Newer
            </button>
            <button type="button" onClick={() => setPage((p) => Math.min(pages - 1, p + 1))} disabled={page >= pages - 1}>
              Older
            </button>
          </span>
        </div>
        <table className="table small" aria-label="Audit events">
          <thead>
            <tr>
              <th scope="col">seq</th>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Entity</th>
              <th scope="col">Status</th>
              <th scope="col">v</th>
              <th scope="col">Details</th>
              <th scope="col">Hash</th>
            </tr>
          </thead>
          <tbody>
            {(audit.data?.events ?? []).map((e) => (
              // the whole row opens on a click; its seq is the button a keyboard reaches (its Enter or Space click bubbles here)
              <tr key={e.seq} className={`openable${showsAudit(contents.current, e.seq) ? ' sel' : ''}`} onClick={() => contents.open({ kind: 'audit', row: e })}>
                <td className="num">
                  <button type="button" className="linklike" aria-label={`Open audit row ${e.seq}: ${e.action}`} aria-pressed={showsAudit(contents.current, e.seq)}>
                    {e.seq}
                  </button>
                </td>
                <td className="mono">{e.timestamp.slice(11, 23)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td className="mono">
                  {e.entity_type} {e.entity_id.slice(0, 8)}
                </td>
                <td>
                  {e.before_status ?? '∅'} → {e.after_status ?? '∅'}
                </td>
                <td className="num">{e.state_version ?? ''}</td>
                <td className="small audit-details" title={e.details == null ? undefined : JSON.stringify(e.details)}>
                  {detailsText(e.details)}
                </td>
                <td className="mono muted" title={`prev ${e.prev_hash}\nhash ${e.hash}`}>
                  {e.hash.slice(0, 10)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** An event's details in one short line: an edit's new text first (what a reviewer wrote), else the fields as key=value. */
function detailsText(details: unknown): string {
  if (details == null || typeof details !== 'object') return '';
  const d = details as Record<string, unknown>;
  if (typeof d.edited_text === 'string') return snippet(`“${d.edited_text}”`, 80);
  return snippet(
    shortIds(
      Object.entries(d)
        .filter(([k]) => k !== 'heads')
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' '),
    ),
    80,
  );
}
