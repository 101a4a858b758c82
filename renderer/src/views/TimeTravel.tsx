/**
 * Time travel in the Simulation view: the branches of the run's history (every replay from a step
 * starts one; each stays reachable), breakpoints where a run pauses by itself, and the run as it
 * was at any step (campaigns, queues, task graph, review queue, and what the step did: its
 * agent's input and output and the Judge's reasons). Every event listed opens its whole JSON
 * in the contents drawer (EventButton).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { useContents } from '../components/ContentsDrawer.tsx';
import { showsEvent } from '../lib/contents.ts';
import {
  BREAK_AGENTS,
  BREAK_ROUTES,
  STATUS_OF_LETTER,
  TASK_STATUSES,
  type BranchView,
  type Breakpoint,
  type DagView,
  type EngineEventView,
  type StepStateView,
  type TaskStatus,
} from '../../../src/shared/types.ts';

// ---------------------------------------------------------------- branches

/** The branches as a tree: each under the one it was replayed from. */
export function BranchesPanel() {
  const { api, act, toast, status } = useStudio();
  const branches = useChannel('sim/branches', {});
  const list = branches.data?.branches ?? [];
  const byParent = new Map<string | null, BranchView[]>();
  for (const b of list) {
    const p = b.parent !== null && list.some((x) => x.id === b.parent) ? b.parent : null;
    byParent.set(p, [...(byParent.get(p) ?? []), b]);
  }
  const switchTo = async (b: BranchView) => {
    const r = await act(() => api['sim/branch']({ id: b.id }));
    if (r) toast('info', `Switched to ${b.label} (step ${r.step})`);
  };
  const render = (parent: string | null) => {
    const kids = byParent.get(parent) ?? [];
    if (kids.length === 0) return null;
    return (
      <ul className="branches">
        {kids.map((b) => (
          <li key={b.id} data-testid="branch" data-branch={b.label} data-active={b.active ? 'yes' : 'no'}>
            <span className={b.active ? 'branch active' : 'branch'}>
              <b>{b.label}</b>{' '}
              <span className="muted small">
                {b.backend === 'memory' ? 'in memory' : b.backend} · {b.scenario} seed {b.seed} · {b.forked_at !== null ? `from step ${b.forked_at} · ` : ''}step {b.step}
              </span>{' '}
              {b.active ? (
                <span className="badge">active</span>
              ) : (
                <button type="button" onClick={() => void switchTo(b)} disabled={!!status?.running} aria-label={`Switch to branch ${b.label}`}>
                  Switch
                </button>
              )}
            </span>
            {render(b.id)}
          </li>
        ))}
      </ul>
    );
  };
  return (
    <div className="panel" aria-labelledby="branches-h">
      <h2 id="branches-h">Branches</h2>
      <p className="muted small">
        Replaying to a step starts a branch; the run it came from is kept. A SQLite branch is a new file beside the original (it reopens after a restart); an
        in-memory branch lives while the app runs.
      </p>
      {render(null) ?? <p className="muted">No branches yet.</p>}
    </div>
  );
}

// ---------------------------------------------------------------- breakpoints

const ROUTE_LABEL: Record<(typeof BREAK_ROUTES)[number], string> = { escalate: 'escalate', reject: 'reject', replan: 're-plan' };

const same = (a: Breakpoint, b: Breakpoint) => JSON.stringify(a) === JSON.stringify(b);

export function BreakpointsPanel() {
  const { api, act, status } = useStudio();
  // what was just set shows at once; the core's list takes over when it answers
  const [pending, setPending] = useState<readonly Breakpoint[] | null>(null);
  const server = status?.extras?.breakpoints;
  useEffect(() => {
    if (pending && JSON.stringify(server) === JSON.stringify(pending)) setPending(null);
  }, [pending, server]);
  const bps = pending ?? server ?? [];
  const [skill, setSkill] = useState('');
  const set = (next: readonly Breakpoint[]) => {
    setPending(next);
    void act(() => api['sim/breakpoints']({ breakpoints: [...next] })).then((r) => {
      if (!r) setPending(null);
    });
  };
  const toggle = (b: Breakpoint, on: boolean) => set(on ? [...bps.filter((x) => !same(x, b)), b] : bps.filter((x) => !same(x, b)));
  const has = (b: Breakpoint) => bps.some((x) => same(x, b));
  const addSkill = (e: FormEvent) => {
    e.preventDefault();
    const s = skill.trim();
    if (!s) return;
    toggle({ kind: 'task_type', skill: s }, true);
    setSkill('');
  };
  const check = (b: Breakpoint, label: string) => (
    <label className="check" key={label}>
      <input type="checkbox" checked={has(b)} onChange={(e) => toggle(b, e.target.checked)} />
      {label}
    </label>
  );
  return (
    <div className="panel" aria-labelledby="bp-h">
      <h2 id="bp-h">Breakpoints</h2>
      <p className="muted small">A run pauses by itself here and says why; Run goes on from there.</p>
      <div className="bp-groups">
        <fieldset>
          <legend>Before an agent acts</legend>
          {BREAK_AGENTS.map((a) => check({ kind: 'agent', agent: a }, `Before ${a}`))}
        </fieldset>
        <fieldset>
          <legend>On a route</legend>
          {BREAK_ROUTES.map((r) => check({ kind: 'route', route: r }, `On ${ROUTE_LABEL[r]}`))}
          {check({ kind: 'conflict' }, 'On a conflict')}
        </fieldset>
        <fieldset>
          <legend>On a task type</legend>
          <form onSubmit={addSkill} className="inline-form">
            <label>
              Skill
              <input value={skill} onChange={(e) => setSkill(e.target.value)} placeholder="e.g. draft_post" />
            </label>
            <button type="submit">Add task-type breakpoint</button>
          </form>
          <ul className="plain">
            {bps
              .filter((b): b is Extract<Breakpoint, { kind: 'task_type' }> => b.kind === 'task_type')
              .map((b) => (
                <li key={b.skill}>
                  {b.skill}{' '}
                  <button type="button" onClick={() => toggle(b, false)} aria-label={`Remove breakpoint on task type ${b.skill}`}>
                    ×
                  </button>
                </li>
              ))}
          </ul>
        </fieldset>
      </div>
    </div>
  );
}

// ---------------------------------------------------------------- the state at a step

/** The run as it was at `step`; `onPick` selects another step (a task's history). */
export function StepStatePanel({ step, onPick, onClose }: { step: number; onPick: (step: number) => void; onClose: () => void }) {
  const [campaign, setCampaign] = useState<string | null>(null);
  const st = useChannel('sim/stepstate', { step, ...(campaign ? { campaign_id: campaign } : {}) }, { live: false });
  const [history, setHistory] = useState<string | null>(null);
  const d: StepStateView | null = st.data && st.data.step === step ? st.data : null;
  return (
    <section className="panel step-state" aria-labelledby="stepstate-h">
      <div className="toolbar">
        <h2 id="stepstate-h">State at step {step}</h2>
        <button type="button" onClick={() => onPick(Math.max(d?.first_step ?? 0, step - 1))} disabled={!d || step <= d.first_step} aria-label="Previous step">
          ◀ Previous
        </button>
        <button type="button" onClick={() => onPick(step + 1)} disabled={!d || step >= d.last_step} aria-label="Next step">
          Next ▶
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {st.error && <p className="notice bad" role="alert">{st.error.message}</p>}
      {!d && !st.error && <p className="muted">Rebuilding step {step}…</p>}
      {d && (
        <>
          <p className="muted small" data-testid="stepstate-source">
            Tick {d.tick} · {d.agent ? `acted: ${d.agent}` : 'start-up'} ·{' '}
            {d.source === 'live' ? 'the session’s current step' : `rebuilt by replay from step ${d.from_step} in ${d.elapsed_ms.toFixed(0)} ms`}
          </p>
          <h3>What the step did</h3>
          <ol className="events" aria-label={`Events of step ${step}`}>
            {d.events.map((e, i) => (
              <li key={i}>
                <b>{e.agent}</b> <EventButton event={e} /> {e.task_id && <span className="mono muted">{e.task_id.slice(0, 8)}</span>}{' '}
                {e.data && <span className="mono small muted">{short(e.data)}</span>}
              </li>
            ))}
          </ol>
          {d.tasks.map((t) => (
            <div key={t.id} className="step-task" aria-label={`Task ${t.id.slice(0, 8)} at step ${step}`}>
              <h3>
                Task {t.skill_name} <span className="mono muted">{t.id.slice(0, 8)}</span> <span className={`badge st-${t.status}`}>{t.status}</span>{' '}
                <span className="muted small">attempts {t.attempts}</span>{' '}
                <button type="button" onClick={() => setHistory(history === t.id ? null : t.id)} aria-expanded={history === t.id}>
                  History of task {t.id.slice(0, 8)}
                </button>
              </h3>
              {history === t.id && <TaskHistory task_id={t.id} current={step} onPick={onPick} />}
              {t.judge && (
                <div className="judge" aria-label="The Judge's verdict">
                  <b>Judge</b>: score {t.judge.score ?? '—'} · route {t.judge.route ?? '—'}
                  <ul>
                    {t.judge.reasons.map((r, i) => (
                      <li key={i}>{r}</li>
                    ))}
                  </ul>
                </div>
              )}
              <details>
                <summary>Input</summary>
                <pre className="mono small">{JSON.stringify(t.input, null, 2)}</pre>
              </details>
              <details>
                <summary>Output</summary>
                <pre className="mono small">{t.output === null ? '(none yet)' : JSON.stringify(t.output, null, 2)}</pre>
              </details>
            </div>
          ))}
          <div className="cols">
            <div className="grow">
              <h3>Campaigns then</h3>
              <table className="table" aria-label={`Campaigns at step ${step}`}>
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">Status</th>
                    <th scope="col">state_version</th>
                    <th scope="col">Tasks (done / all)</th>
                  </tr>
                </thead>
                <tbody>
                  {d.campaigns.map((c) => (
                    <tr key={c.id}>
                      <td>{c.title}</td>
                      <td>
                        <span className={`badge st-${c.status}`}>{c.status}</span>
                      </td>
                      <td className="num">{c.state_version}</td>
                      <td className="num">
                        {c.counts.COMPLETED} / {TASK_STATUSES.reduce((n, s) => n + c.counts[s], 0)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <h3>Queues then</h3>
              <table className="table" aria-label={`Queues at step ${step}`}>
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">task_queue (ready / delayed / leased)</th>
                    <th scope="col">review_queue (ready / delayed / leased)</th>
                  </tr>
                </thead>
                <tbody>
                  {d.queues.map((q) => (
                    <tr key={q.campaign_id}>
                      <td>{q.title}</td>
                      <td className="num">
                        {q.task_queue.ready} / {q.task_queue.delayed} / {q.task_queue.leased}
                      </td>
                      <td className="num">
                        {q.review_queue.ready} / {q.review_queue.delayed} / {q.review_queue.leased}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="grow">
              <h3>Waiting for human review then ({d.review.length})</h3>
              <ul className="plain small" aria-label={`Review queue at step ${step}`}>
                {d.review.slice(0, 50).map((r) => (
                  <li key={r.task_id}>
                    {r.skill_name} <span className="mono muted">{r.task_id.slice(0, 8)}</span> score {r.score ?? '—'}
                  </li>
                ))}
              </ul>
              <h3>Task graph then</h3>
              {d.campaigns.length > 0 && (
                <label className="inline">
                  Campaign
                  <select value={campaign ?? d.dag?.campaign_id ?? ''} onChange={(e) => setCampaign(e.target.value)}>
                    {d.campaigns.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.title}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              {d.dag && <DagSummary dag={d.dag} step={step} />}
            </div>
          </div>
        </>
      )}
    </section>
  );
}

/** A task graph as counts of each skill's tasks by status. */
function DagSummary({ dag, step }: { dag: DagView; step: number }) {
  const rows = dag.skills.map((s) => ({ skill: s, counts: Object.fromEntries(TASK_STATUSES.map((t) => [t, 0])) as Record<TaskStatus, number> }));
  let edges = 0;
  for (let i = 0; i < dag.count; i++) {
    const row = rows[dag.skill_of[i] as number];
    const status = STATUS_OF_LETTER[dag.statuses[i] as string];
    if (row && status) row.counts[status] += 1;
    edges += (dag.dep_start[i + 1] as number) - (dag.dep_start[i] as number);
  }
  return (
    <>
      <p className="muted small">
        {dag.count} tasks, {edges} dependencies
      </p>
      <table className="table" aria-label={`Task graph at step ${step}`}>
        <thead>
          <tr>
            <th scope="col">Skill</th>
            {TASK_STATUSES.map((s) => (
              <th scope="col" key={s}>
                {s}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.skill}>
              <td>{r.skill}</td>
              {TASK_STATUSES.map((s) => (
                <td className="num" key={s}>
                  {r.counts[s] || ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Every step that touched a task; each opens the state at that step. */
export function TaskHistory({ task_id, current, onPick }: { task_id: string; current: number; onPick: (step: number) => void }) {
  const h = useChannel('sim/events', { task_id, limit: 500 }, { live: false });
  return (
    <ol className="events" aria-label={`History of task ${task_id.slice(0, 8)}`}>
      {(h.data?.events ?? []).map((e, i) => (
        <li key={i}>
          <button type="button" className="linklike" onClick={() => onPick(e.step)} aria-current={e.step === current ? 'step' : undefined}>
            #{e.step}
          </button>{' '}
          <b>{e.agent}</b> <EventButton event={e} />
        </li>
      ))}
    </ol>
  );
}

/** An event's type, as a button that opens the whole event in the contents drawer. */
export function EventButton({ event: e }: { event: EngineEventView }) {
  const contents = useContents();
  return (
    <button
      type="button"
      className={`linklike ev ev-${e.type.replace('.', '-')}`}
      onClick={() => contents.open({ kind: 'event', event: e })}
      aria-label={`Open event ${e.type} of step ${e.step} by ${e.agent}${e.task_id ? ` on task ${e.task_id.slice(0, 8)}` : ''}`}
      aria-pressed={showsEvent(contents.current, e)}
    >
      {e.type}
    </button>
  );
}

function short(data: Record<string, unknown>): string {
  const { command: _command, at: _at, ...rest } = data;
  const s = JSON.stringify(rest);
  return s.length > 140 ? `${s.slice(0, 137)}…` : s;
}
