/**
 * What the agents (one module each in this folder) see of the engine: its settings, the ports,
 * the clock and seeded streams, the event log, the mirror of each campaign, and the
 * single-process coordination the engine keeps in simulation mode (queue hints, the leases it
 * holds). SwarmEngine implements it; the agents decide, the engine steps them.
 */
import type { SeededRng } from '../../domain/seeded-rng.ts';
import type { Task, TaskStatus } from '../../domain/schemas.ts';
import type { Ports } from '../../ports/index.ts';
import type { EngineConfig, Scenario } from '../config.ts';
import type { EngineClock, PhaseTimer } from '../engine.ts';
import type { EventType } from '../events.ts';
import type { CampaignMirror } from '../mirror.ts';
import type { Coordination } from '../coordination.ts';
import type { PersonaView } from '../persona-view.ts';
import type { DecisionOutcome, UnitContext } from '../transactions.ts';

export interface AgentHost {
  readonly config: EngineConfig;
  readonly scenario: Scenario;
  readonly ports: Ports;
  readonly clock: EngineClock;
  readonly rng: SeededRng;
  readonly timer: PhaseTimer | undefined;
  readonly tickNo: number;
  /** Live mode (other engines share the stores), or null in simulation mode. */
  readonly live: { readonly run_id: string } | null;
  /** What the units of work (transactions.ts) need: audit drafts and the time. */
  readonly unitContext: UnitContext;
  readonly campaigns: Map<string, CampaignMirror>;
  /** Campaign ids in creation order. */
  readonly campaignOrder: readonly string[];
  /** The campaigns this engine created, in order (the operator's `campaign: n`). */
  readonly ownCampaigns: readonly string[];
  readonly personas: Map<string, PersonaView>;
  /** Content pieces per campaign, from the scenario (or the UI's new campaign). */
  readonly scenarioPieces: Map<string, number>;
  /** The campaigns' mirrors in creation order (the claim loop walks them). */
  readonly mirrorOrder: readonly CampaignMirror[];
  /** The single-process coordination of simulation mode: queue hints and the leases this engine took. */
  readonly coord: Coordination;
  operatorDone: number;
  conflicts: number;
  auditSinceAnchor: number;
  lastAnchorTick: number;

  /** Adds an event to the current step. */
  emit(type: EventType, fields?: { campaign_id?: string; task_id?: string; data?: Record<string, unknown> }): void;
  mirror(id: string): CampaignMirror;
  persona(id: string): Promise<PersonaView>;
  /** Puts tasks on the campaign's task queue; returns how many were not there already. */
  enqueueTasks(m: CampaignMirror, ids: readonly string[], log?: boolean): Promise<number>;
  commitDecision(
    m: CampaignMirror,
    task_id: string,
    version: number,
    route: TaskStatus,
    output_data: unknown,
    score: number | null,
    action: string,
    details: Record<string, unknown>,
    expected_status?: TaskStatus,
  ): Promise<DecisionOutcome>;
  afterDecision(m: CampaignMirror, task_id: string, route: TaskStatus, vector: Float32Array | null, completed: boolean, written: Task | null): Promise<void>;
  setCampaignStatus(id: string, status: 'PAUSED' | 'ACTIVE', expected_version?: number): Promise<void>;
}
