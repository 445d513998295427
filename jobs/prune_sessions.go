package jobs

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboard/switchboard/store"
)

// PruneSessionsArgs deletes expired browser sessions (hourly).
type PruneSessionsArgs struct{}

// Kind is the job kind.
func (PruneSessionsArgs) Kind() string { return "prune_sessions" }

// InsertOpts keeps one pending prune at a time; completed ones are left out of
// the unique states, else they would block the next hourly insert for a day.
func (PruneSessionsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// PruneSessionsWorker runs PruneSessionsArgs.
type PruneSessionsWorker struct {
	river.WorkerDefaults[PruneSessionsArgs]
	pool *pgxpool.Pool
}

// Work deletes expired sessions.
func (w *PruneSessionsWorker) Work(ctx context.Context, job *river.Job[PruneSessionsArgs]) error {
	_, err := store.PruneSessions(ctx, w.pool)
	return err
}
