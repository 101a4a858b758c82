/**
 * One SQLite database file: opened once per process, checked, migrated, and shared by the
 * state store, queues, persona cache and run log that live in it.
 *
 * Why one writer connection per file: better-sqlite3 is synchronous. A second connection in
 * this process that waits for the write lock would block the only thread, and the connection
 * holding the lock (inside an async unit of work) could then never finish: a deadlock. One
 * connection, with every unit of work serialised by a mutex, cannot deadlock, sees its own
 * writes, and makes SQLITE_BUSY impossible from inside the app. Opening the same file twice
 * in one process therefore returns the same connection (reference-counted).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BackendUnavailableError, BadDatabaseError } from '../../domain/errors.ts';
import { Mutex } from '../../util/mutex.ts';
import { checkSqliteFile, type FileState } from './sqlite-file-check.ts';
import { acquireOwnerLock, ownerLive, type AcquireOptions, type OwnerLock } from './sqlite-owner.ts';
import { ReadOnlyDatabaseError, assertReadableFile, openReadOnly, type ReadOnlyConnection } from '../shared/sqlite-read-only.ts';
import {
  MIGRATIONS_TABLE,
  applySqliteMigrations,
  loadMigrationFiles,
  planMigrations,
  readAppliedMigrations,
} from './sqlite-migrations.ts';

/** PRAGMA application_id of a Chimera database: "CHMR". */
export const CHIMERA_APPLICATION_ID = 0x43484d52;

/** WAL `synchronous` levels we allow: FULL syncs the log on every commit; NORMAL only at checkpoints. */
export const SYNCHRONOUS_MODES = ['FULL', 'NORMAL'] as const;
/** One of SYNCHRONOUS_MODES. */
export type SynchronousMode = (typeof SYNCHRONOUS_MODES)[number];

/** How to open a database file. */
export interface SqliteOpenOptions {
  /** Default FULL: every commit is on disk before it returns (see README.md for the measured cost). */
  readonly synchronous?: SynchronousMode;
  /** Folder of NNNN_name.sql files (default: the app's migrations/sqlite). */
  readonly migrationsDir?: string;
  /** 'batched' (default) or 'each'; see SqliteDatabase. */
  readonly commit?: CommitMode;
  /**
   * Read only: takes no owner lock and writes nothing (no file created, no migration, the `-wal`
   * and `-shm` left as they are; see sqlite-read-only.ts); a missing or empty file, or one that
   * needs a migration, is refused; every write is refused with ReadOnlyDatabaseError.
   */
  readonly readOnly?: boolean;
  /** How an open to write takes the owner lock (tests only: the takeover's seams). */
  readonly ownerLock?: AcquireOptions;
}

/** The files this process has open, by canonical path (read-only opens apart: `<path>\0ro`). */
const open = new Map<string, SqliteDatabase>();

/**
 * Opens (or joins, when this process already has it open the same way) the database at `file`.
 * An open to write takes the file's owner lock first: a file another process holds for writing is
 * refused at once with DatabaseOwnedError naming the holder (sqlite-owner.ts).
 */
export function openSqliteDatabase(file: string, opts: SqliteOpenOptions = {}): SqliteDatabase {
  const path = canonicalPath(file);
  const key = opts.readOnly ? `${path}\0ro` : path;
  const existing = open.get(key);
  if (existing) {
    existing.retain();
    return existing;
  }
  const db = opts.readOnly ? openForReading(path, key, opts) : openForWriting(path, key, opts);
  open.set(key, db);
  db.retain();
  return db;
}

function openForWriting(path: string, key: string, opts: SqliteOpenOptions): SqliteDatabase {
  const state = checkSqliteFile(path);
  if (state === 'sqlite') probeReadOnly(path, opts); // refusals first: a refused file gets no lock beside it
  const owner = acquireOwnerLock(path, opts.ownerLock);
  try {
    return new SqliteDatabase(path, connect(path, state, opts), opts.commit ?? 'batched', { key, owner });
  } catch (e) {
    owner.release();
    throw e;
  }
}

function openForReading(path: string, key: string, opts: SqliteOpenOptions): SqliteDatabase {
  assertReadableFile(path);
  checkSqliteFile(path);
  // a writer of this build holds the lock while the file is open: no lock file means no writer
  const conn = openReadOnly(path, ownerLive(path) ?? false);
  try {
    checkOwner(conn.db, path);
    const pending = planMigrations(path, loadMigrationFiles(opts.migrationsDir), readAppliedMigrations(conn.db));
    if (pending.length > 0) {
      throw new BadDatabaseError(
        `${path} needs ${pending.length} migration${pending.length === 1 ? '' : 's'} (${pending.map((m) => m.name).join(', ')}) before this app can read it, and a read-only open migrates nothing; open it once for writing (e.g. "chimera simulate --backend sqlite --db FILE") to migrate it. The file was not changed.`,
        { file: path, problem: 'needs_migration', pending: pending.map((m) => m.name) },
      );
    }
    return new SqliteDatabase(path, conn.db, 'batched', { key, readOnly: conn });
  } catch (e) {
    conn.close();
    throw asBadFile(path, e);
  }
}

function canonicalPath(file: string): string {
  const abs = resolve(file);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

function sqliteCode(e: unknown): string {
  return typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
}

/** A usable-file error for the SQLite errors that mean "not a database" or "damaged". */
function asBadFile(file: string, e: unknown): unknown {
  const code = sqliteCode(e);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new BadDatabaseError(`${file} is not a usable SQLite database (${(e as Error).message}); the file was not changed.`, {
      file,
      problem: 'corrupt',
    });
  }
  return e;
}

/**
 * Checks an existing file through a read-only connection first: a read-write connection
 * checkpoints a write-ahead log into the file when it closes, which would change the bytes of
 * a file we are about to refuse. Returns false when a read-only look is not possible here (the
 * read-write connection then makes the same checks).
 */
function probeReadOnly(file: string, opts: SqliteOpenOptions): boolean {
  const sidecars = [`${file}-wal`, `${file}-shm`].filter((f) => !existsSync(f));
  let probe: Database.Database;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return false;
  }
  try {
    checkOwner(probe, file);
    planMigrations(file, loadMigrationFiles(opts.migrationsDir), readAppliedMigrations(probe));
    probe.close();
    return true;
  } catch (e) {
    probe.close();
    const err = asBadFile(file, e);
    if (!(err instanceof BadDatabaseError)) return false;
    // refused: a read-only connection to a WAL file leaves an empty -wal and -shm behind;
    // remove the ones it made, so the folder is as it was
    if (sidecars.length === 2 && existsSync(sidecars[0] as string) && statSync(sidecars[0] as string).size === 0) {
      for (const f of sidecars) rmSync(f, { force: true });
    }
    throw err;
  }
}

function connect(file: string, state: FileState, opts: SqliteOpenOptions): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (e) {
    throw new BackendUnavailableError(`cannot open SQLite database ${file}: ${(e as Error).message}`, { file });
  }
  try {
    if (state === 'sqlite') checkOwner(db, file);
    const shipped = loadMigrationFiles(opts.migrationsDir);
    const pending = planMigrations(file, shipped, readAppliedMigrations(db));
    // From here on the file is ours and current enough: writing to it is allowed.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') {
      throw new BackendUnavailableError(`${file}: SQLite could not switch to WAL mode (got "${String(mode)}"); is it on a network drive?`, { file });
    }
    db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    db.pragma('foreign_keys = ON');
    // Speed only: a page cache that holds a simulation's working set (SQLite's default is
    // 2 MiB; this is a ceiling, not an allocation). A larger wal_autocheckpoint was tried and
    // not kept: syncing a log that grows costs more per commit than one that is reused.
    db.pragma('cache_size = -32768');
    // Another process (a second app window, `chimera export`) may hold the lock briefly.
    db.pragma('busy_timeout = 2000');
    applySqliteMigrations(db, pending, CHIMERA_APPLICATION_ID, new Date().toISOString());
    return db;
  } catch (e) {
    db.close();
    const code = sqliteCode(e);
    const bad = asBadFile(file, e);
    if (bad !== e) throw bad;
    if (code === 'SQLITE_BUSY') {
      throw new BackendUnavailableError(`${file} is locked by another process; close it there and retry`, { file });
    }
    throw e;
  }
}

/** Refuses a valid SQLite file that belongs to another application. Reads only. */
function checkOwner(db: Database.Database, file: string): void {
  const app = Number(db.pragma('application_id', { simple: true }));
  if (app === CHIMERA_APPLICATION_ID) return;
  const tables = (
    db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {
      name: string;
    }[]
  ).map((r) => r.name);
  if (app === 0 && (tables.length === 0 || tables.includes(MIGRATIONS_TABLE))) return;
  const whose = app !== 0 ? `application_id 0x${(app >>> 0).toString(16)}` : 'no Chimera migrations table';
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, … (${tables.length} tables)` : '');
  throw new BadDatabaseError(
    `${file} is a SQLite database of another application (${whose}; tables: ${shown || 'none'}); Chimera will not use it, and the file was not changed. Choose another file.`,
    { file, problem: 'foreign', application_id: app, tables },
  );
}

/** How writes become durable: each unit of work and queue call on its own, or in batches. */
export const COMMIT_MODES = ['batched', 'each'] as const;
/** One of COMMIT_MODES. */
export type CommitMode = (typeof COMMIT_MODES)[number];

/** What a unit of work's owner hears (the state store's row cache). */
export interface UnitHooks {
  enter(): void;
  rolledBack(): void;
  leave(): void;
}

/**
 * Writes an adapter holds in memory until the batch reaches the disk (write-behind): a task
 * updated three times in one batch is written once, a queue item enqueued and acknowledged in
 * one batch is never written. `flush` writes what is held into the open transaction (always
 * before a commit, and before any SQL read that must see it); `snapshot` returns a function
 * that puts back what is held now (taken when a flush happens inside a unit of work that may
 * still roll back).
 */
export interface PendingWrites {
  flush(): void;
  snapshot(): () => void;
}

/** A batch commits after this many units of work and queue calls at most… */
export const MAX_BATCH_OPS = 2000;
/** …or, while a simulation run owns the checkpoints, this many (a bound on memory and log size). */
export const MAX_RUN_BATCH_OPS = 200_000;

/**
 * The shared connection and how writes reach the disk.
 *
 * `each`: every unit of work is BEGIN IMMEDIATE … COMMIT, every queue call its own
 * transaction.
 *
 * `batched` (the default): writes go into one open transaction that commits at a checkpoint:
 * when the run log records progress (the engine's end of tick, and the studio's flush after
 * every command). Without a simulation run in the process, it also commits after
 * MAX_BATCH_OPS calls and before the process handles its next event (a `setImmediate` armed
 * when the batch opens), so a write is on disk before the app answers anything else. Inside the batch a
 * unit of work is a SAVEPOINT: a unit that throws is rolled back alone. A crash loses at most
 * the work since the last checkpoint, all of it together: state, audit, queue acks and the run
 * log always agree on disk, which is what resuming after a kill needs. The benchmark
 * (bench/suites/sqlite.ts) measures what this buys.
 *
 * Either way units of work run one at a time under a mutex; port calls made from inside a unit
 * join it (AsyncLocalStorage), and other calls wait for the units queued before them.
 */
export class SqliteDatabase {
  private readonly mutex = new Mutex();
  /** The number of the unit of work an async call chain started in (see `inside`). */
  private readonly inUnit = new AsyncLocalStorage<number>();
  /** The number of the running unit of work (0: none); units are numbered from 1. */
  private runningUnit = 0;
  private unitsStarted = 0;
  /** Units of work queued or running; while 0, synchronous work runs at once. */
  private busy = 0;
  /** A unit of work is running (its writes may still roll back). */
  private unitOpen = false;
  /** The running unit has taken its SAVEPOINT (taken lazily, before its first SQL write). */
  private savepointOpen = false;
  /** What puts the in-memory state back if the running unit rolls back, in order of registration. */
  private readonly undo: (() => void)[] = [];
  private readonly pending: PendingWrites[] = [];
  private batchOps = 0;
  private commitArmed = false;
  /** A simulation run in this process checkpoints through its run log; only those checkpoints commit. */
  private runOwnsCheckpoints = false;
  private refs = 0;
  private closed = false;
  private readonly resetListeners: (() => void)[] = [];
  /** The running unit's batch was lost (the error why): the unit can only fail now. */
  private unitLost: unknown = null;
  /** A batch lost where no caller could hear it (the commit armed for the next event): the next call is told. */
  private unheard: BackendUnavailableError | null = null;
  /** Transaction control, prepared once (exec would parse the SQL on every call). */
  private readonly sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Database.Statement>;

  /** Where this file sits in the map of open files (its canonical path; read-only opens apart). */
  private readonly key: string;
  /** The owner lock held while this process writes the file (null: read-only, or not through openSqliteDatabase). */
  private readonly owner: OwnerLock | null;
  /** The read-only connection (null: open to write). */
  private readonly reading: ReadOnlyConnection | null;

  constructor(
    readonly file: string,
    readonly db: Database.Database,
    private readonly requestedCommit: CommitMode = 'batched',
    how: { readonly key?: string; readonly owner?: OwnerLock; readonly readOnly?: ReadOnlyConnection } = {},
  ) {
    this.key = how.key ?? file;
    this.owner = how.owner ?? null;
    this.reading = how.readOnly ?? null;
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT unit_of_work'),
      release: db.prepare('RELEASE unit_of_work'),
      rollbackTo: db.prepare('ROLLBACK TO unit_of_work'),
    };
  }

  /**
   * How writes commit now. A simulation run that owns the checkpoints decides what is durable in
   * either mode: in 'each' mode it checkpoints after every agent step (so every step is durable
   * on return), in 'batched' mode at the end of every tick. Outside a run, 'each' commits every call.
   */
  get commitMode(): CommitMode {
    return this.runOwnsCheckpoints ? 'batched' : this.requestedCommit;
  }

  /** One more port uses this connection. */
  retain(): void {
    this.refs += 1;
  }

  /** Opened read-only: every write is refused with ReadOnlyDatabaseError. */
  get readOnly(): boolean {
    return this.reading !== null;
  }

  /** How a read-only open reached the data (null when open to write). */
  get readOnlyWay(): ReadOnlyConnection['way'] | null {
    return this.reading?.way ?? null;
  }

  /** Throws ReadOnlyDatabaseError naming `what` when the file is open read-only. */
  assertWritable(what: string): void {
    if (this.reading) throw new ReadOnlyDatabaseError(this.file, what);
  }

  /** A port is done with the connection; the last one commits and closes it, then releases the owner lock. */
  async release(): Promise<void> {
    this.refs -= 1;
    if (this.refs > 0 || this.closed) return;
    this.closed = true;
    open.delete(this.key);
    await this.mutex.run(async () => undefined);
    if (this.reading) {
      this.reading.close();
      return;
    }
    try {
      this.commitBatch();
    } finally {
      try {
        this.db.close();
      } finally {
        this.owner?.release();
      }
    }
  }

  /** Registers write-behind state: flushed before every commit and by `flushPending`. */
  addPending(p: PendingWrites): void {
    this.pending.push(p);
  }

  /** The running unit's number (0: none), for state that snapshots itself once per unit. */
  get unitNumber(): number {
    return this.unitOpen ? this.runningUnit : 0;
  }

  /** Inside a unit of work: `fn` runs if the unit rolls back (in reverse order of registration). */
  onRollback(fn: () => void): void {
    if (this.unitOpen) this.undo.push(fn);
  }

  /** Must precede any SQL write: inside a unit of work, takes its SAVEPOINT first (batched mode). */
  beforeWrite(): void {
    if (this.unitOpen && !this.savepointOpen && this.commitMode === 'batched') {
      this.sql.savepoint.run();
      this.savepointOpen = true;
    }
  }

  /**
   * Writes everything held in memory into the open transaction (before a read that must see it).
   * A flush that fails part way (disk full) loses the whole batch, as a failed commit does: what
   * it had taken out of memory is neither held nor written any more, and half a batch must
   * never be committed.
   */
  flushPending(): void {
    if (this.reading || !this.db.inTransaction) return; // nothing is held outside a transaction (nor ever when read-only)
    if (this.unitLost !== null) throw this.unitLost;
    if (this.unitOpen) {
      this.beforeWrite();
      for (const p of this.pending) this.undo.push(p.snapshot());
    }
    try {
      for (const p of this.pending) p.flush();
    } catch (e) {
      this.loseBatch(e);
      throw e;
    }
  }

  /**
   * The open batch (in `each` mode: the unit's transaction) cannot be written: rolls it back
   * and makes every cache forget what it held, so memory agrees with the file again. A running
   * unit can then only fail (its undo list went with the batch).
   */
  private loseBatch(e: unknown): void {
    try {
      if (this.db.open && this.db.inTransaction) this.sql.rollback.run();
    } finally {
      this.undo.length = 0;
      this.savepointOpen = false;
      if (this.unitOpen) this.unitLost = e ?? new Error('batch lost');
      for (const cb of this.resetListeners) cb();
    }
  }

  /** The error of a batch lost where no caller heard it, once (then null). */
  private takeUnheard(): BackendUnavailableError | null {
    const e = this.unheard;
    this.unheard = null;
    return e;
  }

  /** `cb` runs when uncommitted work was lost (a batch that failed to commit); caches drop what they hold. */
  onReset(cb: () => void): void {
    this.resetListeners.push(cb);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * From now on only checkpoints (and close) commit: called by the run log when a simulation run
   * starts or resumes here, so the file always holds the state as of one of its checkpoints, even
   * when the engine yields to the event loop within a tick (an embedder in a worker thread).
   */
  checkpointsOwnedByRun(): void {
    this.runOwnsCheckpoints = true;
  }

  /** Makes everything written so far durable now (a checkpoint; a no-op in `each` mode). */
  checkpoint(): void {
    if (!this.unitOpen && !this.reading) this.commitBatch();
  }

  /**
   * Runs `fn` as one unit of work; nested calls (from inside `fn`) join the outer one. `hooks`
   * (the outermost unit's) hear when it starts, rolls back and ends, so a cache can follow.
   */
  unitOfWork<T>(fn: () => Promise<T>, hooks?: UnitHooks): Promise<T> {
    if (this.inside()) return fn();
    this.assertOpen();
    if (this.reading) return Promise.reject(new ReadOnlyDatabaseError(this.file, 'a transaction'));
    if (this.unheard) return Promise.reject(this.takeUnheard() as Error);
    this.busy += 1;
    return this.mutex.run(() => {
      const n = ++this.unitsStarted;
      this.runningUnit = n;
      return this.inUnit.run(n, () => this.runUnit(fn, hooks));
    });
  }

  private async runUnit<T>(fn: () => Promise<T>, hooks: UnitHooks | undefined): Promise<T> {
    const each = this.commitMode === 'each';
    try {
      if (each) {
        this.sql.begin.run();
      } else {
        this.openBatch();
      }
      this.unitOpen = true;
      this.savepointOpen = false;
      this.unitLost = null;
      this.undo.length = 0;
      hooks?.enter();
      const result = await fn();
      if (this.unitLost !== null) throw this.unitLost; // it caught the error that lost its batch
      if (each) {
        for (const p of this.pending) p.flush();
        this.sql.commit.run();
      } else if (this.savepointOpen) {
        this.sql.release.run();
      }
      return result;
    } catch (e) {
      // SQLite rolled the whole batch back by itself (an I/O error): nothing of it is left to keep
      if (!each && this.unitOpen && this.unitLost === null && !this.db.inTransaction) this.loseBatch(e);
      // in-memory state first (newest first), then the SQL written since the savepoint
      for (let i = this.undo.length - 1; i >= 0; i--) (this.undo[i] as () => void)();
      if (this.db.inTransaction) {
        if (each) {
          this.sql.rollback.run();
        } else if (this.savepointOpen) {
          this.sql.rollbackTo.run();
          this.sql.release.run();
        }
      }
      hooks?.rolledBack();
      throw e;
    } finally {
      this.unitOpen = false;
      this.savepointOpen = false;
      this.unitLost = null;
      this.undo.length = 0;
      this.runningUnit = 0;
      this.busy -= 1;
      hooks?.leave();
      // Nothing queued: stop tracking async context until the next unit of work. While any
      // AsyncLocalStorage is on, Node runs a hook for every promise the process creates (some
      // 10% of a simulation's time); the next unit's `run` turns it on again. A continuation
      // left over from a finished unit is not inside any unit either way (see `inside`).
      if (this.busy === 0) this.inUnit.disable();
      if (!each) this.counted(); // may commit, and throw if that fails (last: nothing after it is skipped)
    }
  }

  /**
   * True when the caller's async call chain started inside the running unit of work. A chain
   * left over from a finished unit (a promise it did not await) carries that unit's number, not
   * the running one's, so it waits its turn instead of joining (and rolling back with) a later
   * unit.
   */
  private inside(): boolean {
    return this.runningUnit !== 0 && this.inUnit.getStore() === this.runningUnit;
  }

  /**
   * Runs synchronous work (one statement, or several inside `this.db.transaction`) in call
   * order with units of work; from inside a unit of work it becomes part of it.
   */
  run<T>(fn: () => T): Promise<T> {
    if (this.reading) return Promise.reject(new ReadOnlyDatabaseError(this.file, 'a write'));
    if (this.inside()) {
      if (this.unitLost !== null) return Promise.reject(this.unitLost as Error);
      this.beforeWrite();
      return Promise.resolve(fn());
    }
    this.assertOpen();
    if (this.unheard) return Promise.reject(this.takeUnheard() as Error);
    if (this.busy === 0) {
      try {
        return Promise.resolve(this.batched(fn));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    this.busy += 1;
    return this.mutex.run(async () => this.batched(fn)).finally(() => {
      this.busy -= 1;
    });
  }

  /** Like `run`, for work that only reads: it never opens a batch (so never takes the write lock). */
  read<T>(fn: () => T): Promise<T> {
    if (this.inside()) return Promise.resolve(fn());
    this.assertOpen();
    if (this.unheard) return Promise.reject(this.takeUnheard() as Error);
    if (this.busy === 0) {
      try {
        return Promise.resolve(fn());
      } catch (e) {
        return Promise.reject(this.readOnlyRefusal(e) as Error);
      }
    }
    this.busy += 1;
    return this.mutex.run(async () => {
      try {
        return fn();
      } catch (e) {
        throw this.readOnlyRefusal(e);
      } finally {
        this.busy -= 1;
      }
    });
  }

  /** SQLite's own refusal to write through a read-only connection, as the typed error (a backstop: writes are refused before they reach SQL). */
  private readOnlyRefusal(e: unknown): unknown {
    return this.reading && sqliteCode(e).startsWith('SQLITE_READONLY') ? new ReadOnlyDatabaseError(this.file, 'a statement') : e;
  }

  private batched<T>(fn: () => T): T {
    if (this.commitMode === 'each') return this.alone(fn);
    this.openBatch();
    try {
      return fn();
    } catch (e) {
      if (!this.db.inTransaction) this.loseBatch(e); // SQLite rolled the batch back by itself (an I/O error)
      throw e;
    } finally {
      this.counted();
    }
  }

  /** `each` mode: one call is one transaction, with what it held in memory written before the commit. */
  private alone<T>(fn: () => T): T {
    this.sql.begin.run();
    try {
      const r = fn();
      for (const p of this.pending) p.flush();
      this.sql.commit.run();
      return r;
    } catch (e) {
      if (this.db.inTransaction) this.sql.rollback.run();
      for (const cb of this.resetListeners) cb();
      throw e;
    }
  }

  private openBatch(): void {
    if (this.db.inTransaction) return;
    try {
      this.sql.begin.run();
    } catch (e) {
      if (sqliteCode(e) === 'SQLITE_BUSY') throw new BackendUnavailableError(`${this.file} is locked by another process; close it there and retry`, { file: this.file });
      throw e;
    }
    this.batchOps = 0;
    this.armCommit();
  }

  /** Commits once the process has nothing else queued; re-arms while a unit of work is still running. */
  private armCommit(): void {
    if (this.commitArmed) return;
    this.commitArmed = true;
    setImmediate(() => {
      this.commitArmed = false;
      if (this.closed || !this.db.inTransaction || this.runOwnsCheckpoints) return;
      if (this.unitOpen || this.busy > 0) {
        this.armCommit();
        return;
      }
      try {
        this.commitBatch();
      } catch (e) {
        // no caller waits for this commit: the next call hears that the batch was lost (thrown
        // from here it would be an uncaught exception that ends the process)
        this.unheard = new BackendUnavailableError(
          `${this.file}: the writes since the last commit could not be written (${(e as Error).message}) and are lost; the file holds the state as of that commit`,
          { file: this.file, code: sqliteCode(e) },
        );
      }
    });
  }

  private counted(): void {
    this.batchOps += 1;
    if (this.batchOps >= (this.runOwnsCheckpoints ? MAX_RUN_BATCH_OPS : MAX_BATCH_OPS) && !this.unitOpen) this.commitBatch();
  }

  private commitBatch(): void {
    if (this.reading || this.commitMode !== 'batched' || !this.db.open || !this.db.inTransaction) return;
    try {
      for (const p of this.pending) p.flush();
      this.sql.commit.run();
    } catch (e) {
      this.loseBatch(e);
      throw e;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendUnavailableError(`SQLite database ${this.file} is closed`);
  }
}
