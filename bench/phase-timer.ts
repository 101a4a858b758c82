/** Exclusive time per engine phase, measured with performance.now() outside the engine. */
import { PHASES, type Phase, type PhaseTimer } from '../src/engine/engine.ts';

export class StopwatchTimer implements PhaseTimer {
  readonly ms: Record<Phase, number> = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  private stack: Phase[] = [];
  private since = 0;

  start(phase: Phase): void {
    const now = performance.now();
    const cur = this.stack.at(-1);
    if (cur) this.ms[cur] += now - this.since;
    this.stack.push(phase);
    this.since = now;
  }

  stop(): void {
    const now = performance.now();
    const cur = this.stack.pop();
    if (cur) this.ms[cur] += now - this.since;
    this.since = now;
  }
}
