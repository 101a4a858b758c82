/**
 * Runs a contract suite over every adapter in the table that serves its ports (Keyv's
 * test-suite style: the suite is a function of a harness, each entry wires it in once).
 *
 * Per entry: `setup()` once before the suite's tests and `teardown()` once after; per test, a
 * fresh namespace, and after the test every handle opened through the harness is closed and
 * the namespace dropped. An entry that cannot run here is skipped with its reason in the
 * test's name, or, when REQUIRE_ADAPTERS names it, fails with a test naming it and the reason.
 */
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import type { Clock } from '../../src/ports/clock.ts';
import type { Embedder } from '../../src/ports/embedder.ts';
import type { PersonaCache } from '../../src/ports/persona-cache.ts';
import type { PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import type { WorkQueue } from '../../src/ports/queue.ts';
import type { RunLog } from '../../src/ports/run-log.ts';
import type { StateStore } from '../../src/ports/state-store.ts';
import type { Readers } from '../../src/ports/readers.ts';
import {
  REQUIRED_ADAPTERS,
  adaptersFor,
  type AdapterContext,
  type AdapterEntry,
  type MalformKind,
  type PortName,
  type QueueSpace,
} from '../adapters.ts';

/**
 * What a contract suite gets: openers bound to one entry's context. Everything opened during a
 * test is closed after it (closing it in the test too is fine), and its namespaces dropped.
 */
export interface Harness {
  readonly entry: AdapterEntry;
  /** A fresh, empty namespace, dropped after the test. */
  namespace(): Promise<string>;
  state(namespace: string): Promise<StateStore>;
  queue<T>(namespace: string, clock: Clock, space?: QueueSpace): Promise<WorkQueue<T>>;
  personaCache(namespace: string): Promise<PersonaCache>;
  memory(namespace: string): Promise<PersonaMemoryStore>;
  runLog(namespace: string): Promise<RunLog>;
  /** The inspection readers on a namespace (closed after the test). */
  readers(namespace: string): Promise<Readers>;
  /** The entry's malform (test/adapters.ts): damages one stored record behind the ports' back. */
  malform(namespace: string, kind: MalformKind, key: string): Promise<void>;
  /** An embedder for the whole suite: the caller closes it (in afterAll). */
  embedder(): Promise<Embedder>;
  /** The entry's checkpoint on `namespace`; false when it has none (nothing is held back). */
  checkpoint(namespace: string): Promise<boolean>;
}

/** Why `entry` cannot run here, or null. A throwing probe is a reason too. */
async function unavailableReason(entry: AdapterEntry): Promise<string | null> {
  if (!entry.unavailable) return null;
  try {
    return await entry.unavailable();
  } catch (e) {
    return `its availability check failed: ${(e as Error).message}`;
  }
}

/** Closes a port once, however often it is asked to. */
function closingOnce<P extends { close(): Promise<void> }>(p: P, opened: (() => Promise<void>)[]): P {
  let closed: Promise<void> | null = null;
  const close = p.close.bind(p);
  const once = (): Promise<void> => (closed ??= close());
  p.close = once;
  opened.push(once);
  return p;
}

function harness(entry: AdapterEntry, ctx: () => AdapterContext): { h: Harness; afterTest(): Promise<void> } {
  const opened: (() => Promise<void>)[] = [];
  const namespaces: string[] = [];
  const need = <F,>(f: F | undefined, port: PortName): F => {
    if (!f) throw new Error(`adapter entry ${entry.name} lists no ${port} port`);
    return f;
  };
  const h: Harness = {
    entry,
    async namespace() {
      const ns = await ctx().namespace();
      namespaces.push(ns);
      return ns;
    },
    state: async (ns) => closingOnce(await need(ctx().state, 'state').call(ctx(), ns), opened),
    queue: async <T,>(ns: string, clock: Clock, space: QueueSpace = 'task') =>
      closingOnce(await need(ctx().queue, 'queue').call(ctx(), ns, clock, space) as WorkQueue<T>, opened),
    personaCache: async (ns) => closingOnce(await need(ctx().personaCache, 'personaCache').call(ctx(), ns), opened),
    memory: async (ns) => closingOnce(await need(ctx().memory, 'memory').call(ctx(), ns), opened),
    runLog: async (ns) => closingOnce(await need(ctx().runLog, 'runLog').call(ctx(), ns), opened),
    readers: async (ns) => closingOnce(await need(ctx().readers, 'readers').call(ctx(), ns), opened),
    malform: async (ns, kind, key) => need(ctx().malform, 'readers').call(ctx(), ns, kind, key),
    embedder: async () => need(ctx().embedder, 'embedder').call(ctx()),
    async checkpoint(ns) {
      const c = ctx();
      if (!c.checkpoint) return false;
      await c.checkpoint(ns);
      return true;
    },
  };
  return {
    h,
    async afterTest() {
      // every handle first (newest first), then the namespaces they were on
      const errors: unknown[] = [];
      for (const close of opened.splice(0).reverse()) await close().catch((e: unknown) => errors.push(e));
      const c = ctx();
      for (const ns of namespaces.splice(0)) if (c.drop) await c.drop(ns).catch((e: unknown) => errors.push(e));
      if (errors.length) throw errors[0];
    },
  };
}

/** What becomes of an entry that cannot run here. */
export type UnavailableVerdict = { readonly fail: true; readonly title: string; readonly message: string } | { readonly fail: false; readonly title: string };

/** A required entry (REQUIRE_ADAPTERS) that cannot run fails the run, naming it and why; any other is skipped with its reason in the title. */
export function unavailableVerdict(entry: string, reason: string, required: readonly string[]): UnavailableVerdict {
  if (required.includes(entry)) {
    return {
      fail: true,
      title: `${entry} is required (REQUIRE_ADAPTERS) but cannot run here: ${reason}`,
      message: `adapter ${entry} is required by REQUIRE_ADAPTERS but cannot run here: ${reason}`,
    };
  }
  return { fail: false, title: `${entry} skipped: ${reason}` };
}

function unavailableTest(title: string, entry: AdapterEntry, reason: string): void {
  const v = unavailableVerdict(entry.name, reason, REQUIRED_ADAPTERS);
  describe(title, () => {
    if (v.fail) {
      it(v.title, () => {
        throw new Error(v.message);
      });
    } else {
      it.skipIf(true)(v.title, () => {});
    }
  });
}

/**
 * Declares `suite` once per entry that serves every port in `ports`, each in its own describe
 * block titled `<title>: <entry>`, with the entry's setup and teardown around it.
 */
export async function forEachAdapter(
  ports: PortName | readonly PortName[],
  title: string,
  suite: (h: Harness) => void,
): Promise<void> {
  const list = typeof ports === 'string' ? [ports] : [...ports];
  for (const entry of adaptersFor(...list)) await describeAdapter(entry, title, suite);
}

/** Declares `suite` over one entry (for entries outside the table, such as a second SQLite commit mode). */
export async function describeAdapter(entry: AdapterEntry, title: string, suite: (h: Harness) => void): Promise<void> {
  const name = `${title}: ${entry.name}`;
  const reason = await unavailableReason(entry);
  if (reason) {
    unavailableTest(name, entry, reason);
    return;
  }
  let context: AdapterContext | null = null;
  const ctx = (): AdapterContext => {
    if (!context) throw new Error(`adapter entry ${entry.name}: setup() has not run`);
    return context;
  };
  const { h, afterTest } = harness(entry, ctx);
  describe(name, () => {
    beforeAll(async () => {
      context = await entry.setup();
    });
    afterEach(afterTest);
    afterAll(async () => {
      await context?.teardown?.();
      context = null;
    });
    suite(h);
  });
}
