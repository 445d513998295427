package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

// The engine's counters become Prometheus metrics: counters and a histogram
// per action and outcome.
func TestMetricsCollectorEngineCounters(t *testing.T) {
	m := jobs.NewMetrics()
	m.IncEvents()
	m.IncEvents()
	m.IncRetry()
	m.ObserveStep("slack.post_message", "succeeded", 30*time.Millisecond)
	m.ObserveStep("slack.post_message", "succeeded", 2*time.Second)
	m.ObserveStep("http.request", "retrying", 90*time.Second)

	col := newMetricsCollector(m.Snapshot())
	col.gauges = &jobs.Gauges{Runs: map[string]int64{"running": 3}, Queue: store.QueueStats{Available: 4, Retryable: 1}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)

	want := `
# HELP switchboard_events_received_total Events accepted by this process (webhooks, manual runs, replays), duplicates excluded.
# TYPE switchboard_events_received_total counter
switchboard_events_received_total 2
# HELP switchboard_queue_depth River jobs available or retryable, all workspaces.
# TYPE switchboard_queue_depth gauge
switchboard_queue_depth 5
# HELP switchboard_step_retries_total Step attempts run by this process that failed and will be retried.
# TYPE switchboard_step_retries_total counter
switchboard_step_retries_total 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"switchboard_events_received_total", "switchboard_queue_depth", "switchboard_step_retries_total"))

	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "switchboard_step_duration_seconds" {
			continue
		}
		require.Len(t, f.GetMetric(), 2, "one series per action and outcome")
		for _, s := range f.GetMetric() {
			h := s.GetHistogram()
			if s.GetLabel()[0].GetValue() == "slack.post_message" {
				require.Equal(t, uint64(2), h.GetSampleCount())
				require.InDelta(t, 2.03, h.GetSampleSum(), 1e-9)
				for _, bk := range h.GetBucket() {
					if bk.GetUpperBound() == 0.05 {
						require.Equal(t, uint64(1), bk.GetCumulativeCount())
					}
					if bk.GetUpperBound() == 2.5 {
						require.Equal(t, uint64(2), bk.GetCumulativeCount())
					}
				}
			} else {
				require.Equal(t, uint64(1), h.GetSampleCount())
				require.Equal(t, uint64(0), h.GetBucket()[len(h.GetBucket())-1].GetCumulativeCount(), "90s is above the last bound")
			}
		}
		return
	}
	t.Fatal("no switchboard_step_duration_seconds")
}
