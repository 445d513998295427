package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/store"
)

// Seed sizes: one big workspace with Runs runs spread evenly over Days days
// (newest now) across Flows flows, and a small second workspace so that every
// query has to pick its workspace out of the index.
type seedOptions struct {
	Runs      int
	SmallRuns int
	Flows     int
	Days      int
}

// seeded is what the measurements need to know about the data.
type seeded struct {
	Workspace, Small uuid.UUID
	Flows            []uuid.UUID
	Runs, Steps      int64
	Attempts, Events int64
	Took             time.Duration
}

// seed fills a migrated, empty database with generate_series: every run has an
// event, three steps and one attempt per finished step (three for a failed
// step). Status mix: 90% succeeded, 6% failed, 2% cancelled, 1% running, 1%
// waiting. Deterministic (setseed).
func seed(ctx context.Context, pool *pgxpool.Pool, o seedOptions, logf func(string, ...any)) (seeded, error) {
	start := time.Now()
	var s seeded
	big, err := store.CreateOwner(ctx, pool, "scale@example.com", "x", "Scale")
	if err != nil {
		return s, err
	}
	small, err := store.CreateOwner(ctx, pool, "small@example.com", "x", "Small")
	if err != nil {
		return s, err
	}
	s.Workspace, s.Small = big.WorkspaceID, small.WorkspaceID
	def := []byte(`{"trigger":{"type":"webhook"},"steps":[{"id":"fetch","action":"http.request","input":{}},{"id":"notify","action":"slack.post_message","input":{}},{"id":"track","action":"segment.track","input":{}}]}`)
	for i := range o.Flows {
		f, err := store.CreateFlow(ctx, pool, big.WorkspaceID, fmt.Sprintf("Flow %02d", i), def, true, nil)
		if err != nil {
			return s, err
		}
		s.Flows = append(s.Flows, f.ID)
	}
	sf, err := store.CreateFlow(ctx, pool, small.WorkspaceID, "Small flow", def, true, nil)
	if err != nil {
		return s, err
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return s, err
	}
	defer conn.Release()
	step := func(what, sql string, args ...any) error {
		t := time.Now()
		tag, err := conn.Exec(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("seed %s: %w", what, err)
		}
		logf("seed: %-28s %10d rows in %s", what, tag.RowsAffected(), time.Since(t).Round(time.Millisecond))
		return nil
	}
	span := time.Duration(o.Days) * 24 * time.Hour
	if err := step("setseed", `SELECT setseed(0.42)`); err != nil {
		return s, err
	}
	// One row per run to seed: ids, time, flow, status. Runs are evenly spaced
	// over the span, newest now.
	if err := step("plan (temp table)", `CREATE TEMP TABLE seed_runs AS
		SELECT g AS n, gen_random_uuid() AS run_id, gen_random_uuid() AS event_id,
			now() - ($2::interval * ($1 - g)::float8 / $1) AS at,
			(($4::uuid[])[1 + floor(random() * array_length($4::uuid[], 1))::int]) AS flow_id,
			$3::uuid AS workspace_id,
			CASE WHEN r < 0.90 THEN 'succeeded' WHEN r < 0.96 THEN 'failed' WHEN r < 0.98 THEN 'cancelled'
				WHEN r < 0.99 THEN 'running' ELSE 'waiting' END AS status,
			CASE WHEN random() < 0.95 THEN 'webhook' ELSE 'manual' END AS source
		FROM (SELECT g, random() AS r FROM generate_series(1, $1) g) x`,
		o.Runs, span, big.WorkspaceID, s.Flows); err != nil {
		return s, err
	}
	if err := step("plan (small workspace)", `INSERT INTO seed_runs
		SELECT $1 + g, gen_random_uuid(), gen_random_uuid(), now() - ($3::interval * ($2 - g)::float8 / $2), $4::uuid, $5::uuid,
			CASE WHEN random() < 0.9 THEN 'succeeded' ELSE 'failed' END, 'webhook'
		FROM generate_series(1, $2) g`, o.Runs, o.SmallRuns, span, sf.ID, small.WorkspaceID); err != nil {
		return s, err
	}
	if err := step("events", `INSERT INTO events (id, workspace_id, flow_id, source, content_type, payload, received_at)
		SELECT event_id, workspace_id, flow_id, source, 'application/json',
			jsonb_build_object('email', 'user' || n || '@example.com', 'plan', 'pro', 'n', n), at
		FROM seed_runs`); err != nil {
		return s, err
	}
	if err := step("runs", `INSERT INTO runs (id, workspace_id, flow_id, flow_version, event_id, status, created_at, started_at, finished_at)
		SELECT run_id, workspace_id, flow_id, 1, event_id, status, at, at + interval '5 ms',
			CASE WHEN status IN ('succeeded', 'failed', 'cancelled') THEN at + interval '900 ms' END
		FROM seed_runs`); err != nil {
		return s, err
	}
	// Steps: the last step carries the run's outcome; earlier ones succeeded.
	if err := step("run_steps", `INSERT INTO run_steps (run_id, step_id, workspace_id, action, status, attempts, input, output,
			position, started_at, finished_at, duration_ms)
		SELECT r.run_id, st.id, r.workspace_id, st.action,
			CASE WHEN st.pos < 2 OR r.status = 'succeeded' THEN 'succeeded' ELSE r.status END,
			CASE WHEN st.pos = 2 AND r.status = 'failed' THEN 3 ELSE 1 END,
			'{"to":"#signups"}', '{"ok":true}', st.pos,
			r.at + st.pos * interval '300 ms',
			CASE WHEN st.pos < 2 OR r.status IN ('succeeded', 'failed', 'cancelled') THEN r.at + st.pos * interval '300 ms' + interval '200 ms' END,
			(st.base + random() * st.base * 4)::int
		FROM seed_runs r CROSS JOIN (VALUES (0, 'fetch', 'http.request', 40), (1, 'notify', 'slack.post_message', 80),
			(2, 'track', 'segment.track', 15)) AS st(pos, id, action, base)`); err != nil {
		return s, err
	}
	if err := step("step_attempts", `INSERT INTO step_attempts (run_id, step_id, workspace_id, attempt, status, error,
			started_at, finished_at, duration_ms)
		SELECT s.run_id, s.step_id, s.workspace_id, a,
			CASE WHEN s.status = 'failed' AND a < s.attempts THEN 'retrying' ELSE s.status END,
			CASE WHEN s.status = 'failed' THEN '503 Service Unavailable' END,
			s.started_at + (a - 1) * interval '5 s', s.started_at + (a - 1) * interval '5 s' + s.duration_ms * interval '1 ms',
			s.duration_ms
		FROM run_steps s CROSS JOIN LATERAL generate_series(1, s.attempts) a
		WHERE s.status IN ('succeeded', 'failed', 'cancelled')`); err != nil {
		return s, err
	}
	if err := step("river_job", `INSERT INTO river_job (kind, args, max_attempts, state, scheduled_at, finalized_at, attempt)
		SELECT 'run_step', '{}', 16, st, now() - (g % 600) * interval '1 s',
			CASE WHEN st = 'completed' THEN now() END, CASE WHEN st = 'available' THEN 0 ELSE 1 END
		FROM generate_series(1, 20000) g,
			LATERAL (SELECT (CASE WHEN g % 40 = 0 THEN 'available' WHEN g % 40 = 1 THEN 'retryable'
				WHEN g % 40 = 2 THEN 'scheduled' ELSE 'completed' END)::river_job_state AS st) x`); err != nil {
		return s, err
	}
	if err := step("drop temp table", `DROP TABLE seed_runs`); err != nil {
		return s, err
	}
	// Index-only scans need the visibility map; autovacuum would get there.
	for _, tbl := range []string{"events", "runs", "run_steps", "step_attempts", "river_job"} {
		if err := step("vacuum analyze "+tbl, `VACUUM (ANALYZE) `+tbl); err != nil {
			return s, err
		}
	}
	for tbl, n := range map[string]*int64{"runs": &s.Runs, "run_steps": &s.Steps, "step_attempts": &s.Attempts, "events": &s.Events} {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+tbl).Scan(n); err != nil {
			return s, err
		}
	}
	s.Took = time.Since(start)
	return s, nil
}
