/**
 * src/shared (the renderer's only window on the core) cannot import the domain, so it keeps
 * copies of the domain's closed lists. They must stay equal, in order: a status added to the
 * domain and not to the wire would reach the UI as a value its types say cannot exist.
 * (The error codes are compared in test/ui/contract.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import * as domain from '../../src/domain/schemas.ts';
import * as wire from '../../src/shared/types.ts';

describe('the wire contract copies the domain lists', () => {
  for (const name of ['CAMPAIGN_STATUSES', 'TASK_STATUSES', 'MEMORY_CATEGORIES'] as const) {
    it(`${name} is the same list on both sides`, () => {
      expect([...wire[name]]).toEqual([...domain[name]]);
    });
  }
});
