/** Campaigns: the list (status, state_version, task counts), create, pause/resume, and each campaign's tasks (each opens its contents; its history, and the run at any of its steps). */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import type { CampaignView, TaskRow } from '../../../src/shared/types.ts';
import { TASK_STATUSES } from '../../../src/shared/types.ts';
import { VirtualList } from '../components/VirtualList.tsx';
import { PersonaSelect } from '../components/PersonaSelect.tsx';
import { StepStatePanel, TaskHistory } from './TimeTravel.tsx';
import { CampaignGraph } from '../components/CampaignGraph.tsx';
import { useContents } from '../components/ContentsDrawer.tsx';
import { showsTask } from '../lib/contents.ts';

export function CampaignsView({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const { api, act, toast } = useStudio();
  const campaigns = useChannel('campaigns/list', {});
  const personas = useChannel('memory/personas', {}, { live: false });
  const [title, setTitle] = useState('');
  const [goal, setGoal] = useState('');
  const [persona, setPersona] = useState('');
  const [pieces, setPieces] = useState(3);
  const list = campaigns.data?.campaigns ?? [];
  const current = list.find((c) => c.id === selected) ?? list[0] ?? null;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act(() => api['campaigns/create']({ title, goal, persona_id: persona || personas.data?.personas[0]?.id || '', content_pieces: pieces }));
    if (r?.campaign) {
      toast('info', `Created "${r.campaign.title}" (state_version ${r.campaign.state_version})`);
      setTitle('');
      setGoal('');
      onSelect(r.campaign.id);
    }
  };
  const toggle = (c: CampaignView) =>
    act(() => (c.status === 'PAUSED' ? api['campaigns/resume'] : api['campaigns/pause'])({ campaign_id: c.id, expected_version: c.state_version }));

  return (
    <section aria-labelledby="campaigns-h" className="view">
      <h1 id="campaigns-h">Campaigns</h1>
      <div className="cols">
        <div className="panel grow">
          <table className="table" aria-label="Campaigns">
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Persona</th>
                <th scope="col">Status</th>
                <th scope="col">state_version</th>
                <th scope="col">Tasks</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id} aria-selected={current?.id === c.id} className={current?.id === c.id ? 'sel' : ''}>
                  <td>
                    <button type="button" className="link" onClick={() => onSelect(c.id)} aria-label={`Show tasks of ${c.title}`}>
                      {c.title}
                    </button>
                  </td>
                  <td>{c.persona_id}</td>
                  <td>
                    <span className={`badge cs-${c.status}`}>{c.status}</span>
                  </td>
                  <td className="num" data-testid="state-version">
                    {c.state_version}
                  </td>
                  <td>
                    <Counts counts={c.counts} />
                  </td>
                  <td>
                    {(c.status === 'ACTIVE' || c.status === 'PAUSED') && (
                      <button type="button" onClick={() => void toggle(c)} aria-label={`${c.status === 'PAUSED' ? 'Resume' : 'Pause'} campaign ${c.title}`}>
                        {c.status === 'PAUSED' ? 'Resume' : 'Pause'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {list.length === 0 && (
                <tr>
                  <td colSpan={6}>No campaigns yet — create one, or start a run in Simulation.</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <form className="panel form" onSubmit={(e) => void create(e)} aria-labelledby="create-h">
          <h2 id="create-h">New campaign</h2>
          <label>
            Title
            <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={255} required />
          </label>
          <label>
            Goal
            <textarea value={goal} onChange={(e) => setGoal(e.target.value)} rows={3} required />
          </label>
          <PersonaSelect value={persona} onChange={setPersona} personas={personas.data?.personas} />
          <label>
            Content pieces
            <input type="number" min={1} max={100000} value={pieces} onChange={(e) => setPieces(Number(e.target.value))} />
          </label>
          <button type="submit">Create campaign</button>
        </form>
      </div>
      {current && <TaskList campaign={current} />}
      {current && <CampaignGraph campaign={current} />}
    </section>
  );
}

function Counts({ counts }: { counts: Record<string, number> }) {
  return (
    <span className="counts">
      {TASK_STATUSES.filter((s) => counts[s]).map((s) => (
        <span key={s} className={`badge st-${s}`} title={s}>
          {s} {counts[s]}
        </span>
      ))}
    </span>
  );
}

const PAGE = 200;

/** The campaign's tasks, windowed, fetched a page at a time as they scroll into view. */
export function TaskList({ campaign }: { campaign: CampaignView }) {
  const { api, revision } = useStudio();
  const contents = useContents();
  const [total, setTotal] = useState(0);
  const pages = useRef(new Map<number, readonly TaskRow[]>());
  const pending = useRef(new Set<number>());
  const [, setTick] = useState(0);
  const range = useRef<[number, number]>([0, 0]);
  // a task's history (the steps that touched it), and the state at one of them
  const [history, setHistory] = useState<string | null>(null);
  const [step, setStep] = useState<number | null>(null);

  const load = useCallback(
    async (page: number) => {
      if (pending.current.has(page)) return;
      pending.current.add(page);
      try {
        const r = await api['campaigns/tasks']({ campaign_id: campaign.id, offset: page * PAGE, limit: PAGE });
        pages.current.set(page, r.tasks);
        setTotal(r.total);
        setTick((t) => t + 1);
      } catch {
        // the list shows placeholders; the next change retries
      } finally {
        pending.current.delete(page);
      }
    },
    [api, campaign.id],
  );

  useEffect(() => {
    pages.current = new Map();
    void load(0);
  }, [load]);

  // on a change, refresh the pages in view (at most once a second while a run pushes changes)
  const lastRefresh = useRef(0);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    const refresh = () => {
      lastRefresh.current = performance.now();
      const [a, b] = range.current;
      for (let p = Math.floor(a / PAGE); p <= Math.floor(b / PAGE); p++) void load(p);
    };
    const wait = lastRefresh.current + 1000 - performance.now();
    if (wait <= 0) refresh();
    else refreshTimer.current ??= setTimeout(() => {
      refreshTimer.current = null;
      refresh();
    }, wait);
  }, [revision, load]);
  useEffect(() => () => {
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
  }, []);

  const onRange = useCallback(
    (first: number, last: number) => {
      range.current = [first, last];
      for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) if (!pages.current.has(p)) void load(p);
    },
    [load],
  );

  const row = (i: number) => {
    const t = pages.current.get(Math.floor(i / PAGE))?.[i % PAGE];
    if (!t) return <span role="cell" className="muted">loading…</span>;
    return (
      <>
        <span role="cell" className="c-idx num">{i + 1}</span>
        <span role="cell" className="c-skill">
          <button
            type="button"
            className="linklike"
            onClick={() => contents.open({ kind: 'task', task: { id: t.id } })}
            aria-label={`Open task ${i + 1}: ${t.skill_name}`}
            aria-pressed={showsTask(contents.current, t.id)}
          >
            {t.skill_name}
          </button>
        </span>
        <span role="cell" className="c-role">{t.role}</span>
        <span role="cell" className={`badge st-${t.status}`}>{t.status}</span>
        <span role="cell" className="num">{t.confidence_score ?? '—'}</span>
        <span role="cell" className="num">{t.attempts}</span>
        <span role="cell" className="mono muted">
          <button type="button" className="linklike" onClick={() => setHistory(t.id)} aria-label={`Show the history of task ${t.id.slice(0, 8)}`}>
            {t.id.slice(0, 8)}
          </button>
        </span>
      </>
    );
  };
  return (
    <div className="panel">
      <h2>
        Tasks of “{campaign.title}” <span className="muted">({total.toLocaleString()})</span>
      </h2>
      <VirtualList
        label={`Tasks of ${campaign.title}`}
        count={total}
        rowHeight={28}
        height={360}
        renderRow={row}
        onRange={onRange}
        header={
          <div className="vrow vhead" role="presentation">
            <span className="c-idx">#</span>
            <span className="c-skill">Skill</span>
            <span className="c-role">Role</span>
            <span>Status</span>
            <span>Confidence</span>
            <span>Attempts</span>
            <span>Id</span>
          </div>
        }
      />
      {history && (
        <div className="task-history">
          <h3>
            History of task <span className="mono">{history.slice(0, 8)}</span> <span className="muted small">(pick a step to see the run as it was then)</span>{' '}
            <button type="button" onClick={() => setHistory(null)} aria-label="Close the task history">
              ×
            </button>
          </h3>
          <TaskHistory task_id={history} current={step ?? -1} onPick={setStep} />
        </div>
      )}
      {step !== null && <StepStatePanel key={step} step={step} onPick={setStep} onClose={() => setStep(null)} />}
    </div>
  );
}
