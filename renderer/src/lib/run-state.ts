/** What a run status means for a person: one word for its state, and why the controls that cannot act are off. */
import type { SimStatus } from '../../../src/shared/types.ts';

/** running · paused · waiting on N human decisions · finished (…). */
export function runStateText(s: SimStatus): string {
  if (s.running) return 'running';
  const waiting = s.extras?.waiting_on_humans ?? 0;
  if (waiting > 0) return `waiting on ${waiting} human decision${waiting === 1 ? '' : 's'}`;
  if (s.finished) return `finished (${s.finished})`;
  return 'paused';
}

/** Why Step, Tick, Run and Run-until-escalation cannot act (the run has nothing left to do), or null when they can. */
export function cannotActReason(s: SimStatus | null): string | null {
  if (!s || s.running || !s.finished) return null;
  const waiting = s.extras?.waiting_on_humans ?? 0;
  if (waiting > 0) {
    return `Waiting on ${waiting} human decision${waiting === 1 ? '' : 's'}: decide ${waiting === 1 ? 'it' : 'them'} in Human review${
      s.extras.resume_after_humans ? ' and the run goes on by itself' : ', then run again'
    }.`;
  }
  if (s.finished === 'completed') return 'The run is finished: every campaign completed. Replay from an earlier step, or start a new run.';
  if (s.finished === 'max_ticks') return 'The run is finished: it reached its tick limit. Replay from an earlier step, or start a new run.';
  return 'The run is finished: nothing is queued or scheduled. Create a campaign to go on, replay from an earlier step, or start a new run.';
}
