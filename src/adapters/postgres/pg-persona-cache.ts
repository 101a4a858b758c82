/** The persona cache in Postgres (for deployments without Redis): traits as JSON text in `persona_cache`. */
import type { PersonaCache } from '../../ports/persona-cache.ts';
import type { PgPool } from './pg-pool.ts';

export class PgPersonaCache implements PersonaCache {
  readonly kind = 'postgres';
  private closed = false;

  /** The cache on `pool`'s schema; `close()` releases the pool reference it was given. */
  constructor(private readonly pool: PgPool) {}

  private assertOpen(): void {
    if (this.closed) throw new Error('persona cache is closed');
  }

  async get(persona_id: string): Promise<Record<string, string> | null> {
    this.assertOpen();
    const r = await this.pool.query<{ traits: string }>(`SELECT traits FROM persona_cache WHERE persona_id = $1`, [persona_id]);
    return r.rows[0] ? (JSON.parse(r.rows[0].traits) as Record<string, string>) : null;
  }

  async set(persona_id: string, traits: Readonly<Record<string, string>>): Promise<void> {
    this.assertOpen();
    await this.pool.query(`INSERT INTO persona_cache (persona_id, traits) VALUES ($1, $2) ON CONFLICT (persona_id) DO UPDATE SET traits = excluded.traits`, [
      persona_id,
      JSON.stringify(traits),
    ]);
  }

  async delete(persona_id: string): Promise<boolean> {
    this.assertOpen();
    return (await this.pool.query(`DELETE FROM persona_cache WHERE persona_id = $1`, [persona_id])).rowCount === 1;
  }

  async list(): Promise<string[]> {
    this.assertOpen();
    return (await this.pool.query<{ persona_id: string }>(`SELECT persona_id FROM persona_cache`)).rows.map((r) => r.persona_id).sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.release();
  }
}
