/**
 * The table of adapters the contract suites run against (Kysely's DIALECTS table). Each
 * technology adds one entry (in test/adapters.extra.ts); `ADAPTERS=memory,sqlite npm test`
 * narrows the run, and `REQUIRE_ADAPTERS=memory,sqlite` makes an entry that cannot run here
 * fail the run instead of being skipped. The entry API is described in test/contract/README.md.
 */
import type { AuditEvent, Campaign, Task } from '../src/domain/schemas.ts';
import type { Clock } from '../src/ports/clock.ts';
import type { Embedder } from '../src/ports/embedder.ts';
import type { PersonaCache } from '../src/ports/persona-cache.ts';
import type { PersonaMemoryStore } from '../src/ports/persona-memory.ts';
import type { WorkQueue } from '../src/ports/queue.ts';
import type { RunLog } from '../src/ports/run-log.ts';
import type { StateStore } from '../src/ports/state-store.ts';
import type { Readers } from '../src/ports/readers.ts';
import { MemoryStateData, MemoryStateStore } from '../src/adapters/memory/memory-state-store.ts';
import { MemoryQueue, MemoryQueueData } from '../src/adapters/memory/memory-queue.ts';
import { MemoryPersonaCache } from '../src/adapters/memory/memory-persona-cache.ts';
import { MemoryPersonaMemory } from '../src/adapters/memory/memory-persona-memory.ts';
import { MemoryRunLog, MemoryRunLogData } from '../src/adapters/memory/memory-run-log.ts';
import { HashingEmbedder } from '../src/adapters/hashing/hashing-embedder.ts';
import { memoryReaders } from '../src/adapters/memory/memory-readers.ts';
import { EXTRA_ADAPTERS } from './adapters.extra.ts';

/** The ports an entry can serve; a suite runs over the entries that list its port. */
export const PORT_NAMES = ['state', 'queue', 'personaCache', 'memory', 'embedder', 'runLog', 'readers'] as const;
export type PortName = (typeof PORT_NAMES)[number];

/** The two queue objects of a backend (Ports.taskQueue, Ports.reviewQueue), kept apart in one namespace. */
export const QUEUE_SPACES = ['task', 'review'] as const;
export type QueueSpace = (typeof QUEUE_SPACES)[number];

/** A stored record a readers test damages in place, as data another program might have written. */
export const MALFORM_KINDS = ['campaign', 'task', 'audit', 'persona'] as const;
export type MalformKind = (typeof MALFORM_KINDS)[number];

/** What an entry can do beyond its ports, as data (suites branch on these, never on names). */
export interface EntryCapabilities {
  /** Queue calls made inside a state unit of work commit and roll back with it (one SQLite file). */
  readonly unitCoversQueue?: boolean;
  /** A namespace keeps its data when every handle on it is closed and it is opened again. */
  readonly reopens?: boolean;
}

/**
 * What `setup` returns: the entry's connection for one suite (a describe block). Every port
 * opener takes a namespace made by `namespace()`; opening a port twice on one namespace gives
 * two handles on one store (two processes on one database, in miniature).
 */
export interface AdapterContext {
  /** A fresh, empty namespace for one test: a temp file, a Postgres schema, a Redis key prefix. */
  namespace(): Promise<string>;
  /** Removes a namespace after its test, once every handle on it is closed. */
  drop?(namespace: string): Promise<void>;
  /** A state store handle (unguarded: suites wrap it as the composition root does). */
  state?(namespace: string): Promise<StateStore>;
  /** A queue handle of `space` whose leases run on `clock`. */
  queue?<T>(namespace: string, clock: Clock, space: QueueSpace): Promise<WorkQueue<T>>;
  personaCache?(namespace: string): Promise<PersonaCache>;
  /** A persona memory handle (unguarded). */
  memory?(namespace: string): Promise<PersonaMemoryStore>;
  /** An embedder (needs no namespace: it keeps nothing). */
  embedder?(): Promise<Embedder>;
  runLog?(namespace: string): Promise<RunLog>;
  /** The inspection readers (src/ports/readers.ts) on the namespace's stores: they see what was written there and committed. */
  readers?(namespace: string): Promise<Readers>;
  /**
   * Damages one stored record behind the ports' back (the campaign, task or persona with id
   * `key`, or the audit event with seq `key`) so that it no longer fits its schema, and makes
   * that durable: for the readers suite's rows that were not written by the studio.
   */
  malform?(namespace: string, kind: MalformKind, key: string): Promise<void>;
  /** Makes what was written to `namespace` durable now, where the adapter batches writes (SQLite's batched commits). */
  checkpoint?(namespace: string): Promise<void>;
  /** After the suite's last test: drop what setup made, disconnect. */
  teardown?(): Promise<void>;
}

export interface AdapterEntry {
  readonly name: string;
  /** The ports `setup`'s context opens (data, so a suite knows before connecting). */
  readonly ports: readonly PortName[];
  readonly capabilities?: EntryCapabilities;
  /** Why this entry cannot run here (a server not reachable, a binary missing), or null. */
  readonly unavailable?: () => Promise<string | null>;
  /** Once per suite, before its first test. */
  readonly setup: () => Promise<AdapterContext>;
}

/** Data per namespace, made on first use and kept until the namespace is dropped. */
function perNamespace<D>(make: () => D): { get(ns: string): D; drop(ns: string): void } {
  const m = new Map<string, D>();
  return {
    get(ns) {
      let d = m.get(ns);
      if (d === undefined) {
        d = make();
        m.set(ns, d);
      }
      return d;
    },
    drop(ns) {
      m.delete(ns);
    },
  };
}

/** The in-memory reference adapters: a namespace is a set of shared data objects in this process. */
const memoryEntry: AdapterEntry = {
  name: 'memory',
  ports: ['state', 'queue', 'personaCache', 'memory', 'runLog', 'readers'],
  capabilities: { reopens: true },
  setup: async () => {
    let n = 0;
    const state = perNamespace(() => new MemoryStateData());
    const queues = perNamespace(() => new Map<QueueSpace, MemoryQueueData<unknown>>());
    const caches = perNamespace(() => new Map<string, Record<string, string>>());
    const logs = perNamespace(() => new MemoryRunLogData());
    return {
      namespace: async () => `memory-${++n}`,
      drop: async (ns) => {
        for (const d of [state, queues, caches, logs]) d.drop(ns);
      },
      state: async (ns) => new MemoryStateStore(state.get(ns)),
      queue: async <T,>(ns: string, clock: Clock, space: QueueSpace) => {
        const spaces = queues.get(ns);
        let d = spaces.get(space);
        if (!d) spaces.set(space, (d = new MemoryQueueData<unknown>()));
        return new MemoryQueue<T>(clock, d as MemoryQueueData<T>);
      },
      personaCache: async (ns) => new MemoryPersonaCache(caches.get(ns)),
      // one store per handle: persona memory has no shared-handle cases yet
      memory: async () => new MemoryPersonaMemory(),
      runLog: async (ns) => new MemoryRunLog(logs.get(ns)),
      readers: async (ns) => memoryReaders({ state: state.get(ns), queues: queues.get(ns), personaCache: caches.get(ns) }),
      malform: async (ns, kind, key) => {
        const d = state.get(ns);
        // records replaced by ones that break their schema (the store's maps hold whatever was put in)
        if (kind === 'campaign') d.campaigns.set(key, { ...(d.campaigns.get(key) as Campaign), title: '' });
        if (kind === 'task') d.tasks.set(key, { ...(d.tasks.get(key) as Task), depends_on: 'not a list' as unknown as string[] });
        if (kind === 'audit') d.audit[Number(key) - 1] = { ...(d.audit[Number(key) - 1] as AuditEvent), hash: 'not hex' };
        if (kind === 'persona') caches.get(ns).set(key, ['not', 'an', 'object'] as unknown as Record<string, string>);
      },
    };
  },
};

const hashingEntry: AdapterEntry = {
  name: 'hashing',
  ports: ['embedder'],
  setup: async () => ({ namespace: async () => 'hashing', embedder: async () => new HashingEmbedder(256) }),
};

/** Names from a comma-separated environment variable. */
export function envList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const wanted = envList(process.env.ADAPTERS);

/** Every entry, before ADAPTERS narrows them. */
export const ALL_ADAPTERS: readonly AdapterEntry[] = [memoryEntry, hashingEntry, ...EXTRA_ADAPTERS];

export const ADAPTERS: readonly AdapterEntry[] = ALL_ADAPTERS.filter((a) => wanted.length === 0 || wanted.includes(a.name));

/** Entries CI requires (REQUIRE_ADAPTERS): one of them that cannot run fails the run. */
export const REQUIRED_ADAPTERS: readonly string[] = envList(process.env.REQUIRE_ADAPTERS);

/** The entries that serve every port in `ports`. */
export function adaptersFor(...ports: PortName[]): AdapterEntry[] {
  return ADAPTERS.filter((a) => ports.every((p) => a.ports.includes(p)));
}
