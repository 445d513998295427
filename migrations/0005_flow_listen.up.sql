-- Why: "Listen for a test event" in the editor's trigger panel. While listen_until
-- is in the future, the next request posted to the flow's webhook URL is kept as
-- the flow's sample event (even when the flow is disabled), and the column is
-- cleared. NULL: not listening.
ALTER TABLE flows ADD COLUMN listen_until timestamptz;
