/**
 * The 'inspect/…' channels: the Inspector view's read side. They read the CURRENT profile's
 * store through the inspection readers (src/ports/readers.ts), opened with `composeReaders` on
 * the profile's read-only view: nothing is written and no lock is taken, so they run beside the
 * session's own writer. Each call opens the readers and closes them before it returns.
 *
 * The in-memory profile keeps its stores inside the session's ports, which nothing else can
 * open: there the channels read those very ports through the backend's in-process readers
 * (read-only views, between the engine's commits), and count queue times on the session's
 * virtual clock, the one its leases run on. A profile that serves neither is refused with a
 * ValidationError saying so. A row that does not fit the expected shape comes back marked
 * ({ok:false, raw, problem}).
 */
import { backendByKind, configForBackend, readOnlyView } from '../../config/backends/index.ts';
import { composeReaders } from '../../config/compose.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { Page, Readers, ReadRow } from '../../ports/readers.ts';
import type { InspectPageView, InspectRowView, InspectVerifyView } from '../../shared/types.ts';
import { InspectSession } from '../inspect-session.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';

type InspectContext = Pick<StudioContext, 'current' | 'config'>;

const DEFAULT_LIMIT = 50;

export function inspectChannels(ctx: InspectContext): NamespaceHandlers<'inspect'> {
  /**
   * Runs fn on a read-only session over the current profile's store, closed afterwards, with the
   * time that store's queue times are counted against: a durable store opened read-only as any
   * process would (wall-clock time), or the session's own in-process stores (its clock).
   */
  async function withSession<T>(fn: (s: InspectSession, now_ms: () => number) => Promise<T>): Promise<T> {
    const session = ctx.current();
    const { profile } = session;
    const entry = backendByKind(profile.kind);
    let opened: { readonly readers: Readers | (() => Promise<Readers>); now_ms(): number };
    if (entry.readers && entry.capabilities.durable && !(entry.files && profile.path === null)) {
      const config = readOnlyView(entry.files ? configForBackend(ctx.config, profile.kind, profile.path ?? undefined) : configForBackend(ctx.config, profile.kind));
      opened = { readers: () => composeReaders(config), now_ms: () => Date.now() };
    } else {
      const own = session.sim.ports.inspect?.();
      if (!own) throw new ValidationError(`the ${profile.kind} profile serves no inspection readers: switch to a SQLite or production profile to inspect`);
      opened = own;
    }
    const s = await InspectSession.open(opened.readers);
    try {
      return await fn(s, () => opened.now_ms());
    } finally {
      await s.close();
    }
  }
  const limitOf = (l: number | undefined) => l ?? DEFAULT_LIMIT;
  return {
    'inspect/campaigns': (a) =>
      withSession(async (s) => pageView(s.kind, await s.campaigns({ cursor: a.cursor ?? null, limit: limitOf(a.limit), ...(a.status ? { status: a.status } : {}), ...(a.sort ? { sort: a.sort } : {}) }))),
    'inspect/tasks': (a) =>
      withSession(async (s) =>
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
      withSession(async (s) => {
        const r = await s.task(a.id, a.history_limit ?? 200);
        if (!r) return { backend: s.kind, task: null, history: [], history_next_cursor: null };
        return { backend: s.kind, task: rowView(r.task), history: r.history.items.map(rowView), history_next_cursor: r.history.next_cursor };
      }),
    'inspect/queues': (a) =>
      withSession(async (s, now) => {
        const now_ms = now();
        return { ...pageView(s.kind, await s.queues({ now_ms, cursor: a.cursor ?? null, limit: limitOf(a.limit) })), now_ms };
      }),
    'inspect/queue': (a) =>
      withSession(async (s, now) => {
        const now_ms = now();
        return { ...pageView(s.kind, await s.queueItems({ space: a.space, queue: a.queue, state: a.state, cursor: a.cursor ?? null, limit: limitOf(a.limit) })), now_ms };
      }),
    'inspect/cache': (a) => withSession(async (s) => pageView(s.kind, await s.personas({ cursor: a.cursor ?? null, limit: limitOf(a.limit) }))),
    'inspect/verify': () => withSession(verifyAll),
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
