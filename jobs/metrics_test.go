package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMetricsNilIsANoOp(t *testing.T) {
	t.Parallel()
	var m *jobs.Metrics
	m.IncEvents()
	m.IncRetry()
	m.ObserveStep("http.request", "succeeded", time.Second)
	require.Equal(t, jobs.Snapshot{}, m.Snapshot())
}

func TestMetricsSnapshot(t *testing.T) {
	t.Parallel()
	m := jobs.NewMetrics()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			m.IncEvents()
			m.ObserveStep("slack.post_message", "succeeded", 20*time.Millisecond)
		})
	}
	wg.Wait()
	m.IncRetry()
	m.ObserveStep("http.request", "retrying", 5*time.Second)  // exactly on a bound
	m.ObserveStep("http.request", "retrying", 90*time.Second) // above every bound
	m.ObserveStep("http.request", "succeeded", 3*time.Millisecond)

	s := m.Snapshot()
	require.Equal(t, uint64(10), s.Events)
	require.Equal(t, uint64(1), s.Retries)
	require.Len(t, s.Steps, 3)
	require.Equal(t, jobs.StepKey{Action: "http.request", Status: "retrying"}, s.Steps[0].StepKey, "sorted by action, then status")
	require.Equal(t, uint64(2), s.Steps[0].Count)
	require.Equal(t, uint64(1), s.Steps[0].Buckets[5], "a bound includes its own value")
	require.Equal(t, uint64(1), s.Steps[0].Buckets[60], "90s is only in +Inf")
	require.Equal(t, uint64(0), s.Steps[0].Buckets[2.5])
	slack := s.Steps[2]
	require.Equal(t, "slack.post_message", slack.Action)
	require.Equal(t, uint64(10), slack.Count)
	require.Equal(t, uint64(0), slack.Buckets[0.01])
	require.Equal(t, uint64(10), slack.Buckets[0.025], "cumulative")
	require.InDelta(t, 0.2, slack.Sum, 1e-9)
}

func TestMetricsGaugesAreCached(t *testing.T) {
	t.Parallel()
	pool := storetest.Pool(t)
	h := newHistory(t, pool)
	h.run(t, "failed", time.Now())
	m := jobs.NewMetrics()
	ctx := context.Background()

	g, err := m.ReadGauges(ctx, pool, time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(1), g.Runs["failed"])
	h.run(t, "failed", time.Now())
	g, err = m.ReadGauges(ctx, pool, time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(1), g.Runs["failed"], "read again within the TTL: cached")
	g, err = m.ReadGauges(ctx, pool, 0)
	require.NoError(t, err)
	require.Equal(t, int64(2), g.Runs["failed"])

	var none *jobs.Metrics
	g, err = none.ReadGauges(ctx, pool, time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(2), g.Runs["failed"], "no cache without metrics")
}
