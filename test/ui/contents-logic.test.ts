/** The renderer's pure parts of the contents drawer (lib/contents.ts) and of sortable headers (lib/sort.ts). */
import { describe, expect, it } from 'vitest';
import { auditFields, auditTaskId, contentsLabel, isActivation, plain, readableJson, shownNode, showsAudit, showsEvent, showsTask, type Contents } from '../../renderer/src/lib/contents.ts';
import { ariaSort, nextSort } from '../../renderer/src/lib/sort.ts';
import type { AuditRow, EngineEventView } from '../../src/shared/types.ts';

const row: AuditRow = {
  seq: 7,
  id: 'a7',
  actor: 'judge',
  action: 'task.decided',
  entity_type: 'task',
  entity_id: '11111111-2222-4333-8444-555555555555',
  campaign_id: 'c1',
  before_status: 'PROCESSING',
  after_status: 'COMPLETED',
  state_version: 4,
  timestamp: '2026-01-01T00:00:07.000Z',
  details: { score: 0.93, reasons: ['on voice'] },
  prev_hash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
};
const event: EngineEventView = { step: 12, tick: 2, agent: 'worker-1', type: 'task.claimed', campaign_id: 'c1', task_id: 't1', data: { lease_ms: 500 } };

describe('contents', () => {
  it('names the drawer by what it shows', () => {
    expect(contentsLabel({ kind: 'task', task: { id: 't1' } })).toBe('Task contents');
    expect(contentsLabel({ kind: 'event', event })).toBe('Event contents');
    expect(contentsLabel({ kind: 'audit', row })).toBe('Audit row contents');
  });

  it('lists every field of an audit row in reading order, hashes in full, details apart, fields it does not know after', () => {
    const fields = auditFields({ ...row, chain_seq: 3, extra: { x: 1 } } as unknown as AuditRow);
    expect(fields.map(([k]) => k)).toEqual([
      'seq',
      'id',
      'timestamp',
      'actor',
      'action',
      'entity_type',
      'entity_id',
      'campaign_id',
      'before_status',
      'after_status',
      'state_version',
      'chain_seq',
      'prev_hash',
      'hash',
      'extra',
    ]);
    expect(Object.fromEntries(fields)).toMatchObject({ seq: '7', hash: 'b'.repeat(64), prev_hash: 'a'.repeat(64), extra: '{"x":1}' });
    expect(Object.fromEntries(auditFields({ ...row, campaign_id: null }))).toMatchObject({ campaign_id: '∅' });
  });

  it('links an audit row to its task only when its entity is a task', () => {
    expect(auditTaskId(row)).toBe(row.entity_id);
    expect(auditTaskId({ ...row, entity_type: 'campaign' })).toBeNull();
    expect(auditTaskId({ ...row, entity_id: '' })).toBeNull();
  });

  it('knows which node, task, event or audit row the drawer shows', () => {
    const node: Contents = { kind: 'task', task: { campaign_id: 'c1', index: 4, count: 10 } };
    expect(shownNode(node, 'c1', 10)).toBe(4);
    expect(shownNode(node, 'c2', 10)).toBeNull();
    expect(shownNode(node, 'c1', 4), 'a graph that no longer has the node').toBeNull();
    expect(shownNode({ kind: 'task', task: { id: 't1' } }, 'c1', 10)).toBeNull();
    expect(shownNode(null, 'c1', 10)).toBeNull();
    expect(showsTask({ kind: 'task', task: { id: 't1' } }, 't1')).toBe(true);
    expect(showsTask(node, 't1')).toBe(false);
    expect(showsEvent({ kind: 'event', event }, { ...event })).toBe(true);
    expect(showsEvent({ kind: 'event', event }, { ...event, agent: 'worker-2' })).toBe(false);
    expect(showsEvent({ kind: 'event', event }, { ...event, task_id: undefined })).toBe(false);
    expect(showsAudit({ kind: 'audit', row }, 7)).toBe(true);
    expect(showsAudit({ kind: 'audit', row }, 8)).toBe(false);
    expect(showsAudit(null, 7)).toBe(false);
  });

  it('writes values readably: JSON indented two spaces, one-line fields', () => {
    expect(readableJson({ a: [1, { b: null }] })).toBe('{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}');
    expect(readableJson(undefined)).toBe('(none)');
    expect(plain('text')).toBe('text');
    expect(plain(null)).toBe('∅');
    expect(plain(0.5)).toBe('0.5');
    expect(plain({ a: 1 })).toBe('{"a":1}');
  });

  it('opens on Enter or Space only', () => {
    expect(['Enter', ' ', 'Escape', 'a', 'Tab'].map(isActivation)).toEqual([true, true, false, false, false]);
  });
});

describe('sortable headers', () => {
  it('sorts by a new column ascending, flips the sorted one, and says so in aria-sort', () => {
    const start = { by: 'created_at', dir: 'asc' } as const;
    const newest = nextSort(start, 'created_at');
    expect(newest).toEqual({ by: 'created_at', dir: 'desc' });
    expect(nextSort(newest, 'created_at')).toEqual(start);
    expect(nextSort(newest, 'skill_name')).toEqual({ by: 'skill_name', dir: 'asc' });
    expect(ariaSort(start, 'created_at')).toBe('ascending');
    expect(ariaSort(newest, 'created_at')).toBe('descending');
    expect(ariaSort(newest, 'skill_name')).toBe('none');
  });
});
