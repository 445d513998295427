package handlers_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestDashboardInBrowser runs a few flows (one step failing) and checks the
// dashboard shows them, with its charts, without a script or CSP error.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(path string, _ int, _ map[string]any) (int, any) {
		if path == "/bad" {
			return 400, map[string]any{"error": "bad request"}
		}
		return 200, map[string]any{"ok": true}
	})
	good := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "a", "action": "http.request", "input": {"method": "POST", "url": "TARGET/ok"}},
	  {"id": "b", "action": "http.request", "input": {"method": "POST", "url": "TARGET/ok"}}]}`)
	bad := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "c", "action": "http.request", "input": {"method": "POST", "url": "TARGET/bad"}}]}`)
	var last string
	for i := 0; i < 6; i++ {
		status, out := b.post(t, good, "application/json", `{}`)
		require.Equal(t, http.StatusAccepted, status)
		last = out["run_id"].(string)
	}
	status, out := b.post(t, bad, "application/json", `{}`)
	require.Equal(t, http.StatusAccepted, status)
	b.waitRun(t, last, "succeeded")
	b.waitRun(t, out["run_id"].(string), "failed")

	ctx := newBrowser(t)
	login(t, ctx, b.url, "ada@example.com", "correct horse battery")
	var runs, rate string
	var charts int
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/dashboard"),
		chromedp.WaitVisible(`[data-testid="dashboard"]`),
		chromedp.Text(`[data-testid="stat-runs"]`, &runs),
		chromedp.Text(`[data-testid="stat-failure-rate"]`, &rate),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="dashboard"] svg').length`, &charts),
	))
	require.Equal(t, "7", strings.TrimSpace(runs))
	require.Contains(t, rate, "14", "1 of 7 runs failed")
	require.Positive(t, charts, "charts are server-rendered SVG")
	path := screenshot(t, ctx, "dashboard.png")
	if os.Getenv("UPDATE_SCREENSHOTS") != "" && path != "" {
		copyFile(t, path, filepath.Join(filepath.Dir(filepath.Dir(path)), "docs", "screenshots", "dashboard.png"))
	}
}
