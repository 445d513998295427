package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Queries behind the dashboard and /metrics. Each reads one index (see
// migrations/0003_runs_at_scale.up.sql) so that it stays fast with millions of
// runs. Buckets use date_part (float8), not extract (numeric since Postgres
// 14, three times slower per row), and not date_bin (Postgres 14+ only).

// RunCount is how many runs of one status were created in one time bucket.
type RunCount struct {
	Bucket time.Time `db:"bucket"`
	Status string    `db:"status"`
	Count  int       `db:"n"`
}

// RunsPerBucket counts a workspace's runs created since from, per status and
// per time bucket of the given width (buckets start at multiples of the width
// since the Unix epoch, in UTC).
func RunsPerBucket(ctx context.Context, db DB, workspaceID uuid.UUID, from time.Time, width time.Duration) ([]RunCount, error) {
	rows, _ := db.Query(ctx, `SELECT to_timestamp(floor(date_part('epoch', created_at) / $3) * $3) AS bucket, status, count(*)::int AS n
		FROM runs WHERE workspace_id = $1 AND created_at >= $2
		GROUP BY 1, 2 ORDER BY 1, 2`, workspaceID, from, width.Seconds())
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[RunCount])
	if err != nil {
		return nil, fmt.Errorf("store: runs per bucket: %w", err)
	}
	return cs, nil
}

// EventCount is how many events arrived in one time bucket.
type EventCount struct {
	Bucket time.Time `db:"bucket"`
	Count  int       `db:"n"`
}

// EventsPerBucket counts a workspace's events of one source (webhook, app, …;
// empty: all) received since from, per time bucket as in RunsPerBucket.
func EventsPerBucket(ctx context.Context, db DB, workspaceID uuid.UUID, source string, from time.Time, width time.Duration) ([]EventCount, error) {
	rows, _ := db.Query(ctx, `SELECT to_timestamp(floor(date_part('epoch', received_at) / $3) * $3) AS bucket, count(*)::int AS n
		FROM events WHERE workspace_id = $1 AND received_at >= $2 AND ($4 = '' OR source = $4)
		GROUP BY 1 ORDER BY 1`, workspaceID, from, width.Seconds(), source)
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[EventCount])
	if err != nil {
		return nil, fmt.Errorf("store: events per bucket: %w", err)
	}
	return cs, nil
}

// ActionDuration summarises the attempts of one action.
type ActionDuration struct {
	Action string  `db:"action"`
	Count  int     `db:"n"`
	P50MS  float64 `db:"p50"`
	P95MS  float64 `db:"p95"`
	MaxMS  int     `db:"max"`
}

// StepDurations returns the median and 95th percentile attempt duration per
// action over a workspace's attempts finished since from. At most limit of the
// latest attempts are read, which bounds the cost on busy workspaces; sampled
// reports whether the limit cut the range short.
func StepDurations(ctx context.Context, db DB, workspaceID uuid.UUID, from time.Time, limit int) (ds []ActionDuration, sampled bool, err error) {
	rows, _ := db.Query(ctx, `SELECT s.action, count(*)::int AS n,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50,
			percentile_cont(0.95) WITHIN GROUP (ORDER BY a.duration_ms) AS p95,
			max(a.duration_ms) AS max
		FROM (SELECT run_id, step_id, duration_ms FROM step_attempts
			WHERE workspace_id = $1 AND finished_at >= $2 ORDER BY finished_at DESC LIMIT $3) a
		JOIN run_steps s ON s.run_id = a.run_id AND s.step_id = a.step_id
		GROUP BY s.action ORDER BY s.action`, workspaceID, from, limit)
	ds, err = pgx.CollectRows(rows, pgx.RowToStructByName[ActionDuration])
	if err != nil {
		return nil, false, fmt.Errorf("store: step durations: %w", err)
	}
	n := 0
	for _, d := range ds {
		n += d.Count
	}
	return ds, n >= limit, nil
}

// QueueStats describes River's queue across every workspace (River's job
// table is not scoped).
type QueueStats struct {
	Available int
	Retryable int
	Scheduled int
	// OldestDue is when the longest-waiting job that is due (its scheduled
	// time has passed) became due; nil when nothing waits.
	OldestDue *time.Time
	// Now is the database's clock when the stats were read.
	Now time.Time
}

// Depth is the number of jobs ready or about to be retried.
func (q QueueStats) Depth() int { return q.Available + q.Retryable }

// OldestWait is how long the longest-waiting due job has waited (0 when none).
func (q QueueStats) OldestWait() time.Duration {
	if q.OldestDue == nil || q.Now.Before(*q.OldestDue) {
		return 0
	}
	return q.Now.Sub(*q.OldestDue)
}

// Queue reads River's queue depth and the oldest due job.
func Queue(ctx context.Context, db DB) (QueueStats, error) {
	var q QueueStats
	err := db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state = 'available'),
			count(*) FILTER (WHERE state = 'retryable'),
			count(*) FILTER (WHERE state = 'scheduled'),
			min(scheduled_at) FILTER (WHERE scheduled_at <= now()),
			now()
		FROM river_job WHERE state IN ('available', 'retryable', 'scheduled')`).
		Scan(&q.Available, &q.Retryable, &q.Scheduled, &q.OldestDue, &q.Now)
	if err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
	}
	return q, nil
}

// RunStatusCounts counts every kept run by status, across all workspaces (for
// /metrics; callers cache it).
func RunStatusCounts(ctx context.Context, db DB) (map[string]int64, error) {
	rows, _ := db.Query(ctx, `SELECT status, count(*) FROM runs GROUP BY status`)
	out := map[string]int64{}
	var status string
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: run status counts: %w", err)
	}
	return out, nil
}
