/** In-memory persona cache. Handles made on one map (the constructor's argument) share it. */
import type { PersonaCache } from '../../ports/persona-cache.ts';

export class MemoryPersonaCache implements PersonaCache {
  readonly kind = 'memory';

  /** A handle on `m` (a fresh, empty cache by default). */
  constructor(private readonly m = new Map<string, Record<string, string>>()) {}

  /** The map this handle works on, for readers over it (memory-readers.ts), which never write it. */
  get shared(): ReadonlyMap<string, Readonly<Record<string, string>>> {
    return this.m;
  }

  async get(persona_id: string): Promise<Record<string, string> | null> {
    const v = this.m.get(persona_id);
    return v ? { ...v } : null;
  }
  async set(persona_id: string, traits: Readonly<Record<string, string>>): Promise<void> {
    this.m.set(persona_id, { ...traits });
  }
  async delete(persona_id: string): Promise<boolean> {
    return this.m.delete(persona_id);
  }
  async list(): Promise<string[]> {
    return [...this.m.keys()].sort();
  }
  async close(): Promise<void> {}
}
