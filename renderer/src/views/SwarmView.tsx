/** Swarm: what each agent is doing, queue depths per campaign, and a campaign's task DAG. */
import { useChannel } from '../lib/studio.tsx';
import { DagView } from '../components/DagView.tsx';
import { useDag, usePrefetchDags } from '../lib/dag-store.ts';
import type { AgentView, QueueDepthView } from '../../../src/shared/types.ts';

const GROUPS: { title: string; kinds: AgentView['kind'][] }[] = [
  { title: 'Planner', kinds: ['planner'] },
  { title: 'Workers', kinds: ['worker'] },
  { title: 'Judge', kinds: ['judge'] },
  { title: 'Others', kinds: ['operator', 'human', 'housekeeper'] },
];

export function SwarmView({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const swarm = useChannel('sim/swarm', {});
  const campaigns = useChannel('campaigns/list', {});
  const list = campaigns.data?.campaigns ?? [];
  const current = list.find((c) => c.id === selected) ?? list[0] ?? null;
  const dag = useDag(current?.id ?? null);
  usePrefetchDags(list.map((c) => c.id));
  const maxDepth = Math.max(1, ...(swarm.data?.queues ?? []).flatMap((q) => [total(q.task_queue), total(q.review_queue)]));

  return (
    <section aria-labelledby="swarm-h" className="view">
      <h1 id="swarm-h">Swarm</h1>
      <div className="agents">
        {GROUPS.map((g) => (
          <div key={g.title} className="panel agent-group">
            <h2>{g.title}</h2>
            <ul aria-label={g.title}>
              {(swarm.data?.agents ?? [])
                .filter((a) => g.kinds.includes(a.kind))
                .map((a) => (
                  <li key={a.id} className={a.busy ? 'busy' : ''}>
                    <span className={`dot ${a.busy ? 'on' : ''}`} aria-hidden="true" />
                    <b>{a.id}</b> <span className="muted">{a.busy ? 'busy' : 'idle'}</span>
                    <div className="small">{a.last}</div>
                  </li>
                ))}
            </ul>
          </div>
        ))}
      </div>
      <div className="panel">
        <h2>Queue depths</h2>
        <table className="table" aria-label="Queue depths">
          <thead>
            <tr>
              <th scope="col">Campaign</th>
              <th scope="col">task_queue (ready / delayed / leased)</th>
              <th scope="col">review_queue (ready / delayed / leased)</th>
            </tr>
          </thead>
          <tbody>
            {(swarm.data?.queues ?? []).map((q) => (
              <tr key={q.campaign_id}>
                <td>{q.title}</td>
                <td><Depth d={q.task_queue} max={maxDepth} label={`task_queue of ${q.title}`} /></td>
                <td><Depth d={q.review_queue} max={maxDepth} label={`review_queue of ${q.title}`} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel">
        <div className="row-between">
          <h2>Task DAG</h2>
          <label className="inline">
            Campaign
            <select value={current?.id ?? ''} onChange={(e) => onSelect(e.target.value)}>
              {list.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title}
                </option>
              ))}
            </select>
          </label>
        </div>
        <Legend />
        {dag.data && current && dag.data.campaign_id === current.id ? (
          dag.data.count ? <DagView dag={dag.data} title={current.title} /> : <p className="muted">Not planned yet: step the simulation to let the Planner run.</p>
        ) : (
          <p className="muted">No campaign selected.</p>
        )}
      </div>
    </section>
  );
}

const total = (d: QueueDepthView) => d.ready + d.delayed + d.leased;

function Depth({ d, max, label }: { d: QueueDepthView; max: number; label: string }) {
  const w = (n: number) => `${(100 * n) / max}%`;
  return (
    <div className="depth" role="img" aria-label={`${label}: ${d.ready} ready, ${d.delayed} delayed, ${d.leased} leased`}>
      <div className="depth-bar">
        <span className="d-ready" style={{ width: w(d.ready) }} />
        <span className="d-delayed" style={{ width: w(d.delayed) }} />
        <span className="d-leased" style={{ width: w(d.leased) }} />
      </div>
      <span className="num small">
        {d.ready} / {d.delayed} / {d.leased}
      </span>
    </div>
  );
}

function Legend() {
  return (
    <p className="legend-row small" aria-label="Status colours">
      {['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL'].map((s) => (
        <span key={s} className={`badge st-${s}`}>
          {s}
        </span>
      ))}
    </p>
  );
}
