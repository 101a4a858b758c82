/**
 * The invariant checkers catch what they document: here, campaign statuses that leave the
 * status machine or change without their audit event (the engine never does this, so the
 * stores are written by hand, through the ports, as a buggy engine would).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../src/adapters/memory/memory-state-store.ts';
import { MemoryQueue } from '../../src/adapters/memory/memory-queue.ts';
import { InvariantChecker } from '../../src/engine/invariants.ts';
import type { WorkerTaskInput, WorkerTaskOutput } from '../../src/domain/schemas.ts';
import type { StateStore } from '../../src/ports/state-store.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { fixtures } from '../support/fixtures.ts';

describe('campaign status invariant', () => {
  let state: StateStore;
  let inv: InvariantChecker;
  let f: ReturnType<typeof fixtures>;
  beforeEach(() => {
    const clock = new VirtualClock();
    // unguarded on purpose: the guard would refuse the illegal transitions this test makes
    state = new MemoryStateStore();
    inv = new InvariantChecker({ state, taskQueue: new MemoryQueue<WorkerTaskInput>(clock), reviewQueue: new MemoryQueue<WorkerTaskOutput>(clock) });
    f = fixtures(3);
  });
  const move = (id: string, version: number, from: string | null, to: 'PLANNING' | 'ACTIVE' | 'PAUSED' | 'COMPLETED', audit = true) =>
    state.transaction(async (tx) => {
      const next = await tx.updateCampaign(id, version, { status: to });
      if (audit) await tx.appendAudit(f.audit({ entity_id: id, campaign_id: id, action: `campaign.${to.toLowerCase()}`, before_status: from, after_status: to, state_version: next.state_version }));
    });
  const create = async () => {
    const c = f.campaign();
    await state.transaction(async (tx) => {
      await tx.insertCampaign(c);
      await tx.appendAudit(f.audit({ entity_id: c.id, campaign_id: c.id }));
    });
    return c;
  };

  it('holds along the machine, with several moves between two checks', async () => {
    const c = await create();
    expect(await inv.check()).toEqual([]);
    await move(c.id, 1, 'PLANNING', 'ACTIVE');
    await move(c.id, 2, 'ACTIVE', 'PAUSED');
    await move(c.id, 3, 'PAUSED', 'ACTIVE');
    expect(await inv.check()).toEqual([]);
    await move(c.id, 4, 'ACTIVE', 'COMPLETED');
    expect(await inv.check()).toEqual([]);
  });

  it('reports a move the machine does not allow, in the trail and in the store', async () => {
    const c = await create();
    await move(c.id, 1, 'PLANNING', 'ACTIVE');
    await move(c.id, 2, 'ACTIVE', 'COMPLETED');
    expect(await inv.check()).toEqual([]);
    await move(c.id, 3, 'COMPLETED', 'ACTIVE');
    const v = await inv.check();
    expect(v.some((x) => x.includes('COMPLETED → ACTIVE is not a transition'))).toBe(true);
    expect(v.some((x) => x.includes('status went from COMPLETED to ACTIVE, which the status machine cannot reach'))).toBe(true);
  });

  it('reports a status change without its audit event, and a trail that skips a status', async () => {
    const c = await create();
    await move(c.id, 1, 'PLANNING', 'ACTIVE', false);
    expect(await inv.check()).toEqual([`campaign ${c.id} is ACTIVE but its audit trail ends at PLANNING (a status change without its audit event)`]);
    const d = await create();
    await move(d.id, 1, 'ACTIVE', 'PAUSED');
    expect((await inv.check()).some((x) => x.includes(`campaign ${d.id} moves from ACTIVE, but its trail had it PLANNING`))).toBe(true);
  });
});
