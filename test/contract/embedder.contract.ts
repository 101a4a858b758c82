/** The embedder contract: shapes, normalisation, determinism, and that meaning shows. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Embedder } from '../../src/ports/embedder.ts';
import { dot } from '../../src/domain/vectors.ts';
import type { Harness } from './run.ts';

export function embedderContract(h: Harness): void {
  {
    let e: Embedder;
    beforeAll(async () => {
      e = await h.embedder();
    });
    afterAll(async () => {
      await e.close();
    });

    it('returns one unit vector of the stated length per text, in order', async () => {
      const texts = ['sustainable sneakers for city runners', 'a recipe for lemon cake', 'x'];
      const vs = await e.embed(texts);
      expect(vs.length).toBe(3);
      for (const v of vs) {
        expect(v).toBeInstanceOf(Float32Array);
        expect(v.length).toBe(e.dimensions);
        expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 4);
      }
      expect(typeof e.model_id).toBe('string');
      expect(e.model_id.length).toBeGreaterThan(0);
      expect(await e.embed([])).toEqual([]);
    });

    it('is deterministic and batch-independent', async () => {
      const [a] = await e.embed(['the same sentence twice']);
      const [, b] = await e.embed(['something else entirely', 'the same sentence twice']);
      expect(dot(a!, b!)).toBeCloseTo(1, 4);
    });

    it('scores related sentences above unrelated ones', async () => {
      const [q, rel, unrel] = await e.embed([
        'running shoes made from recycled plastic',
        'recycled plastic running shoes',
        'quarterly tax filing deadlines',
      ]);
      expect(dot(q!, rel!)).toBeGreaterThan(dot(q!, unrel!));
    });
  }
}
