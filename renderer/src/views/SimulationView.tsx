/**
 * Simulation: the run's settings (scenario, seed, workers, fault rates) and its controls —
 * step one action, finish the tick, run, pause, speed — with keyboard shortcuts, and a
 * timeline to rebuild the run at any earlier step and go on from there.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useChannel, useStudio } from '../lib/studio.tsx';
import { FAULT_KINDS, type FaultRates } from '../../../src/shared/types.ts';

const SPEEDS = [
  { label: 'Max', value: 0 },
  { label: '1000 steps/s', value: 1000 },
  { label: '100 steps/s', value: 100 },
  { label: '10 steps/s', value: 10 },
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
  useEffect(() => {
    if (!enabled) return;
    const onKey = (ev: KeyboardEvent) => {
      const t = ev.target as HTMLElement | null;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      const k = ev.key.toLowerCase();
      if (k === 's') void c.step();
      else if (k === 't') void c.tick();
      else if (k === 'r') void c.toggle();
      else if (k === 'e') void c.runUntilEscalated();
      else return;
      ev.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled, c]);
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
  const open = async (e: FormEvent) => {
    e.preventDefault();
    const r = await act(() => api['sim/open']({ scenario, seed, workers, faults, human_enabled: human }));
    if (r) {
      toast('info', `New run: ${r.scenario}, seed ${r.seed}`);
    }
  };
  const scrub = async () => {
    if (scrubTo === null) return;
    const r = await act(() => api['sim/scrub']({ step: scrubTo }));
    if (r) toast('info', `Rebuilt the run at step ${r.step} (replayed on a fresh in-memory backend); continue from here`);
    setScrubTo(null);
  };
  const speed = status?.speed ?? 0;
  const step = status?.step ?? 0;

  return (
    <section aria-labelledby="sim-h" className="view">
      <h1 id="sim-h">Simulation</h1>
      <div className="cols">
        <div className="panel grow">
          <h2>Controls</h2>
          <div className="toolbar" role="toolbar" aria-label="Run controls">
            <button type="button" onClick={() => void controls.step()} aria-keyshortcuts="S" disabled={!!status?.running}>
              Step <kbd>S</kbd>
            </button>
            <button type="button" onClick={() => void controls.tick()} aria-keyshortcuts="T" disabled={!!status?.running}>
              Tick <kbd>T</kbd>
            </button>
            {status?.running ? (
              <button type="button" onClick={() => void controls.pause()} aria-keyshortcuts="R" className="primary">
                Pause <kbd>R</kbd>
              </button>
            ) : (
              <button type="button" onClick={() => void controls.run()} aria-keyshortcuts="R" className="primary">
                Run <kbd>R</kbd>
              </button>
            )}
            <button type="button" onClick={() => void controls.runUntilEscalated()} aria-keyshortcuts="E" disabled={!!status?.running}>
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
          <dl className="stats" aria-label="Run status">
            <div><dt>Scenario</dt><dd>{status?.scenario}</dd></div>
            <div><dt>Seed</dt><dd>{status?.seed}</dd></div>
            <div><dt>Step</dt><dd data-testid="step">{step}</dd></div>
            <div><dt>Tick</dt><dd data-testid="tick">{status?.tick ?? 0}</dd></div>
            <div><dt>State</dt><dd>{status?.running ? 'running' : status?.finished ? `finished (${status.finished})` : 'paused'}</dd></div>
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
              Rebuild the run at step {scrubTo ?? step} of {step}
              <input
                type="range"
                min={0}
                max={Math.max(step, 1)}
                value={scrubTo ?? step}
                onChange={(e) => setScrubTo(Number(e.target.value))}
                aria-valuetext={`step ${scrubTo ?? step}`}
              />
            </label>
            <button type="button" onClick={() => void scrub()} disabled={scrubTo === null || scrubTo > step}>
              Replay to step {scrubTo ?? step}
            </button>
          </div>
          <p className="muted small">Rebuilding replays the recorded run (same seed, same outside commands) on a fresh in-memory backend; what you do next starts a new branch from there.</p>
          {status?.replayed_from !== null && status?.replayed_from !== undefined && (
            <p className="notice" role="status">
              This session was rebuilt at step {status.replayed_from} by replaying the recorded run on a fresh in-memory backend.
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
          <p className="muted small">On a SQLite profile a new run replaces the data in that profile's file.</p>
        </form>
      </div>
      <div className="panel">
        <h2>Recent events</h2>
        <ol className="events" aria-label="Recent events">
          {[...(events.data?.events ?? [])].slice(-40).reverse().map((e, i) => (
            <li key={`${e.step}-${i}`}>
              <span className="num mono">#{e.step}</span> <span className="muted">t{e.tick}</span> <b>{e.agent}</b> <span className={`ev ev-${e.type.replace('.', '-')}`}>{e.type}</span>{' '}
              {e.task_id && <span className="mono muted">{e.task_id.slice(0, 8)}</span>}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
