/**
 * src/shared (the renderer's only window on the core) cannot import the domain, so it keeps
 * copies of the domain's closed lists. They must stay equal, in order: a status added to the
 * domain and not to the wire would reach the UI as a value its types say cannot exist.
 * (The error codes are compared in test/ui/contract.test.ts.) The connection report goes the other
 * way: src/config may not import src/shared, so the core keeps its own copy of the report's shape.
 */
import { describe, expect, it } from 'vitest';
import * as domain from '../../src/domain/schemas.ts';
import * as wire from '../../src/shared/types.ts';
import type { ConnectionReport as CoreReport } from '../../src/config/connection-check/report.ts';
import type { ConnectionSummary } from '../../src/config/connections.ts';
import type { ConnectionReport as WireReport } from '../../src/shared/connection-report.ts';
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

describe('the wire contract copies the connection report', () => {
  it('the services and reasons are the same lists, and the types fit both ways', async () => {
    const core = await import('../../src/config/connection-check/report.ts');
    const w = await import('../../src/shared/connection-report.ts');
    expect([...w.CONNECTION_SERVICES]).toEqual([...core.CONNECTION_SERVICES]);
    expect([...w.CONNECTION_REASONS]).toEqual([...core.CONNECTION_REASONS]);
    // compile-time: each side's report is the other's (tsc fails here when a field drifts)
    const fromCore = (r: CoreReport): WireReport => r;
    const fromWire = (r: WireReport): CoreReport => r;
    expect([typeof fromCore, typeof fromWire]).toEqual(['function', 'function']);
  });
});

describe('the wire contract copies the connection profile summary', () => {
  it('the secret fields are the same list, and the summary types fit both ways', async () => {
    const core = await import('../../src/config/connections.ts');
    expect([...wire.SECRET_FIELDS]).toEqual([...core.SECRET_FIELDS]);
    const fromCore = (c: ConnectionSummary): wire.ConnectionView => c;
    const fromWire = (c: wire.ConnectionView): ConnectionSummary => c;
    expect([typeof fromCore, typeof fromWire]).toEqual(['function', 'function']);
  });
});
