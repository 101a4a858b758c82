/**
 * The run-log contract: one run per namespace (its header and progress) and its event log.
 * Paging: `readEventsAfter(after_seq, limit)` numbers every event, so a reader resumes after
 * the last number it saw, even inside a step whose events straddle a page boundary;
 * `readEventsAfter` is what a resume loop pages with, `readEvents(after_step)` is not.
 */
import { beforeEach, expect, it } from 'vitest';
import { ChimeraError } from '../../src/domain/errors.ts';
import type { RunHeader, RunLog, RunProgress } from '../../src/ports/run-log.ts';
import type { Harness } from './run.ts';

const header = (over: Partial<RunHeader> = {}): RunHeader => ({
  run_id: 'run-1',
  seed: 7,
  config: { workers: 3, faults: { transient: 0.1 }, nested: [1, 'two', null] },
  scenario: { name: 'storm', campaigns: [] },
  created_at: '2026-01-01T00:00:00.000Z',
  ...over,
});
const progress = (step: number): RunProgress => ({ step, tick: Math.floor(step / 4), clock_ms: step * 250 });

type Ev = { step: number; type: string; i: number };
/** Events of steps from..to, `per(step)` of them in each step, numbered i in append order. */
function events(from: number, to: number, per: (step: number) => number, start = 0): Ev[] {
  const out: Ev[] = [];
  for (let s = from; s <= to; s++) for (let k = 0; k < per(s); k++) out.push({ step: s, type: `e${k}`, i: start + out.length });
  return out;
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof ChimeraError ? e.code : String(e);
  }
  return 'NO_ERROR';
}

/** Every event, read page by page with `readEventsAfter`. */
async function allBySeq(log: RunLog, limit: number): Promise<{ events: unknown[]; pages: number; seqs: number[] }> {
  const got: unknown[] = [];
  const seqs: number[] = [];
  let pages = 0;
  for (let after = 0; pages < 10_000; pages++) {
    const page = await log.readEventsAfter(after, limit);
    if (page.length === 0) break;
    expect(page.length).toBeLessThanOrEqual(limit);
    for (const e of page) {
      got.push(e.event);
      seqs.push(e.seq);
    }
    after = (page.at(-1) as { seq: number }).seq;
  }
  return { events: got, pages, seqs };
}

export function runLogContract(h: Harness): void {
  {
    let log: RunLog;
    let ns: string;
    beforeEach(async () => {
      ns = await h.namespace();
      log = await h.runLog(ns);
    });

    it('a fresh namespace holds no run; a started run loads back exactly', async () => {
      expect(await log.loadRun()).toBeNull();
      expect(await log.countEvents()).toBe(0);
      expect(await log.readEvents()).toEqual([]);
      expect(await log.readEventsAfter()).toEqual([]);
      await log.startRun(header(), progress(0));
      expect(await log.loadRun()).toEqual({ header: header(), progress: progress(0) });
    });

    it('refuses a second start, from this handle and from another, and keeps the first', async () => {
      await log.startRun(header(), progress(0));
      expect(await errorCode(log.startRun(header({ run_id: 'run-2' }), progress(5)))).toBe('DUPLICATE');
      const other = await h.runLog(ns);
      expect(await errorCode(other.startRun(header({ run_id: 'run-3' }), progress(9)))).toBe('DUPLICATE');
      expect(await other.loadRun()).toEqual({ header: header(), progress: progress(0) });
    });

    it('append stores the events and the progress together; before a start it stores nothing', async () => {
      expect(await errorCode(log.append(events(1, 2, () => 2), progress(2)))).not.toBe('NO_ERROR');
      expect(await log.countEvents()).toBe(0);
      expect(await log.loadRun()).toBeNull();
      await log.startRun(header(), progress(0));
      const a = events(1, 3, () => 2);
      await log.append(a, progress(3), a.map((e) => JSON.stringify(e)));
      expect(await log.loadRun()).toEqual({ header: header(), progress: progress(3) });
      expect(await log.countEvents()).toBe(6);
      const b = events(4, 4, () => 3, a.length);
      await log.append(b, progress(4));
      await log.append([], progress(5));
      expect(await log.loadRun()).toMatchObject({ progress: progress(5) });
      expect(await log.readEvents()).toEqual([...a, ...b]);
    });

    it('readEvents(after_step, limit): events of later steps, in append order, up to limit', async () => {
      await log.startRun(header(), progress(0));
      const all = events(1, 6, (s) => (s % 3) + 1);
      await log.append(all, progress(6));
      expect(await log.readEvents()).toEqual(all);
      expect(await log.readEvents(3)).toEqual(all.filter((e) => e.step > 3));
      expect(await log.readEvents(3, 2)).toEqual(all.filter((e) => e.step > 3).slice(0, 2));
      expect(await log.readEvents(0, 0)).toEqual([]);
      expect(await log.readEvents(6)).toEqual([]);
    });

    it('readEventsAfter pages by event number: no page size loses or repeats an event, even inside a step', async () => {
      await log.startRun(header(), progress(0));
      // step 2 has 7 events: every page size below straddles it somewhere
      const all = events(1, 5, (s) => (s === 2 ? 7 : s));
      await log.append(all.slice(0, 10), progress(2));
      await log.append(all.slice(10), progress(5));
      for (const limit of [1, 2, 3, 4, 5, 7, 100]) {
        const r = await allBySeq(log, limit);
        expect(r.events, `page size ${limit}`).toEqual(all);
        expect(r.seqs.every((s, i) => s > 0 && (i === 0 || s > (r.seqs[i - 1] as number))), `page size ${limit}`).toBe(true);
        expect(r.pages).toBe(Math.ceil(all.length / limit));
      }
      const first = await log.readEventsAfter(0, 3);
      expect(await log.readEventsAfter((first.at(-1) as { seq: number }).seq, 2)).toEqual((await log.readEventsAfter()).slice(3, 5));
      const last = (await log.readEventsAfter()).at(-1) as { seq: number };
      expect(await log.readEventsAfter(last.seq)).toEqual([]);
      expect(await log.readEventsAfter(0, 0)).toEqual([]);
    });

    it('paging by step (readEvents(last step, limit)) skips the rest of a step that straddles a page: why readEventsAfter exists', async () => {
      await log.startRun(header(), progress(0));
      const all = events(1, 3, (s) => (s === 2 ? 5 : 1));
      await log.append(all, progress(3));
      const got: unknown[] = [];
      for (let after = 0, pages = 0; pages < 100; pages++) {
        const page = (await log.readEvents(after, 3)) as Ev[];
        if (page.length === 0) break;
        got.push(...page);
        after = (page.at(-1) as Ev).step;
      }
      // the first page ends inside step 2: its last three events are never read
      expect(got.length).toBe(all.length - 3);
      expect((await allBySeq(log, 3)).events).toEqual(all);
    });

    it('refuses a bad page request with a typed error', async () => {
      for (const [after, limit] of [[-1, 10], [1.5, 10], [0, -1], [0, 2.5]] as const) {
        expect(await errorCode(log.readEventsAfter(after, limit)), `after ${after} limit ${limit}`).toBe('VALIDATION');
      }
    });

    it('appends from two handles at once all land, in one numbered order both handles read', async () => {
      const other = await h.runLog(ns);
      await log.startRun(header(), progress(0));
      const batches = Array.from({ length: 12 }, (_, b) => events(b * 10 + 1, b * 10 + 3, () => 2, b * 6));
      await Promise.all(batches.map((evs, b) => (b % 2 ? other : log).append(evs, progress(b * 10 + 3))));
      expect(await log.countEvents()).toBe(72);
      expect(await other.countEvents()).toBe(72);
      const mine = await log.readEventsAfter();
      expect(await other.readEventsAfter()).toEqual(mine);
      // each batch lands whole and in its own order
      for (const evs of batches) {
        const at = mine.map((x) => x.event as Ev).filter((e) => e.step >= evs[0]!.step && e.step <= evs.at(-1)!.step);
        expect(at).toEqual(evs);
      }
      expect((await allBySeq(other, 5)).events).toEqual(mine.map((x) => x.event));
    });

    const reopens = h.entry.capabilities?.reopens === true;
    it.skipIf(!reopens)(`closing a handle keeps the run: a handle opened again reads it all${reopens ? '' : ' — skipped: the entry does not reopen a namespace'}`, async () => {
      await log.startRun(header(), progress(0));
      const all = events(1, 4, () => 3);
      await log.append(all, progress(4));
      await log.close();
      const again = await h.runLog(ns);
      expect(await again.loadRun()).toEqual({ header: header(), progress: progress(4) });
      expect((await allBySeq(again, 4)).events).toEqual(all);
      expect(await again.countEvents()).toBe(all.length);
    });
  }
}
