/**
 * What the core hands the UI: plain JSON records shaped for the views. They follow the
 * domain's field names (state_version, confidence_score, …) so a view reads like the seed.
 * Nothing here imports Node or the core; both sides of the bridge use these types. The status
 * and category lists copy src/domain/schemas.ts (test/layering/wire-copies.test.ts keeps them
 * equal), because the renderer may import src/shared only.
 */
export const CAMPAIGN_STATUSES = ['PLANNING', 'ACTIVE', 'PAUSED', 'COMPLETED'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const TASK_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const MEMORY_CATEGORIES = ['Episodic', 'Semantic', 'SOUL'] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];
export const FAULT_KINDS = ['transient_error', 'skill_failure', 'slow_worker', 'sensitive_topic', 'low_quality'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const BACKEND_KINDS = ['memory', 'sqlite', 'production'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];
export const THEMES = ['light', 'dark', 'system'] as const;
export type Theme = (typeof THEMES)[number];

export interface CampaignView {
  readonly id: string;
  readonly title: string;
  readonly goal: string;
  readonly status: CampaignStatus;
  readonly state_version: number;
  readonly persona_id: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly counts: Record<TaskStatus, number>;
}

export interface TaskRow {
  readonly id: string;
  readonly campaign_id: string;
  readonly role: string;
  readonly skill_name: string;
  readonly status: TaskStatus;
  readonly confidence_score: number | null;
  readonly attempts: number;
  readonly depends_on: readonly string[];
  readonly branch: string;
  readonly replans: number;
  readonly updated_at: string;
}

/** A task with its contents: node `index` of the campaign's DagView. */
export interface TaskDetail extends TaskRow {
  readonly index: number;
  readonly input_data: unknown;
  readonly output_data: unknown;
  readonly created_at: string;
}

export interface TaskPage {
  readonly total: number;
  readonly offset: number;
  readonly tasks: readonly TaskRow[];
}

/**
 * A campaign's DAG in compact form (100,000 tasks cross the bridge in a few MB): node i is the
 * i-th task in (created_at, id) order, its skill is skills[skill_of[i]], its status the letter
 * statuses[i] (see STATUS_LETTERS), and its dependencies dep_list[dep_start[i] .. dep_start[i+1]).
 */
export interface DagView {
  readonly campaign_id: string;
  readonly count: number;
  readonly skills: readonly string[];
  readonly skill_of: readonly number[];
  readonly statuses: string;
  readonly dep_start: readonly number[];
  readonly dep_list: readonly number[];
}

/** One letter per task status, for DagView.statuses. */
export const STATUS_LETTERS: Readonly<Record<TaskStatus, string>> = { PENDING: 'P', PROCESSING: 'R', COMPLETED: 'C', FAILED: 'F', ESC_HITL: 'H' };
export const STATUS_OF_LETTER: Readonly<Record<string, TaskStatus>> = { P: 'PENDING', R: 'PROCESSING', C: 'COMPLETED', F: 'FAILED', H: 'ESC_HITL' };

/** Node i's dependencies as indices. */
export function dagDeps(dag: DagView, i: number): readonly number[] {
  return dag.dep_list.slice(dag.dep_start[i], dag.dep_start[i + 1]);
}

export interface AgentView {
  readonly id: string;
  readonly kind: 'operator' | 'planner' | 'worker' | 'judge' | 'human' | 'housekeeper';
  readonly busy: boolean;
  readonly last: string;
}

export interface QueueDepthView {
  readonly ready: number;
  readonly delayed: number;
  readonly leased: number;
}

export interface QueueView {
  readonly campaign_id: string;
  readonly title: string;
  readonly task_queue: QueueDepthView;
  readonly review_queue: QueueDepthView;
}

export interface SwarmView {
  readonly agents: readonly AgentView[];
  readonly queues: readonly QueueView[];
}

export interface RunSummaryView {
  readonly steps: number;
  readonly ticks: number;
  readonly finished: string | null;
  readonly campaigns: { readonly total: number; readonly completed: number };
  readonly tasks: { readonly total: number; readonly completed: number; readonly failed: number; readonly escalated: number };
  readonly hitlPending: number;
  readonly conflicts: number;
  readonly retries: number;
  readonly replans: number;
  readonly redeliveries: number;
  readonly duplicatesSkipped: number;
  readonly humanDecisions: number;
  readonly eventLogSha256: string;
}

export interface FaultRates {
  readonly transient_error: number;
  readonly skill_failure: number;
  readonly slow_worker: number;
  readonly sensitive_topic: number;
  readonly low_quality: number;
}

export interface SimStatus {
  readonly scenario: string;
  readonly seed: number;
  readonly workers: number;
  readonly judges: number;
  readonly faults: FaultRates;
  readonly human_enabled: boolean;
  readonly step: number;
  readonly tick: number;
  readonly finished: string | null;
  readonly running: boolean;
  /** Steps per second while running; 0 means as fast as possible. */
  readonly speed: number;
  readonly backend: BackendKind;
  readonly events: number;
  readonly summary: RunSummaryView;
  /** Set after a timeline scrub: the step the run was rebuilt to. */
  readonly replayed_from: number | null;
  /** Increases with every snapshot; the UI keeps the newest (pushes and replies can cross). */
  readonly seq: number;
  /** Time travel, breakpoints and waiting on people (see RunExtras). */
  readonly extras: RunExtras;
}

export interface EngineEventView {
  readonly step: number;
  readonly tick: number;
  readonly agent: string;
  readonly type: string;
  readonly campaign_id?: string;
  readonly task_id?: string;
  readonly data?: Record<string, unknown>;
}

export interface EventPage {
  readonly total: number;
  readonly events: readonly EngineEventView[];
}

export interface ScenarioInfo {
  readonly name: string;
  readonly description: string;
  readonly personas: readonly string[];
  readonly workers: number;
  readonly seed: number;
  readonly faults: FaultRates;
  /** Whether the scenario's simulated reviewer decides escalated items. */
  readonly human_enabled: boolean;
}

/** A memory the Judge compared an output with; its text is in the list's `memory_texts` (sent once however many items share it). */
export interface ComparedMemory {
  readonly id: string;
  readonly category: string;
  readonly score: number;
}

export interface ReviewItem {
  readonly task_id: string;
  readonly campaign_id: string;
  readonly campaign_title: string;
  /** The campaign's state_version when this item was read; a decision must carry it. */
  readonly state_version: number;
  readonly persona_id: string;
  readonly skill_name: string;
  /** When the Judge escalated it (the task's updated_at). */
  readonly escalated_at: string;
  readonly text: string;
  readonly reasoning: string;
  readonly worker_confidence: number | null;
  readonly score: number | null;
  readonly reasons: readonly string[];
  readonly sensitive_topics: readonly string[];
  readonly memories: readonly ComparedMemory[];
}

/** One reviewed task as the store holds it now: its status, the decision on it and the output that stands. */
export interface DecidedTask {
  readonly task_id: string;
  readonly campaign_title: string;
  readonly skill_name: string;
  readonly status: TaskStatus;
  /** The human decision recorded on the task (null: none yet). */
  readonly decision: 'approve' | 'edit' | 'reject' | null;
  readonly reviewer: string | null;
  /** The output that stands: the edited text after an edit, else the worker's. */
  readonly output_text: string;
  /** The worker's text, when an edit replaced it (else null). */
  readonly original_text: string | null;
}

export interface MemoryHitView {
  readonly id: string;
  readonly persona_id: string;
  readonly content: string;
  readonly category: MemoryCategory;
  readonly timestamp: string;
  readonly score: number;
}

/** One stored memory, as the memory view browses them. */
export interface MemoryView {
  readonly id: string;
  readonly persona_id: string;
  readonly content: string;
  readonly category: MemoryCategory;
  readonly timestamp: string;
}

/** Which model embeds persona memory, plainly: the hashing stand-in or MiniLM, and how to get MiniLM. */
export interface EmbedderView {
  /** The model id stored beside every vector (e.g. hashing-v1-256, Xenova/all-MiniLM-L6-v2:quantized). */
  readonly model_id: string;
  readonly dimensions: number;
  /** True for the hashing embedder: it matches shared words, not meaning. */
  readonly stand_in: boolean;
  /** What the config asked for ('hashing' | 'transformers'); a transformers model that cannot load falls back to hashing. */
  readonly configured: string;
  /** The transformers model the config names, where it is looked for, and whether it is all there. */
  readonly model: string;
  readonly model_folder: string;
  readonly model_installed: boolean;
  /** Why the configured model is not in use (the fallback notice), or null. */
  readonly notice: string | null;
  /** The one step that installs and uses the model when online; then the second for later, offline starts. */
  readonly install_step: string;
  readonly offline_step: string;
  /** The model of the stored vectors (null while empty): a different one needs `chimera memory reindex`. */
  readonly stored_model_id: string | null;
}

export interface PersonaInfo {
  readonly id: string;
  readonly memories: number;
}

export interface AuditRow {
  readonly seq: number;
  readonly id: string;
  readonly actor: string;
  readonly action: string;
  readonly entity_type: string;
  readonly entity_id: string;
  readonly campaign_id: string | null;
  readonly before_status: string | null;
  readonly after_status: string | null;
  readonly state_version: number | null;
  readonly timestamp: string;
  readonly details: unknown;
  readonly prev_hash: string;
  readonly hash: string;
}

export interface AuditVerificationView {
  readonly ok: boolean;
  readonly checked: number;
  readonly broken_at: number | null;
  readonly reason: string | null;
  readonly head_hash: string;
}

export interface AuditPage {
  readonly total: number;
  readonly events: readonly AuditRow[];
  readonly verification: AuditVerificationView;
  readonly actions: readonly string[];
  readonly actors: readonly string[];
}

export interface MetricsView {
  /** One entry per tick from 0 to the current tick. */
  readonly ticks: readonly number[];
  /** Tasks decided COMPLETED per tick (judge auto-approve and human approve). */
  readonly throughput: readonly number[];
  readonly conflicts_per_tick: readonly number[];
  /** Total ready+delayed+leased across campaigns at the end of each tick from 0, rebuilt from the event log. */
  readonly queue_depths: readonly { tick: number; task: number; review: number }[];
  /** Counts of judge scores in 20 buckets of 0.05 from 0 to 1. */
  readonly confidence_histogram: readonly number[];
  readonly routes: { readonly approved: number; readonly review: number; readonly rejected: number };
  readonly human: { readonly approve: number; readonly edit: number; readonly reject: number };
  readonly conflicts_total: number;
}

export interface BackendProfile {
  readonly kind: BackendKind;
  /** For SQLite: the profile's name (its file lives in the data folder). */
  readonly name: string | null;
  readonly path: string | null;
}

export interface BackendStatus {
  readonly active: BackendProfile;
  readonly description: string;
  readonly capabilities: { readonly transactions: boolean; readonly durable: boolean; readonly memory_exact: boolean; readonly memory_durable: boolean };
  readonly notices: readonly string[];
  readonly data_dir: string;
  /** Named profiles found in the data folder (of every backend that keeps a file; the field keeps its first name). */
  readonly sqlite_profiles: readonly { kind: BackendKind; name: string; path: string; bytes: number }[];
  readonly kinds: readonly BackendKind[];
  /** The backends this build can open, as the core's registry describes them. */
  readonly backends: readonly BackendChoiceView[];
}

/** One backend of the core's registry, for the Backend view. */
export interface BackendChoiceView {
  readonly kind: BackendKind;
  readonly label: string;
  readonly help: string;
  /** Its profiles are named files in the data folder (profiles/NAME/file_name); null: it keeps no file. */
  readonly file_name: string | null;
  readonly capabilities: {
    readonly transactions: boolean;
    readonly durable: boolean;
    readonly multiWriter: boolean;
    readonly readOnly: boolean;
    readonly serverTime: boolean;
    readonly exactSearch: boolean;
    readonly streamingExport: boolean;
  };
}

export interface Settings {
  readonly theme: Theme;
  readonly speed: number;
  readonly backend: BackendProfile;
  readonly last_run: { scenario: string; seed: number; workers: number; faults: FaultRates } | null;
}

/** Messages the core pushes to the UI (WebSocket in browser mode, IPC events in Electron). */
export type PushMessage =
  | { readonly type: 'status'; readonly status: SimStatus }
  | { readonly type: 'changed'; readonly what: 'session' | 'data' | 'settings' }
  | { readonly type: 'error'; readonly error: { code: string; message: string } }
  | { readonly type: 'copy'; readonly copy: CopyStatusView };

// ---------------------------------------------------------------- time travel (branches, state at a step, breakpoints)

/** One branch of the run's history: the run as first opened, or a replay of another branch from a step. */
export interface BranchView {
  readonly id: string;
  readonly label: string;
  /** The branch it was replayed from, or null for a run started anew. */
  readonly parent: string | null;
  /** The step of the parent it starts from, or null. */
  readonly forked_at: number | null;
  readonly backend: BackendKind;
  /** The file profile that holds it (SQLite), or null (in memory: kept while the app runs). */
  readonly profile_name: string | null;
  readonly scenario: string;
  readonly seed: number;
  /** The last step it holds. */
  readonly step: number;
  readonly active: boolean;
}

/** Agent kinds a breakpoint can stop before. */
export const BREAK_AGENTS = ['planner', 'worker', 'judge', 'human', 'housekeeper'] as const;
export type BreakAgent = (typeof BREAK_AGENTS)[number];
/** Routes a breakpoint can stop on: the Judge (or a person) escalates, rejects, or the Planner re-plans. */
export const BREAK_ROUTES = ['escalate', 'reject', 'replan'] as const;
export type BreakRoute = (typeof BREAK_ROUTES)[number];

/**
 * Where a run pauses: before the next action of an agent kind; on a worker claiming a task of a
 * skill (task type); on a route; on an optimistic-concurrency conflict.
 */
export type Breakpoint =
  | { readonly kind: 'agent'; readonly agent: BreakAgent }
  | { readonly kind: 'task_type'; readonly skill: string }
  | { readonly kind: 'route'; readonly route: BreakRoute }
  | { readonly kind: 'conflict' };

/** A task as it was at a step: what went in, what came out, and the Judge's verdict on it. */
export interface StepTaskView {
  readonly id: string;
  readonly campaign_id: string;
  readonly skill_name: string;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly input: unknown;
  readonly output: unknown;
  readonly judge: { readonly score: number | null; readonly route: string | null; readonly reasons: readonly string[] } | null;
}

/** The run as it was at one step: the state after it, and what the step itself did. */
export interface StepStateView {
  readonly step: number;
  readonly tick: number;
  /** The earliest step a run can be rebuilt at (the steps the run starts with), and the last it has. */
  readonly first_step: number;
  readonly last_step: number;
  /** The agent that acted at this step (e.g. worker-1, judge-0, ui), or null at the start. */
  readonly agent: string | null;
  readonly events: readonly EngineEventView[];
  /** The tasks this step touched, as they were after it. */
  readonly tasks: readonly StepTaskView[];
  readonly campaigns: readonly CampaignView[];
  readonly queues: readonly QueueView[];
  /** What waited for human review then. */
  readonly review: readonly { readonly task_id: string; readonly campaign_id: string; readonly skill_name: string; readonly score: number | null }[];
  /** The task graph of `campaign_id` (asked, or the step's, or the first) then, or null without campaigns. */
  readonly dag: DagView | null;
  /** How it was rebuilt: 'live' (the session's own step), or replayed from the copy parked at `from_step`. */
  readonly source: 'live' | 'replay';
  readonly from_step: number | null;
  readonly elapsed_ms: number;
}

/** What a run status says beyond SimStatus's first fields (time travel, breakpoints, waiting on people). */
export interface RunExtras {
  /** The earliest step the timeline can rebuild (the run's own start-up steps come first). */
  readonly first_step: number;
  /** The active branch's id (see sim/branches). */
  readonly branch_id: string;
  readonly breakpoints: readonly Breakpoint[];
  /** Why the last run stopped before it was asked to (a breakpoint, an escalation), or null. */
  readonly stop_reason: string | null;
  /** The run waits only on human decisions: their number (0 otherwise). It goes on by itself once they decide, if it was running. */
  readonly waiting_on_humans: number;
  /** A run asked to go on once people decide. */
  readonly resume_after_humans: boolean;
}

// ---------------------------------------------------------------- inspector (read-only)

/** One row as an inspector read it: the record, or the raw row and what is wrong with it (shown marked). */
export type InspectRowView<T = Record<string, unknown>> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly raw: unknown; readonly problem: string };

/**
 * How the inspector's campaigns and tasks can be sorted (copies of src/ports/readers.ts's
 * lists, kept equal by test/layering/wire-copies.test.ts): by a key that never changes, ties by
 * created_at then id, ascending or descending. A page's `next_cursor` belongs to its sort.
 */
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
export const CAMPAIGN_SORT_KEYS = ['created_at', 'persona_id'] as const;
export type CampaignSortKey = (typeof CAMPAIGN_SORT_KEYS)[number];
export const TASK_SORT_KEYS = ['created_at', 'skill_name'] as const;
export type TaskSortKey = (typeof TASK_SORT_KEYS)[number];

/** One page of an inspector list (keyset paged: pass `next_cursor` back as `cursor`). */
export interface InspectPageView<T = Record<string, unknown>> {
  readonly backend: string;
  readonly items: InspectRowView<T>[];
  readonly next_cursor: string | null;
}

/** A queue with its depths. */
export interface InspectQueueView {
  readonly space: string;
  readonly queue: string;
  readonly depth: { readonly ready: number; readonly delayed: number; readonly leased: number };
}

/** One queue item as stored (lease fields null while it waits). */
export interface InspectQueueItemView {
  readonly id: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly enqueued_at_ms: number;
  readonly available_at_ms: number;
  readonly lease_id: string | null;
  readonly consumer: string | null;
  readonly expires_at_ms: number | null;
}

/** A cached persona and its trait count. */
export interface InspectCacheView {
  readonly persona_id: string;
  readonly trait_count: number;
}

/** One task with its audit history (oldest first). */
export interface InspectTaskView {
  readonly backend: string;
  readonly task: InspectRowView | null;
  readonly history: InspectRowView[];
  readonly history_next_cursor: string | null;
  /** Why there is no history to read (the store keeps no audit log), else absent. */
  readonly history_absent?: string;
}

/** Every audit chain verified, per campaign ('(run)' for events of no campaign). */
export interface InspectVerifyView {
  readonly backend: string;
  readonly ok: boolean;
  readonly checked: number;
  readonly malformed: number;
  readonly broken: { readonly seq: number; readonly reason: string } | null;
  readonly chains: { readonly chain: string; readonly events: number; readonly ok: boolean }[];
  /** Why there was nothing to verify (the store keeps no audit log: `ok` is false), else null. */
  readonly absent?: string | null;
}

// ---------------------------------------------------------------- connection profiles (src/config/connections.ts)

/** Where one secret of a connection profile comes from (never its value). */
export type SecretSourceView = { readonly kind: 'env'; readonly env: string } | { readonly kind: 'file'; readonly file: string } | { readonly kind: 'sealed' } | null;

export const SECRET_FIELDS = ['postgres_password', 'redis_password', 'weaviate_api_key'] as const;
export type SecretFieldName = (typeof SECRET_FIELDS)[number];

/** One connection profile as the UI sees it: its settings and where each secret comes from. */
export interface ConnectionView {
  readonly name: string;
  /** 'app': saved by the app (connections.json); 'config': the config file's (edited there). */
  readonly source: 'app' | 'config';
  readonly postgres_url: string | null;
  readonly redis_url: string | null;
  readonly weaviate_url: string | null;
  readonly weaviate_grpc_port: number | null;
  readonly schema: string;
  readonly redis_prefix: string;
  readonly queues: 'redis' | 'postgres';
  readonly statement_timeout_ms: number;
  readonly read_only: boolean;
  readonly secrets: { readonly [F in SecretFieldName]: SecretSourceView };
}

export interface ConnectionsView {
  readonly connections: readonly ConnectionView[];
  /** How this app can keep a secret itself: Electron's safeStorage (sealed), or null (browser mode: environment or file only). */
  readonly vault: string | null;
  readonly notices: readonly string[];
}

/** Where the Inspector read persona memory: the profile's store, or this session's own persona memory (the in-memory profile; production without Weaviate). */
export const INSPECT_MEMORY_SOURCES = ['store', 'session'] as const;
export type InspectMemorySource = (typeof INSPECT_MEMORY_SOURCES)[number];

/** A page of persona memories by (timestamp, id), and how many pass the filter. */
export interface InspectMemoriesView extends InspectPageView<MemoryView> {
  readonly source: InspectMemorySource;
  readonly total: number;
}

/** One memory as stored: every property but the vector, the vector's model and length (null where the store recorded none). */
export interface InspectMemoryObjectView {
  readonly backend: string;
  readonly source: InspectMemorySource;
  readonly object: {
    readonly row: InspectRowView<MemoryView>;
    readonly properties: Record<string, unknown>;
    readonly model_id: string | null;
    readonly dimensions: number | null;
  } | null;
}

/** The k memories nearest to a plain-words query (embedded on this machine), nearest first. */
export interface InspectMemorySearchView {
  readonly backend: string;
  readonly source: InspectMemorySource;
  /** 1 − cosine similarity, 0 (same direction) to 2, computed by the studio for every backend alike. */
  readonly metric: 'cosine distance';
  /** The embedder that embedded the query: the app's configured one. */
  readonly embedder: { readonly model_id: string; readonly dimensions: number };
  /** The true k nearest (false: an approximate index proposed the candidates). */
  readonly exact: boolean;
  readonly items: (InspectRowView<MemoryView> & { readonly distance: number })[];
  /** Memories that could not be compared (a vector of another model or length), and their models. */
  readonly left_out: number;
  readonly left_out_models: string[];
}

// ---------------------------------------------------------------- copy (a whole state from one store to another)

/** One side of a copy as the UI names it: the in-memory session, a SQLite profile of the data folder (an existing one, or a new name as a target), production as configured. */
export type CopySideArg = { readonly kind: 'memory' } | { readonly kind: 'sqlite'; readonly name: string } | { readonly kind: 'production' } | { readonly kind: 'connection'; readonly name: string };

/** A side the Copy panel offers, and whether it can be each end. */
export interface CopySideView {
  readonly side: CopySideArg;
  readonly label: string;
  /** What it is (the file, the endpoints, what it holds). */
  readonly detail: string;
  /** Why it cannot be copied from, or null when it can. */
  readonly not_from: string | null;
  /** Why it cannot be copied into, or null when it can. */
  readonly not_to: string | null;
}

export const COPY_STATES = ['running', 'cancelling', 'cancelled', 'finished', 'failed'] as const;
export type CopyState = (typeof COPY_STATES)[number];

/** A finished copy: verified by the whole-state digest of both sides and every audit chain of the target. */
export interface CopyResultView {
  /** It went on from a copy stopped earlier (killed or cancelled). */
  readonly resumed: boolean;
  /** It had finished before: nothing was written, both sides were verified again. */
  readonly already_finished: boolean;
  readonly digest: string;
  readonly source_digest: string;
  /** The two whole-state digests are equal (else: equal section by section but `unlisted`, which one side does not keep). */
  readonly digests_equal: boolean;
  readonly unlisted: readonly string[];
  readonly memories_compared: boolean;
  /** Audit chains of the target, every one verified link by link. */
  readonly chains: number;
  /** What the target holds. */
  readonly counts: Readonly<Record<string, number>>;
  /** What this run wrote, per section. */
  readonly written: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  readonly seconds: number;
  /** Tasks this run copied per second of the whole run (verification included). */
  readonly tasks_per_s: number;
}

/** Where a copy stands (pushed as it goes, and answered by copy/status). */
export interface CopyStatusView {
  /** Counts up with each copy started in this app. */
  readonly id: number;
  readonly from: CopySideArg;
  readonly to: CopySideArg;
  readonly from_label: string;
  readonly to_label: string;
  readonly state: CopyState;
  /** Opening the sides, copying the sections, verifying both sides, done. */
  readonly phase: 'opening' | 'copy' | 'verify' | 'done';
  readonly section: string | null;
  /** While verifying: the side being digested. */
  readonly side: 'source' | 'target' | null;
  readonly section_done: number;
  readonly section_total: number;
  /** Records over the whole copy (copied, then digested on each side). */
  readonly done: number;
  readonly total: number;
  /** Records per second of this run, and the seconds it should still take (null until known). */
  readonly rate_per_s: number | null;
  readonly eta_s: number | null;
  readonly elapsed_s: number;
  /** It went on from a copy stopped earlier (null until the target was read). */
  readonly resumed: boolean | null;
  readonly result: CopyResultView | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** Orders reports: a push and a reply may arrive in either order. */
  readonly seq: number;
}
