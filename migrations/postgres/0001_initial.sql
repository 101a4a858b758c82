-- Chimera Postgres schema, version 1. Runs in the connection's schema (search_path), so one
-- database can hold several Chimera namespaces. `campaigns` and `tasks` begin with the seed's
-- exact columns and types; every further column is nullable or has a default, so a row that a
-- Chimera service wrote with only the seed's columns still loads.

CREATE TABLE campaigns (
  id            uuid PRIMARY KEY,
  title         varchar(255),
  goal          text,
  status        varchar(20),
  state_version integer,
  created_at    timestamp,
  -- ours
  updated_at    timestamp,
  persona_id    text
);
CREATE INDEX campaigns_by_created ON campaigns (created_at, id);

CREATE TABLE tasks (
  id               uuid PRIMARY KEY,
  campaign_id      uuid REFERENCES campaigns (id),
  role             varchar(20),
  input_data       jsonb,
  output_data      jsonb,
  confidence_score float,
  status           varchar(20),
  -- ours
  skill_name       text,
  attempts         integer NOT NULL DEFAULT 0,
  idempotency_key  text,
  depends_on       jsonb   NOT NULL DEFAULT '[]',
  branch           text,
  replans          integer NOT NULL DEFAULT 0,
  supersedes       uuid,
  created_at       timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at       timestamp,
  -- the JSON text the studio wrote into input_data / output_data, read back while it still
  -- equals the jsonb (jsonb reorders keys; a service that rewrites the jsonb wins)
  input_json       text,
  output_json      text
);
CREATE INDEX tasks_by_created ON tasks (created_at, id);
CREATE INDEX tasks_by_campaign ON tasks (campaign_id, created_at, id);
CREATE INDEX tasks_escalated ON tasks (created_at, id) WHERE status = 'ESC_HITL';

CREATE TABLE idempotency_keys (
  key text PRIMARY KEY
);

-- The audit log: one hash chain per campaign plus the run chain (campaign_id NULL). `seq` is
-- the store-wide position, handed out at commit from audit_counter (gap-free, in commit order);
-- `chain_seq` the place in the chain. Text columns keep what was hashed exactly.
CREATE TABLE audit_log (
  seq           bigint  PRIMARY KEY,
  chain_seq     integer NOT NULL,
  id            text    NOT NULL,
  actor         text    NOT NULL,
  action        text    NOT NULL,
  entity_type   text    NOT NULL,
  entity_id     text    NOT NULL,
  campaign_id   text,
  before_status text,
  after_status  text,
  state_version integer,
  timestamp     text    NOT NULL,
  details       text,
  prev_hash     text    NOT NULL,
  hash          text    NOT NULL
);
CREATE INDEX audit_log_by_campaign ON audit_log (campaign_id, seq);
CREATE INDEX audit_log_by_entity ON audit_log (entity_id, seq);

-- Each chain's head ('' is the run chain). A unit that appends locks its chain's row until it
-- commits, so writers on different campaigns never wait on one head.
CREATE TABLE audit_heads (
  chain     text    PRIMARY KEY,
  chain_seq integer NOT NULL,
  hash      text    NOT NULL
);

-- The last audit seq handed out; locked only for the few statements before a COMMIT.
CREATE TABLE audit_counter (
  slot     integer PRIMARY KEY CHECK (slot = 1),
  last_seq bigint  NOT NULL
);
INSERT INTO audit_counter (slot, last_seq) VALUES (1, 0);

-- Work queues for deployments without Redis: task_queue:{campaign_id} and
-- review_queue:{campaign_id}; `space` separates the task and review queue objects. Times are
-- the injected clock's milliseconds, never the server's.
CREATE SEQUENCE queue_seq;
CREATE SEQUENCE queue_lease_seq;
CREATE TABLE queue_items (
  space           text             NOT NULL,
  queue           text             NOT NULL,
  id              text             NOT NULL,
  seq             bigint           NOT NULL,
  payload         text,
  attempts        integer          NOT NULL DEFAULT 0,
  enqueued_at_ms  double precision NOT NULL,
  available_at_ms double precision NOT NULL,
  lease_id        text,
  consumer        text,
  expires_at_ms   double precision,
  PRIMARY KEY (space, queue, id)
);
CREATE INDEX queue_items_waiting ON queue_items (space, queue, available_at_ms, seq) WHERE lease_id IS NULL;
CREATE UNIQUE INDEX queue_items_lease ON queue_items (space, queue, lease_id) WHERE lease_id IS NOT NULL;
CREATE INDEX queue_items_expiry ON queue_items (space, queue, expires_at_ms, seq) WHERE lease_id IS NOT NULL;

-- persona_cache:{persona_id}: traits as a JSON object of strings (for deployments without Redis).
CREATE TABLE persona_cache (
  persona_id text PRIMARY KEY,
  traits     text NOT NULL
);

-- The simulation run kept in this schema (at most one) and its event log.
CREATE TABLE runs (
  slot     integer PRIMARY KEY CHECK (slot = 1),
  run_id   text    NOT NULL,
  header   text    NOT NULL,
  step     double precision NOT NULL,
  tick     double precision NOT NULL,
  clock_ms double precision NOT NULL,
  last_seq bigint  NOT NULL DEFAULT 0
);

CREATE TABLE run_events (
  seq   bigint PRIMARY KEY,
  step  double precision,
  event text   NOT NULL
);
CREATE INDEX run_events_by_step ON run_events (step, seq);
