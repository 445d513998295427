ALTER TABLE run_steps ADD COLUMN IF NOT EXISTS job_id bigint;
