/**
 * The guard's fast checks must never accept what the zod schemas refuse (fast ⇒ schema), and
 * must accept the engine's ordinary writes (or they buy nothing). Seeded mutations of valid
 * values probe the boundary.
 */
import { describe, expect, it } from 'vitest';
import { AuditEventSchema, CampaignSchema, PersonaMemorySchema, TaskSchema } from '../../src/domain/schemas.ts';
import { fastAuditDraft, fastCampaignPatch, fastMemoryRecord, fastTask, fastTaskPatch } from '../../src/ports/guards/fast-checks.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { fixtures } from '../support/fixtures.ts';

const AuditDraftSchema = AuditEventSchema.omit({ seq: true, chain_seq: true, prev_hash: true, hash: true });
const TaskPatchSchema = TaskSchema.pick({ status: true, output_data: true, confidence_score: true, attempts: true, depends_on: true, input_data: true, updated_at: true }).partial().strict();
const CampaignPatchSchema = CampaignSchema.pick({ status: true, title: true, goal: true, updated_at: true }).partial().strict();

const rng = new SeededRng(2026, 'fast-checks');
const WEIRD: unknown[] = [
  undefined, null, '', 'x', 'x'.repeat(300), 0, -1, 1.5, 2, Number.NaN, Infinity, true, [], {}, ['a'],
  '0CC54865-10B9-4BA3-B938-4AA57680D7C6', '0cc54865-10b9-1ba3-b938-4aa57680d7c6', '0cc54865-10b9-4ba3-c938-4aa57680d7c6',
  '2026-02-30T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-01-01T00:00:00Z', '2026-01-01T24:00:00.000Z', '2026-01-01 00:00:00.000Z',
  'PENDING', 'COMPLETED', 'ACTIVE', 'PAUSED', 'task', 'galaxy', 0.5, 1, 12, 2 ** 60,
];

function mutate(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...v };
  const keys = Object.keys(out);
  for (let n = 1 + rng.int(2); n > 0; n--) {
    const r = rng.next();
    if (r < 0.7) out[rng.pick(keys)] = rng.pick(WEIRD);
    else if (r < 0.85) delete out[rng.pick(keys)];
    else out[rng.pick(['extra', 'seq', 'hash', 'role'])] = rng.pick(WEIRD);
  }
  return out;
}

function probe(name: string, valid: Record<string, unknown>, fast: (v: unknown) => boolean, schema: { safeParse: (v: unknown) => { success: boolean } }) {
  it(`${name}: accepts the ordinary value, and never accepts what the schema refuses (2,000 mutations)`, () => {
    expect(fast(valid)).toBe(true);
    expect(schema.safeParse(valid).success).toBe(true);
    let fastTaken = 0;
    for (let i = 0; i < 2000; i++) {
      const v = mutate(valid);
      if (fast(v)) {
        fastTaken += 1;
        expect(schema.safeParse(v).success, JSON.stringify(v)).toBe(true);
      }
    }
    expect(fastTaken).toBeGreaterThan(0);
  });
}

describe('guard fast checks are stricter than the schemas', () => {
  const f = fixtures(11);
  const c = f.campaign();
  probe('audit draft', { ...f.audit({ campaign_id: c.id, details: { score: 0.9 } }) }, fastAuditDraft, AuditDraftSchema);
  probe(
    'task patch',
    { status: 'COMPLETED', output_data: { text: 'x' }, confidence_score: 0.93, attempts: 1, depends_on: [c.id], updated_at: f.t0 },
    fastTaskPatch,
    TaskPatchSchema,
  );
  probe('task', { ...f.task(c.id, { depends_on: [c.id], output_data: { text: 'x' }, confidence_score: 0.5 }) }, fastTask, TaskSchema);
  // the record's own fields must pass the schema; vector and model_id are the guard's to check
  probe('memory record', { id: 'ep-1', persona_id: 'aria', content: 'Recycled denim', category: 'Episodic', timestamp: f.t0, vector: new Float32Array(4), model_id: 'hashing-v1-256' }, fastMemoryRecord, {
    safeParse: (v: unknown) => {
      const r = v as Record<string, unknown>;
      if (typeof r !== 'object' || r === null) return { success: false };
      const { vector: _v, model_id: _m, ...mem } = r;
      return { success: PersonaMemorySchema.safeParse(mem).success && 'vector' in r && 'model_id' in r };
    },
  });
  probe('campaign patch', { status: 'ACTIVE', title: 'T', goal: 'G', updated_at: f.t0 }, fastCampaignPatch, CampaignPatchSchema);
});
