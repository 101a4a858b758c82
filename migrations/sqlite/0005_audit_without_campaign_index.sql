-- `audit_log_by_campaign` (campaign_id, seq) took an entry in each active campaign's part of
-- the index for every audit event: some 12 pages of every simulation tick's commit, the
-- largest single share left. No reader in the app needs it: the studio and the engine read
-- the chain by seq, and export reads it whole (a campaign's events are read in tests only). The port's audit read for one campaign now
-- walks the chain from `after_seq` by rowid and filters, stopping at `limit` matches.
DROP INDEX audit_log_by_campaign;
