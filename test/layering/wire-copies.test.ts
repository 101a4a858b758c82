/**
 * src/shared (the renderer's only window on the core) cannot import the domain, so it keeps
 * copies of the domain's closed lists. They must stay equal, in order: a status added to the
 * domain and not to the wire would reach the UI as a value its types say cannot exist.
 * (The error codes are compared in test/ui/contract.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import * as domain from '../../src/domain/schemas.ts';
import * as wire from '../../src/shared/types.ts';
import * as readers from '../../src/ports/readers.ts';

describe('the wire contract copies the domain lists', () => {
  for (const name of ['CAMPAIGN_STATUSES', 'TASK_STATUSES', 'MEMORY_CATEGORIES'] as const) {
    it(`${name} is the same list on both sides`, () => {
      expect([...wire[name]]).toEqual([...domain[name]]);
    });
  }
});

describe('the wire contract copies the inspection readers’ sorts', () => {
  for (const name of ['SORT_DIRECTIONS', 'CAMPAIGN_SORT_KEYS', 'TASK_SORT_KEYS'] as const) {
    it(`${name} is the same list on both sides`, () => {
      expect([...wire[name]]).toEqual([...readers[name]]);
    });
  }
});

describe('the wire contract copies the persona id rule', () => {
  it('both copies judge the same ids the same way', async () => {
    const d = await import('../../src/domain/persona-id.ts');
    const w = await import('../../src/shared/persona-id.ts');
    const ids = ['aria', 'a', 'mira_2', 'x-y', '', 'A', '-a', 'a/b', 'a\\b', '..', 'a..b', 'a\u0000', 'a\u202eb', 'a\u2066', 'é', 'a b', 'x'.repeat(64), 'x'.repeat(65)];
    for (const id of ids) expect(w.personaIdProblem(id), JSON.stringify(id)).toBe(d.personaIdProblem(id));
    expect(w.PERSONA_ID_MAX_CHARS).toBe(d.PERSONA_ID_MAX_CHARS);
  });
});
