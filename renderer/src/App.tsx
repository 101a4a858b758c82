/** The studio shell: navigation, run status, theme, and one view at a time (each behind an error boundary). */
import { useEffect, useState } from 'react';
import { useChannel, useStudio } from './lib/studio.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { Toasts } from './components/Toasts.tsx';
import { ContentsProvider } from './components/ContentsDrawer.tsx';
import { CampaignsView } from './views/CampaignsView.tsx';
import { SimulationView, useSimShortcuts } from './views/SimulationView.tsx';
import { SwarmView } from './views/SwarmView.tsx';
import { ReviewView } from './views/ReviewView.tsx';
import { MemoryView } from './views/MemoryView.tsx';
import { AuditView } from './views/AuditView.tsx';
import { MetricsView } from './views/MetricsView.tsx';
import { BackendView } from './views/BackendView.tsx';
import { InspectorView } from './views/InspectorView.tsx';
import type { Theme } from '../../src/shared/types.ts';
import { runStateText } from './lib/run-state.ts';

export const VIEWS = [
  { id: 'simulation', label: 'Simulation' },
  { id: 'campaigns', label: 'Campaigns' },
  { id: 'swarm', label: 'Swarm' },
  { id: 'review', label: 'Human review' },
  { id: 'memory', label: 'Persona memory' },
  { id: 'audit', label: 'Audit log' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'backend', label: 'Backend' },
  { id: 'inspector', label: 'Inspector' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

const fromHash = (): ViewId => {
  const h = location.hash.replace(/^#\/?/, '');
  return (VIEWS.find((v) => v.id === h)?.id ?? 'simulation') as ViewId;
};

function useTheme(theme: Theme | undefined) {
  useEffect(() => {
    const apply = () => {
      const dark = theme === 'dark' || (theme !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
      document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    };
    apply();
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    mq.addEventListener('change', apply);
    return () => mq.removeEventListener('change', apply);
  }, [theme]);
}

export function App() {
  const { status, connection, api, act, client } = useStudio();
  const [view, setView] = useState<ViewId>(fromHash);
  const [campaign, setCampaign] = useState<string | null>(null);
  const settings = useChannel('settings/get', {});
  const theme = settings.data?.theme;
  useTheme(theme);
  useSimShortcuts(true);

  useEffect(() => {
    const onHash = () => setView(fromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const go = (id: ViewId) => {
    location.hash = `/${id}`;
    setView(id);
  };
  const hitl = status?.summary.hitlPending ?? 0;

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">Chimera Studio</div>
        <div className="runstate" aria-live="polite" data-testid="runstate">
          <span className={`dot ${status?.running ? 'on' : ''}`} aria-hidden="true" />
          {status ? `${status.scenario} · step ${status.step} · tick ${status.tick} · ${runStateText(status)} · ${status.backend}` : 'connecting…'}
        </div>
        <div className="topbar-right">
          {connection !== 'open' && (
            <span className="badge st-FAILED" role="status">
              {client.mode === 'browser' ? `server ${connection}` : 'core disconnected'}
            </span>
          )}
          <label className="inline">
            Theme
            <select value={theme ?? 'system'} onChange={(e) => void act(() => api['settings/set']({ theme: e.target.value as Theme })).then(() => settings.reload())}>
              <option value="system">System</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
        </div>
      </header>
      <nav className="sidenav" aria-label="Views">
        <ul>
          {VIEWS.map((v) => (
            <li key={v.id}>
              <button type="button" aria-current={view === v.id ? 'page' : undefined} onClick={() => go(v.id)}>
                {v.label}
                {v.id === 'review' && hitl > 0 && <span className="pill" aria-label={`${hitl} waiting`}>{hitl}</span>}
              </button>
            </li>
          ))}
        </ul>
        <p className="muted small shortcuts">
          Keys: <kbd>S</kbd> step · <kbd>T</kbd> tick · <kbd>R</kbd> run/pause · <kbd>E</kbd> run until escalation
        </p>
      </nav>
      {/* each view has its own contents drawer (a column beside it while open); it closes when the view changes */}
      <ContentsProvider key={view}>
        <main className="main" id="main">
          <ErrorBoundary name={VIEWS.find((v) => v.id === view)?.label ?? view}>
            {view === 'simulation' && <SimulationView />}
            {view === 'campaigns' && <CampaignsView selected={campaign} onSelect={setCampaign} />}
            {view === 'swarm' && <SwarmView selected={campaign} onSelect={setCampaign} />}
            {view === 'review' && <ReviewView />}
            {view === 'memory' && <MemoryView />}
            {view === 'audit' && <AuditView />}
            {view === 'metrics' && <MetricsView />}
            {view === 'backend' && <BackendView />}
            {view === 'inspector' && <InspectorView />}
          </ErrorBoundary>
        </main>
      </ContentsProvider>
      <Toasts />
    </div>
  );
}
