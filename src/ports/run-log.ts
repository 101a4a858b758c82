/**
 * Where a simulation run keeps what it needs to resume and replay: its header (seed, config,
 * scenario), its progress (step, tick, virtual time) and its event log. Durable backends keep
 * it beside the state, so a killed process resumes from the same file.
 */
import { ValidationError } from '../domain/errors.ts';

export interface RunHeader {
  readonly run_id: string;
  readonly seed: number;
  /** The engine config and scenario, as JSON the engine validates on load. */
  readonly config: unknown;
  readonly scenario: unknown;
  /** The personas the run was started with (runs written before this field have none). */
  readonly personas?: unknown;
  /** The embedding model its vectors came from (runs written before this field have none). */
  readonly embedder?: string;
  readonly created_at: string;
}

export interface RunProgress {
  readonly step: number;
  readonly tick: number;
  readonly clock_ms: number;
}

/** One stored event and its number in the log. */
export interface StoredRunEvent {
  /** Positive, strictly increasing in append order (not necessarily gap-free); 0 is "before the first". */
  readonly seq: number;
  readonly event: unknown;
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
  /**
   * Events with step > after_step, in append order, up to limit. Not for paging: a page that
   * ends inside a step's events cannot say where the next one starts (`readEventsAfter` can).
   */
  readEvents(after_step?: number, limit?: number): Promise<unknown[]>;
  /**
   * Up to `limit` events stored after the event numbered `after_seq` (0: from the first), in
   * append order, each with its number: the next page starts after the last `seq` returned.
   * ValidationError for a negative or fractional `after_seq` or `limit`.
   */
  readEventsAfter(after_seq?: number, limit?: number): Promise<StoredRunEvent[]>;
  /** How many events are stored. */
  countEvents(): Promise<number>;
  /** Releases files and connections. */
  close(): Promise<void>;
}

/** Refuses what every run log refuses in a page request (`readEventsAfter`). */
export function checkEventPage(after_seq: number, limit: number): void {
  if (!Number.isInteger(after_seq) || after_seq < 0) throw new ValidationError(`invalid after_seq ${after_seq}: must be an integer ≥ 0`);
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) throw new ValidationError(`invalid limit ${limit}: must be an integer ≥ 0`);
}
