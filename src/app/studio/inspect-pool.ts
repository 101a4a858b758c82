/**
 * The studio's inspection readers, kept open between calls. The Inspector fires several
 * 'inspect/…' calls per screen (campaigns, tasks, queues, cache, memories at once) and a person
 * clicks through pages: opening the readers per call meant, against a remote cluster, a TCP
 * (+TLS, +auth) handshake to Postgres and to Redis for every call, and Postgres's schema layout
 * (information_schema) read again each time. Here one open serves them all:
 *
 * - Entries are keyed by the read-only config the call opens, as a keyed hash (HMAC-SHA-256
 *   under a key made per pool, in memory) of its canonical JSON. The config may hold passwords
 *   in its URLs: the key is a hash no one outside this process can test a guess against, and
 *   it is never logged nor shown.
 * - Concurrent calls for one key share one open (the first starts it, the others wait on the
 *   same promise); a failed open is not kept, so the next call tries again.
 * - An entry nobody uses for `idle_ms` is closed (an unref'd timer: it never keeps a process
 *   alive); `dropAll` and `close` end every entry (the studio calls them on a profile switch and
 *   on close).
 * - A call that fails with a connection-level error (the backend's `classify` says 'transient'
 *   or 'auth') evicts its entry: the failure goes back to the caller and the next call opens
 *   afresh. Other failures (a bad cursor, a row that does not fit) leave the entry alone.
 * - An entry that is dropped while calls use it is closed when the last of them ends: readers
 *   are never closed under a call.
 * - Readers that read a snapshot taken when they opened (`Readers.snapshot`: a SQLite file no
 *   writer holds) would never see a later commit: they serve the calls that share their open
 *   and are closed after them, never kept.
 *
 * What the pool cannot see by itself: a store whose layout changed under it (tables created by
 * a copy, a migration) or a file replaced. `drop(config)` (the Inspector's Refresh, through
 * 'inspect/reset') and `dropAll()` (a profile switch, a copy that wrote a target) are for that.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { ChimeraConfig } from '../../config/config.ts';
import { backendForMode } from '../../config/backends/index.ts';
import type { ErrorClass } from '../../config/backends/types.ts';
import { composeReaders } from '../../config/compose.ts';
import { ChimeraError } from '../../domain/errors.ts';
import { canonicalJson } from '../../domain/canonical-json.ts';
import type { Readers } from '../../ports/readers.ts';

/** How long an unused entry stays open. */
export const INSPECT_IDLE_MS = 60_000;

/** The error classes that mean the connection, not the request, failed: the entry is evicted. */
const EVICTING: ReadonlySet<ErrorClass> = new Set(['transient', 'auth']);

/** A started timer. */
export interface PoolTimer {
  cancel(): void;
}

/** Where the pool's idle timers come from (injected by tests, which advance them by hand). */
export interface PoolTimers {
  /** Calls fn once after ms; the timer must not keep the process alive. */
  start(fn: () => void, ms: number): PoolTimer;
}

/** Node's timers, unref'd. */
export const UNREF_TIMERS: PoolTimers = {
  start(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

export interface InspectReaderPoolOptions {
  /** How long an unused entry stays open (default INSPECT_IDLE_MS). */
  readonly idle_ms?: number;
  readonly timers?: PoolTimers;
  /** Opens the readers of a config (default: the composition root's `composeReaders`). */
  readonly open?: (config: ChimeraConfig) => Promise<Readers>;
  /** What a failure means, by the config's backend (default: its registry entry's `classify`). */
  readonly classify?: (config: ChimeraConfig, e: unknown) => ErrorClass | null;
}

/** What the inspect channels run their reads through: the pool, or (for comparison) a fresh open per call. */
export interface InspectReaderSource {
  /** Runs fn on open readers for `config` (fn must not close them). */
  use<T>(config: ChimeraConfig, fn: (readers: Readers) => Promise<T>): Promise<T>;
  /** Closes the entry of `config` (now when unused, else when its last call ends); whether there was one. */
  drop(config: ChimeraConfig): Promise<boolean>;
  /** Closes every entry (now when unused, else when its last call ends). */
  dropAll(): Promise<void>;
  /** dropAll, and refuses calls from now on. */
  close(): Promise<void>;
}

interface Entry {
  readonly key: string;
  /** The open, shared by every call that arrived while it ran. */
  readonly opening: Promise<Readers>;
  readers: Readers | null;
  /** Calls using (or waiting for) the readers. */
  users: number;
  timer: PoolTimer | null;
  /** No longer in the map (dropped, evicted, expired): closed once its last user leaves. */
  gone: boolean;
  closing: Promise<void> | null;
}

export class InspectReaderPool implements InspectReaderSource {
  private readonly entries = new Map<string, Entry>();
  /** The HMAC key of this pool's entry keys: random, in memory only. */
  private readonly secret = randomBytes(32);
  private readonly idle_ms: number;
  private readonly timers: PoolTimers;
  private readonly openReaders: (config: ChimeraConfig) => Promise<Readers>;
  private readonly classify: (config: ChimeraConfig, e: unknown) => ErrorClass | null;
  private closed = false;
  /** Opens made since the pool was created (what tests and the bench count). */
  opens = 0;

  constructor(opts: InspectReaderPoolOptions = {}) {
    this.idle_ms = opts.idle_ms ?? INSPECT_IDLE_MS;
    this.timers = opts.timers ?? UNREF_TIMERS;
    this.openReaders = opts.open ?? composeReaders;
    this.classify = opts.classify ?? ((config, e) => backendForMode(config.mode).classify(e));
  }

  /** How many entries are open or opening. */
  get size(): number {
    return this.entries.size;
  }

  /** The entries' keys (keyed hashes, never a config's text). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  async use<T>(config: ChimeraConfig, fn: (readers: Readers) => Promise<T>): Promise<T> {
    if (this.closed) throw new ChimeraError('BACKEND_UNAVAILABLE', 'the studio service is closed: its inspection readers are closed');
    const key = this.keyOf(config);
    const e = this.entries.get(key) ?? this.start(key, config);
    e.users += 1;
    e.timer?.cancel();
    e.timer = null;
    let readers: Readers;
    try {
      readers = await e.opening;
    } catch (err) {
      // a failed open is not kept: the next call tries again
      this.remove(e);
      this.leave(e);
      throw err;
    }
    try {
      return await fn(readers);
    } catch (err) {
      if (this.connectionLost(config, err)) this.remove(e);
      throw err;
    } finally {
      this.leave(e);
    }
  }

  async drop(config: ChimeraConfig): Promise<boolean> {
    const e = this.entries.get(this.keyOf(config));
    if (!e) return false;
    this.remove(e);
    if (e.users === 0) await this.end(e);
    return true;
  }

  async dropAll(): Promise<void> {
    const all = [...this.entries.values()];
    for (const e of all) this.remove(e);
    await Promise.all(all.filter((e) => e.users === 0).map((e) => this.end(e)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.dropAll();
  }

  /** The entry key of a config: HMAC-SHA-256 of its canonical JSON under this pool's key. */
  private keyOf(config: ChimeraConfig): string {
    return createHmac('sha256', this.secret).update(canonicalJson(config)).digest('hex');
  }

  private start(key: string, config: ChimeraConfig): Entry {
    this.opens += 1;
    const e: Entry = { key, opening: this.openReaders(config), readers: null, users: 0, timer: null, gone: false, closing: null };
    e.opening.then(
      (r) => {
        e.readers = r;
      },
      () => undefined,
    );
    this.entries.set(key, e);
    return e;
  }

  /** Whether `err` says the connection (not the request) failed, as the config's backend reads it. */
  private connectionLost(config: ChimeraConfig, err: unknown): boolean {
    try {
      const c = this.classify(config, err);
      return c !== null && EVICTING.has(c);
    } catch {
      return false;
    }
  }

  /** Takes an entry out of the map (the next call opens afresh); it is closed when unused. */
  private remove(e: Entry): void {
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    e.gone = true;
    e.timer?.cancel();
    e.timer = null;
  }

  /** One call is done with `e`: the last one closes it if it is gone or a snapshot, else starts its idle timer. */
  private leave(e: Entry): void {
    e.users -= 1;
    if (e.users > 0) return;
    if (e.readers?.snapshot) this.remove(e);
    if (e.gone) {
      void this.end(e);
      return;
    }
    e.timer = this.timers.start(() => {
      e.timer = null;
      if (e.users > 0) return;
      this.remove(e);
      void this.end(e);
    }, this.idle_ms);
  }

  /** Closes an entry's readers once (a failed open has none); a close that fails is dropped: they are gone either way. */
  private end(e: Entry): Promise<void> {
    e.closing ??= e.opening.then(
      (r) => r.close().catch(() => undefined),
      () => undefined,
    );
    return e.closing;
  }
}

/**
 * No pool: each call opens its readers and closes them before it returns (how the studio read
 * before the pool; the bench compares the two in one run).
 */
export function unpooledReaders(open: (config: ChimeraConfig) => Promise<Readers> = composeReaders): InspectReaderSource {
  return {
    async use(config, fn) {
      const r = await open(config);
      try {
        return await fn(r);
      } finally {
        await r.close();
      }
    },
    drop: async () => false,
    dropAll: async () => undefined,
    close: async () => undefined,
  };
}

/** A view of pooled readers whose close() is the pool's business: an InspectSession on it leaves them open. */
export function borrowed(readers: Readers): Readers {
  return { ...readers, close: async () => undefined };
}
