/**
 * The engine's event log: one record per thing an agent did, in order. Its SHA-256 (over the
 * canonical JSON lines) identifies a run: the same seed and config give the same hash on
 * every backend. Events carry no backend-specific values (no lease ids, no wall time).
 * The engine builds every event with the same key order, and JSON round trips keep it, so
 * plain JSON.stringify is canonical here (and several times faster than sorting keys).
 */
import { createHash, type Hash } from 'node:crypto';

export const EVENT_TYPES = [
  'run.started',
  'persona.loaded',
  'campaign.created',
  'campaign.planned',
  'campaign.paused',
  'campaign.resumed',
  'campaign.completed',
  'task.enqueued',
  'task.claimed',
  'task.retry',
  'task.output',
  'task.lease_lost',
  'task.duplicate',
  'task.replanned',
  'lease.expired',
  'judge.decided',
  'judge.deferred',
  'occ.conflict',
  'human.decided',
  'memory.written',
  'audit.anchored',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EngineEvent {
  readonly step: number;
  readonly tick: number;
  readonly agent: string;
  readonly type: EventType;
  readonly campaign_id?: string;
  readonly task_id?: string;
  readonly data?: Record<string, unknown>;
}

export class EventLog {
  private hash: Hash = createHash('sha256');
  private readonly events: EngineEvent[] = [];
  /** Events not yet handed to the run log. */
  private pending: EngineEvent[] = [];
  private pendingLines: string[] = [];
  private readonly keep: boolean;

  constructor(opts: { keep?: boolean } = {}) {
    this.keep = opts.keep ?? true;
  }

  /** Serialised events not yet fed to the hash (hashed in batches: one update per ~64 KiB). */
  private unhashed: string[] = [];
  private unhashedChars = 0;

  push(e: EngineEvent): void {
    // lines are joined with "\n" (and one more after the last) when fed to the hash
    const line = JSON.stringify(e);
    this.unhashed.push(line);
    this.unhashedChars += line.length + 1;
    if (this.unhashedChars > 65536) this.feed();
    if (this.keep) this.events.push(e);
    this.pending.push(e);
    this.pendingLines.push(line);
  }

  private feed(): void {
    if (this.unhashed.length === 0) return;
    this.hash.update(this.unhashed.join('\n') + '\n');
    this.unhashed = [];
    this.unhashedChars = 0;
  }

  /** SHA-256 of the log so far. */
  sha256(): string {
    this.feed();
    return this.hash.copy().digest('hex');
  }

  get length(): number {
    return this.events.length;
  }

  all(): readonly EngineEvent[] {
    return this.events;
  }

  /** Hands over the events added since the last call, with their JSON lines (as hashed). */
  drain(): { events: EngineEvent[]; lines: string[] } {
    const out = { events: this.pending, lines: this.pendingLines };
    this.pending = [];
    this.pendingLines = [];
    return out;
  }
}

/** SHA-256 of a list of events, as EventLog computes it. */
export function eventLogSha256(events: Iterable<EngineEvent>): string {
  const h = createHash('sha256');
  for (const e of events) {
    h.update(JSON.stringify(e) + '\n');
  }
  return h.digest('hex');
}
