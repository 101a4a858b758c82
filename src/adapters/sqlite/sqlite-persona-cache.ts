/** The persona cache (persona_cache:{persona_id}) as one row of JSON traits per persona. */
import type { PersonaCache } from '../../ports/persona-cache.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { SqliteHandle } from './sqlite-handle.ts';

/** A PersonaCache stored in the shared SQLite file. */
export class SqlitePersonaCache implements PersonaCache {
  readonly kind = 'sqlite';
  private readonly st;
  private readonly h: SqliteHandle;

  constructor(private readonly sdb: SqliteDatabase) {
    this.h = new SqliteHandle(sdb, 'persona cache');
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
    return this.h.read(() => {
      const r = this.st.get.get(persona_id) as { traits: string } | undefined;
      return r ? (JSON.parse(r.traits) as Record<string, string>) : null;
    });
  }

  set(persona_id: string, traits: Readonly<Record<string, string>>): Promise<void> {
    const text = JSON.stringify(traits);
    return this.h.write(() => {
      this.st.set.run(persona_id, text);
    });
  }

  delete(persona_id: string): Promise<boolean> {
    return this.h.write(() => this.st.delete.run(persona_id).changes === 1);
  }

  list(): Promise<string[]> {
    return this.h.read(() => (this.st.list.all() as { persona_id: string }[]).map((r) => r.persona_id));
  }

  close(): Promise<void> {
    return this.h.close();
  }
}
