/** Clocks. The engine only ever sees the Clock port; simulations use the virtual one. */
import type { Clock } from '../ports/clock.ts';

/** Virtual time: starts at a fixed instant and moves only when advanced. */
export class VirtualClock implements Clock {
  private ms: number;
  private isoCache: [number, string] = [Number.NaN, ''];
  constructor(start_ms = Date.UTC(2026, 0, 1)) {
    this.ms = start_ms;
  }
  now_ms(): number {
    return this.ms;
  }
  iso(): string {
    // virtual time stands still between ticks, so the string is reused until it moves
    if (this.isoCache[0] !== this.ms) this.isoCache = [this.ms, new Date(this.ms).toISOString()];
    return this.isoCache[1];
  }
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    this.ms += ms;
  }
  set(ms: number): void {
    if (ms < this.ms) throw new RangeError('virtual time never goes backwards');
    this.ms = ms;
  }
}

/** Wall-clock time, for inspecting live systems (never used by the engine). */
export class SystemClock implements Clock {
  now_ms(): number {
    return Date.now();
  }
  iso(): string {
    return new Date().toISOString();
  }
}
