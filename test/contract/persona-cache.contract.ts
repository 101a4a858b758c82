/** The persona-cache contract. */
import { beforeEach, expect, it } from 'vitest';
import type { PersonaCache } from '../../src/ports/persona-cache.ts';
import type { Harness } from './run.ts';

export function personaCacheContract(h: Harness): void {
  {
    let c: PersonaCache;
    let ns: string;
    beforeEach(async () => {
      ns = await h.namespace();
      c = await h.personaCache(ns);
      expect(await c.list()).toEqual([]);
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

    it('two handles on one namespace share the cache', async () => {
      const other = await h.personaCache(ns);
      await c.set('aria', { name: 'Aria' });
      expect(await other.get('aria')).toEqual({ name: 'Aria' });
      expect(await other.delete('aria')).toBe(true);
      expect(await c.get('aria')).toBeNull();
    });
  }
}
