ALTER TABLE events
    ALTER COLUMN payload TYPE jsonb USING payload::jsonb,
    ALTER COLUMN headers DROP DEFAULT,
    ALTER COLUMN headers TYPE jsonb USING headers::jsonb,
    ALTER COLUMN headers SET DEFAULT '{}'::jsonb;
ALTER TABLE run_steps
    ALTER COLUMN input TYPE jsonb USING input::jsonb,
    ALTER COLUMN output TYPE jsonb USING output::jsonb;
