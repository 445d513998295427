package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboard/switchboard/store"
)

// DefaultRunRetention is how long run history is kept when Config.RunRetention is 0.
const DefaultRunRetention = 30 * 24 * time.Hour

// pruneRunsEvery is how often the periodic prune runs.
const pruneRunsEvery = 10 * time.Minute

// pruneRunsBatch is how many events (each with its run, steps and attempts) one
// delete statement removes: small enough that each transaction is short.
const pruneRunsBatch = 1000

// PruneRunsArgs deletes run history older than the retention (every 10 minutes).
type PruneRunsArgs struct{}

// Kind is the job kind (never renamed).
func (PruneRunsArgs) Kind() string { return "prune_runs" }

// InsertOpts keeps one prune pending or running at a time. Completed jobs are
// left out of the unique states: with River's default states a completed prune
// would block the next one until River's cleaner removes it a day later.
func (PruneRunsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// PruneRunsWorker runs PruneRunsArgs.
type PruneRunsWorker struct {
	river.WorkerDefaults[PruneRunsArgs]
	pool      *pgxpool.Pool
	retention time.Duration
	logger    *slog.Logger
}

// Timeout lets a first prune of a large backlog run past River's default
// job timeout; each batch commits on its own, so a cut-short prune loses nothing.
func (w *PruneRunsWorker) Timeout(*river.Job[PruneRunsArgs]) time.Duration { return 30 * time.Minute }

// Work deletes events, runs, steps and attempts older than the retention,
// 1,000 events at a time, until none are left.
func (w *PruneRunsWorker) Work(ctx context.Context, job *river.Job[PruneRunsArgs]) error {
	retention := w.retention
	if retention <= 0 {
		retention = DefaultRunRetention
	}
	cutoff := time.Now().Add(-retention)
	res, err := store.PruneRuns(ctx, w.pool, cutoff, pruneRunsBatch)
	if res.Events > 0 && w.logger != nil {
		w.logger.Info("pruned run history", "events", res.Events, "runs", res.Runs, "before", cutoff.UTC().Format(time.RFC3339))
	}
	return err
}

// addPruneRuns registers the prune_runs worker and its periodic job.
func addPruneRuns(workers *river.Workers, rc *river.Config, cfg Config, pool *pgxpool.Pool, logger *slog.Logger) {
	river.AddWorker(workers, &PruneRunsWorker{pool: pool, retention: cfg.RunRetention, logger: logger})
	rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(pruneRunsEvery),
		func() (river.JobArgs, *river.InsertOpts) { return PruneRunsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
}
