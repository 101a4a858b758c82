-- `tasks_by_status` indexed every task by its status, so every status change (claimed, decided)
-- moved an entry between two places of that index: some 8 pages of every simulation tick's
-- commit. Its readers were the human review list (tasks escalated to ESC_HITL, in task
-- order) and a count over all tasks by status. The review list now has a partial index of
-- just the escalated tasks, written only when a task enters or leaves ESC_HITL; the count
-- reads the table (its rows are small since 0003 moved the outputs out), and a status filter
-- within one campaign goes through tasks_by_campaign as before.
DROP INDEX tasks_by_status;
CREATE INDEX tasks_escalated ON tasks (created_at, id) WHERE status = 'ESC_HITL';
