/**
 * InspectReaderPool on its own: readers it opens through an injected `open` (counted stand-ins:
 * what the pool decides, not what a driver does; the studio tests in test/ui/studio-inspect-pool
 * run it on real Postgres, Redis and SQLite), idle time on timers advanced by hand.
 * One open per store however many calls, concurrent ones included; an entry unused for the idle
 * time closes, and one in use never does; a connection-level failure evicts its entry (the
 * failure still reaches the caller) and a request's own failure does not; a failed open is not
 * kept; drop, dropAll and close end entries, each after its last call; snapshot readers are not
 * kept; keys are keyed hashes that hold nothing of a config's URLs.
 */
import { describe, expect, it, vi } from 'vitest';
import { InspectReaderPool, UNREF_TIMERS, borrowed, unpooledReaders } from '../../src/app/studio/inspect-pool.ts';
import { parseConfig, type ChimeraConfig } from '../../src/config/config.ts';
import type { ErrorClass } from '../../src/config/backends/types.ts';
import { BackendUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { Readers } from '../../src/ports/readers.ts';
import { manualTimers } from '../support/manual-timers.ts';

const SECRET = 's3cr3t-pw-7f1a';
const config = (db = 'chimera'): ChimeraConfig =>
  parseConfig({ mode: 'production', production: { postgres_url: `postgres://chimera:${SECRET}@db.example:5432/${db}`, redis_url: `redis://:${SECRET}@cache.example:6379`, read_only: true } });

/** Stand-in readers that count their opens and closes; `snapshot` as a SQLite image would say. */
function fakeOpener(opts: { snapshot?: boolean; fail?: () => Error | null } = {}) {
  const opened: { config: ChimeraConfig; closed: number }[] = [];
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  return {
    opened,
    /** Holds every open until `unhold()`: calls made meanwhile must wait on one open. */
    hold() {
      gate = new Promise((r) => (release = r));
    },
    unhold() {
      release?.();
      gate = null;
    },
    get closes() {
      return opened.reduce((n, o) => n + o.closed, 0);
    },
    open: async (c: ChimeraConfig): Promise<Readers> => {
      const rec = { config: c, closed: 0 };
      opened.push(rec);
      if (gate) await gate;
      const err = opts.fail?.() ?? null;
      if (err) throw err;
      return { kind: 'fake', ...(opts.snapshot ? { snapshot: true } : {}), close: async () => void (rec.closed += 1) };
    },
  };
}

/** What the production backend says of a failure, reduced to the two cases the pool tells apart. */
const classify = (_c: ChimeraConfig, e: unknown): ErrorClass | null => (e instanceof BackendUnavailableError ? 'transient' : null);

/** A call that has its readers and holds them until `finish()`. */
async function heldCall(p: InspectReaderPool, c: ChimeraConfig): Promise<{ finish: () => void; done: Promise<void> }> {
  let finish!: () => void;
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const done = p.use(c, () => {
    entered();
    return new Promise<void>((r) => (finish = r));
  });
  await inside;
  return { finish: () => finish(), done };
}

function pool(opener: ReturnType<typeof fakeOpener>, idle_ms = 60_000) {
  const t = manualTimers();
  return { t, pool: new InspectReaderPool({ idle_ms, timers: t.timers, open: opener.open, classify }) };
}

describe('InspectReaderPool', () => {
  it('opens once per store for any number of calls, concurrent calls sharing the one open', async () => {
    const o = fakeOpener();
    const { pool: p } = pool(o);
    o.hold();
    const burst = Promise.all(Array.from({ length: 5 }, () => p.use(config(), async (r) => r.kind)));
    o.unhold();
    expect(await burst).toEqual(['fake', 'fake', 'fake', 'fake', 'fake']);
    for (let i = 0; i < 20; i++) await p.use(config(), async () => i);
    expect(o.opened).toHaveLength(1);
    expect(p.opens).toBe(1);
    // an equal config built again is the same store; another database is another
    await p.use(config('other'), async () => 0);
    expect(p.size).toBe(2);
    expect(o.closes).toBe(0);
    await p.close();
    expect(o.closes).toBe(2);
  });

  it('closes an entry unused for the idle time (never one in use), and the next call opens again', async () => {
    const o = fakeOpener();
    const { pool: p, t } = pool(o, 30_000);
    await p.use(config(), async () => 0);
    t.advance(29_999);
    expect(o.closes).toBe(0);
    // a call restarts the idle time
    await p.use(config(), async () => 0);
    t.advance(29_999);
    expect(o.closes).toBe(0);
    // in use past the idle time: kept open
    const long = await heldCall(p, config());
    t.advance(120_000);
    expect(t.pending).toBe(0);
    expect(o.closes).toBe(0);
    long.finish();
    await long.done;
    expect(t.pending).toBe(1);
    t.advance(30_000);
    await vi.waitFor(() => expect(o.closes).toBe(1));
    expect(p.size).toBe(0);
    await p.use(config(), async () => 0);
    expect(o.opened).toHaveLength(2);
    await p.close();
  });

  it('a connection-level failure evicts the entry and still reaches the caller; a request’s own failure keeps it', async () => {
    const o = fakeOpener();
    const { pool: p } = pool(o);
    await p.use(config(), async () => 0);
    const bad = new ValidationError('cursor: pass a next_cursor this list returned');
    await expect(p.use(config(), () => Promise.reject(bad))).rejects.toBe(bad);
    expect(p.size).toBe(1);
    const lost = new BackendUnavailableError('Postgres at db.example:5432/chimera: the connection was lost', { code: '57P01' });
    await expect(p.use(config(), () => Promise.reject(lost))).rejects.toBe(lost);
    expect(p.size).toBe(0);
    await vi.waitFor(() => expect(o.closes).toBe(1));
    expect(await p.use(config(), async (r) => r.kind)).toBe('fake');
    expect(o.opened).toHaveLength(2);
    await p.close();
  });

  it('an evicted entry that other calls still use closes when the last of them ends', async () => {
    const o = fakeOpener();
    const { pool: p } = pool(o);
    const other = await heldCall(p, config());
    await expect(p.use(config(), () => Promise.reject(new BackendUnavailableError('lost', { code: 'ECONNRESET' })))).rejects.toThrow('lost');
    expect(o.closes).toBe(0);
    other.finish();
    await other.done;
    await vi.waitFor(() => expect(o.closes).toBe(1));
  });

  it('does not keep a failed open: every call that waited on it gets the failure, the next one opens again', async () => {
    let failures = 1;
    const o = fakeOpener({ fail: () => (failures-- > 0 ? new BackendUnavailableError('redis cache.example:6379: connection refused', { code: 'ECONNREFUSED' }) : null) });
    const { pool: p } = pool(o);
    o.hold();
    const both = Promise.allSettled([p.use(config(), async () => 1), p.use(config(), async () => 2)]);
    o.unhold();
    expect((await both).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(p.size).toBe(0);
    expect(await p.use(config(), async () => 3)).toBe(3);
    expect(o.opened).toHaveLength(2);
    await p.close();
  });

  it('drop ends one store’s entry (after its call), dropAll every one; a closed pool refuses calls', async () => {
    const o = fakeOpener();
    const { pool: p } = pool(o);
    await p.use(config('a'), async () => 0);
    await p.use(config('b'), async () => 0);
    expect(await p.drop(config('a'))).toBe(true);
    expect(await p.drop(config('a'))).toBe(false);
    expect(o.opened.filter((x) => x.closed).map((x) => x.config.production.postgres_url)).toEqual([expect.stringMatching(/\/a$/)]);
    // dropped while a call uses it: closed when that call ends, and a new call opens afresh meanwhile
    const busy = await heldCall(p, config('b'));
    await p.dropAll();
    expect(o.closes).toBe(1);
    await p.use(config('b'), async () => 0);
    expect(o.opened).toHaveLength(3);
    busy.finish();
    await busy.done;
    await vi.waitFor(() => expect(o.closes).toBe(2));
    await p.close();
    expect(o.closes).toBe(3);
    await expect(p.use(config(), async () => 0)).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('does not keep readers that read a snapshot taken when they opened', async () => {
    const o = fakeOpener({ snapshot: true });
    const { pool: p, t } = pool(o);
    await p.use(config(), async () => 0);
    await vi.waitFor(() => expect(o.closes).toBe(1));
    expect(p.size).toBe(0);
    expect(t.pending).toBe(0);
    await p.use(config(), async () => 0);
    expect(o.opened).toHaveLength(2);
  });

  it('keys are keyed hashes: no part of a config’s URLs, and another pool’s key for the same config differs', async () => {
    const o = fakeOpener();
    const a = pool(o).pool;
    const b = pool(o).pool;
    await a.use(config(), async () => 0);
    await b.use(config(), async () => 0);
    const [ka] = a.keys();
    const [kb] = b.keys();
    for (const k of [ka, kb]) {
      expect(k).toMatch(/^[0-9a-f]{64}$/);
      expect(k).not.toContain(SECRET);
    }
    expect(ka).not.toBe(kb);
    await a.close();
    await b.close();
  });

  it('the default timers never keep the process alive', () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const t = UNREF_TIMERS.start(() => undefined, 60_000);
    expect(timeouts()).toBe(before);
    t.cancel();
  });

  it('unpooled readers open and close on every call; borrowed readers leave the close to the pool', async () => {
    const o = fakeOpener();
    const u = unpooledReaders(o.open);
    await u.use(config(), async () => 0);
    await u.use(config(), async () => 0);
    expect(o.opened.map((x) => x.closed)).toEqual([1, 1]);
    const r = await o.open(config());
    await borrowed(r).close();
    expect(o.opened[2]?.closed).toBe(0);
  });
});
