/** The selected campaign's task graph in the Campaigns view, fetched only while its section is open. */
import { useState } from 'react';
import type { CampaignView } from '../../../src/shared/types.ts';
import { useDag } from '../lib/dag-store.ts';
import { DagView } from './DagView.tsx';

export function CampaignGraph({ campaign }: { campaign: CampaignView }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="panel" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <h2 className="inline-h">Task graph of “{campaign.title}”</h2>
      </summary>
      {open && <Graph campaign={campaign} />}
    </details>
  );
}

function Graph({ campaign }: { campaign: CampaignView }) {
  const dag = useDag(campaign.id);
  if (!dag.data) return <p className="muted">Loading the graph…</p>;
  if (!dag.data.count) return <p className="muted">Not planned yet: step the simulation to let the Planner run.</p>;
  return <DagView dag={dag.data} title={campaign.title} />;
}
