/** What the renderer says of a run's state, and why its controls are off (renderer/src/lib/run-state.ts). */
import { describe, expect, it } from 'vitest';
import { cannotActReason, runStateText } from '../../renderer/src/lib/run-state.ts';
import type { SimStatus } from '../../src/shared/types.ts';
import { openStudio } from './studio-support.ts';

describe('run state in words', () => {
  it('says running, paused, finished, and waiting on people, and why a run cannot act', async () => {
    const s = await openStudio();
    try {
      const base: SimStatus = s.service.status();
      const at = (p: { running?: boolean; finished?: SimStatus['finished']; waiting?: number; resume?: boolean }): SimStatus => ({
        ...base,
        running: p.running ?? false,
        finished: p.finished ?? null,
        extras: { ...base.extras, waiting_on_humans: p.waiting ?? 0, resume_after_humans: p.resume ?? false },
      });
      expect(runStateText(at({ running: true }))).toBe('running');
      expect(runStateText(at({}))).toBe('paused');
      expect(cannotActReason(at({}))).toBeNull();
      expect(runStateText(at({ finished: 'completed' }))).toBe('finished (completed)');
      expect(cannotActReason(at({ finished: 'completed' }))).toMatch(/^The run is finished: every campaign completed/);
      expect(cannotActReason(at({ finished: 'quiescent' }))).toMatch(/nothing is queued or scheduled/);
      expect(runStateText(at({ finished: 'quiescent', waiting: 3 }))).toBe('waiting on 3 human decisions');
      expect(runStateText(at({ finished: 'quiescent', waiting: 1 }))).toBe('waiting on 1 human decision');
      expect(cannotActReason(at({ finished: 'quiescent', waiting: 2, resume: true }))).toBe('Waiting on 2 human decisions: decide them in Human review and the run goes on by itself.');
      expect(cannotActReason(at({ running: true, finished: null }))).toBeNull();
    } finally {
      await s.cleanup();
    }
  });
});
