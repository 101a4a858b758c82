import { createRoot } from 'react-dom/client';
import { StrictMode } from 'react';
import { App } from './App.tsx';
import { createClient } from './lib/client.ts';
import { StudioProvider } from './lib/studio.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');

// errors outside React (a failed promise nobody awaited) still reach the user
function showFatal(message: string) {
  const el = document.createElement('div');
  el.setAttribute('role', 'alert');
  el.className = 'fatal';
  el.textContent = `Chimera Studio: ${message}`;
  document.body.appendChild(el);
}
window.addEventListener('unhandledrejection', (e) => console.error('unhandled rejection', e.reason));

try {
  const client = createClient();
  createRoot(root).render(
    <StrictMode>
      <ErrorBoundary name="Studio">
        <StudioProvider client={client}>
          <App />
        </StudioProvider>
      </ErrorBoundary>
    </StrictMode>,
  );
} catch (e) {
  showFatal((e as Error).message);
}
