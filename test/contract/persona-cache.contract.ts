/** The persona-cache contract. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PersonaCache } from '../../src/ports/persona-cache.ts';

export function personaCacheContract(name: string, factory: () => Promise<PersonaCache>): void {
  describe(`persona cache contract: ${name}`, () => {
    let c: PersonaCache;
    beforeEach(async () => {
      c = await factory();
      for (const id of await c.list()) await c.delete(id);
    });
    afterEach(async () => {
      await c.close();
    });

    it('sets, gets, replaces, lists and deletes', async () => {
      expect(await c.get('aria')).toBeNull();
      await c.set('aria', { name: 'Aria', voice: '["warm"]' });
      await c.set('bo', { name: 'Bo' });
      expect(await c.get('aria')).toEqual({ name: 'Aria', voice: '["warm"]' });
      await c.set('aria', { name: 'Aria 2' });
      expect(await c.get('aria')).toEqual({ name: 'Aria 2' });
      expect(await c.list()).toEqual(['aria', 'bo']);
      expect(await c.delete('aria')).toBe(true);
      expect(await c.delete('aria')).toBe(false);
      expect(await c.list()).toEqual(['bo']);
    });

    it('returns a copy: changing it does not change the cache', async () => {
      await c.set('aria', { name: 'Aria' });
      const got = await c.get('aria');
      got!.name = 'mutated';
      expect((await c.get('aria'))?.name).toBe('Aria');
    });

    it('keeps unicode and empty strings', async () => {
      await c.set('zoë', { motto: 'ünïcødé ✓', empty: '' });
      expect(await c.get('zoë')).toEqual({ motto: 'ünïcødé ✓', empty: '' });
    });
  });
}
