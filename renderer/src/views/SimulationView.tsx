/**
 * Simulation: the run's settings (scenario, seed, workers, fault rates) and its controls —
 * step one action, finish the tick, run, pause, speed — with keyboard shortcuts; a timeline to
 * look at the run at any earlier step, or replay from there as a new branch (TimeTravel.tsx:
 * branches, breakpoints, the state at a step). Each recent event opens its whole JSON in the
 * contents drawer; its step number opens the run as it was at that step.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { cannotActReason, runStateText } from '../lib/run-state.ts';
import { FAULT_KINDS, type FaultRates } from '../../../src/shared/types.ts';
import { BranchesPanel, BreakpointsPanel, EventButton, StepStatePanel } from './TimeTravel.tsx';

// the default (10 steps/s) is a pace a person can follow; Max runs a short scenario in a blink
const SPEEDS = [
  { label: 'Max', value: 0 },
  { label: '1000 steps/s', value: 1000 },
  { label: '100 steps/s', value: 100 },
  { label: '30 steps/s', value: 30 },
  { label: '10 steps/s', value: 10 },
  { label: '3 steps/s', value: 3 },
];

export function useSimControls() {
  const { api, act, status } = useStudio();
  return {
    step: () => act(() => api['sim/step']({})),
    tick: () => act(() => api['sim/tick']({})),
    run: () => act(() => api['sim/run']({})),
    runUntilEscalated: () => act(() => api['sim/run']({ until_escalated: true })),
    pause: () => act(() => api['sim/pause']({})),
    toggle: () => act(() => (status?.running ? api['sim/pause']({}) : api['sim/run']({}))),
  };
}

/** s = step, t = tick, r = run/pause, e = run until an escalation; not while typing or on a control that takes keys. */
export function useSimShortcuts(enabled: boolean) {
  const c = useSimControls();
  const { status, toast } = useStudio();
  const why = cannotActReason(status);
  useEffect(() => {
    if (!enabled) return;
    const onKey = (ev: KeyboardEvent) => {
      const t = ev.target as HTMLElement | null;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      const k = ev.key.toLowerCase();
      // a finished run: the keys say why nothing happens
      if (why && 'stre'.includes(k) && k.length === 1) {
        toast('info', why);
        ev.preventDefault();
        return;
      }
      if (k === 's') void c.step();
      else if (k === 't') void c.tick();
      else if (k === 'r') void c.toggle();
      else if (k === 'e') void c.runUntilEscalated();
      else return;
      ev.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled, c, why, toast]);
}

export function SimulationView() {
  const { api, act, status, toast } = useStudio();
  const scenarios = useChannel('sim/scenarios', {}, { live: false });
  const controls = useSimControls();
  const [scenario, setScenario] = useState('');
  const [seed, setSeed] = useState(1);
  const [workers, setWorkers] = useState(3);
  const [human, setHuman] = useState(false);
  const [faults, setFaults] = useState<FaultRates>({ transient_error: 0, skill_failure: 0, slow_worker: 0, sensitive_topic: 0, low_quality: 0 });
  const [scrubTo, setScrubTo] = useState<number | null>(null);
  const [inspect, setInspect] = useState<number | null>(null);
  const events = useChannel('sim/events', { after_step: Math.max(0, (status?.step ?? 0) - 40), limit: 200 });

  // start from the session's own settings
  useEffect(() => {
    if (!status || scenario) return;
    setScenario(status.scenario);
    setSeed(status.seed);
    setWorkers(status.workers);
    setFaults(status.faults);
    setHuman(status.human_enabled);
  }, [status, scenario]);

  const pick = (name: string) => {
    setScenario(name);
    const s = scenarios.data?.scenarios.find((x) => x.name === name);
    if (s) {
      setWorkers(s.workers);
      setFaults(s.faults);
      setHuman(s.human_enabled);
    }
  };
  // a new run on a file profile replaces the run in that file: asked first (its branches, other files, stay)
  const [askNew, setAskNew] = useState(false);
  const open = async (e: FormEvent | null, confirmed = false) => {
    e?.preventDefault();
    if (!confirmed && status && status.backend !== 'memory' && status.step > (status.extras?.first_step ?? 0)) {
      setAskNew(true);
      return;
    }
    setAskNew(false);
    const r = await act(() => api['sim/open']({ scenario, seed, workers, faults, human_enabled: human }));
    if (r) {
      toast('info', `New run: ${r.scenario}, seed ${r.seed}`);
    }
  };
  const scrub = async () => {
    if (scrubTo === null) return;
    const r = await act(() => api['sim/scrub']({ step: scrubTo }));
    if (r) toast('info', `Rebuilt the run at step ${r.step} as a new branch (the run it came from is kept under Branches); continue from here`);
    setScrubTo(null);
  };
  const speed = status?.speed ?? 0;
  const step = status?.step ?? 0;
  const first = Math.min(status?.extras?.first_step ?? 0, step);
  const target = Math.max(first, scrubTo ?? step);
  const why = cannotActReason(status);
  const busy = !!status?.running;

  return (
    <section aria-labelledby="sim-h" className="view">
      <h1 id="sim-h">Simulation</h1>
      <div className="cols">
        <div className="panel grow">
          <h2>Controls</h2>
          <div className="toolbar" role="toolbar" aria-label="Run controls">
            <button type="button" onClick={() => void controls.step()} aria-keyshortcuts="S" disabled={busy || !!why}>
              Step <kbd>S</kbd>
            </button>
            <button type="button" onClick={() => void controls.tick()} aria-keyshortcuts="T" disabled={busy || !!why}>
              Tick <kbd>T</kbd>
            </button>
            {status?.running ? (
              <button type="button" onClick={() => void controls.pause()} aria-keyshortcuts="R" className="primary">
                Pause <kbd>R</kbd>
              </button>
            ) : (
              <button type="button" onClick={() => void controls.run()} aria-keyshortcuts="R" className="primary" disabled={!!why}>
                Run <kbd>R</kbd>
              </button>
            )}
            <button type="button" onClick={() => void controls.runUntilEscalated()} aria-keyshortcuts="E" disabled={busy || !!why}>
              Run until escalation <kbd>E</kbd>
            </button>
            <label className="inline">
              Speed
              <select value={speed} onChange={(e) => void act(() => api['sim/speed']({ steps_per_s: Number(e.target.value) }))}>
                {SPEEDS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {(why ?? status?.extras?.stop_reason) && (
            <p className="notice" role="status" data-testid="run-reason">
              {why ?? status?.extras?.stop_reason}
            </p>
          )}
          <dl className="stats" aria-label="Run status">
            <div><dt>Scenario</dt><dd>{status?.scenario}</dd></div>
            <div><dt>Seed</dt><dd>{status?.seed}</dd></div>
            <div><dt>Step</dt><dd data-testid="step">{step}</dd></div>
            <div><dt>Tick</dt><dd data-testid="tick">{status?.tick ?? 0}</dd></div>
            <div><dt>State</dt><dd data-testid="state">{status ? runStateText(status) : ''}</dd></div>
            <div><dt>Tasks</dt><dd>{status?.summary.tasks.total ?? 0}</dd></div>
            <div><dt>Completed</dt><dd>{status?.summary.tasks.completed ?? 0}</dd></div>
            <div><dt>Waiting for review</dt><dd data-testid="hitl">{status?.summary.hitlPending ?? 0}</dd></div>
            <div><dt>OCC conflicts</dt><dd>{status?.summary.conflicts ?? 0}</dd></div>
            <div><dt>Retries</dt><dd>{status?.summary.retries ?? 0}</dd></div>
            <div><dt>Re-plans</dt><dd>{status?.summary.replans ?? 0}</dd></div>
            <div><dt>Backend</dt><dd>{status?.backend}</dd></div>
          </dl>
          <p className="mono muted small">event log sha256 {status?.summary.eventLogSha256.slice(0, 16)}…</p>

          <h2>Timeline</h2>
          <div className="timeline">
            <label className="grow">
              Rebuild the run at step {target} of {step}
              <input
                type="range"
                min={first}
                max={Math.max(step, first + 1)}
                value={target}
                onChange={(e) => setScrubTo(Number(e.target.value))}
                aria-valuetext={`step ${target}`}
              />
            </label>
            <button type="button" onClick={() => setInspect(target)}>
              Show state at step {target}
            </button>
            <button type="button" onClick={() => void scrub()} disabled={scrubTo === null || scrubTo > step || busy}>
              Replay to step {target}
            </button>
          </div>
          <p className="muted small">
            Show state looks at the run as it was then (rebuilt by replay, nothing changes). Replay re-executes the recorded run (same seed, same outside commands) up to
            that step as a new branch, on the same backend; the run it came from stays under Branches. Steps 1–{first} are the run&apos;s start-up.
          </p>
          {status?.replayed_from !== null && status?.replayed_from !== undefined && (
            <p className="notice" role="status">
              This session was rebuilt at step {status.replayed_from} by replaying the recorded run ({status.backend === 'memory' ? 'in memory' : `a new ${status.backend} file`}); the run it came from is kept under Branches.
            </p>
          )}
        </div>

        <form className="panel form" onSubmit={(e) => void open(e)} aria-labelledby="newrun-h">
          <h2 id="newrun-h">New run</h2>
          <label>
            Scenario
            <select value={scenario} onChange={(e) => pick(e.target.value)}>
              {(scenarios.data?.scenarios ?? []).map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <p className="muted small">{scenarios.data?.scenarios.find((s) => s.name === scenario)?.description}</p>
          <label>
            Seed
            <input type="number" min={0} value={seed} onChange={(e) => setSeed(Number(e.target.value))} />
          </label>
          <label>
            Workers
            <input type="number" min={1} max={256} value={workers} onChange={(e) => setWorkers(Number(e.target.value))} />
          </label>
          <fieldset>
            <legend>Fault rates</legend>
            {FAULT_KINDS.map((k) => (
              <label key={k} className="slider">
                <span>{k.replace('_', ' ')}</span>
                <input type="range" min={0} max={1} step={0.05} value={faults[k]} onChange={(e) => setFaults({ ...faults, [k]: Number(e.target.value) })} />
                <output>{faults[k].toFixed(2)}</output>
              </label>
            ))}
          </fieldset>
          <label className="check">
            <input type="checkbox" checked={human} onChange={(e) => setHuman(e.target.checked)} />
            Simulated reviewer decides escalations
          </label>
          <button type="submit">Start new run</button>
          {askNew && (
            <div className="notice confirm" role="alertdialog" aria-labelledby="asknew-h">
              <b id="asknew-h">Replace the run in this {status?.backend} profile?</b>
              <span>Its {status?.step} steps are replaced by the new run (its branches, in files of their own, stay).</span>
              <button type="button" className="primary" onClick={() => void open(null, true)}>
                Replace the run
              </button>
              <button type="button" onClick={() => setAskNew(false)}>
                Cancel
              </button>
            </div>
          )}
          <p className="muted small">On a SQLite profile a new run replaces the data in that profile's file.</p>
        </form>
      </div>
      {inspect !== null && <StepStatePanel key={`${status?.extras?.branch_id}:${inspect}`} step={inspect} onPick={setInspect} onClose={() => setInspect(null)} />}
      <div className="cols">
        <div className="grow">
          <BranchesPanel />
        </div>
        <div className="grow">
          <BreakpointsPanel />
        </div>
      </div>
      <div className="panel">
        <h2>Recent events</h2>
        <ol className="events" aria-label="Recent events">
          {[...(events.data?.events ?? [])].slice(-40).reverse().map((e, i) => (
            <li key={`${e.step}-${i}`}>
              <button type="button" className="linklike num mono" onClick={() => setInspect(e.step)} aria-label={`Inspect step ${e.step}`} aria-current={inspect === e.step ? 'step' : undefined}>
                #{e.step}
              </button>{' '}
              <span className="muted">t{e.tick}</span> <b>{e.agent}</b> <EventButton event={e} />{' '}
              {e.task_id && <span className="mono muted">{e.task_id.slice(0, 8)}</span>}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
