/**
 * One owner per database file: the owner lock `<file>.owner` beside the database.
 *
 * The adapter keeps a row cache, write-behind writes and queue mirrors that are only right while
 * this process is the file's one writer, so a second process that opens the file to write is
 * refused at once, with a message naming the holder (pid, host, since when, the file).
 *
 * - Taking a free lock: the record `{pid, host, started_at, token, …}` is written whole to a
 *   private temporary file, then hard-linked to `<file>.owner`. link() fails with EEXIST when the
 *   lock exists, atomically, so of two openers exactly one gets it, and nobody ever reads a lock
 *   that is half written. (A file system without hard links falls back to `open(…, 'wx')`.)
 * - A lock whose holder is dead (same host, pid gone, a zombie, or a pid reused by a process that
 *   started later, or the machine rebooted since) is stale and is taken over: under SQLite's write
 *   lock on the database (`BEGIN IMMEDIATE`, which the kernel arbitrates), the opener reads the
 *   lock again and, only if it still holds the same stale token, renames its own record over it.
 *   Two processes racing to take over the same stale lock are serialised by that write lock, and
 *   the second one finds the first one's (live) token and is refused.
 * - A lock from another host is never taken over: this host cannot tell whether that process is
 *   alive. The message says to close the app there, or delete the lock file by hand.
 * - Released (deleted, if it still holds our token) on close and on normal exit (a
 *   `process.on('exit')` hook). A holder killed by SIGKILL leaves its lock behind: stale, taken
 *   over by the next opener.
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { BackendUnavailableError } from '../../domain/errors.ts';

/** What the lock file holds. `boot_id` and `proc_start` are Linux-only sharpenings of "is it alive". */
export interface OwnerRecord {
  readonly pid: number;
  readonly host: string;
  readonly started_at: string;
  readonly token: string;
  readonly file: string;
  readonly boot_id?: string;
  readonly proc_start?: string;
}

/** Why an open to write was refused. */
export const OWNER_REFUSALS = ['owned', 'other_host', 'unreadable', 'contended'] as const;
/** One of OWNER_REFUSALS. */
export type OwnerRefusal = (typeof OWNER_REFUSALS)[number];

/** The database is open for writing in another process (code BACKEND_UNAVAILABLE; exit code 2 in the CLI). */
export class DatabaseOwnedError extends BackendUnavailableError {
  constructor(
    message: string,
    readonly refusal: OwnerRefusal,
    readonly holder: Pick<OwnerRecord, 'pid' | 'host' | 'started_at'> | null,
    file: string,
    lock: string,
  ) {
    super(message, { file, lock, refusal, holder });
  }
}

/** The lock file of a database file. */
export const ownerLockPath = (file: string): string => `${file}.owner`;

/** A held owner lock. */
export interface OwnerLock {
  readonly path: string;
  readonly record: OwnerRecord;
  /** Deletes the lock if it still holds our token; later calls do nothing. */
  release(): void;
}

const held = new Set<OwnerLock>();
let exitHook = false;

/** The running kernel's boot id (Linux), or undefined. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** State and start time (clock ticks since boot) of a process from /proc (Linux), or undefined. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields 3… (comm may hold spaces)
    return { state: rest[0] ?? '', start: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

function myRecord(file: string): OwnerRecord {
  const boot = bootId();
  const start = procStat(process.pid)?.start;
  return {
    pid: process.pid,
    host: hostname(),
    started_at: new Date().toISOString(),
    token: randomUUID(),
    file,
    ...(boot ? { boot_id: boot } : {}),
    ...(start ? { proc_start: start } : {}),
  };
}

/** Is the holder of a lock alive? 'other_host' when it is not on this machine (we cannot tell). */
export function holderState(r: OwnerRecord): 'alive' | 'dead' | 'other_host' {
  if (r.host !== hostname()) return 'other_host';
  const boot = bootId();
  if (r.boot_id && boot && r.boot_id !== boot) return 'dead'; // the machine rebooted since
  try {
    process.kill(r.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
    // EPERM: a process of another user has that pid; fall through to /proc
  }
  const st = procStat(r.pid);
  if (!st) return 'alive';
  if (st.state === 'Z' || st.state === 'X') return 'dead'; // exited, not yet reaped by its parent
  if (r.proc_start && st.start && r.proc_start !== st.start) return 'dead'; // the pid was reused
  return 'alive';
}

function readLock(lock: string): OwnerRecord | 'missing' | { unreadable: string } {
  let text: string;
  try {
    text = readFileSync(lock, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return { unreadable: (e as Error).message };
  }
  try {
    const r = JSON.parse(text) as Partial<OwnerRecord>;
    if (typeof r.pid === 'number' && typeof r.host === 'string' && typeof r.token === 'string' && typeof r.started_at === 'string') {
      return r as OwnerRecord;
    }
    return { unreadable: 'it does not hold pid, host, started_at and token' };
  } catch (e) {
    return { unreadable: `it is not JSON (${(e as Error).message})` };
  }
}

function writeWhole(path: string, text: string, flags: string): void {
  const fd = openSync(path, flags, 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates the lock from `tmp` if there is none; false when one exists. */
function createLock(tmp: string, lock: string, text: string): boolean {
  try {
    linkSync(tmp, lock);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
  }
  // no hard links here (FAT, some network shares): exclusive create, then write
  try {
    writeWhole(lock, text, 'wx');
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function describeHolder(h: OwnerRecord): string {
  return `pid ${h.pid} on host ${h.host} since ${h.started_at}${h.pid === process.pid && h.host === hostname() ? ' (this process)' : ''}`;
}

/**
 * Replaces a stale lock (holding `staleToken`) with ours, under the database's SQLite write lock
 * so that takeovers happen one at a time. Returns false when the lock changed meanwhile (someone
 * else took it over, or released it): the caller looks again.
 */
function takeOver(file: string, lock: string, staleToken: string, tmp: string, gateTimeout_ms: number): boolean {
  const gate = new Database(file, { timeout: gateTimeout_ms });
  try {
    try {
      gate.prepare('BEGIN IMMEDIATE').run();
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_BUSY') return false; // someone writes: look at the lock again
      throw e;
    }
    const now = readLock(lock);
    if (typeof now !== 'object' || 'unreadable' in now || now.token !== staleToken) return false;
    renameSync(tmp, lock);
    return true;
  } finally {
    if (gate.inTransaction) gate.prepare('ROLLBACK').run();
    gate.close();
  }
}

/** Options of acquireOwnerLock (tests narrow the gate's wait). */
export interface AcquireOptions {
  /** How long a takeover waits for SQLite's write lock (default 2,000 ms). */
  readonly gateTimeout_ms?: number;
  /** How many times to look again when the lock changes under us (default 16). */
  readonly attempts?: number;
  /** Called when the lock was found stale, before taking it over (tests hold racing processes here to make them overlap). */
  readonly onStale?: (holder: OwnerRecord) => void;
}

/**
 * Takes the owner lock of `file` (an absolute path) for this process, or throws
 * DatabaseOwnedError naming the holder. Takes over a stale lock (see the file comment).
 */
export function acquireOwnerLock(file: string, opts: AcquireOptions = {}): OwnerLock {
  const lock = ownerLockPath(file);
  const record = myRecord(file);
  const text = `${JSON.stringify(record)}\n`;
  const tmp = `${lock}.${record.token}.tmp`;
  try {
    writeWhole(tmp, text, 'wx');
  } catch (e) {
    throw new BackendUnavailableError(`cannot open ${file} to write: its owner lock cannot be created beside it (${(e as Error).message}); is the folder writable?`, {
      file,
      lock,
    });
  }
  try {
    const attempts = opts.attempts ?? 16;
    for (let i = 0; i < attempts; i++) {
      if (createLock(tmp, lock, text)) return remember(lock, record);
      const holder = readLock(lock);
      if (holder === 'missing') continue; // released meanwhile: try again
      if ('unreadable' in holder) {
        throw new DatabaseOwnedError(
          `${file}: its owner lock ${lock} cannot be read (${holder.unreadable}); if no Chimera process uses ${file}, delete ${lock} and retry`,
          'unreadable',
          null,
          file,
          lock,
        );
      }
      const state = holderState(holder);
      if (state === 'alive') {
        throw new DatabaseOwnedError(
          `${file} is open for writing in another process: ${describeHolder(holder)} (owner lock ${lock}); close it there, or open the file read-only`,
          'owned',
          holder,
          file,
          lock,
        );
      }
      if (state === 'other_host') {
        throw new DatabaseOwnedError(
          `${file} is open for writing on another machine: ${describeHolder(holder)} (owner lock ${lock}); a lock from another host is never taken over automatically: close the app there, or, if that process is gone, delete ${lock} by hand`,
          'other_host',
          holder,
          file,
          lock,
        );
      }
      opts.onStale?.(holder);
      if (takeOver(file, lock, holder.token, tmp, opts.gateTimeout_ms ?? 2000)) return remember(lock, record);
    }
    throw new DatabaseOwnedError(
      `${file}: its owner lock ${lock} kept changing while this process tried to take it (${attempts} attempts); another process is opening the file — retry`,
      'contended',
      null,
      file,
      lock,
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}

function remember(path: string, record: OwnerRecord): OwnerLock {
  const l: OwnerLock = {
    path,
    record,
    release() {
      if (!held.delete(l)) return;
      const now = readLock(path);
      if (typeof now === 'object' && !('unreadable' in now) && now.token === record.token) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
  held.add(l);
  if (!exitHook) {
    exitHook = true;
    // a normal exit without close (process.exit, the end of the event loop) releases what is held
    process.on('exit', () => {
      for (const h of [...held]) h.release();
    });
  }
  return l;
}

/**
 * What the owner lock beside `file` says of a writer: true when it names a live process (or
 * cannot be read: assume one), false when its holder is dead, null when there is no lock file.
 * Read-only opens ask it to choose how to read a file without touching it.
 */
export function ownerLive(file: string): boolean | null {
  let text: string;
  try {
    text = readFileSync(ownerLockPath(file), 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : true;
  }
  try {
    return holderState(JSON.parse(text) as OwnerRecord) !== 'dead';
  } catch {
    return true;
  }
}
