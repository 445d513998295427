-- Why: run history grows by millions of rows until retention removes it, and the
-- runs list, the dashboard and retention itself must stay index scans at that
-- size (docs/runs-at-scale.md has the plans and timings at 1,000,000 runs).
--
-- On a large existing database, build these first with CREATE INDEX
-- CONCURRENTLY under the same names; IF NOT EXISTS then skips them here.
--
-- Runs list (store.ListRuns: newest first, keyset cursor on (created_at, id)):
--   workspace only          runs_workspace_created_status_idx (below)
--   workspace + status      runs_status_created_idx (0002)
--   workspace + flow        runs_flow_created_idx (0002; also serves the cascade
--                           when a flow is deleted)
--   workspace + flow + status, and the bulk redrive of a flow's failed runs:
CREATE INDEX IF NOT EXISTS runs_flow_status_created_idx ON runs (workspace_id, flow_id, status, created_at DESC, id DESC);

-- The dashboard counts runs per time bucket and status: carrying status in the
-- workspace index makes that an index-only scan. It replaces 0002's index.
CREATE INDEX IF NOT EXISTS runs_workspace_created_status_idx ON runs (workspace_id, created_at DESC, id DESC) INCLUDE (status);
DROP INDEX IF EXISTS runs_workspace_created_idx;

-- The dashboard counts webhook events per time bucket (index-only with source).
CREATE INDEX IF NOT EXISTS events_workspace_received_source_idx ON events (workspace_id, received_at) INCLUDE (source);
DROP INDEX IF EXISTS events_received_idx;

-- Retention (store.PruneRuns) deletes events by age, oldest first, across all
-- workspaces; runs, steps and attempts go with them by cascade.
CREATE INDEX IF NOT EXISTS events_received_at_idx ON events (received_at);

-- Deleting a flow cascades to its events; without this each delete reads the
-- whole events table.
CREATE INDEX IF NOT EXISTS events_flow_idx ON events (flow_id);

-- The dashboard's step duration percentiles read a workspace's latest attempts.
-- step_attempts is insert-only, so this index costs one insert per attempt.
CREATE INDEX IF NOT EXISTS step_attempts_workspace_finished_idx ON step_attempts (workspace_id, finished_at DESC);
