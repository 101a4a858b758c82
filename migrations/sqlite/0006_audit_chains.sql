-- One audit hash chain per campaign, plus one for run-level events (src/domain/audit.ts):
-- an event's place in its chain. Events already in the file keep 0, which marks the one
-- global chain they were sealed into (verified by seq, as before).
ALTER TABLE audit_log ADD COLUMN chain_seq INTEGER NOT NULL DEFAULT 0;
