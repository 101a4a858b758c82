import { useStudio } from '../lib/studio.tsx';

/** Errors and notices from calls, stacked in a corner; each can be dismissed. */
export function Toasts() {
  const { toasts, dismiss } = useStudio();
  return (
    <div className="toasts" aria-live="assertive" aria-label="Notifications">
      {toasts.map((t) => (
        <div key={t.id} role={t.kind === 'info' ? 'status' : 'alert'} className={`toast toast-${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
