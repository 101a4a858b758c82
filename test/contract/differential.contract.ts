/**
 * Differential test: an entry's state store and queue against the in-memory reference
 * adapters, driven by the same seeded random operations (units of work that may throw at any
 * point, reads made from inside a unit (which, on SQLite, force held writes into SQL), queue
 * leases, retries, delays, redelivery and purges, checkpoints, and closing and reopening the
 * namespace). Every answer must be the same on both, except lease ids, which are
 * backend-specific. Bounded: a few seeds of a few hundred steps.
 *
 * Queue calls made inside a unit of work commit and roll back with it on an entry with
 * `unitCoversQueue` (one SQLite file); the reference then applies them only when the unit
 * committed. Elsewhere they take effect as they are made, on both sides. Reopening runs only
 * on entries that keep a namespace's data (`reopens`); checkpoints where the entry has one.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the operations are closures run against both adapters */
import { expect, it } from 'vitest';
import { isDeepStrictEqual, inspect } from 'node:util';
import { MemoryStateStore } from '../../src/adapters/memory/memory-state-store.ts';
import { MemoryQueue } from '../../src/adapters/memory/memory-queue.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { fixtures } from '../support/fixtures.ts';
import type { WorkQueue } from '../../src/ports/queue.ts';
import type { Harness } from './run.ts';

async function fuzz(h: Harness, seed: number, STEPS: number): Promise<{ tasks: number; audit: number; reopened: number; checkpoints: number }> {
  const rng = new SeededRng(seed, 'fuzz');
  const r = (n: number) => Math.floor(rng.next() * n);
  const f = fixtures(seed);
  const covers = h.entry.capabilities?.unitCoversQueue === true;
  const reopens = h.entry.capabilities?.reopens === true;
  const MODE = h.entry.name;
  const ns = await h.namespace();
  const clock = new VirtualClock(0);
  let S: any = await h.state(ns);
  let SQ: WorkQueue<any> = await h.queue<any>(ns, clock, 'task');
  let reopened = 0;
  let checkpoints = 0;
  const M = new MemoryStateStore();
  const MQ = new MemoryQueue<any>(clock);
  const camps: string[] = [];
  const tasks: string[] = [];
  const STAT = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL'] as const;
  const code = (e: any) => e?.code ?? e?.message ?? String(e);
  let step = 0; let sOk = false;
  function fail(what: string, a: unknown, b: unknown): never {
    throw new Error(`seed ${seed} (${MODE}) step ${step}: ${what} differs\n${MODE}: ${inspect(a, { depth: 5 })}\nmemory: ${inspect(b, { depth: 5 })}`);
  }
  async function both<T>(what: string, fs: () => Promise<T>, fm: () => Promise<T>, norm: (x: any) => any = (x) => x) {
    let a: any, b: any;
    try { a = { ok: norm(await fs()) }; } catch (e) { a = { err: code(e) }; }
    try { b = { ok: norm(await fm()) }; } catch (e) { b = { err: code(e) }; }
    if (!isDeepStrictEqual(a, b)) fail(what, a, b);
    return a;
  }
  const QN = ['a', 'b'];
  const pick = <T,>(xs: T[]) => xs[r(xs.length)] as T;
  // a list of ops; each op gets (store-or-tx for sqlite, memory counterpart)
  function genStep(inUnit: boolean) {
    const k = r(inUnit ? 13 : 9);
    switch (k) {
      case 0: { const c = camps.length && r(5) === 0 ? { ...f.campaign(), id: pick(camps) } : f.campaign(); if (!camps.includes(c.id)) camps.push(c.id); return { n: 'insC', tx: (t: any) => t.insertCampaign(c) }; }
      case 1: { const id = camps.length ? pick(camps) : 'x'; const v = 1 + r(4); const st = pick(['PLANNING', 'ACTIVE', 'PAUSED'] as const); const ti = `t${r(9)}`; return { n: 'updC', tx: (t: any) => t.updateCampaign(id, v, { status: st, title: ti }) }; }
      case 2: { const cid = camps.length ? pick(camps) : 'x'; const list = Array.from({ length: 1 + r(3) }, () => tasks.length && r(6) === 0 ? f.task(cid, { id: pick(tasks) }) : f.task(cid, { created_at: `2026-01-0${1 + r(3)}T00:00:00.000Z`, output_data: r(3) === 0 ? { text: `o${r(9)}` } as any : null })); for (const t of list) if (!tasks.includes(t.id)) tasks.push(t.id); return { n: 'insT', tx: (t: any) => t.insertTasks(list) }; }
      case 3: case 4: { const id = tasks.length ? pick(tasks) : 'x'; const p: any = {}; if (r(2)) p.status = pick([...STAT]); if (r(2)) p.output_data = r(3) ? { text: `o${r(99)}` } : null; if (r(3) === 0) p.attempts = r(5); if (r(4) === 0) p.confidence_score = r(10) / 10; if (r(5) === 0) p.input_data = { q: r(9) }; const ex = r(3) === 0 ? pick([...STAT]) : undefined; return { n: 'updT', tx: (t: any) => t.updateTask(id, p, ex) }; }
      case 5: { const key = `k${r(30)}`; return { n: 'key', tx: (t: any) => t.claimIdempotencyKey(key) }; }
      case 6: case 7: { const cid = camps.length && r(3) ? pick(camps) : null; const d = f.audit({ campaign_id: cid }); return { n: 'audit', tx: (t: any) => t.appendAudit(d) }; }
      case 8: { const id = tasks.length ? pick(tasks) : 'x'; return { n: 'getT', tx: (t: any) => t.getTask(id) }; }
      case 9: return { n: 'read', read: true };
      case 11: case 12: { const q = pick(QN); const w = r(7); const items = Array.from({ length: 1 + r(3) }, () => ({ id: `i${r(25)}`, payload: { n: r(100) } })); const lm = 20 + r(50); const pi = r(100); const o = r(2) ? { delay_ms: r(30) } : {};
        return { n: 'q' + w, q: async (Q: any) => {
          if (w === 0 || w === 1) return Q.enqueue(q, items, o);
          if (w === 2) { const l = await Q.claim(q, 'w', lm); return l && l.item; }
          if (w === 3 || w === 4) { const ls = (await Q.leased(q, 100)).sort((x: any, y: any) => x.item.id < y.item.id ? -1 : 1); if (!ls.length) return 'none'; const l = ls[pi % ls.length]; return w === 3 ? Q.ack(q, l.lease_id) : Q.retry(q, l.lease_id, o); }
          if (w === 5) return Q.redeliverExpired(q);
          if (pi < 10) return Q.purge(q);
          return [await Q.depth(q), await Q.peek(q, 5)];
        } }; }
      case 10: { const id = camps.length ? pick(camps) : 'x'; return { n: 'getC', tx: (t: any) => t.getCampaign(id) }; }
    }
    throw new Error();
  }
  async function randomRead(tag: string) {
    const k = r(7);
    const cid = camps.length && r(2) ? pick(camps) : undefined;
    if (k === 0) { const q = { campaign_id: cid, status: r(2) ? (r(3) ? pick([...STAT]) : [pick([...STAT]), pick([...STAT])]) : undefined, limit: r(2) ? r(5) : undefined, offset: r(3) === 0 ? r(3) : undefined }; await both(`${tag} listTasks ${JSON.stringify(q)}`, () => S.listTasks(q as any), () => M.listTasks(q as any)); }
    if (k === 1) await both(`${tag} countTasks`, () => S.countTasks(cid), () => M.countTasks(cid));
    if (k === 2) { const q = { campaign_id: cid, after_seq: r(2) ? r(20) : undefined, limit: r(2) ? r(5) : undefined }; await both(`${tag} readAudit ${JSON.stringify(q)}`, () => S.readAudit(q), () => M.readAudit(q)); }
    if (k === 3) await both(`${tag} auditHead`, () => S.auditHead(), () => M.auditHead());
    if (k === 4) await both(`${tag} listCampaigns`, () => S.listCampaigns(), () => M.listCampaigns());
    if (k === 5) { const id = tasks.length ? pick(tasks) : 'x'; await both(`${tag} getTask`, () => S.getTask(id), () => M.getTask(id)); }
    if (k === 6) { const id = camps.length ? pick(camps) : 'x'; await both(`${tag} getCampaign`, () => S.getCampaign(id), () => M.getCampaign(id)); }
  }
  async function fullCheck(tag: string) {
    await both(`${tag} all tasks`, () => S.listTasks(), () => M.listTasks());
    await both(`${tag} all campaigns`, () => S.listCampaigns(), () => M.listCampaigns());
    await both(`${tag} audit`, () => S.readAudit(), () => M.readAudit());
    await both(`${tag} head`, () => S.auditHead(), () => M.auditHead());
    await both(`${tag} counts`, () => S.countTasks(), () => M.countTasks());
    for (const id of tasks) await both(`${tag} getTask ${id}`, () => S.getTask(id), () => M.getTask(id));
    for (const id of camps) await both(`${tag} getCampaign ${id}`, () => S.getCampaign(id), () => M.getCampaign(id));
    for (const q of QN) {
      await both(`${tag} depth ${q}`, () => SQ.depth(q), () => MQ.depth(q));
      await both(`${tag} peek ${q}`, () => SQ.peek(q, 100), () => MQ.peek(q, 100));
      const nl = (ls: any[]) => ls.map((l) => ({ ...l, lease_id: undefined })).sort((x, y) => x.item.id < y.item.id ? -1 : 1);
      await both(`${tag} leased ${q}`, () => SQ.leased(q, 100), () => MQ.leased(q, 100), nl);
    }
    await both(`${tag} queues`, () => SQ.queues(), () => MQ.queues());
  }
  async function queueOp() {
    const q = pick(QN);
    const k = r(7);
    if (k === 0 || k === 1) { const items = Array.from({ length: 1 + r(3) }, () => ({ id: `i${r(25)}`, payload: { n: r(100) } })); const o = r(3) === 0 ? { delay_ms: r(50) } : {}; await both(`enqueue ${q}`, () => SQ.enqueue(q, items, o), () => MQ.enqueue(q, items, o)); }
    if (k === 2) { const lm = 20 + r(50); await both(`claim ${q}`, () => SQ.claim(q, 'w', lm), () => MQ.claim(q, 'w', lm), (l: any) => l && { ...l, lease_id: undefined }); }
    if (k === 3 || k === 4) { // ack or retry an item currently leased (same item on both)
      const lsS = await SQ.leased(q, 100); const lsM = await MQ.leased(q, 100);
      if (lsS.length) { const l = pick(lsS); const m = lsM.find((x) => x.item.id === l.item.id); if (!m) fail('leased sets', lsS, lsM);
        if (k === 3) await both(`ack ${q}`, () => SQ.ack(q, l.lease_id), () => MQ.ack(q, m!.lease_id));
        else { const o = r(2) ? { delay_ms: r(30) } : {}; await both(`retry ${q}`, () => SQ.retry(q, l.lease_id, o), () => MQ.retry(q, m!.lease_id, o)); } }
      else await both(`ack bogus`, () => SQ.ack(q, 'L99.9'), () => MQ.ack(q, 'L99999'));
    }
    if (k === 5) await both(`redeliver ${q}`, () => SQ.redeliverExpired(q), () => MQ.redeliverExpired(q), (x: string[]) => x);
    if (k === 6) { if (r(6) === 0) await both(`purge ${q}`, () => SQ.purge(q), () => MQ.purge(q)); else clock.advance?.(r(40)); }
  }
  for (step = 0; step < STEPS; step++) {
    const k = r(10);
    if (k < 5) {
      // a unit of work, the same ops on both; maybe throw
      const ops = Array.from({ length: 1 + r(6) }, () => genStep(true));
      const throwAt = r(3) === 0 ? r(ops.length + 1) : -1;
      const run = async (store: any) => store.transaction(async (tx: any) => {
        const out: any[] = [];
        for (let i = 0; i < ops.length; i++) {
          if (i === throwAt) throw new Error('boom');
          const op = ops[i]!;
          if (op.read) { out.push('read'); continue; }
          // with unitCoversQueue the entry's queue calls went with its unit: replay them only if it committed
          if (op.q) { out.push(covers && !sOk ? 'q' : await op.q(MQ)); continue; }
          out.push(await op.tx!(tx));
        }
        if (throwAt === ops.length) throw new Error('boom');
        return out;
      });
      // reads inside the unit: do the sqlite reads inside and compare to memory-in-unit later is hard; run reads inside sqlite unit only (forcing flushes)
      let a: any, b: any;
      const rs = rng.next();
      try { a = { ok: await S.transaction(async (tx: any) => {
        const out: any[] = [];
        for (let i = 0; i < ops.length; i++) {
          if (i === throwAt) throw new Error('boom');
          const op = ops[i]!;
          if (op.q) { const v = await op.q(SQ); out.push(v); continue; }
          if (op.read) { const w = Math.floor(rs * 5 + i) % 5; if (w === 0) await S.listTasks(); else if (w === 1) await S.countTasks(); else if (w === 2) await S.readAudit({ limit: 2 }); else if (w === 3) await SQ.queues(); else await S.listCampaigns(); out.push('read'); continue; }
          out.push(await op.tx!(tx));
        }
        if (throwAt === ops.length) throw new Error('boom');
        return out;
      }) }; } catch (e) { a = { err: code(e) }; }
      sOk = 'ok' in a;
      try { b = { ok: await run(M) }; } catch (e) { b = { err: code(e) }; }
      if (!isDeepStrictEqual(a, b)) fail(`unit ${ops.map((o) => o.n)} throwAt ${throwAt}`, a, b);
    } else if (k < 7) await queueOp();
    else if (k < 9) await randomRead('outside');
    else {
      const w = r(4);
      if (w === 0) { if (await h.checkpoint(ns)) checkpoints += 1; }
      else if (w === 1 && reopens) { await fullCheck('pre-reopen'); await S.close(); await SQ.close(); S = await h.state(ns); SQ = await h.queue<any>(ns, clock, 'task'); reopened += 1; await fullCheck('reopened'); }
      else if (w === 2) await new Promise((res) => setImmediate(res));
      else await fullCheck('check');
    }
  }
  await fullCheck('end');
  await S.close();
  await SQ.close();
  return { tasks: tasks.length, audit: (await M.readAudit()).length, reopened, checkpoints };
}

/** Declares one test per seed: `seeds` seeds from `first`, `steps` steps each. */
export function differentialSuite(opts: { first: number; seeds: number; steps: number }): (h: Harness) => void {
  return (h) => {
    const seen = { runs: 0, reopened: 0 };
    for (let seed = opts.first; seed < opts.first + opts.seeds; seed++) {
      it(`seed ${seed}: ${opts.steps} random operations answer as the in-memory reference does`, async () => {
        const r = await fuzz(h, seed, opts.steps);
        expect(r.audit).toBeGreaterThan(0);
        seen.runs += 1;
        seen.reopened += r.reopened;
      });
    }
    // the seeds together reached the operations the entry's capabilities allow (none was skipped quietly)
    const reopens = h.entry.capabilities?.reopens === true;
    it(`the seeds ran whole and reopened the namespace${reopens ? '' : ' (not: the entry does not reopen)'}`, () => {
      expect(seen.runs).toBe(opts.seeds);
      if (reopens) expect(seen.reopened).toBeGreaterThan(0);
      else expect(seen.reopened).toBe(0);
    });
  };
}
