/** The persona cache (persona_cache:{persona_id}) as one row of JSON traits per persona. */
import { BackendUnavailableError } from '../../domain/errors.ts';
import type { PersonaCache } from '../../ports/persona-cache.ts';
import type { SqliteDatabase } from './sqlite-database.ts';

/** A PersonaCache stored in the shared SQLite file. */
export class SqlitePersonaCache implements PersonaCache {
  readonly kind = 'sqlite';
  private readonly st;
  private closed = false;

  constructor(private readonly sdb: SqliteDatabase) {
    sdb.retain();
    const db = sdb.db;
    this.st = {
      get: db.prepare(`SELECT traits FROM persona_cache WHERE persona_id = ?`),
      set: db.prepare(
        `INSERT INTO persona_cache (persona_id, traits) VALUES (?, ?) ON CONFLICT (persona_id) DO UPDATE SET traits = excluded.traits`,
      ),
      delete: db.prepare(`DELETE FROM persona_cache WHERE persona_id = ?`),
      list: db.prepare(`SELECT persona_id FROM persona_cache ORDER BY persona_id`),
    };
  }

  get(persona_id: string): Promise<Record<string, string> | null> {
    return this.readOp(() => {
      const r = this.st.get.get(persona_id) as { traits: string } | undefined;
      return r ? (JSON.parse(r.traits) as Record<string, string>) : null;
    });
  }

  set(persona_id: string, traits: Readonly<Record<string, string>>): Promise<void> {
    const text = JSON.stringify(traits);
    return this.op(() => {
      this.st.set.run(persona_id, text);
    });
  }

  delete(persona_id: string): Promise<boolean> {
    return this.op(() => this.st.delete.run(persona_id).changes === 1);
  }

  list(): Promise<string[]> {
    return this.readOp(() => (this.st.list.all() as { persona_id: string }[]).map((r) => r.persona_id));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sdb.release();
  }

  private op<R>(fn: () => R): Promise<R> {
    if (this.closed) return Promise.reject(new BackendUnavailableError('persona cache is closed'));
    return this.sdb.run(fn);
  }

  private readOp<R>(fn: () => R): Promise<R> {
    if (this.closed) return Promise.reject(new BackendUnavailableError('persona cache is closed'));
    return this.sdb.read(fn);
  }
}
