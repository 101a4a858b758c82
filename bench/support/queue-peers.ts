/**
 * Queues under the same workload, for the production suite: the peer libraries users would pick
 * instead of ours (BullMQ on Redis, pg-boss on Postgres), behind one small interface, and the
 * driver that measures any of them. Every side gives the same at-least-once guarantee: an item
 * is leased (locked) when claimed and removed only when acknowledged; a lapsed lease is
 * delivered again.
 */
import { randomUUID } from 'node:crypto';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import PgBoss from 'pg-boss';
import { percentile, round } from '../suite.ts';

export interface QueueSide {
  readonly name: string;
  /** Adds one item (one round trip or more, as the library does it). */
  enqueue(id: string, payload: object): Promise<void>;
  /** Adds many items in as few round trips as the library allows. */
  enqueueMany(items: readonly { id: string; payload: object }[]): Promise<void>;
  /** Claims the next item, leased for 30 s, and acknowledges it; false when none was ready. */
  claimAck(): Promise<boolean>;
  close(): Promise<void>;
}

export interface QueueFigures {
  readonly enqueue_per_s: number;
  readonly enqueue_p50_ms: number;
  readonly enqueue_p99_ms: number;
  readonly enqueue_bulk_per_s: number;
  readonly claim_ack_per_s: number;
  readonly claim_ack_p50_ms: number;
  readonly claim_ack_p99_ms: number;
  /** claim+ack with `concurrency` consumers in this process at once. */
  readonly claim_ack_concurrent_per_s: number;
}

/** A task-like payload of the size our worker inputs have. */
export function payloadOf(i: number): object {
  return { task_id: `t-${i}`, skill_name: 'draft_post', params: { topic: `topic ${i}`, tone: 'warm', length: 280 }, attempt: 0 };
}

async function timed(n: number, op: (i: number) => Promise<unknown>): Promise<{ per_s: number; lat: number[] }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await op(i);
    lat.push(performance.now() - s);
  }
  return { per_s: n / ((performance.now() - t0) / 1000), lat: lat.sort((a, b) => a - b) };
}

/**
 * Enqueues n items one by one, claims and acks them one by one; then n in bulk, claimed by
 * `concurrency` consumers at once. Each phase drains what it added, so phases are independent.
 */
export async function measureQueue(side: QueueSide, n: number, concurrency: number): Promise<QueueFigures> {
  const enq = await timed(n, (i) => side.enqueue(randomUUID(), payloadOf(i)));
  const ca = await timed(n, async () => {
    if (!(await side.claimAck())) throw new Error(`${side.name}: queue ran dry before ${n} claims`);
  });
  const items = Array.from({ length: n }, (_, i) => ({ id: randomUUID(), payload: payloadOf(i) }));
  const b0 = performance.now();
  for (let i = 0; i < n; i += 100) await side.enqueueMany(items.slice(i, i + 100));
  const bulk = n / ((performance.now() - b0) / 1000);
  let done = 0;
  const c0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (done < n) {
        if (await side.claimAck()) done += 1;
        else if (done < n) await new Promise((r) => setImmediate(r));
      }
    }),
  );
  const conc = n / ((performance.now() - c0) / 1000);
  return {
    enqueue_per_s: round(enq.per_s, 0),
    enqueue_p50_ms: round(percentile(enq.lat, 50)),
    enqueue_p99_ms: round(percentile(enq.lat, 99)),
    enqueue_bulk_per_s: round(bulk, 0),
    claim_ack_per_s: round(ca.per_s, 0),
    claim_ack_p50_ms: round(percentile(ca.lat, 50)),
    claim_ack_p99_ms: round(percentile(ca.lat, 99)),
    claim_ack_concurrent_per_s: round(conc, 0),
  };
}

/** BullMQ: Queue.add / addBulk, and a Worker fetching by hand (getNextJob with its lock token, then moveToCompleted). */
export async function bullmqSide(redisUrl: string, prefix: string): Promise<QueueSide> {
  const u = new URL(redisUrl);
  const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
  const name = 'bench';
  const queue = new BullQueue(name, { connection, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  // no processor: jobs are fetched by hand; lockDuration is the lease
  const worker = new BullWorker(name, null, { connection, prefix, lockDuration: 30_000, autorun: false });
  await queue.waitUntilReady();
  await worker.waitUntilReady();
  const token = randomUUID();
  return {
    name: 'bullmq',
    enqueue: async (id, payload) => void (await queue.add('task', payload, { jobId: id })),
    enqueueMany: async (items) => void (await queue.addBulk(items.map((it) => ({ name: 'task', data: it.payload, opts: { jobId: it.id } })))),
    claimAck: async () => {
      const job = await worker.getNextJob(token, { block: false });
      if (!job) return false;
      await job.moveToCompleted('ok', token, false);
      return true;
    },
    close: async () => {
      await queue.obliterate({ force: true }).catch(() => {});
      await worker.close();
      await queue.close();
    },
  };
}

/** pg-boss: send / insert, and fetch (its SKIP LOCKED claim, an active job is leased until expireIn) then complete. */
export async function pgBossSide(pgUrl: string, schema: string): Promise<QueueSide> {
  const boss = new PgBoss({ connectionString: pgUrl, schema, supervise: false, schedule: false, migrate: true });
  boss.on('error', () => {});
  await boss.start();
  const name = 'bench';
  await boss.createQueue(name);
  return {
    name: 'pg-boss',
    enqueue: async (id, payload) => void (await boss.send(name, payload, { id, expireInSeconds: 30 })),
    enqueueMany: async (items) => void (await boss.insert(items.map((it) => ({ name, id: it.id, data: it.payload, expireInSeconds: 30 })))),
    claimAck: async () => {
      const [job] = await boss.fetch(name, { batchSize: 1 });
      if (!job) return false;
      await boss.complete(name, job.id);
      return true;
    },
    close: async () => {
      await boss.stop({ graceful: false, wait: true }).catch(() => {});
    },
  };
}
