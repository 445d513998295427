-- Why: JSONB only where it is queried. Event payloads and headers and steps'
-- inputs and outputs are written once per event or step, read back whole by
-- the engine and the run pages, and never queried inside (the runs list
-- searches payloads as text). Stored as json they are kept as sent, with no
-- conversion to jsonb's binary form on every insert and back to text on
-- every read; numbers keep every digit. Flows' samples, definitions and
-- drafts stay jsonb: the editor updates them in place.
--
-- Rewrites events and run_steps: on a large database run it in a maintenance
-- window.
ALTER TABLE events
    ALTER COLUMN payload TYPE json USING payload::json,
    ALTER COLUMN headers DROP DEFAULT,
    ALTER COLUMN headers TYPE json USING headers::json,
    ALTER COLUMN headers SET DEFAULT '{}'::json;
ALTER TABLE run_steps
    ALTER COLUMN input TYPE json USING input::json,
    ALTER COLUMN output TYPE json USING output::json;
