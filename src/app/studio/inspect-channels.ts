/**
 * The 'inspect/…' channels: the Inspector view's read side. They read the CURRENT profile's
 * store through the inspection readers (src/ports/readers.ts), opened with `composeReaders` on
 * the profile's read-only view: nothing is written and no lock is taken, so they run beside the
 * session's own writer. The readers are kept open between calls (studio/inspect-pool.ts: one
 * open per inspected store, closed after a minute unused, on a profile switch and on close);
 * 'inspect/reset' closes the ones of a store, so the next call reads its layout afresh (the
 * Inspector's Refresh).
 *
 * With `target` a call reads instead the deployment the app's config names for that backend
 * (production: its Postgres schema and Redis prefix) without any session on it, so a cluster
 * Chimera's own services run can be looked at without the studio writing there (a session on
 * it would migrate its schema and start a run).
 *
 * The in-memory profile keeps its stores inside the session's ports, which nothing else can
 * open: there the channels read those very ports through the backend's in-process readers
 * (read-only views, between the engine's commits), and count queue times on the session's
 * virtual clock, the one its leases run on. A profile that serves neither is refused.
 * A row that does not fit the expected shape comes back marked ({ok:false, raw, problem}); a
 * store the deployment does not keep (no audit log in a database with only the seed's tables)
 * is said to be absent, not an error.
 */
import { backendByKind, configForBackend, readOnlyView } from '../../config/backends/index.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { ChimeraConfig } from '../../config/config.ts';
import type { Page, ReadRow } from '../../ports/readers.ts';
import type { BackendKind, InspectPageView, InspectRowView, InspectVerifyView } from '../../shared/types.ts';
import { InspectSession } from '../inspect-session.ts';
import { inspectMemoryChannels } from './inspect-memory.ts';
import { borrowed } from './inspect-pool.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';

type InspectContext = Pick<StudioContext, 'current' | 'config' | 'connectionConfig' | 'inspectReaders'>;

const DEFAULT_LIMIT = 50;

/** What an 'inspect/…' call reads: the session's profile (neither given), a backend's configured deployment, or a connection profile. */
export interface InspectTargetArgs {
  readonly target?: BackendKind | undefined;
  readonly connection?: string | undefined;
}

/**
 * The read-only config an inspection opens, or null when the session's profile keeps its stores
 * inside the session (in memory). A connection profile is read whatever it says about writing:
 * its secrets are resolved for the call and its stores opened read-only.
 */
export async function inspectedConfig(ctx: InspectContext, a: InspectTargetArgs): Promise<ChimeraConfig | null> {
  if (a.connection !== undefined) {
    if (a.target !== undefined && a.target !== 'production') throw new ValidationError(`connection: a connection profile is a production deployment; it cannot be read as target ${a.target}`);
    return readOnlyView(await ctx.connectionConfig(a.connection));
  }
  const target = a.target;
  const profile = target === undefined ? ctx.current().profile : { kind: target, name: null, path: null };
  const entry = backendByKind(profile.kind);
  if (target !== undefined && (entry.files || !entry.readers || !entry.capabilities.durable)) {
    throw new ValidationError(
      entry.files
        ? `target: a ${target} profile keeps a file of its own: switch to it to inspect it`
        : `target: the ${target} backend keeps nothing outside a session: there is no deployment of it to inspect`,
    );
  }
  if (!entry.readers || !entry.capabilities.durable || (entry.files && profile.path === null)) return null;
  // the session's production profile may be a connection profile (its name), else the config's
  if (target === undefined && profile.kind === 'production' && profile.name !== null) return readOnlyView(await ctx.connectionConfig(profile.name));
  return readOnlyView(entry.files ? configForBackend(ctx.config, profile.kind, profile.path ?? undefined) : configForBackend(ctx.config, profile.kind));
}

export function inspectChannels(ctx: InspectContext): NamespaceHandlers<'inspect'> {
  /**
   * Runs fn on a read-only session over what `a` names (the current profile's store by default),
   * with the time that store's queue times are counted against: a durable store opened read-only
   * as any process would (through the pool of open readers; wall-clock time), or the session's
   * own in-process stores (its clock; not pooled: they are in this process already).
   */
  async function withSession<T>(a: InspectTargetArgs, fn: (s: InspectSession, now_ms: () => number) => Promise<T>): Promise<T> {
    const config = await inspectedConfig(ctx, a);
    if (config) return ctx.inspectReaders.use(config, async (readers) => fn(await InspectSession.open(borrowed(readers)), () => Date.now()));
    const session = ctx.current();
    const own = session.sim.ports.inspect?.();
    if (!own) throw new ValidationError(`the ${session.profile.kind} profile serves no inspection readers: switch to a SQLite or production profile to inspect`);
    const s = await InspectSession.open(own.readers);
    try {
      return await fn(s, () => own.now_ms());
    } finally {
      await s.close();
    }
  }
  const limitOf = (l: number | undefined) => l ?? DEFAULT_LIMIT;
  return {
    'inspect/campaigns': (a) =>
      withSession(a, async (s) => pageView(s.kind, await s.campaigns({ cursor: a.cursor ?? null, limit: limitOf(a.limit), ...(a.status ? { status: a.status } : {}), ...(a.sort ? { sort: a.sort } : {}) }))),
    'inspect/tasks': (a) =>
      withSession(a, async (s) =>
        pageView(
          s.kind,
          await s.tasks({
            cursor: a.cursor ?? null,
            limit: limitOf(a.limit),
            ...(a.campaign_id ? { campaign_id: a.campaign_id } : {}),
            ...(a.status ? { status: a.status } : {}),
            ...(a.sort ? { sort: a.sort } : {}),
          }),
        ),
      ),
    'inspect/task': (a) =>
      withSession(a, async (s) => {
        const r = await s.task(a.id, a.history_limit ?? 200);
        const absent = s.absent('audit');
        const note = absent === null ? {} : { history_absent: absent };
        if (!r) return { backend: s.kind, task: null, history: [], history_next_cursor: null, ...note };
        return { backend: s.kind, task: rowView(r.task), history: r.history.items.map(rowView), history_next_cursor: r.history.next_cursor, ...note };
      }),
    'inspect/queues': (a) =>
      withSession(a, async (s, now) => {
        const now_ms = now();
        return { ...pageView(s.kind, await s.queues({ now_ms, cursor: a.cursor ?? null, limit: limitOf(a.limit) })), now_ms };
      }),
    'inspect/queue': (a) =>
      withSession(a, async (s, now) => {
        const now_ms = now();
        return { ...pageView(s.kind, await s.queueItems({ space: a.space, queue: a.queue, state: a.state, cursor: a.cursor ?? null, limit: limitOf(a.limit) })), now_ms };
      }),
    'inspect/cache': (a) => withSession(a, async (s) => pageView(s.kind, await s.personas({ cursor: a.cursor ?? null, limit: limitOf(a.limit) }))),
    'inspect/verify': (a) => withSession(a, verifyAll),
    // the Inspector's Refresh: the store's readers are opened afresh by the next call (its layout read again)
    'inspect/reset': async (a) => {
      const config = await inspectedConfig(ctx, a);
      return { dropped: config ? await ctx.inspectReaders.drop(config) : false };
    },
    // persona memory: its own resolution (the store, else this session's memory port)
    ...inspectMemoryChannels(ctx),
  };
}

/** A reader's row as the wire carries it (plain JSON; a bad row keeps its raw value and problem). */
function rowView<T>(r: ReadRow<T>): InspectRowView<never> {
  return (r.ok ? { ok: true, value: JSON.parse(JSON.stringify(r.value)) as never } : { ok: false, raw: r.raw ?? null, problem: r.problem }) as InspectRowView<never>;
}

function pageView<T>(backend: string, page: Page<T>): InspectPageView<never> {
  return { backend, items: page.items.map(rowView), next_cursor: page.next_cursor };
}

/** Every audit chain verified (as `chimera inspect audit --verify`). */
async function verifyAll(s: InspectSession): Promise<InspectVerifyView> {
  return { backend: s.kind, ...(await s.verifyAudit()) };
}
