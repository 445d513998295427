DROP TABLE IF EXISTS step_attempts, run_steps, runs, events, flow_versions, flows;
