-- Why: step jobs are inserted with River's COPY path, which does not return
-- their ids, so run_steps no longer records them; a cancel finds a run's jobs
-- by their args (river_job_args_index). The column was written once per step
-- and read only by cancel.
ALTER TABLE run_steps DROP COLUMN IF EXISTS job_id;
