package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Config sets up a River client.
type Config struct {
	// Workers is how many jobs this process runs at once; 0 makes an insert-only
	// client (the `web` command).
	Workers int
	Logger  *slog.Logger
	// RescueStuckJobsAfter brings back jobs whose worker died (River's default is an hour).
	RescueStuckJobsAfter time.Duration
	// RunRetention is how long run history is kept (0: DefaultRunRetention).
	RunRetention time.Duration
}

// Deps are what the workers need.
type Deps struct {
	Pool   *pgxpool.Pool
	Engine *Engine
}

// NewClient returns a River client with every worker registered and attaches it
// to deps.Engine; it fetches and runs jobs only when cfg.Workers > 0.
func NewClient(cfg Config, deps Deps) (*river.Client[pgx.Tx], error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{
		Logger: logger.With("component", "river"),
		// Steps must start promptly after the webhook that queued them; River's
		// defaults wait up to ~100ms between fetches.
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 200 * time.Millisecond,
		// The web process inserts step jobs without running them.
		SkipUnknownJobCheck: cfg.Workers == 0,
	}
	if cfg.Workers > 0 {
		workers := river.NewWorkers()
		river.AddWorker(workers, &PruneSessionsWorker{pool: deps.Pool})
		river.AddWorker(workers, &StepWorker{e: deps.Engine})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return PruneSessionsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		}
		addPruneRuns(workers, rc, cfg, deps.Pool, logger) // jobs/prune_runs.go
		rc.RescueStuckJobsAfter = cfg.RescueStuckJobsAfter
		// Step jobs carry their own timeout (StepWorker.Timeout); River insists
		// the rescue threshold be at least the default job timeout.
		if cfg.RescueStuckJobsAfter > 0 {
			rc.JobTimeout = min(time.Minute, cfg.RescueStuckJobsAfter)
		}
	}
	client, err := river.NewClient(riverpgxv5.New(deps.Pool), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	deps.Engine.client = client
	return client, nil
}
