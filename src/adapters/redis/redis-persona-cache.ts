/**
 * The persona cache (src/ports/persona-cache.ts) on Redis, as the seed writes it: the hash
 * `persona_cache:<persona_id>`, one field per trait (`HSET … mapping`). Redis keeps no empty
 * hash, so a persona cached with no traits is the marker `{persona_cache:<id>}:empty` (a string)
 * and no hash: a seed reader's HGETALL gives {} for it either way, and get() gives {} as the
 * in-memory cache does. Each change is one MULTI/EXEC, so a reader never sees half of a set().
 */
import type { PersonaCache } from '../../ports/persona-cache.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { RedisConnection } from './redis-connection.ts';
import { checkKeyPart, personaIdOf, personaKeys, personaPatterns } from './redis-keys.ts';

export interface RedisPersonaCacheOptions {
  /** Prepended to every key (default ''). */
  readonly prefix?: string;
}

/** Every cached persona id under `prefix` (SCAN of the hashes and the empty markers), sorted. */
export async function listPersonaIds(conn: RedisConnection, prefix: string): Promise<string[]> {
  const p = personaPatterns(prefix);
  const ids = new Set<string>();
  for (const key of [...(await conn.scan(p.hashes)), ...(await conn.scan(p.empties, 'string'))]) {
    const id = personaIdOf(prefix, key);
    if (id !== null) ids.add(id);
  }
  return [...ids].sort();
}

/** A flat string map from HGETALL's reply (RESP2: a flat array of field, value). */
export function hashReply(r: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(r)) for (let i = 0; i + 1 < r.length; i += 2) out[String(r[i])] = String(r[i + 1]);
  else if (r && typeof r === 'object') Object.assign(out, r);
  return out;
}

export class RedisPersonaCache implements PersonaCache {
  readonly kind = 'redis';
  private readonly prefix: string;
  private closed = false;

  /** A cache on `conn` (which it retains, and releases on close). */
  constructor(
    private readonly conn: RedisConnection,
    opts: RedisPersonaCacheOptions = {},
  ) {
    this.prefix = checkKeyPart('key prefix', opts.prefix ?? '');
    conn.retain();
  }

  private keys(persona_id: string): { hash: string; empty: string } {
    if (this.closed) throw new ValidationError(`redis persona cache ${persona_id}: the cache is closed`);
    return personaKeys(this.prefix, persona_id);
  }

  async get(persona_id: string): Promise<Record<string, string> | null> {
    const k = this.keys(persona_id);
    const [h, empty] = await this.conn.multi(
      [
        ['HGETALL', k.hash],
        ['EXISTS', k.empty],
      ],
      k.hash,
    );
    const traits = hashReply(h);
    if (Object.keys(traits).length) return traits;
    return Number(empty) > 0 ? {} : null;
  }

  async set(persona_id: string, traits: Readonly<Record<string, string>>): Promise<void> {
    const k = this.keys(persona_id);
    const fields = Object.entries(traits).flat();
    await this.conn.multi(fields.length ? [['DEL', k.hash, k.empty], ['HSET', k.hash, ...fields]] : [['DEL', k.hash], ['SET', k.empty, '1']], k.hash);
  }

  async delete(persona_id: string): Promise<boolean> {
    const k = this.keys(persona_id);
    return Number(await this.conn.cmd(['DEL', k.hash, k.empty], k.hash)) > 0;
  }

  async list(): Promise<string[]> {
    if (this.closed) throw new ValidationError('redis persona cache: the cache is closed');
    return listPersonaIds(this.conn, this.prefix);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.release();
  }
}
