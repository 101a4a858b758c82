/** One task of the graph, opened from its node: status, attempts, confidence, and its input_data and output_data as readable JSON. */
import { useEffect, useRef } from 'react';
import { useChannel } from '../lib/studio.tsx';

export function TaskInspector({ campaignId, index, count, onClose }: { campaignId: string; index: number; count: number; onClose: () => void }) {
  const q = useChannel('campaigns/task', { campaign_id: campaignId, index }, { throttle_ms: 1000 });
  const t = q.data && q.data.index === index && q.data.campaign_id === campaignId ? q.data : null;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [index]);
  return (
    <aside className="dag-inspect" aria-label="Task inspector" aria-busy={!t}>
      <div className="row-between">
        <h3 ref={heading} tabIndex={-1}>
          Task {index + 1} of {count.toLocaleString()}
          {t ? `: ${t.skill_name}` : ''}
        </h3>
        <button type="button" onClick={onClose} aria-label="Close the task inspector">
          Close
        </button>
      </div>
      {q.error && !t && <p role="alert">Could not read this task: {q.error.message}</p>}
      {t ? (
        <>
          <dl className="kv">
            <dt>Status</dt>
            <dd><span className={`badge st-${t.status}`}>{t.status}</span></dd>
            <dt>Role</dt>
            <dd>{t.role}</dd>
            <dt>Attempts</dt>
            <dd>{t.attempts}</dd>
            <dt>Confidence</dt>
            <dd>{t.confidence_score ?? '—'}</dd>
            <dt>Depends on</dt>
            <dd>{t.depends_on.length ? `${t.depends_on.length} task${t.depends_on.length === 1 ? '' : 's'}` : 'nothing'}</dd>
            <dt>Id</dt>
            <dd className="mono" title={t.id}>{t.id.slice(0, 8)}</dd>
          </dl>
          <h4>input_data</h4>
          <pre className="json" aria-label="input_data">{JSON.stringify(t.input_data, null, 2)}</pre>
          <h4>output_data</h4>
          <pre className="json" aria-label="output_data">{t.output_data === null || t.output_data === undefined ? 'none yet' : JSON.stringify(t.output_data, null, 2)}</pre>
        </>
      ) : (
        !q.error && <p className="muted">Loading…</p>
      )}
    </aside>
  );
}
