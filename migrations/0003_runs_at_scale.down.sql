DROP INDEX IF EXISTS step_attempts_workspace_finished_idx;
DROP INDEX IF EXISTS events_flow_idx;
DROP INDEX IF EXISTS events_received_at_idx;
CREATE INDEX IF NOT EXISTS events_received_idx ON events (workspace_id, received_at);
DROP INDEX IF EXISTS events_workspace_received_source_idx;
CREATE INDEX IF NOT EXISTS runs_workspace_created_idx ON runs (workspace_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS runs_workspace_created_status_idx;
DROP INDEX IF EXISTS runs_flow_status_created_idx;
