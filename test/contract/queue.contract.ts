/** The work-queue contract: at-least-once delivery with leases, on a virtual clock. */
import { beforeEach, expect, it } from 'vitest';
import { VirtualClock } from '../../src/sim/clock.ts';
import type { WorkQueue } from '../../src/ports/queue.ts';
import type { Harness } from './run.ts';

type Payload = { n: number; text: string };
const items = (...ns: number[]) => ns.map((n) => ({ id: `item-${n}`, payload: { n, text: `payload ${n}` } }));

export function queueContract(h: Harness): void {
  {
    let clock: VirtualClock;
    let q: WorkQueue<Payload>;
    let ns: string;
    const Q = 'task_queue:00000000-0000-4000-8000-000000000001';
    beforeEach(async () => {
      clock = new VirtualClock();
      ns = await h.namespace();
      q = await h.queue<Payload>(ns, clock);
      // a fresh namespace is empty: nothing to purge
      expect(await q.queues()).toEqual([]);
    });

    it('delivers in FIFO order with payloads intact', async () => {
      expect(await q.enqueue(Q, items(1, 2, 3))).toBe(3);
      const got: number[] = [];
      for (let l = await q.claim(Q, 'w1', 1000); l; l = await q.claim(Q, 'w1', 1000)) {
        expect(l.item.payload).toEqual({ n: l.item.payload.n, text: `payload ${l.item.payload.n}` });
        expect(l.consumer).toBe('w1');
        got.push(l.item.payload.n);
        expect(await q.ack(Q, l.lease_id)).toBe(true);
      }
      expect(got).toEqual([1, 2, 3]);
      expect(await q.depth(Q)).toEqual({ ready: 0, delayed: 0, leased: 0 });
    });

    it('enqueueing an id already present is a no-op', async () => {
      await q.enqueue(Q, items(1));
      expect(await q.enqueue(Q, items(1, 2))).toBe(1);
      expect((await q.depth(Q)).ready).toBe(2);
    });

    it('a claimed item is leased, not removed', async () => {
      await q.enqueue(Q, items(1, 2));
      const l = await q.claim(Q, 'w1', 1000);
      expect(l?.item.id).toBe('item-1');
      expect(l?.expires_at_ms).toBe(clock.now_ms() + 1000);
      expect(await q.depth(Q)).toEqual({ ready: 1, delayed: 0, leased: 1 });
      expect((await q.peek(Q, 10)).map((i) => i.id)).toEqual(['item-2']);
      expect(await q.queues()).toContain(Q);
    });

    it('lists leased items with their holders', async () => {
      await q.enqueue(Q, items(1, 2, 3));
      await q.claim(Q, 'w1', 300);
      clock.advance(10);
      await q.claim(Q, 'w2', 100);
      const leased = await q.leased(Q, 10);
      expect(leased.map((l) => [l.item.id, l.consumer, l.expires_at_ms - clock.now_ms()])).toEqual([
        ['item-2', 'w2', 100],
        ['item-1', 'w1', 290],
      ]);
      expect((await q.leased(Q, 1)).length).toBe(1);
    });

    it('an expired lease redelivers, with attempts + 1, ahead of newer items', async () => {
      await q.enqueue(Q, items(1, 2));
      const l1 = await q.claim(Q, 'w1', 500);
      clock.advance(499);
      expect(await q.redeliverExpired(Q)).toEqual([]);
      clock.advance(1);
      expect(await q.redeliverExpired(Q)).toEqual(['item-1']);
      const l2 = await q.claim(Q, 'w2', 500);
      expect(l2?.item.id).toBe('item-1');
      expect(l2?.item.attempts).toBe(1);
      // the first consumer's lease is gone: its ack reports that, and the item stays
      expect(await q.ack(Q, l1!.lease_id)).toBe(false);
      expect((await q.depth(Q)).leased).toBe(1);
      expect(await q.ack(Q, l2!.lease_id)).toBe(true);
      expect((await q.depth(Q)).ready).toBe(1);
    });

    it('retry releases with attempts + 1 after the delay', async () => {
      await q.enqueue(Q, items(1, 2));
      const l = await q.claim(Q, 'w1', 1000);
      expect(await q.retry(Q, l!.lease_id, { delay_ms: 300 })).toEqual({ attempts: 1 });
      expect(await q.depth(Q)).toEqual({ ready: 1, delayed: 1, leased: 0 });
      expect((await q.claim(Q, 'w1', 1000))?.item.id).toBe('item-2');
      expect(await q.claim(Q, 'w1', 1000)).toBeNull();
      clock.advance(300);
      const again = await q.claim(Q, 'w1', 1000);
      expect(again?.item).toMatchObject({ id: 'item-1', attempts: 1 });
      expect(await q.retry(Q, 'no-such-lease')).toBeNull();
    });

    it('delayed enqueue holds items back until due', async () => {
      await q.enqueue(Q, items(1), { delay_ms: 100 });
      expect(await q.claim(Q, 'w1', 1000)).toBeNull();
      expect(await q.depth(Q)).toEqual({ ready: 0, delayed: 1, leased: 0 });
      clock.advance(100);
      expect((await q.claim(Q, 'w1', 1000))?.item.id).toBe('item-1');
    });

    it('queues are independent and purge empties one', async () => {
      const R = 'review_queue:00000000-0000-4000-8000-000000000001';
      await q.purge(R);
      await q.enqueue(Q, items(1, 2));
      await q.enqueue(R, items(3));
      expect((await q.claim(R, 'j', 100))?.item.id).toBe('item-3');
      expect(await q.purge(Q)).toBe(2);
      expect(await q.depth(Q)).toEqual({ ready: 0, delayed: 0, leased: 0 });
      expect((await q.depth(R)).leased).toBe(1);
      await q.purge(R);
    });

    it('nothing acknowledged is lost and nothing is delivered after ack (seeded interleaving)', async () => {
      let x = 12345;
      const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
      const N = 60;
      await q.enqueue(Q, items(...Array.from({ length: N }, (_, i) => i)));
      const acked = new Set<string>();
      const held: { lease_id: string; id: string }[] = [];
      for (let step = 0; step < 2000 && acked.size < N; step++) {
        const r = rnd();
        if (r < 0.4) {
          const l = await q.claim(Q, `w${step % 3}`, 50);
          if (l) {
            expect(acked.has(l.item.id)).toBe(false);
            held.push({ lease_id: l.lease_id, id: l.item.id });
          }
        } else if (r < 0.75 && held.length) {
          const h = held.splice(Math.floor(rnd() * held.length), 1)[0]!;
          if (await q.ack(Q, h.lease_id)) acked.add(h.id);
        } else if (r < 0.85 && held.length) {
          const h = held.splice(0, 1)[0]!;
          await q.retry(Q, h.lease_id);
        } else {
          clock.advance(20);
          await q.redeliverExpired(Q);
        }
      }
      for (const h of held) if (await q.ack(Q, h.lease_id)) acked.add(h.id);
      for (let i = 0; i < 3 * N; i++) {
        clock.advance(100);
        await q.redeliverExpired(Q);
        const l = await q.claim(Q, 'drain', 50);
        if (!l) break;
        expect(acked.has(l.item.id)).toBe(false);
        expect(await q.ack(Q, l.lease_id)).toBe(true);
        acked.add(l.item.id);
      }
      expect(acked.size).toBe(N);
      expect(await q.depth(Q)).toEqual({ ready: 0, delayed: 0, leased: 0 });
    });

    it('two handles on one namespace share the queue; the other space is apart', async () => {
      const other = await h.queue<Payload>(ns, clock);
      const review = await h.queue<Payload>(ns, clock, 'review');
      await q.enqueue(Q, items(1, 2));
      expect(await other.depth(Q)).toEqual({ ready: 2, delayed: 0, leased: 0 });
      expect(await other.enqueue(Q, items(2, 3))).toBe(1);
      const l = await other.claim(Q, 'w2', 100);
      expect(l?.item.id).toBe('item-1');
      expect((await q.leased(Q, 10)).map((x) => [x.item.id, x.consumer])).toEqual([['item-1', 'w2']]);
      // the lease is the store's, not the handle's: the first handle can acknowledge it
      expect(await q.ack(Q, l!.lease_id)).toBe(true);
      expect(await other.ack(Q, l!.lease_id)).toBe(false);
      expect(await review.depth(Q)).toEqual({ ready: 0, delayed: 0, leased: 0 });
      expect(await review.queues()).toEqual([]);
    });

    it('concurrent claims from two handles never lease one item twice (bounded, with lapses)', async () => {
      const other = await h.queue<Payload>(ns, clock);
      const N = 120;
      await q.enqueue(Q, items(...Array.from({ length: N }, (_, i) => i)));
      const holders = new Map<string, string>(); // item id → lease id held now
      const acked = new Set<string>();
      let claims = 0;
      for (let round = 0; round < 200 && acked.size < N; round++) {
        // both handles claim at once, several each
        const got = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? other : q).claim(Q, `w${i}`, 50)),
        );
        for (const l of got) {
          if (!l) continue;
          claims += 1;
          expect(holders.has(l.item.id), `round ${round}: ${l.item.id} leased twice`).toBe(false);
          expect(acked.has(l.item.id), `round ${round}: ${l.item.id} delivered after its ack`).toBe(false);
          holders.set(l.item.id, l.lease_id);
        }
        // acknowledge most of what is held, from either handle, at once; let the rest lapse
        const held = [...holders.entries()];
        const acks = await Promise.all(
          held.map(([id, lease], i) => (i % 5 === 4 ? Promise.resolve(null) : (i % 2 ? q : other).ack(Q, lease).then((ok) => (ok ? id : null)))),
        );
        for (const id of acks) {
          if (id === null) continue;
          acked.add(id);
          holders.delete(id);
        }
        if (round % 3 === 2) {
          clock.advance(60);
          const back = await Promise.all([q.redeliverExpired(Q), other.redeliverExpired(Q)]);
          for (const id of back.flat()) holders.delete(id);
        }
      }
      expect(acked.size).toBe(N);
      expect(claims).toBeGreaterThanOrEqual(N);
      expect(await other.depth(Q)).toEqual({ ready: 0, delayed: 0, leased: 0 });
    });
  }
}
