-- Chimera SQLite schema, version 1. Table names follow the seed (campaigns, tasks) so a
-- reader who knows the seed finds the same layout; JSON columns hold JSON text.

CREATE TABLE campaigns (
  id            TEXT    PRIMARY KEY,
  title         TEXT    NOT NULL,
  goal          TEXT    NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('PLANNING', 'ACTIVE', 'PAUSED', 'COMPLETED')),
  state_version INTEGER NOT NULL CHECK (state_version >= 1),
  created_at    TEXT    NOT NULL,
  updated_at    TEXT    NOT NULL,
  persona_id    TEXT    NOT NULL
) STRICT;
CREATE INDEX campaigns_by_created ON campaigns (created_at, id);

CREATE TABLE tasks (
  id               TEXT    PRIMARY KEY,
  campaign_id      TEXT    NOT NULL REFERENCES campaigns (id),
  role             TEXT    NOT NULL CHECK (role IN ('PLANNER', 'WORKER', 'JUDGE')),
  skill_name       TEXT    NOT NULL,
  input_data       TEXT,
  output_data      TEXT,
  confidence_score REAL,
  status           TEXT    NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'ESC_HITL')),
  attempts         INTEGER NOT NULL,
  idempotency_key  TEXT    NOT NULL,
  depends_on       TEXT    NOT NULL,
  branch           TEXT    NOT NULL,
  replans          INTEGER NOT NULL,
  supersedes       TEXT,
  created_at       TEXT    NOT NULL,
  updated_at       TEXT    NOT NULL
) STRICT;
CREATE INDEX tasks_by_created ON tasks (created_at, id);
CREATE INDEX tasks_by_campaign ON tasks (campaign_id, created_at, id);
CREATE INDEX tasks_by_status ON tasks (status);

CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- The audit hash chain; seq is the rowid, so "the head" is the last row.
CREATE TABLE audit_log (
  seq           INTEGER PRIMARY KEY,
  id            TEXT    NOT NULL,
  actor         TEXT    NOT NULL,
  action        TEXT    NOT NULL,
  entity_type   TEXT    NOT NULL,
  entity_id     TEXT    NOT NULL,
  campaign_id   TEXT,
  before_status TEXT,
  after_status  TEXT,
  state_version INTEGER,
  timestamp     TEXT    NOT NULL,
  details       TEXT,
  prev_hash     TEXT    NOT NULL,
  hash          TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_log_by_campaign ON audit_log (campaign_id, seq);

-- task_queue:{campaign_id} and review_queue:{campaign_id}. `space` separates the task and
-- review queue objects that share this table; `seq` is the claim-order key.
CREATE TABLE queue_items (
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
  expires_at_ms   INTEGER,
  PRIMARY KEY (space, queue, id)
) STRICT;
CREATE INDEX queue_items_waiting ON queue_items (space, queue, available_at_ms, seq) WHERE lease_id IS NULL;
CREATE UNIQUE INDEX queue_items_lease ON queue_items (space, lease_id) WHERE lease_id IS NOT NULL;
CREATE INDEX queue_items_expiry ON queue_items (space, queue, expires_at_ms) WHERE lease_id IS NOT NULL;

-- Per queue object: the last enqueue seq and lease number handed out.
CREATE TABLE queue_counters (
  space      TEXT    PRIMARY KEY,
  last_seq   INTEGER NOT NULL,
  last_lease INTEGER NOT NULL
) STRICT;

-- persona_cache:{persona_id}: traits as a JSON object of strings.
CREATE TABLE persona_cache (
  persona_id TEXT PRIMARY KEY,
  traits     TEXT NOT NULL
) STRICT;

-- The simulation run kept in this file (at most one) and its event log.
CREATE TABLE runs (
  slot     INTEGER PRIMARY KEY CHECK (slot = 1),
  run_id   TEXT    NOT NULL,
  header   TEXT    NOT NULL,
  step     INTEGER NOT NULL,
  tick     INTEGER NOT NULL,
  clock_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE run_events (
  seq   INTEGER PRIMARY KEY,
  step  INTEGER NOT NULL,
  event TEXT    NOT NULL
) STRICT;
CREATE INDEX run_events_by_step ON run_events (step, seq);
