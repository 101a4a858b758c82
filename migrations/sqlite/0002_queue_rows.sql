-- Queue items without secondary indexes. The queue adapter serves every queue from an
-- in-memory mirror loaded once per space (it is the file's only writer), so no SQL query
-- orders, filters or looks up items by key at run time: rows are written and deleted by
-- `rid`, their rowid. The indexes of 0001 (the primary key on (space, queue, id) and the
-- waiting / lease / expiry indexes) were each rewritten at random places by every enqueue,
-- claim and ack: some 25 of the ~110 pages a simulation tick committed.
-- `rid` numbers are handed out in enqueue order, so the items touched in one tick sit on a
-- few pages at the end of the table. Uniqueness of (space, queue, id) is kept by the adapter.
CREATE TABLE queue_rows (
  rid             INTEGER PRIMARY KEY,
  space           TEXT    NOT NULL,
  queue           TEXT    NOT NULL,
  id              TEXT    NOT NULL,
  seq             INTEGER NOT NULL,
  payload         TEXT    NOT NULL,
  attempts        INTEGER NOT NULL,
  enqueued_at_ms  INTEGER NOT NULL,
  available_at_ms INTEGER NOT NULL,
  lease_id        TEXT,
  consumer        TEXT,
  expires_at_ms   INTEGER
) STRICT;
INSERT INTO queue_rows (space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms)
  SELECT space, queue, id, seq, payload, attempts, enqueued_at_ms, available_at_ms, lease_id, consumer, expires_at_ms
  FROM queue_items ORDER BY space, queue, seq;
DROP TABLE queue_items;
ALTER TABLE queue_rows RENAME TO queue_items;
