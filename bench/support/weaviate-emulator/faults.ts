/**
 * The emulator's log and fault switches. Every call is logged by its target (`GET
 * /v1/schema/{class}`, `grpc Search`, …) so a test counts attempts; a call the emulator does not
 * know is logged apart (`unknown`) so the test that made it fails. A fault rule makes the next
 * `times` calls of one target drop their connection, answer an error status, or answer late.
 */

export type FaultMode = 'drop' | 'status' | 'slow';

export interface FaultRule {
  /** The call it hits: a REST route (`GET /v1/schema/{class}`) or a gRPC method (`grpc Search`). */
  readonly target: string;
  readonly mode: FaultMode;
  /** How many calls it hits (default: every call until cleared). */
  readonly times?: number;
  /** For `status`: the HTTP status (REST, default 503) or gRPC status code (gRPC, default 14 UNAVAILABLE). */
  readonly status?: number;
  /** For `slow`: how long to wait before answering (ms). */
  readonly delay_ms?: number;
}

export interface LoggedCall {
  readonly target: string;
  /** What was asked, e.g. the path with its query or the gRPC collection. */
  readonly detail: string;
}

export class CallLog {
  readonly calls: LoggedCall[] = [];
  readonly unknown: string[] = [];
  private rules: { rule: FaultRule; left: number }[] = [];

  record(target: string, detail: string): void {
    this.calls.push({ target, detail });
  }

  /** A call the emulator does not serve: remembered for the test's teardown, which fails on any. */
  recordUnknown(what: string): void {
    this.unknown.push(what);
  }

  /** How many calls reached `target` (every attempt counts, faulted or not). */
  attempts(target: string): number {
    return this.calls.filter((c) => c.target === target).length;
  }

  addFault(rule: FaultRule): void {
    this.rules.push({ rule, left: rule.times ?? Infinity });
  }

  clearFaults(): void {
    this.rules = [];
  }

  /** The fault for this call, if a rule still applies (and uses one of its times). */
  take(target: string): FaultRule | null {
    const r = this.rules.find((x) => x.rule.target === target && x.left > 0);
    if (!r) return null;
    r.left -= 1;
    return r.rule;
  }

  reset(): void {
    this.calls.length = 0;
    this.unknown.length = 0;
    this.rules = [];
  }
}

/** Waits `ms`, or until `signal` aborts (a client that gave up). */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });
}
