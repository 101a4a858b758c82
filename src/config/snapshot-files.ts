/**
 * The files behind `chimera export` / `chimera import` on SQLite: the persona-memory rows beside
 * the database (read read-only for an export), the read-only look at an existing import target,
 * and the staged import that leaves the target as it was unless everything succeeded.
 *
 * Why staging and a rename, not one transaction: the SQLite adapters commit on their own
 * schedule (batched commits at checkpoints, a cap on calls), a run-log append is a checkpoint,
 * and the persona memories live in a second file; one transaction cannot span the two files,
 * and a rolled-back transaction in WAL mode still leaves a -wal behind. A scratch database and
 * rows folder beside the target, filled and verified and then renamed into place, leave the
 * target's bytes untouched on any failure, a crash included (only the scratch files stay,
 * removed by the next import).
 */
import { closeSync, existsSync, mkdirSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryRowStore } from '../adapters/hnsw/hnsw-row-store.ts';
import { checkSqliteFile } from '../adapters/sqlite/sqlite-file-check.ts';
import { CHIMERA_APPLICATION_ID } from '../adapters/sqlite/sqlite-database.ts';
import { MIGRATIONS_TABLE } from '../adapters/sqlite/sqlite-migrations.ts';
import { memoryFolder } from './embedders.ts';
import { ValidationError } from '../domain/errors.ts';
import type { MemoryRecord, PersonaMemoryStore } from '../ports/persona-memory.ts';
import type { ChimeraConfig } from './config.ts';

/** Persona memories with their vectors, read from (and for import written to) a profile's memory rows. */
export interface MemoryRows {
  /** Every memory with its vector and model, in any order. */
  read(): Promise<readonly MemoryRecord[]>;
  /** Adds memories to an empty store (import only). */
  write?(records: readonly MemoryRecord[]): Promise<void>;
}

const ROWS_FILE = 'rows.sqlite';

/**
 * Runs `fn`, which reads `file` through a read-only connection and closes it. SQLite leaves an
 * empty -wal and -shm behind a read-only connection to a WAL database; the ones it made are
 * removed afterwards, so the folder is as it was.
 */
function withoutNewSidecars<T>(file: string, fn: () => T): T {
  const made = [`${file}-wal`, `${file}-shm`].filter((f) => !existsSync(f));
  try {
    return fn();
  } finally {
    const wal = `${file}-wal`;
    if (made.length === 2 && (!existsSync(wal) || statSync(wal).size === 0)) for (const f of made) rmSync(f, { force: true });
  }
}

/** Reads the rows file at `rows` read-only with `fn`. */
function readRows<T>(rows: string, fn: (store: MemoryRowStore) => T): T {
  return withoutNewSidecars(rows, () => {
    const store = MemoryRowStore.open(rows, { readOnly: true });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  });
}

/** The persona-memory rows beside the database of `config`, read read-only (none when the folder has no rows file). */
export function sqliteMemoryRows(config: ChimeraConfig): MemoryRows {
  const rows = join(memoryFolder(config), ROWS_FILE);
  return {
    async read(): Promise<MemoryRecord[]> {
      if (!existsSync(rows)) return [];
      return readRows(rows, (store) => {
        const out: MemoryRecord[] = [];
        for (const batch of store.scan(1024)) for (const r of batch) out.push(r.record);
        return out;
      });
    },
  };
}

/** How many memories the rows file in `folder` holds (0 when there is none), read read-only. */
function memoriesIn(folder: string): number {
  const rows = join(folder, ROWS_FILE);
  return existsSync(rows) ? readRows(rows, (store) => store.count()) : 0;
}

/**
 * Refuses an import target that holds anything, without writing to it: a database with rows
 * in any table (migration records aside), a file of another application, a database open in
 * another process (or left by a killed one: its -wal / -shm are beside it), or persona memories
 * in the folder beside it. Returns whether the database file exists (and is to be replaced).
 */
export function assertEmptyTarget(file: string, config: ChimeraConfig): { exists: boolean } {
  const folder = memoryFolder(config);
  const n = memoriesIn(folder);
  if (n > 0) throw new ValidationError(`${folder} already holds ${n} persona memories; import into a database in another folder`);
  // a log beside the name would be applied to the imported file when it is next opened
  const sidecars = [`${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
  if (sidecars.length) {
    throw new ValidationError(`${file} is open in another process or was not closed cleanly (${sidecars.map((f) => basename(f)).join(', ')} beside it); close it there, or import into a new file`);
  }
  if (checkSqliteFile(file) === 'new') return { exists: existsSync(file) };
  const held = withoutNewSidecars(file, () => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return tablesWithRows(db, file);
    } finally {
      db.close();
    }
  });
  if (held.length) throw new ValidationError(`${file} is not empty (it holds rows in ${held.join(', ')}); import into a new database file`);
  return { exists: true };
}

/** Tables of a Chimera database that hold rows (migration records aside); refuses another application's file. */
function tablesWithRows(db: Database.Database, file: string): string[] {
  const app = Number(db.pragma('application_id', { simple: true }));
  const tables = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
  if (app !== CHIMERA_APPLICATION_ID && tables.length) {
    throw new ValidationError(`${file} is a SQLite database of another application; import into a new file`);
  }
  const holds = (t: string) => (db.prepare(`SELECT EXISTS (SELECT 1 FROM "${t.replace(/"/g, '""')}") AS x`).get() as { x: number }).x === 1;
  return tables.filter((t) => t !== MIGRATIONS_TABLE && holds(t));
}

const STAGING = '.importing-';
let staged = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes scratch files (`<name>.importing-<pid>-<n>…`) left beside `path` by imports whose process is gone. */
function removeStale(path: string): void {
  const dir = dirname(path);
  const prefix = basename(path) + STAGING;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Scratch names beside a target, and how to put them in place or throw them away. */
export interface Staging {
  /** The scratch database file. */
  readonly file: string;
  /** The scratch persona-memory folder. */
  readonly memories: string;
  /** Moves the scratch files into place (memories first, then the database). */
  commit(opts: { replace: boolean; memories: boolean }): void;
  /** Removes every scratch file. */
  discard(): void;
}

/** Scratch names beside `file` and its persona-memory folder (stale ones from killed imports are removed first). */
export function stageBeside(file: string, config: ChimeraConfig): Staging {
  const folder = memoryFolder(config);
  removeStale(file);
  removeStale(folder);
  const tag = `${STAGING}${process.pid}-${++staged}`;
  const scratch = `${file}${tag}`;
  const memories = `${folder}${tag}`;
  const discard = () => {
    for (const f of [scratch, `${scratch}-wal`, `${scratch}-shm`]) rmSync(f, { force: true });
    rmSync(memories, { recursive: true, force: true });
  };
  return {
    file: scratch,
    memories,
    discard,
    commit({ replace, memories: withMemories }) {
      fsyncPath(scratch);
      if (withMemories) fsyncPath(join(memories, ROWS_FILE));
      let old: string | null = null;
      if (withMemories) {
        // the folder holds no memories (checked before): an index or nothing, moved aside
        if (existsSync(folder)) renameSync(folder, (old = `${folder}${tag}.old`));
        renameSync(memories, folder);
      }
      try {
        if (replace) {
          renameSync(scratch, file);
        } else {
          // link refuses an existing name: a file created meanwhile is not overwritten
          linkSync(scratch, file);
          unlinkSync(scratch);
        }
      } catch (e) {
        if (withMemories) {
          renameSync(folder, memories);
          if (old) renameSync(old, folder);
        }
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ValidationError(`${file} was created by another process during the import; nothing was imported`);
        throw e;
      }
      if (old) rmSync(old, { recursive: true, force: true });
      fsyncPath(dirname(file));
    },
  };
}

/** A rows store in `folder` for an import's persona memories (created on first write). */
export function stagedMemoryRows(folder: string): MemoryRows & { close(): void; written(): boolean } {
  let store: MemoryRowStore | null = null;
  const open = () => {
    if (!store) {
      mkdirSync(folder, { recursive: true });
      store = MemoryRowStore.open(join(folder, ROWS_FILE));
    }
    return store;
  };
  return {
    async read() {
      if (!store) return [];
      const out: MemoryRecord[] = [];
      for (const batch of store.scan(1024)) for (const r of batch) out.push(r.record);
      return out;
    },
    async write(records) {
      open().upsert(records);
    },
    close() {
      store?.close();
    },
    written: () => store !== null,
  };
}

/**
 * The persona-memory rows beside the database of `config`, to read and to add to (a copy's
 * target): the rows file is opened on first use and made on the first write; `close` releases it.
 */
export function writableMemoryRows(config: ChimeraConfig): MemoryRows & { close(): void } {
  const folder = memoryFolder(config);
  const rows = join(folder, ROWS_FILE);
  let store: MemoryRowStore | null = null;
  const open = (create: boolean): MemoryRowStore | null => {
    if (store) return store;
    if (!create && !existsSync(rows)) return null;
    mkdirSync(folder, { recursive: true });
    return (store = MemoryRowStore.open(rows));
  };
  return {
    async read() {
      const s = open(false);
      if (!s) return [];
      const out: MemoryRecord[] = [];
      for (const batch of s.scan(1024)) for (const r of batch) out.push(r.record);
      return out;
    },
    async write(records) {
      (open(true) as MemoryRowStore).upsert(records);
    },
    close() {
      store?.close();
      store = null;
    },
  };
}

/** Memories a page of a store's scan holds. */
const SCAN_PAGE = 500;

/**
 * The memories of a persona-memory store (in memory, Weaviate) with their vectors, read through
 * its scan and written by upsert; null when the store cannot hand its vectors back.
 */
export function storeMemoryRows(store: PersonaMemoryStore): MemoryRows | null {
  const scan = store.scan?.bind(store);
  if (!scan) return null;
  return {
    async read() {
      const out: MemoryRecord[] = [];
      for (let cursor: string | null = null; ; ) {
        const page = await scan(cursor, SCAN_PAGE);
        for (const r of page.records) out.push(r);
        if (page.next_cursor === null) return out;
        cursor = page.next_cursor;
      }
    },
    write: (records) => store.upsert(records),
  };
}
