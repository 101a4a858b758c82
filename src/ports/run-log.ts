/**
 * Where a simulation run keeps what it needs to resume and replay: its header (seed, config,
 * scenario), its progress (step, tick, virtual time) and its event log. Durable backends keep
 * it beside the state, so a killed process resumes from the same file.
 */
export interface RunHeader {
  readonly run_id: string;
  readonly seed: number;
  /** The engine config and scenario, as JSON the engine validates on load. */
  readonly config: unknown;
  readonly scenario: unknown;
  /** The personas the run was started with (runs written before this field have none). */
  readonly personas?: unknown;
  readonly created_at: string;
}

export interface RunProgress {
  readonly step: number;
  readonly tick: number;
  readonly clock_ms: number;
}

export interface RunLog {
  readonly kind: string;
  /** The run in this store, or null when none was started. */
  loadRun(): Promise<{ header: RunHeader; progress: RunProgress } | null>;
  /** Starts a run; refuses (DuplicateError) when one exists. */
  startRun(header: RunHeader, progress: RunProgress): Promise<void>;
  /**
   * Appends engine events (each a JSON-able object with a `step` number) and records progress,
   * atomically. `lines`, when given, is `JSON.stringify` of each event (the engine has them
   * already, from hashing its log): a store that keeps JSON uses them instead of serialising again.
   */
  append(events: readonly unknown[], progress: RunProgress, lines?: readonly string[]): Promise<void>;
  /** Events with step > after_step, in append order, up to limit. */
  readEvents(after_step?: number, limit?: number): Promise<unknown[]>;
  /** How many events are stored. */
  countEvents(): Promise<number>;
  /** Releases files and connections. */
  close(): Promise<void>;
}
