/** The persona cache (persona_cache:{persona_id}): a persona's traits as a flat string map. */
export interface PersonaCache {
  readonly kind: string;
  /** The cached traits, or null. */
  get(persona_id: string): Promise<Record<string, string> | null>;
  /** Replaces the traits of one persona. */
  set(persona_id: string, traits: Readonly<Record<string, string>>): Promise<void>;
  /** Removes one persona; false when it was not cached. */
  delete(persona_id: string): Promise<boolean>;
  /** Ids of every cached persona, sorted. */
  list(): Promise<string[]>;
  /** Releases connections; unusable afterwards. */
  close(): Promise<void>;
}

export const personaCacheKey = (persona_id: string): string => `persona_cache:${persona_id}`;
