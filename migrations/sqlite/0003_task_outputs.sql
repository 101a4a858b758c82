-- Task outputs in their own append-only table. An output (the worker's result and the Judge's
-- reasons, ~1 KB of JSON) used to be written into its task's row when the task was decided,
-- which more than tripled the row in place: the page overflowed and SQLite rebalanced it with
-- its neighbours, so every decision rewrote two or three pages of `tasks`. Now the row keeps
-- only `output_seq`, and the output is appended to `task_outputs` in the order outputs are
-- written, so the outputs of one tick share a few pages at the end of that table.
-- `tasks.output_data` stays NULL from here on (readers take the output from task_outputs).
CREATE TABLE task_outputs (
  seq         INTEGER PRIMARY KEY,
  task_id     TEXT    NOT NULL,
  output_data TEXT    NOT NULL
) STRICT;

ALTER TABLE tasks ADD COLUMN output_seq INTEGER;

-- Existing outputs move over under their task's rowid ('null' is how no output was stored).
INSERT INTO task_outputs (seq, task_id, output_data)
  SELECT rowid, id, output_data FROM tasks WHERE output_data IS NOT NULL AND output_data <> 'null' ORDER BY rowid;
UPDATE tasks SET output_seq = CASE WHEN output_data <> 'null' THEN rowid END, output_data = NULL WHERE output_data IS NOT NULL;

-- A replaced or removed output goes with its reference.
CREATE TRIGGER task_outputs_replaced AFTER UPDATE OF output_seq ON tasks
  WHEN old.output_seq IS NOT NULL AND old.output_seq IS NOT new.output_seq
BEGIN
  DELETE FROM task_outputs WHERE seq = old.output_seq;
END;
CREATE TRIGGER task_outputs_deleted AFTER DELETE ON tasks
  WHEN old.output_seq IS NOT NULL
BEGIN
  DELETE FROM task_outputs WHERE seq = old.output_seq;
END;
