/**
 * The state-store contract. Every adapter runs it through `stateStoreContract(harness)`; the
 * in-memory store is the reference model. The store under test is wrapped by guardStateStore,
 * exactly as the composition root wraps it. Each test gets a fresh namespace; the cases at the
 * end open a second handle on it (two processes on one database) and race the two.
 */
import { beforeEach, expect, it } from 'vitest';
import { ChimeraError } from '../../src/domain/errors.ts';
import { verifyAuditChain } from '../../src/domain/audit.ts';
import type { StateStore } from '../../src/ports/state-store.ts';
import { guardStateStore } from '../../src/ports/guards/guarded-state-store.ts';
import { fixtures } from '../support/fixtures.ts';
import type { Harness } from './run.ts';
import { auditVerifies } from './audit-check.ts';

const code = (e: unknown) => (e instanceof ChimeraError ? e.code : String(e));
async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return code(e);
  }
  return 'NO_ERROR';
}

export function stateStoreContract(h: Harness): void {
  {
    let store: StateStore;
    let ns: string;
    let f: ReturnType<typeof fixtures>;
    beforeEach(async () => {
      ns = await h.namespace();
      store = guardStateStore(await h.state(ns));
      f = fixtures(7);
    });
    /** A second handle on this test's store. */
    const second = async (): Promise<StateStore> => guardStateStore(await h.state(ns));

    it('inserts and reads back a campaign exactly', async () => {
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      expect(await store.getCampaign(c.id)).toEqual(c);
      expect(await store.getCampaign(f.rng.uuid())).toBeNull();
      expect(await store.listCampaigns()).toEqual([c]);
    });

    it('compare-and-set bumps state_version by one', async () => {
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      const next = await store.transaction((tx) => tx.updateCampaign(c.id, 1, { status: 'ACTIVE' }));
      expect(next.state_version).toBe(2);
      expect(next.status).toBe('ACTIVE');
      expect((await store.getCampaign(c.id))?.state_version).toBe(2);
    });

    it('a stale state_version is a conflict and changes nothing', async () => {
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      await store.transaction((tx) => tx.updateCampaign(c.id, 1, { status: 'ACTIVE' }));
      const audit0 = await store.auditHead();
      expect(
        await errorCode(
          store.transaction(async (tx) => {
            await tx.appendAudit(f.audit());
            await tx.updateCampaign(c.id, 1, { status: 'PAUSED' });
          }),
        ),
      ).toBe('CONFLICT');
      const after = await store.getCampaign(c.id);
      expect(after?.status).toBe('ACTIVE');
      expect(after?.state_version).toBe(2);
      expect(await store.auditHead()).toEqual(audit0);
    });

    it('an illegal campaign transition is a typed error', async () => {
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      expect(await errorCode(store.transaction((tx) => tx.updateCampaign(c.id, 1, { status: 'COMPLETED' })))).toBe(
        'ILLEGAL_TRANSITION',
      );
      expect((await store.getCampaign(c.id))?.state_version).toBe(1);
    });

    it('refuses invalid input with a message naming the field', async () => {
      const bad = { ...f.campaign(), title: 'x'.repeat(256) };
      const err = await store.transaction((tx) => tx.insertCampaign(bad)).catch((e: unknown) => e);
      expect(code(err)).toBe('VALIDATION');
      expect((err as Error).message).toMatch(/title/);
      expect(await errorCode(store.transaction((tx) => tx.insertCampaign({ ...f.campaign(), state_version: 3 })))).toBe(
        'VALIDATION',
      );
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      const badTask = { ...f.task(c.id), confidence_score: 1.5 };
      const terr = await store.transaction((tx) => tx.insertTasks([badTask])).catch((e: unknown) => e);
      expect(code(terr)).toBe('VALIDATION');
      expect((terr as Error).message).toMatch(/confidence_score/);
      expect(await store.listTasks()).toEqual([]);
    });

    it('a task of a campaign that does not exist is refused (the seed\'s foreign key)', async () => {
      const t = f.task(f.rng.uuid());
      expect(await errorCode(store.transaction((tx) => tx.insertTasks([t])))).toBe('NOT_FOUND');
      expect(await store.listTasks()).toEqual([]);
    });

    it('a duplicate id is refused', async () => {
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      expect(await errorCode(store.transaction((tx) => tx.insertCampaign(c)))).toBe('DUPLICATE');
    });

    it('a rolled-back unit of work leaves nothing', async () => {
      const c = f.campaign();
      const t = f.task(c.id);
      const err = await store
        .transaction(async (tx) => {
          await tx.insertCampaign(c);
          await tx.insertTasks([t]);
          await tx.claimIdempotencyKey('k1');
          await tx.appendAudit(f.audit({ entity_id: c.id }));
          throw new Error('boom');
        })
        .catch((e: unknown) => e);
      expect((err as Error).message).toBe('boom');
      expect(await store.getCampaign(c.id)).toBeNull();
      expect(await store.getTask(t.id)).toBeNull();
      expect(await store.readAudit()).toEqual([]);
      expect(await store.transaction((tx) => tx.claimIdempotencyKey('k1'))).toBe(true);
    });

    it('reads inside a unit of work see its own writes', async () => {
      const c = f.campaign();
      const seen = await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.updateCampaign(c.id, 1, { status: 'ACTIVE' });
        return tx.getCampaign(c.id);
      });
      expect(seen?.state_version).toBe(2);
    });

    it('tasks round-trip with JSON and depends_on, in (created_at, id) order', async () => {
      const c = f.campaign();
      const a = f.task(c.id, { created_at: '2026-01-01T00:00:01.000Z', input_data: { nested: { list: [1, 'two', null] } } });
      const b = f.task(c.id, { created_at: '2026-01-01T00:00:00.500Z', depends_on: [a.id] });
      const d = f.task(c.id, { created_at: '2026-01-01T00:00:00.500Z' });
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.insertTasks([a, b, d]);
      });
      expect(await store.getTask(a.id)).toEqual(a);
      const ids = (await store.listTasks({ campaign_id: c.id })).map((t) => t.id);
      const expected = [b, d].sort((x, y) => (x.id < y.id ? -1 : 1)).map((t) => t.id);
      expect(ids).toEqual([...expected, a.id]);
      expect((await store.listTasks({ limit: 1, offset: 2 })).map((t) => t.id)).toEqual([a.id]);
      // keyset paging: after a task in (created_at, id) order, with a limit and the other filters
      const [first, second] = expected as [string, string];
      const firstTask = (await store.getTask(first)) as { created_at: string; id: string };
      expect((await store.listTasks({ after: { created_at: firstTask.created_at, id: firstTask.id } })).map((t) => t.id)).toEqual([second, a.id]);
      expect((await store.listTasks({ after: { created_at: firstTask.created_at, id: firstTask.id }, limit: 1 })).map((t) => t.id)).toEqual([second]);
      expect((await store.listTasks({ campaign_id: c.id, after: { created_at: a.created_at, id: a.id } })).map((t) => t.id)).toEqual([]);
    });

    it('task status follows the state machine; expected_status is a compare-and-set', async () => {
      const c = f.campaign();
      const t = f.task(c.id);
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.insertTasks([t]);
      });
      expect(await errorCode(store.transaction((tx) => tx.updateTask(t.id, { status: 'COMPLETED' })))).toBe(
        'ILLEGAL_TRANSITION',
      );
      await store.transaction((tx) => tx.updateTask(t.id, { status: 'PROCESSING', attempts: 1 }, 'PENDING'));
      expect(await errorCode(store.transaction((tx) => tx.updateTask(t.id, { status: 'PROCESSING' }, 'PENDING')))).toBe(
        'CONFLICT',
      );
      const done = await store.transaction((tx) =>
        tx.updateTask(t.id, { status: 'COMPLETED', output_data: { text: 'hi' }, confidence_score: 0.95 }, 'PROCESSING'),
      );
      expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1, confidence_score: 0.95, output_data: { text: 'hi' } });
      expect(await store.countTasks(c.id)).toMatchObject({ COMPLETED: 1, PENDING: 0 });
      expect((await store.listTasks({ status: ['COMPLETED'] })).length).toBe(1);
      expect(await errorCode(store.transaction((tx) => tx.updateTask(f.rng.uuid(), { attempts: 2 })))).toBe('NOT_FOUND');
    });

    it('an idempotency key is claimed once', async () => {
      expect(await store.transaction((tx) => tx.claimIdempotencyKey('task-1:commit'))).toBe(true);
      expect(await store.transaction((tx) => tx.claimIdempotencyKey('task-1:commit'))).toBe(false);
      expect(await store.transaction((tx) => tx.claimIdempotencyKey('task-2:commit'))).toBe(true);
    });

    it('audit events chain by hash and verify; filters by campaign', async () => {
      const c1 = f.rng.uuid();
      const c2 = f.rng.uuid();
      for (let i = 0; i < 5; i++) {
        await store.transaction((tx) => tx.appendAudit(f.audit({ campaign_id: i % 2 ? c1 : c2, details: { i } })));
      }
      const all = await store.readAudit();
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(verifyAuditChain(all).ok).toBe(true);
      expect((await store.readAudit({ campaign_id: c1 })).map((e) => e.seq)).toEqual([2, 4]);
      expect((await store.readAudit({ after_seq: 3 })).map((e) => e.seq)).toEqual([4, 5]);
      expect((await store.readAudit({ limit: 2 })).map((e) => e.seq)).toEqual([1, 2]);
      expect(await store.readAudit({ limit: 0 })).toEqual([]);
      expect(await store.auditHead()).toEqual({ seq: 5, hash: all[4]?.hash });
      const tampered = all.map((e) => (e.seq === 3 ? { ...e, details: { i: 99 } } : e));
      expect(verifyAuditChain(tampered)).toMatchObject({ ok: false, broken_at: 3 });
    });

    it('concurrent writers on one version: exactly one commits', async () => {
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      await store.transaction((tx) => tx.updateCampaign(c.id, 1, { status: 'ACTIVE' }));
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.transaction((tx) => tx.updateCampaign(c.id, 2, { title: `writer ${i}` })),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => code((r as PromiseRejectedResult).reason) === 'CONFLICT')).toBe(true);
      expect((await store.getCampaign(c.id))?.state_version).toBe(3);
    });

    it('lists campaigns by status in (created_at, id) order', async () => {
      const a = f.campaign({ created_at: '2026-01-02T00:00:00.000Z' });
      const b = f.campaign({ created_at: '2026-01-01T00:00:00.000Z' });
      await store.transaction(async (tx) => {
        await tx.insertCampaign(a);
        await tx.insertCampaign(b);
        await tx.updateCampaign(b.id, 1, { status: 'ACTIVE' });
      });
      expect((await store.listCampaigns()).map((c) => c.id)).toEqual([b.id, a.id]);
      expect((await store.listCampaigns('ACTIVE')).map((c) => c.id)).toEqual([b.id]);
    });

    it('a unit of work that calls the store again (re-entrantly) finishes, and both writes commit', async () => {
      const c = f.campaign();
      const d = f.campaign();
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        // outside its transaction: the model says not to, but it must not hang
        await store.getCampaign(c.id);
        await store.transaction((inner) => inner.insertCampaign(d));
        await tx.appendAudit(f.audit({ campaign_id: c.id }));
      });
      expect(await store.getCampaign(c.id)).toEqual(c);
      expect(await store.getCampaign(d.id)).toEqual(d);
      expect((await auditVerifies(store)).ok).toBe(true);
    }, 10_000);

    it('two handles on one namespace see each other\'s commits', async () => {
      const other = await second();
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      expect(await other.getCampaign(c.id)).toEqual(c);
      await other.transaction((tx) => tx.updateCampaign(c.id, 1, { status: 'ACTIVE' }));
      expect((await store.getCampaign(c.id))?.state_version).toBe(2);
      expect(await errorCode(store.transaction((tx) => tx.insertCampaign(c)))).toBe('DUPLICATE');
      await other.transaction((tx) => tx.claimIdempotencyKey('shared-key'));
      expect(await store.transaction((tx) => tx.claimIdempotencyKey('shared-key'))).toBe(false);
    });

    it('compare-and-set from two handles at once: exactly one wins, the others get ConflictError', async () => {
      const other = await second();
      const c = f.campaign();
      await store.transaction((tx) => tx.insertCampaign(c));
      await store.transaction((tx) => tx.updateCampaign(c.id, 1, { status: 'ACTIVE' }));
      for (let round = 0; round < 5; round++) {
        const version = round + 2;
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 ? other : store).transaction(async (tx) => {
              const cur = await tx.getCampaign(c.id);
              const next = await tx.updateCampaign(c.id, version, { title: `round ${round} writer ${i} read v${cur?.state_version}` });
              await tx.appendAudit(f.audit({ campaign_id: c.id, state_version: next.state_version, details: { round, i } }));
              return next;
            }),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won.length, `round ${round}`).toBe(1);
        expect(lost.map((r) => code(r.reason))).toEqual(Array(5).fill('CONFLICT'));
        expect((await other.getCampaign(c.id))?.state_version).toBe(version + 1);
      }
      // the losers wrote no audit event: one per round, and the chain verifies
      expect((await store.readAudit({ campaign_id: c.id })).length).toBe(5);
      expect((await auditVerifies(other)).ok).toBe(true);
    });

    it('concurrent audit appends from two handles, on one campaign and on several: the chain verifies', async () => {
      const other = await second();
      const camps = [f.rng.uuid(), f.rng.uuid(), f.rng.uuid()];
      const N = 60;
      const drafts = Array.from({ length: N }, (_, i) =>
        // the first half on one campaign, the rest spread over three (and some run-level, no campaign)
        f.audit({ campaign_id: i < N / 2 ? camps[0]! : i % 4 === 3 ? null : camps[i % 3]!, details: { i } }),
      );
      const written = await Promise.all(drafts.map((d, i) => (i % 2 ? other : store).transaction((tx) => tx.appendAudit(d))));
      const all = await store.readAudit();
      expect(all.length).toBe(N);
      expect(new Set(all.map((e) => e.id))).toEqual(new Set(drafts.map((d) => d.id)));
      // what each unit was told it wrote is what the log holds
      const byId = new Map(all.map((e) => [e.id, e]));
      for (const w of written) expect(byId.get(w.id)).toEqual(w);
      expect((await auditVerifies(store)).ok).toBe(true);
      expect((await auditVerifies(other)).ok).toBe(true);
      for (const c of camps) {
        expect((await other.readAudit({ campaign_id: c })).map((e) => e.id)).toEqual(all.filter((e) => e.campaign_id === c).map((e) => e.id));
      }
    });

    it('concurrent task updates from two handles: each expected_status commits once', async () => {
      const other = await second();
      const c = f.campaign();
      const tasks = Array.from({ length: 20 }, () => f.task(c.id));
      await store.transaction(async (tx) => {
        await tx.insertCampaign(c);
        await tx.insertTasks(tasks);
      });
      const results = await Promise.allSettled(
        tasks.flatMap((t) => [store, other].map((s) => s.transaction((tx) => tx.updateTask(t.id, { status: 'PROCESSING', attempts: 1 }, 'PENDING')))),
      );
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(tasks.length);
      expect(results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => code(r.reason))).toEqual(Array(tasks.length).fill('CONFLICT'));
      expect(await other.countTasks(c.id)).toMatchObject({ PROCESSING: tasks.length, PENDING: 0 });
    });
  }
}
