/**
 * At-least-once work queues (task_queue:{campaign_id}, review_queue:{campaign_id}).
 * A claimed item is leased, not removed: `ack` removes it after its result commits; a lease
 * that lapses is put back by `redeliverExpired`. Time comes from the injected clock.
 * Ordering: ready items are claimed by (available_at_ms, enqueue order).
 */
export interface QueueItem<T> {
  /** Caller-chosen id; enqueueing an id that is already in the queue is a no-op. */
  readonly id: string;
  readonly payload: T;
  /** How many times the item has been handed out before (deliveries - 1 once claimed). */
  readonly attempts: number;
  readonly enqueued_at_ms: number;
  readonly available_at_ms: number;
}

export interface Lease<T> {
  readonly queue: string;
  readonly lease_id: string;
  readonly consumer: string;
  readonly expires_at_ms: number;
  readonly item: QueueItem<T>;
}

export interface QueueDepth {
  /** Claimable now. */
  readonly ready: number;
  /** Waiting for a retry delay to pass. */
  readonly delayed: number;
  /** Claimed and not yet acknowledged. */
  readonly leased: number;
}

export interface WorkQueue<T> {
  readonly kind: string;
  /** Adds items at the tail; `delay_ms` holds them back. Ids already present are skipped; returns how many were added. */
  enqueue(queue: string, items: readonly { id: string; payload: T }[], opts?: { delay_ms?: number }): Promise<number>;
  /** Leases the next ready item to `consumer` for `lease_ms`, or null when none is ready. */
  claim(queue: string, consumer: string, lease_ms: number): Promise<Lease<T> | null>;
  /** Removes a leased item; false when the lease is no longer held (it lapsed and was redelivered). */
  ack(queue: string, lease_id: string): Promise<boolean>;
  /** Releases a leased item back to the queue with attempts + 1 after `delay_ms`; null when the lease is no longer held. */
  retry(queue: string, lease_id: string, opts?: { delay_ms?: number }): Promise<{ attempts: number } | null>;
  /** Puts items whose lease lapsed back at the head with attempts + 1; returns their ids. */
  redeliverExpired(queue: string): Promise<string[]>;
  /** Counts of ready, delayed and leased items. */
  depth(queue: string): Promise<QueueDepth>;
  /** Up to `limit` items in claim order without claiming them (leased items excluded). */
  peek(queue: string, limit: number): Promise<QueueItem<T>[]>;
  /** Up to `limit` leased items with their holders, by lease expiry then enqueue order. */
  leased(queue: string, limit: number): Promise<Lease<T>[]>;
  /** Names of queues that hold any item. */
  queues(): Promise<string[]>;
  /** Removes every item of one queue (leased too); returns how many. */
  purge(queue: string): Promise<number>;
  /** Releases connections; unusable afterwards. */
  close(): Promise<void>;
}

export const taskQueueName = (campaign_id: string): string => `task_queue:${campaign_id}`;
export const reviewQueueName = (campaign_id: string): string => `review_queue:${campaign_id}`;
