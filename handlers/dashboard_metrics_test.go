package handlers_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMetricsExposition(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, m, _ := b.signedIn(t, "ada@example.com")
	b.seedDashboard(t, m, "succeeded", "failed", "failed")

	resp, err := http.Get(b.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(raw)
	for _, want := range []string{
		"# TYPE switchboard_events_received_total counter",
		"# TYPE switchboard_step_retries_total counter",
		"# TYPE switchboard_runs gauge",
		`switchboard_runs{status="failed"} 2`,
		`switchboard_runs{status="succeeded"} 1`,
		`switchboard_runs{status="waiting"} 0`,
		"switchboard_queue_depth 1",
		"# TYPE switchboard_queue_oldest_wait_seconds gauge",
		"go_goroutines",
	} {
		require.Contains(t, body, want)
	}
}
