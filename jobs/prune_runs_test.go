package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// history is a workspace with one flow, to which tests add backdated runs.
type history struct {
	pool *pgxpool.Pool
	ws   uuid.UUID
	flow uuid.UUID
}

func newHistory(t *testing.T, pool *pgxpool.Pool) *history {
	t.Helper()
	ctx := context.Background()
	m, err := store.CreateOwner(ctx, pool, uuid.NewString()+"@example.com", "x", "Acme")
	require.NoError(t, err)
	f, err := store.CreateFlow(ctx, pool, m.WorkspaceID, "Signup", []byte(`{"trigger":{"type":"webhook"},"steps":[]}`), true, nil)
	require.NoError(t, err)
	return &history{pool: pool, ws: m.WorkspaceID, flow: f.ID}
}

// run inserts an event received at `at` and, unless status is "", its run
// with two steps and three attempts, all dated then. It returns the event id.
func (h *history) run(t *testing.T, status string, at time.Time) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	ev := store.NewID()
	_, err := h.pool.Exec(ctx, `INSERT INTO events (id, workspace_id, flow_id, payload, received_at) VALUES ($1, $2, $3, '{}', $4)`,
		ev, h.ws, h.flow, at)
	require.NoError(t, err)
	if status == "" {
		return ev
	}
	run := store.NewID()
	_, err = h.pool.Exec(ctx, `INSERT INTO runs (id, workspace_id, flow_id, flow_version, event_id, status, created_at)
		VALUES ($1, $2, $3, 1, $4, $5, $6)`, run, h.ws, h.flow, ev, status, at)
	require.NoError(t, err)
	_, err = h.pool.Exec(ctx, `INSERT INTO run_steps (run_id, step_id, workspace_id, action, status, position, finished_at, duration_ms)
		VALUES ($1, 'a', $2, 'http.request', 'succeeded', 0, $3, 12), ($1, 'b', $2, 'slack.post_message', 'succeeded', 1, $3, 30)`,
		run, h.ws, at)
	require.NoError(t, err)
	_, err = h.pool.Exec(ctx, `INSERT INTO step_attempts (run_id, step_id, workspace_id, attempt, status, started_at, finished_at, duration_ms)
		VALUES ($1, 'a', $2, 1, 'retrying', $3, $3, 5), ($1, 'a', $2, 2, 'succeeded', $3, $3, 12), ($1, 'b', $2, 1, 'succeeded', $3, $3, 30)`,
		run, h.ws, at)
	require.NoError(t, err)
	return ev
}

// count returns the rows of table (events, runs, run_steps, step_attempts).
func (h *history) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

func (h *history) exists(t *testing.T, eventID uuid.UUID) bool {
	t.Helper()
	var ok bool
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM events WHERE id = $1)`, eventID).Scan(&ok))
	return ok
}

func TestPruneRunsDeletesOldHistoryInBatches(t *testing.T) {
	t.Parallel()
	h := newHistory(t, storetest.Pool(t))
	now := time.Now()
	old := now.Add(-40 * 24 * time.Hour)

	var doomed []uuid.UUID
	for range 5 {
		doomed = append(doomed, h.run(t, "succeeded", old))
	}
	doomed = append(doomed, h.run(t, "failed", old), h.run(t, "cancelled", old))
	filteredOld := h.run(t, "", old) // an event its trigger filtered out: no run
	waiting := h.run(t, "waiting", old)
	recent := h.run(t, "succeeded", now.Add(-24*time.Hour))
	filteredNew := h.run(t, "", now)

	res, err := store.PruneRuns(context.Background(), h.pool, now.Add(-30*24*time.Hour), 3)
	require.NoError(t, err)
	require.Equal(t, int64(8), res.Events, "7 old runs' events and one filtered event")
	require.Equal(t, int64(7), res.Runs)
	require.Equal(t, 3, res.Batches, "3 + 3 + 2: the short batch ends the loop")

	for _, id := range append(doomed, filteredOld) {
		require.False(t, h.exists(t, id))
	}
	for _, id := range []uuid.UUID{waiting, recent, filteredNew} {
		require.True(t, h.exists(t, id), "a run still waiting, a recent run and a recent event are kept")
	}
	require.Equal(t, 2, h.count(t, "runs"))
	require.Equal(t, 4, h.count(t, "run_steps"), "steps went with their runs")
	require.Equal(t, 6, h.count(t, "step_attempts"), "attempts went with their runs")

	// Nothing left to do: one empty batch.
	res, err = store.PruneRuns(context.Background(), h.pool, now.Add(-30*24*time.Hour), 3)
	require.NoError(t, err)
	require.Equal(t, store.PruneResult{Batches: 1}, res)
}

// The periodic job is registered with the River client and runs on start.
func TestPruneRunsJobRunsOnStart(t *testing.T) {
	t.Parallel()
	pool := storetest.Pool(t)
	h := newHistory(t, pool)
	old := h.run(t, "succeeded", time.Now().Add(-3*time.Hour))
	kept := h.run(t, "succeeded", time.Now().Add(-time.Minute))

	engine := jobs.NewEngine(jobs.EngineDeps{Pool: pool})
	client, err := jobs.NewClient(jobs.Config{Workers: 2, RunRetention: time.Hour}, jobs.Deps{Pool: pool, Engine: engine})
	require.NoError(t, err)
	completed, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	for {
		select {
		case ev := <-completed:
			if ev.Job.Kind != (jobs.PruneRunsArgs{}).Kind() {
				continue
			}
			require.Equal(t, river.EventKindJobCompleted, ev.Kind, "prune_runs failed: %v", ev.Job.Errors)
			require.False(t, h.exists(t, old), "older than the retention")
			require.True(t, h.exists(t, kept))
			return
		case <-ctx.Done():
			t.Fatal("prune_runs did not run on start")
		}
	}
}
