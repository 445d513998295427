-- Why: the editor's "Test step" runs one step of the working draft through the
-- real job path. Such a run executes a small definition of its own (the step
-- and stand-ins for the steps it reads), not a published version, so the run
-- keeps it. NULL for every ordinary run, which executes its flow_version.
ALTER TABLE runs ADD COLUMN definition jsonb;
