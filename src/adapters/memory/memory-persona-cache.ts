/** In-memory persona cache. */
import type { PersonaCache } from '../../ports/persona-cache.ts';

export class MemoryPersonaCache implements PersonaCache {
  readonly kind = 'memory';
  private readonly m = new Map<string, Record<string, string>>();

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
  async close(): Promise<void> {
    this.m.clear();
  }
}
