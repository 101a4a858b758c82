/**
 * What a namespace's channel handlers get from the StudioService: a small, explicit context
 * (the session accessor, the exclusive lock, the status read-out, …). Each `*-channels.ts`
 * module exports one builder taking the part of this context it uses and returning the
 * handlers of its namespace (`'sim/…'`, `'campaigns/…'`, …), typed by the contract; the
 * service spreads them into one ChimeraHandlers map, so a channel left out or misnamed fails
 * the type-check.
 */
import type { ChimeraConfig } from '../../config/config.ts';
import type { ChannelName, ChimeraHandlers } from '../../shared/contract.ts';
import type { BackendProfile, BranchView, Breakpoint, PushMessage, SimStatus, StepStateView } from '../../shared/types.ts';
import type { SettingsFile } from '../studio-settings.ts';
import type { InspectReaderSource } from './inspect-pool.ts';
import type { RunRequest, Session, SessionRun } from './session.ts';

/** The handlers of one channel namespace, e.g. NamespaceHandlers<'sim'> has every 'sim/…' channel. */
export type NamespaceHandlers<NS extends string> = Pick<ChimeraHandlers, Extract<ChannelName, `${NS}/${string}`>>;

export interface StudioContext {
  /** App config; its data_dir holds settings and the file profiles. */
  readonly config: ChimeraConfig;
  readonly settings: SettingsFile;
  /** The open session; BACKEND_UNAVAILABLE when there is none or the service is closed. */
  current(): Session;
  /** Runs fn with the engine to itself (no run chunk or other command in between). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  status(): SimStatus;
  /** Inside the lock: closes the session and opens the next (falls back to in-memory if that fails). */
  replaceSession(profile: BackendProfile, run: SessionRun): Promise<void>;
  /** Inside the lock: rebuilds the run up to `step` on a fresh in-memory backend and continues from there. */
  scrub(step: number): Promise<SimStatus>;
  /** Starts a background run (the previous one stopped first with stopRun). */
  startRun(req: RunRequest): void;
  /** Stops the background run and waits for its last chunk. */
  stopRun(): Promise<void>;
  /** Every branch of the run's history (studio/branches.ts). */
  branches(): BranchView[];
  /** Inside the lock: makes another branch the session. */
  switchBranch(id: string): Promise<SimStatus>;
  /** The run as it was at a step (studio/step-states.ts). */
  stateAt(step: number, campaign_id?: string): Promise<StepStateView>;
  /** The config of a named connection profile, its secrets resolved in memory (callers that only read open it read-only). */
  connectionConfig(name: string): Promise<ChimeraConfig>;
  /** Sets where runs pause by themselves. */
  setBreakpoints(bps: readonly Breakpoint[]): SimStatus;
  /** The inspection readers the 'inspect/…' channels read through, kept open between calls (studio/inspect-pool.ts). */
  readonly inspectReaders: InspectReaderSource;
  /**
   * Closes every pooled inspection reader (those in use when their call ends): whatever writes a
   * store behind the Inspector's back (a copy into a profile, a file replaced) calls it, so the
   * next inspection opens afresh. A profile switch does it by itself.
   */
  dropInspectReaders(): Promise<void>;
  /** Pushes a message to the UI (work that goes on in the background reports this way). */
  push(msg: PushMessage): void;
  /** Runs fn when the service closes, before the session does (stopping background work). */
  onClose(fn: () => Promise<void>): void;
}
