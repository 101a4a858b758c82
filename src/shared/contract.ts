/**
 * The one typed contract between the UI and the core: every channel, its argument schema and
 * its result type. Main (Electron), the preload, the browser-mode server, the service and the
 * renderer all use this file, so a channel cannot drift between them.
 *
 * Rules: names are `namespace/verb`; each channel takes ONE object argument (validated here,
 * strict: unknown keys are refused); results are plain JSON; errors cross as {code, message}
 * (./errors.ts). Imports nothing from Node or from outside src/shared.
 */
import { z } from 'zod';
import type {
  AuditPage,
  BackendStatus,
  BranchView,
  CampaignView,
  ConnectionsView,
  CopySideView,
  CopyStatusView,
  DagView,
  DecidedTask,
  EmbedderView,
  EventPage,
  InspectCacheView,
  InspectMemoriesView,
  InspectMemoryObjectView,
  InspectMemorySearchView,
  InspectPageView,
  InspectQueueItemView,
  InspectQueueView,
  InspectTaskView,
  InspectVerifyView,
  MemoryHitView,
  MemoryView,
  MetricsView,
  PersonaInfo,
  PushMessage,
  ReviewItem,
  ScenarioInfo,
  Settings,
  SimStatus,
  StepStateView,
  SwarmView,
  TaskDetail,
  TaskPage,
} from './types.ts';
import type { WireError } from './errors.ts';
import type { ConnectionReport } from './connection-report.ts';
import { BACKEND_KINDS, BREAK_AGENTS, BREAK_ROUTES, CAMPAIGN_SORT_KEYS, CAMPAIGN_STATUSES, MEMORY_CATEGORIES, SORT_DIRECTIONS, TASK_SORT_KEYS, TASK_STATUSES, THEMES } from './types.ts';
import { PersonaIdSchema } from './persona-id.ts';

const rate = z.number().min(0).max(1);
const id = z.string().min(1).max(200);
const Empty = z.strictObject({});
/**
 * What an inspector call reads: absent, the current profile's store; a backend kind, the
 * deployment the app's config names for it (production: its Postgres schema and Redis prefix),
 * read-only and without opening a session on it (a backend that keeps files is inspected by
 * switching to its profile).
 */
/** A connection profile's name (as the config file's and connections.json's keys). */
const connectionName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'connection name: 1–64 letters, digits, "-" and "_"');

/** What an inspection reads: the session's profile (neither), a backend's configured deployment (`target`), or a connection profile (`connection`). */
const inspectTarget = { target: z.enum(BACKEND_KINDS).optional(), connection: connectionName.optional() };

export const FaultRatesArg = z.strictObject({
  transient_error: rate,
  skill_failure: rate,
  slow_worker: rate,
  sensitive_topic: rate,
  low_quality: rate,
});

/** A profile name becomes a file name in the data folder, so it is kept to safe characters. */
const profileName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'profile name: letters, digits, "-" and "_" only');

/** One side of a copy (see CopySideArg in types.ts). */
export const CopySideArgSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('memory') }),
  z.strictObject({ kind: z.literal('sqlite'), name: profileName }),
  z.strictObject({ kind: z.literal('production') }),
  z.strictObject({ kind: z.literal('connection'), name: profileName }),
]);

/** A breakpoint (see Breakpoint in types.ts). */
export const BreakpointArg = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('agent'), agent: z.enum(BREAK_AGENTS) }),
  z.strictObject({ kind: z.literal('task_type'), skill: z.string().trim().min(1, 'skill is empty').max(100) }),
  z.strictObject({ kind: z.literal('route'), route: z.enum(BREAK_ROUTES) }),
  z.strictObject({ kind: z.literal('conflict') }),
]);

interface Channel<A extends z.ZodType, R> {
  readonly args: A;
  /** Phantom: carries the result type only. */
  readonly result: R;
  /** True for channels that change the session or its data (the UI refetches after them). */
  readonly mutates: boolean;
}
const ch = <R>() => <A extends z.ZodType>(args: A, mutates = false): Channel<A, R> => ({ args, result: undefined as R, mutates });

/** One secret of a profile being saved: kept as saved, typed (sealed by the desktop app's vault), from an environment variable or a file; null removes it. */
const SecretInput = z
  .union([
    z.strictObject({ keep: z.literal(true) }),
    z.strictObject({ value: z.string().min(1).max(4096) }),
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name') }),
    z.strictObject({ file: z.string().min(1).max(4096) }),
  ])
  .nullable();

/** A connection profile as the Connections form sends it (the core checks each URL's scheme). */
const ConnectionDraft = z.strictObject({
  name: connectionName,
  postgres_url: z.string().min(1).max(2000),
  redis_url: z.string().max(2000).nullable().optional(),
  weaviate_url: z.string().max(2000).nullable().optional(),
  weaviate_grpc_port: z.int().min(1).max(65535).nullable().optional(),
  schema: z.string().max(63).optional(),
  redis_prefix: z.string().max(64).optional(),
  queues: z.enum(['redis', 'postgres']).optional(),
  statement_timeout_ms: z.int().min(100).max(3_600_000).optional(),
  secrets: z.strictObject({ postgres_password: SecretInput.optional(), redis_password: SecretInput.optional(), weaviate_api_key: SecretInput.optional() }).optional(),
});

export const CHANNELS = {
  // ---------------------------------------------------------------- simulation
  'sim/status': ch<SimStatus>()(Empty),
  'sim/scenarios': ch<{ scenarios: ScenarioInfo[] }>()(Empty),
  'sim/open': ch<SimStatus>()(
    z.strictObject({
      scenario: z.string().min(1).max(200),
      seed: z.int().min(0).max(2 ** 31 - 1),
      workers: z.int().min(1).max(256).optional(),
      faults: FaultRatesArg.optional(),
      human_enabled: z.boolean().optional(),
    }),
    true,
  ),
  'sim/step': ch<{ status: SimStatus; events: EventPage['events'] }>()(
    // a few steps at a time; long runs go through sim/run, which yields between chunks
    z.strictObject({ count: z.int().min(1).max(1000).optional() }),
    true,
  ),
  'sim/tick': ch<{ status: SimStatus; steps: number }>()(Empty, true),
  'sim/run': ch<SimStatus>()(
    z.strictObject({ until_tick: z.int().min(0).optional(), until_escalated: z.boolean().optional(), max_steps: z.int().min(1).optional() }),
    true,
  ),
  'sim/pause': ch<SimStatus>()(Empty, true),
  'sim/speed': ch<SimStatus>()(z.strictObject({ steps_per_s: z.number().min(0).max(1_000_000) }), true),
  'sim/events': ch<EventPage>()(
    z.strictObject({
      after_step: z.int().min(0).optional(),
      limit: z.int().min(1).max(10_000).optional(),
      type: z.string().max(64).optional(),
      // one task's history (the steps that touched it)
      task_id: id.optional(),
    }),
  ),
  'sim/scrub': ch<SimStatus>()(z.strictObject({ step: z.int().min(0) }), true),
  'sim/swarm': ch<SwarmView>()(Empty),
  // time travel: every branch a replay started, switching between them, the state at any step, breakpoints
  'sim/branches': ch<{ branches: BranchView[] }>()(Empty),
  'sim/branch': ch<SimStatus>()(z.strictObject({ id: z.string().min(1).max(300) }), true),
  'sim/stepstate': ch<StepStateView>()(z.strictObject({ step: z.int().min(0), campaign_id: id.optional() })),
  'sim/breakpoints': ch<SimStatus>()(z.strictObject({ breakpoints: z.array(BreakpointArg).max(50) }), true),

  // ---------------------------------------------------------------- campaigns
  'campaigns/list': ch<{ campaigns: CampaignView[] }>()(Empty),
  'campaigns/create': ch<{ campaign: CampaignView | null; status: SimStatus }>()(
    z.strictObject({
      title: z.string().trim().min(1, 'title is empty').max(255, 'title is longer than 255 characters'),
      goal: z.string().trim().min(1, 'goal is empty').max(10_000),
      persona_id: PersonaIdSchema,
      content_pieces: z.int().min(1).max(100_000).optional(),
    }),
    true,
  ),
  'campaigns/pause': ch<{ campaign: CampaignView }>()(z.strictObject({ campaign_id: id, expected_version: z.int().min(1) }), true),
  'campaigns/resume': ch<{ campaign: CampaignView }>()(z.strictObject({ campaign_id: id, expected_version: z.int().min(1) }), true),
  'campaigns/tasks': ch<TaskPage>()(
    z.strictObject({
      campaign_id: id,
      offset: z.int().min(0),
      limit: z.int().min(1).max(5000),
      status: z.enum(TASK_STATUSES).optional(),
    }),
  ),
  'campaigns/dag': ch<DagView>()(z.strictObject({ campaign_id: id })),
  /** One task with its contents, by its node index in the campaign's DAG (the task graph's inspector). */
  'campaigns/task': ch<TaskDetail>()(z.strictObject({ campaign_id: id, index: z.int().min(0) })),

  // ---------------------------------------------------------------- human review
  // up to 10,000 items; total: how many wait (more than items when over the limit); memory_texts:
  // the text of every memory the items name, once (null: no longer in persona memory)
  'review/list': ch<{ items: ReviewItem[]; total: number; memory_texts: Record<string, string | null> }>()(z.strictObject({ campaign_id: id.optional() })),
  'review/decide': ch<{ status: SimStatus }>()(
    z
      .strictObject({
        task_id: id,
        decision: z.enum(['approve', 'reject', 'edit']),
        edited_text: z.string().min(1).max(20_000).optional(),
        expected_version: z.int().min(1),
      })
      .refine((v) => v.decision !== 'edit' || !!v.edited_text, { message: 'edited_text is required to edit then approve', path: ['edited_text'] }),
    true,
  ),

  'review/task': ch<DecidedTask>()(z.strictObject({ task_id: id })),

  // ---------------------------------------------------------------- persona memory
  'memory/personas': ch<{ personas: PersonaInfo[] }>()(Empty),
  'memory/search': ch<{ hits: MemoryHitView[]; model_id: string; exact: boolean }>()(
    z.strictObject({
      query: z.string().trim().min(1, 'query is empty').max(2000),
      k: z.int().min(1).max(100).optional(),
      // cosine similarity: hits scoring below it are left out
      min_score: z.number().min(-1).max(1).optional(),
      persona_id: PersonaIdSchema.optional(),
      categories: z.array(z.enum(MEMORY_CATEGORIES)).max(3).optional(),
    }),
  ),
  'memory/add': ch<{ id: string }>()(
    z.strictObject({
      persona_id: PersonaIdSchema,
      content: z.string().trim().min(1, 'memory content is empty').max(20_000),
      category: z.enum(MEMORY_CATEGORIES),
    }),
    true,
  ),

  'memory/list': ch<{ total: number; offset: number; memories: MemoryView[] }>()(
    z.strictObject({
      offset: z.int().min(0),
      limit: z.int().min(1).max(1000),
      persona_id: PersonaIdSchema.optional(),
      categories: z.array(z.enum(MEMORY_CATEGORIES)).max(3).optional(),
    }),
  ),
  'memory/update': ch<{ memory: MemoryView }>()(
    z.strictObject({
      id,
      content: z.string().trim().min(1, 'memory content is empty').max(20_000),
      category: z.enum(MEMORY_CATEGORIES).optional(),
    }),
    true,
  ),
  'memory/delete': ch<{ deleted: boolean }>()(z.strictObject({ id }), true),
  'memory/model': ch<EmbedderView>()(Empty),

  // ---------------------------------------------------------------- audit
  'audit/list': ch<AuditPage>()(
    z.strictObject({
      offset: z.int().min(0),
      limit: z.int().min(1).max(2000),
      campaign_id: id.optional(),
      action: z.string().max(64).optional(),
      actor: z.string().max(128).optional(),
      text: z.string().max(200).optional(),
    }),
  ),

  // ---------------------------------------------------------------- metrics
  'metrics/series': ch<MetricsView>()(Empty),

  // ---------------------------------------------------------------- backends
  'backend/status': ch<BackendStatus>()(Empty),
  'backend/switch': ch<BackendStatus>()(
    z
      .strictObject({ kind: z.enum(BACKEND_KINDS), name: profileName.optional() })
      .refine((v) => v.kind !== 'sqlite' || !!v.name, { message: 'a SQLite profile needs a name', path: ['name'] }),
    true,
  ),

  // ---------------------------------------------------------------- connection profiles (secrets go in, never come back)
  'connections/list': ch<ConnectionsView>()(Empty),
  'connections/save': ch<ConnectionsView>()(ConnectionDraft, true),
  'connections/delete': ch<ConnectionsView>()(z.strictObject({ name: connectionName }), true),
  // a saved profile by name, or (with postgres_url) the form's draft, tested before it is saved
  'connections/test': ch<ConnectionReport>()(ConnectionDraft.extend({ postgres_url: ConnectionDraft.shape.postgres_url.optional() })),
  'connections/set-read-only': ch<ConnectionsView>()(z.strictObject({ name: connectionName, read_only: z.boolean(), confirm: z.boolean().optional() }), true),

  // ---------------------------------------------------------------- inspector (read-only: the current profile's store through its readers,
  // or with `target` the deployment the config names for that backend, with no session on it)
  'inspect/campaigns': ch<InspectPageView>()(
    z.strictObject({
      ...inspectTarget,
      cursor: z.string().max(2000).nullable().optional(),
      limit: z.int().min(1).max(1000).optional(),
      status: z.enum(CAMPAIGN_STATUSES).optional(),
      sort: z.strictObject({ by: z.enum(CAMPAIGN_SORT_KEYS), dir: z.enum(SORT_DIRECTIONS) }).optional(),
    }),
  ),
  'inspect/tasks': ch<InspectPageView>()(
    z.strictObject({
      ...inspectTarget,
      cursor: z.string().max(2000).nullable().optional(),
      limit: z.int().min(1).max(1000).optional(),
      campaign_id: id.optional(),
      status: z.enum(TASK_STATUSES).optional(),
      sort: z.strictObject({ by: z.enum(TASK_SORT_KEYS), dir: z.enum(SORT_DIRECTIONS) }).optional(),
    }),
  ),
  'inspect/task': ch<InspectTaskView>()(z.strictObject({ ...inspectTarget, id, history_limit: z.int().min(1).max(1000).optional() })),
  'inspect/queues': ch<InspectPageView<InspectQueueView> & { now_ms: number }>()(z.strictObject({ ...inspectTarget, cursor: z.string().max(2000).nullable().optional(), limit: z.int().min(1).max(1000).optional() })),
  'inspect/queue': ch<InspectPageView<InspectQueueItemView> & { now_ms: number }>()(
    z.strictObject({
      ...inspectTarget,
      space: z.string().min(1).max(64),
      queue: z.string().min(1).max(300),
      state: z.enum(['waiting', 'leased']),
      cursor: z.string().max(2000).nullable().optional(),
      limit: z.int().min(1).max(1000).optional(),
    }),
  ),
  'inspect/cache': ch<InspectPageView<InspectCacheView>>()(z.strictObject({ ...inspectTarget, cursor: z.string().max(2000).nullable().optional(), limit: z.int().min(1).max(1000).optional() })),
  'inspect/verify': ch<InspectVerifyView>()(z.strictObject({ ...inspectTarget })),
  // the Inspector's Refresh: the readers kept open for that store are closed, so the next call opens them afresh (dropped: there were some)
  'inspect/reset': ch<{ dropped: boolean }>()(z.strictObject({ ...inspectTarget })),
  // persona ids as any program wrote them (not only ours): a filter is matched, not checked
  'inspect/memories': ch<InspectMemoriesView>()(
    z.strictObject({ ...inspectTarget, cursor: z.string().max(2000).nullable().optional(), limit: z.int().min(1).max(1000).optional(), persona_id: id.optional(), category: z.enum(MEMORY_CATEGORIES).optional() }),
  ),
  'inspect/memory': ch<InspectMemoryObjectView>()(z.strictObject({ ...inspectTarget, id })),
  'inspect/memory-search': ch<InspectMemorySearchView>()(
    z.strictObject({ ...inspectTarget, query: z.string().trim().min(1, 'the search text is empty').max(2000), k: z.int('must be an integer from 1 to 100').min(1, 'must be from 1 to 100').max(100, 'must be from 1 to 100').optional(), persona_id: id.optional(), category: z.enum(MEMORY_CATEGORIES).optional() }),
  ),

  // ---------------------------------------------------------------- copy (a whole state from one store to another, in the background; progress is pushed)
  'copy/sides': ch<{ sides: CopySideView[]; copy: CopyStatusView | null }>()(Empty),
  'copy/start': ch<CopyStatusView>()(z.strictObject({ from: CopySideArgSchema, to: CopySideArgSchema })),
  'copy/cancel': ch<{ copy: CopyStatusView | null }>()(Empty),
  'copy/status': ch<{ copy: CopyStatusView | null }>()(Empty),

  // ---------------------------------------------------------------- settings
  'settings/get': ch<Settings>()(Empty),
  'settings/set': ch<Settings>()(
    z.strictObject({ theme: z.enum(THEMES).optional(), speed: z.number().min(0).max(1_000_000).optional() }),
    true,
  ),
} as const;

export type ChannelName = keyof typeof CHANNELS;
export const CHANNEL_NAMES = Object.keys(CHANNELS) as ChannelName[];
/** What a caller passes (before defaults). */
export type ArgsOf<C extends ChannelName> = z.input<(typeof CHANNELS)[C]['args']>;
/** What a handler receives (after validation). */
export type ParsedArgsOf<C extends ChannelName> = z.output<(typeof CHANNELS)[C]['args']>;
export type ResultOf<C extends ChannelName> = (typeof CHANNELS)[C]['result'];

/** The client the renderer uses: one typed async function per channel. */
export type ChimeraApi = { readonly [C in ChannelName]: (args: ArgsOf<C>) => Promise<ResultOf<C>> };

/** The handlers the core provides: one per channel, each taking validated args. */
export type ChimeraHandlers = { readonly [C in ChannelName]: (args: ParsedArgsOf<C>) => Promise<ResultOf<C>> };

export function isChannelName(v: unknown): v is ChannelName {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(CHANNELS, v);
}

/** Validates one channel's argument; returns the parsed value or the problems, each naming its field. */
export function parseArgs<C extends ChannelName>(channel: C, raw: unknown): { ok: true; value: ParsedArgsOf<C> } | { ok: false; message: string; fields: string[] } {
  const r = (CHANNELS[channel].args as z.ZodType).safeParse(raw);
  if (r.success) return { ok: true, value: r.data as ParsedArgsOf<C> };
  const fields = r.error.issues.map((i) => (i.path.length ? i.path.join('.') : keysOf(i) ?? '(argument)'));
  const message = `${channel}: invalid argument: ${r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : keysOf(i) ?? '(argument)'}: ${i.message}`).join('; ')}`;
  return { ok: false, message, fields };
}

function keysOf(issue: z.core.$ZodIssue): string | null {
  return issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : null;
}

/** The IPC channel name for a contract channel (Electron): one prefix so main can refuse anything else. */
export const IPC_PREFIX = 'chimera:';
export const IPC_PUSH = 'chimera:push';

/** What travels back for one call: the result, or the error in its wire form. */
export type Envelope<R> = { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: WireError };

/**
 * What the Electron preload exposes as `window.chimera`: one function per channel (returning
 * the envelope, because contextBridge drops an Error's own fields) and a push subscription.
 */
export type ChimeraBridge = { readonly [C in ChannelName]: (args: ArgsOf<C>) => Promise<Envelope<ResultOf<C>>> } & {
  readonly onPush: (listener: (msg: PushMessage) => void) => () => void;
};
