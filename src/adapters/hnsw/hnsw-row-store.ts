/**
 * The durable half of the local persona memory: every memory row with its vector and the
 * model that made it, in a small SQLite file of its own (`rows.sqlite` in the memory folder,
 * beside the app database but separate from its migrations). The HNSW index is a cache of
 * these rows: it is rebuilt from them whenever it is missing, stale or corrupt.
 *
 * Each row has an integer `label` (the HNSW label, never reused: AUTOINCREMENT), so the table
 * is also the index's id map. `generation` goes up by one in the same transaction as every
 * change, which is how a saved index knows whether it is stale.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { BadDatabaseError } from '../../domain/errors.ts';
import { ReadOnlyDatabaseError, openReadOnly, type ReadOnlyConnection } from '../shared/sqlite-read-only.ts';
import type { MemoryCategory, PersonaMemory } from '../../domain/schemas.ts';
import type { MemoryFilter, MemoryRecord } from '../../ports/persona-memory.ts';

const FORMAT = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memories (
  label INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  persona_id TEXT NOT NULL,
  category TEXT NOT NULL,
  content TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  model_id TEXT NOT NULL,
  vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_filter ON memories (persona_id, category);
CREATE INDEX IF NOT EXISTS memories_order ON memories (timestamp, id);
`;

/** A stored row: the memory, its vector and model, and its HNSW label. */
export interface StoredRow {
  readonly label: number;
  readonly record: MemoryRecord;
}

interface RawRow {
  label: number;
  id: string;
  persona_id: string;
  category: string;
  content: string;
  timestamp: string;
  model_id: string;
  vector: Buffer;
}

function toRecord(r: RawRow): MemoryRecord {
  const b = r.vector;
  const vector = new Float32Array(b.byteLength / 4);
  new Uint8Array(vector.buffer).set(b);
  return { id: r.id, persona_id: r.persona_id, content: r.content, category: r.category as MemoryCategory, timestamp: r.timestamp, vector, model_id: r.model_id };
}

function toMemory(r: Omit<RawRow, 'vector' | 'model_id' | 'label'>): PersonaMemory {
  return { id: r.id, persona_id: r.persona_id, content: r.content, category: r.category as MemoryCategory, timestamp: r.timestamp };
}

function where(f: MemoryFilter): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  if (f.persona_id !== undefined) {
    parts.push('persona_id = ?');
    args.push(f.persona_id);
  }
  if (f.categories !== undefined) {
    parts.push(`category IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(f.categories));
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

export class MemoryRowStore {
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    /** Set when opened read-only: what closes the connection (and removes a temporary copy). */
    private readonly reading: (() => void) | null = null,
  ) {}

  /** Opened read-only: upsert and delete are refused with ReadOnlyDatabaseError. */
  get readOnly(): boolean {
    return this.reading !== null;
  }

  /** A prepared statement, prepared once per store (preparing costs more than a small query). */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) this.statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  /**
   * Opens (creating if needed) the rows file; BadDatabaseError if it is not ours or not SQLite.
   * `readOnly`: creates and writes nothing (sqlite-read-only.ts); a missing or empty rows file
   * reads as an empty store.
   */
  static open(path: string, opts: { readOnly?: boolean } = {}): MemoryRowStore {
    if (opts.readOnly) return MemoryRowStore.openReadOnly(path);
    let db: Database.Database | null = null;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA);
      const fmt = db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as { value: string } | undefined;
      if (!fmt) db.prepare(`INSERT INTO meta (key, value) VALUES ('format', ?), ('generation', '0')`).run(FORMAT);
      else if (fmt.value !== FORMAT) throw new Error(`it has format ${fmt.value}, this build reads format ${FORMAT}`);
      return new MemoryRowStore(db, path);
    } catch (e) {
      db?.close();
      throw new BadDatabaseError(`persona memory rows ${path} cannot be used: ${(e as Error).message}`, { path });
    }
  }

  private static openReadOnly(path: string): MemoryRowStore {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      // missing: no memories kept yet
    }
    if (size === 0) {
      // nothing on disk: an empty store in memory, so a search answers "no memories" and nothing is created
      const db = new Database(':memory:');
      db.exec(SCHEMA);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('format', ?), ('generation', '0')`).run(FORMAT);
      return new MemoryRowStore(db, path, () => db.close());
    }
    let conn: ReadOnlyConnection | null = null;
    try {
      conn = openReadOnly(path, true); // no owner lock guards this file: a writer may be live
      const fmt = conn.db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as { value: string } | undefined;
      if (!fmt || fmt.value !== FORMAT) throw new Error(`it has format ${fmt?.value ?? 'none'}, this build reads format ${FORMAT}`);
      const c = conn;
      return new MemoryRowStore(c.db, path, () => c.close());
    } catch (e) {
      conn?.close();
      throw new BadDatabaseError(`persona memory rows ${path} cannot be used: ${(e as Error).message}`, { path });
    }
  }

  /** Bumped in the same transaction as every change. */
  generation(): number {
    return Number((this.sql(`SELECT value FROM meta WHERE key = 'generation'`).get() as { value: string }).value);
  }

  /** Inserts or replaces rows by id, keeping an existing row's label; returns each record's label, in order. */
  upsert(records: readonly MemoryRecord[]): number[] {
    if (this.reading) throw new ReadOnlyDatabaseError(this.path, 'storing memories');
    const stmt = this.sql(
      `INSERT INTO memories (id, persona_id, category, content, timestamp, model_id, vector) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET persona_id = excluded.persona_id, category = excluded.category, content = excluded.content,
         timestamp = excluded.timestamp, model_id = excluded.model_id, vector = excluded.vector
       RETURNING label`,
    );
    return this.db.transaction(() => {
      const labels = records.map((r) => {
        const blob = Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength);
        return (stmt.get(r.id, r.persona_id, r.category, r.content, r.timestamp, r.model_id, blob) as { label: number }).label;
      });
      this.bump();
      return labels;
    })();
  }

  /** Deletes rows by id; returns the labels that existed. */
  delete(ids: readonly string[]): number[] {
    if (this.reading) throw new ReadOnlyDatabaseError(this.path, 'deleting memories');
    const stmt = this.sql(`DELETE FROM memories WHERE id = ? RETURNING label`);
    return this.db.transaction(() => {
      const labels: number[] = [];
      for (const id of ids) {
        const r = stmt.get(id) as { label: number } | undefined;
        if (r) labels.push(r.label);
      }
      if (labels.length) this.bump();
      return labels;
    })();
  }

  get(id: string): PersonaMemory | null {
    const r = this.sql(`SELECT id, persona_id, category, content, timestamp FROM memories WHERE id = ?`).get(id) as RawRow | undefined;
    return r ? toMemory(r) : null;
  }

  list(filter: MemoryFilter = {}, limit = Infinity, offset = 0): PersonaMemory[] {
    const w = where(filter);
    const lim = Number.isFinite(limit) ? limit : -1;
    const sql = `SELECT id, persona_id, category, content, timestamp FROM memories ${w.sql} ORDER BY timestamp, id LIMIT ? OFFSET ?`;
    const rows = this.sql(sql).all(...w.args, lim, offset) as RawRow[];
    return rows.map(toMemory);
  }

  count(filter: MemoryFilter = {}): number {
    const w = where(filter);
    return (this.sql(`SELECT count(*) AS n FROM memories ${w.sql}`).get(...w.args) as { n: number }).n;
  }

  /** The model and dimensions of the stored vectors, or null while empty. */
  model(): { model_id: string; dimensions: number } | null {
    const r = this.sql(`SELECT model_id, length(vector) / 4 AS dimensions FROM memories LIMIT 1`).get() as
      | { model_id: string; dimensions: number }
      | undefined;
    return r ?? null;
  }

  /** Rows (with vectors) for the given labels, in no particular order. */
  byLabels(labels: readonly number[]): StoredRow[] {
    if (labels.length === 0) return [];
    const rows = this.sql(`SELECT * FROM memories WHERE label IN (SELECT value FROM json_each(?))`).all(JSON.stringify(labels)) as RawRow[];
    return rows.map((r) => ({ label: r.label, record: toRecord(r) }));
  }

  /** Rows (with vectors) passing the filter, in label order, `batch` at a time. */
  *scan(batch = 1024, filter: MemoryFilter = {}): Generator<StoredRow[]> {
    const w = where(filter);
    const stmt = this.sql(`SELECT * FROM memories ${w.sql ? `${w.sql} AND` : 'WHERE'} label > ? ORDER BY label LIMIT ?`);
    let after = -1;
    for (;;) {
      const rows = stmt.all(...w.args, after, batch) as RawRow[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.label;
      yield rows.map((r) => ({ label: r.label, record: toRecord(r) }));
      if (rows.length < batch) return;
    }
  }

  /** One page of rows (with vectors) after `after` in label order: what a scan of the whole store pages through. */
  page(after: number, limit: number): StoredRow[] {
    const rows = this.sql('SELECT * FROM memories WHERE label > ? ORDER BY label LIMIT ?').all(after, limit) as RawRow[];
    return rows.map((r) => ({ label: r.label, record: toRecord(r) }));
  }

  /** Label and vector of every row passing the filter, in no particular order (no content: for exact scans). */
  *scanVectors(filter: MemoryFilter = {}): Generator<{ label: number; vector: Float32Array }> {
    const w = where(filter);
    for (const r of this.sql(`SELECT label, vector FROM memories ${w.sql}`).iterate(...w.args) as IterableIterator<{ label: number; vector: Buffer }>) {
      const vector = new Float32Array(r.vector.byteLength / 4);
      new Uint8Array(vector.buffer).set(r.vector);
      yield { label: r.label, vector };
    }
  }

  /** Label, persona and category of every row (what the index's filter needs), without vectors. */
  labels(): { label: number; persona_id: string; category: MemoryCategory }[] {
    return this.sql(`SELECT label, persona_id, category FROM memories ORDER BY label`).all() as {
      label: number;
      persona_id: string;
      category: MemoryCategory;
    }[];
  }

  /** Closes the file; the store is unusable afterwards. */
  close(): void {
    if (!this.db.open) return;
    if (this.reading) this.reading();
    else this.db.close();
  }

  private bump(): void {
    this.sql(`UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'`).run();
  }
}
