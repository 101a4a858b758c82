/**
 * Read-only opens that write nothing: no file created, no `-wal` checkpointed or deleted, no
 * `-shm` left behind where there was none.
 *
 * What SQLite does on its own (better-sqlite3 v12, SQLite 3.53, measured in
 * test/sqlite/read-only.test.ts): a `readonly` connection to a WAL database whose `-wal` and
 * `-shm` do not exist creates both (empty `-wal`, 32 KiB `-shm`) and leaves them behind; with a
 * `-wal` but no `-shm` it creates the `-shm`; with both present and no other connection it
 * rebuilds the `-shm` (WAL recovery). It never checkpoints nor deletes the `-wal` (it cannot
 * write). The URI parameters that would avoid this (`immutable=1`, `readonly_shm=1`) are off in
 * better-sqlite3's build (SQLITE_USE_URI=0, switchable only by an environment variable read when
 * the addon loads), and `immutable=1` would ignore committed frames in the `-wal` anyway.
 *
 * So the way in depends on what is beside the file:
 * - `live`: a writer may be at work (a `-wal` and a `-shm` exist and the caller cannot rule a
 *   writer out: the owner lock is held by a live process, or the file has no owner lock to ask).
 *   A `readonly` connection shares the writer's wal-index (readers are allowed beside the
 *   writer) and holds one read transaction from open to close, so everything read comes from one
 *   snapshot. The database and `-wal` bytes are untouched; the `-shm` is SQLite's shared memory
 *   and its read marks change, as they do for any reader.
 * - `image`: no writer, and no `-wal` with content: the file alone is the state. Its bytes are
 *   read into memory and opened there (`sqlite3_deserialize`, with the header's WAL flag turned
 *   off in the copy, as deserialize requires). Nothing on disk is opened by SQLite at all. Only
 *   for a file of at most IMAGE_MAX_BYTES: an image costs the file's size in memory twice over
 *   while it is made (a copy of a million tasks read a 1 GB file as 2 GB of RSS).
 * - `copy`: no writer, but a `-wal` with content (a killed writer's committed frames, or junk),
 *   or a file too large for an image: the database and its `-wal` are copied into a private
 *   temporary folder and SQLite opens the copy (its recovery folds the committed frames in, and
 *   ignores junk), removed on close; SQLite's page cache is then all it holds in memory.
 * Either snapshot way re-reads the file's size and mtime after copying and starts again (a few
 * times) if a writer changed it meanwhile.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { BackendUnavailableError, BadDatabaseError } from '../../domain/errors.ts';

/** A write was attempted through a read-only open (code BACKEND_UNAVAILABLE): nothing was written. */
export class ReadOnlyDatabaseError extends BackendUnavailableError {
  constructor(file: string, what: string) {
    super(`${file} is open read-only: ${what} would write to it, so it was refused (nothing was written); open it without read-only to change it`, {
      file,
      read_only: true,
    });
  }
}

/** How a read-only open reached the data (see the file comment). */
export type ReadOnlyWay = 'live' | 'image' | 'copy';

/** A read-only connection and what to undo when it closes. */
export interface ReadOnlyConnection {
  readonly db: Database.Database;
  readonly way: ReadOnlyWay;
  /** Closes the connection and removes a temporary copy. */
  close(): void;
}

const copies = new Set<string>();
let exitHook = false;

function sizeOf(f: string): number {
  try {
    return statSync(f).size;
  } catch {
    return -1; // missing
  }
}

function same(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/**
 * Refuses, writing nothing, a file a read-only open cannot read: missing, empty, or a directory.
 * (The header checks of sqlite-file-check.ts run before this.)
 */
export function assertReadableFile(file: string): void {
  const size = sizeOf(file);
  if (size < 0) throw new BadDatabaseError(`no database at ${file} (a read-only open creates nothing; give an existing file)`, { file, problem: 'missing' });
  if (size === 0) throw new BadDatabaseError(`${file} is empty: there is nothing to read, and a read-only open does not create a database (the file was left as it was)`, { file, problem: 'empty' });
}

/** The largest file a read-only open reads into memory (`image`); a larger one is copied to the temporary folder (`copy`). */
export const IMAGE_MAX_BYTES = 64 * 2 ** 20;

/**
 * Opens `file` for reading only (see the file comment). `writerMayBeLive`: false when the caller
 * knows no writer holds the file (its owner lock is free or stale), true when one does or it
 * cannot tell. `imageMaxBytes`: the largest file read into memory (default IMAGE_MAX_BYTES).
 */
export function openReadOnly(file: string, writerMayBeLive: boolean, opts: { imageMaxBytes?: number } = {}): ReadOnlyConnection {
  assertReadableFile(file);
  const walBytes = sizeOf(`${file}-wal`);
  const shm = existsSync(`${file}-shm`);
  if (writerMayBeLive && walBytes >= 0 && shm) return live(file);
  const imageMax = opts.imageMaxBytes ?? IMAGE_MAX_BYTES;
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = statSync(file);
    const conn = walBytes > 0 || before.size > imageMax ? copy(file, walBytes > 0) : image(file);
    if (same(before, statSync(file)) && sizeOf(`${file}-wal`) === walBytes) return conn;
    conn.close(); // a writer changed the file while it was read: again
  }
  return live(file);
}

function live(file: string): ReadOnlyConnection {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2000 });
  try {
    // one snapshot from open to close: what an export reads agrees with itself
    db.prepare('BEGIN').run();
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (e) {
    db.close();
    throw e;
  }
  return { db, way: 'live', close: () => db.close() };
}

function image(file: string): ReadOnlyConnection {
  const bytes = readFileSync(file);
  // deserialize refuses a WAL database: the copy says "legacy journal" (bytes 18 and 19 of the header)
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  const db = new Database(bytes, { readonly: true });
  return { db, way: 'image', close: () => db.close() };
}

function copy(file: string, withWal: boolean): ReadOnlyConnection {
  const dir = mkdtempSync(join(tmpdir(), 'chimera-read-only-'));
  copies.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of copies) rmSync(d, { recursive: true, force: true });
    });
  }
  const drop = () => {
    copies.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const target = join(dir, basename(file));
    copyFileSync(file, target);
    if (withWal) copyFileSync(`${file}-wal`, `${target}-wal`);
    const db = new Database(target, { readonly: true, fileMustExist: true });
    return {
      db,
      way: 'copy',
      close: () => {
        try {
          db.close();
        } finally {
          drop();
        }
      },
    };
  } catch (e) {
    drop();
    throw e;
  }
}
