-- Why: every row of run history pointed at its workspace with a foreign key,
-- and each insert into events, runs, run_steps and step_attempts locked that
-- one workspaces row (FOR KEY SHARE): four lock checks per step, all on the
-- same row, which turn into multixacts under concurrent load. The history still
-- goes with its workspace: workspace → flows → events and runs → run_steps and
-- step_attempts all cascade. workspace_id stays on each row for scoping.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_workspace_id_fkey;
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_workspace_id_fkey;
ALTER TABLE run_steps DROP CONSTRAINT IF EXISTS run_steps_workspace_id_fkey;
ALTER TABLE step_attempts DROP CONSTRAINT IF EXISTS step_attempts_workspace_id_fkey;
