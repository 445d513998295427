package store

import (
	"context"
	"fmt"
	"time"
)

// PruneResult counts what a prune removed.
type PruneResult struct {
	// Events is how many events were deleted, Runs how many of them had a run
	// (deleted with it, with its steps and attempts, by cascade).
	Events int64
	Runs   int64
	// Batches is how many delete statements ran.
	Batches int
}

// pruneBatch deletes up to limit events received before the cutoff, oldest
// first, and by cascade their runs with every step and attempt. Runs that are
// still going (queued, running, waiting: a long delay or an approval) are kept
// with their event whatever their age.
const pruneBatch = `WITH doomed AS (
		SELECT e.id, EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.id) AS has_run
		FROM events e
		WHERE e.received_at < $1
		  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.id AND r.status IN ('queued', 'running', 'waiting'))
		ORDER BY e.received_at
		LIMIT $2
	), gone AS (
		DELETE FROM events WHERE id IN (SELECT id FROM doomed) RETURNING id
	)
	SELECT count(*), count(*) FILTER (WHERE d.has_run) FROM gone JOIN doomed d USING (id)`

// PruneRuns deletes the run history older than cutoff in batches of batchSize
// events (each batch its own short transaction, so that ingest and workers are
// never held up for long), until nothing older is left or ctx ends. Events are
// the root of the history: deleting one removes its run, the run's steps and
// their attempts by cascade; events that started no run (filtered) go too.
func PruneRuns(ctx context.Context, db DB, cutoff time.Time, batchSize int) (PruneResult, error) {
	if batchSize <= 0 {
		batchSize = 1000
	}
	var res PruneResult
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var events, runs int64
		if err := db.QueryRow(ctx, pruneBatch, cutoff, batchSize).Scan(&events, &runs); err != nil {
			return res, fmt.Errorf("store: prune runs before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		res.Batches++
		res.Events += events
		res.Runs += runs
		if events < int64(batchSize) {
			return res, nil
		}
	}
}
