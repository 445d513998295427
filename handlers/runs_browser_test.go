package handlers_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
)

// signupFlow fans out after a lookup and joins again: a graph worth drawing.
const signupFlow = `{"trigger": {"type": "webhook"}, "steps": [
  {"id": "lookup", "action": "http.request",
   "input": {"method": "POST", "url": "TARGET/lookup", "body": {"email": "{{ trigger.email }}"}}},
  {"id": "notify", "action": "http.request",
   "input": {"method": "POST", "url": "TARGET/notify", "body": {"text": "New signup: {{ trigger.email }}", "contact": "{{ steps.lookup.body.id }}"}}},
  {"id": "track", "action": "http.request", "needs": ["lookup"],
   "input": {"method": "POST", "url": "TARGET/track", "body": {"event": "Signed Up", "plan": "{{ trigger.plan }}"}}},
  {"id": "welcome", "action": "http.request", "needs": ["notify", "track"],
   "input": {"method": "POST", "url": "TARGET/welcome", "body": {"to": "{{ trigger.email }}"}}}]}`

// TestRunsBrowserRetryAndReplay is the run history's definition of done: a
// run failing on one step is listed as failed; its page shows every step,
// the error and a Retry button; after the target is fixed, Retry makes the
// run succeed without a reload; Replay with an edited payload starts a new
// run that uses the edited value.
func TestRunsBrowserRetryAndReplay(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := newBrowser(t)
	bg := context.Background()

	// Slack-like refusal on notify, everything else answers.
	b.target.setHandle(func(path string, _ int, _ map[string]any) (int, any) {
		if path == "/notify" {
			return 404, map[string]any{"ok": false, "error": "channel_not_found"}
		}
		return 200, map[string]any{"ok": true, "id": "contact-42"}
	})
	f := b.flow(t, signupFlow)
	require.NoError(t, store.RenameFlow(bg, b.pool, b.member.WorkspaceID, f.ID, "Signup to Slack"))
	other := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "digest", "action": "http.request", "input": {"method": "POST", "url": "TARGET/digest"}}]}`)
	require.NoError(t, store.RenameFlow(bg, b.pool, b.member.WorkspaceID, other.ID, "Nightly digest"))
	for range 2 {
		_, acc := b.post(t, other, "application/json", `{"day": "monday"}`)
		b.waitRun(t, acc["run_id"].(string), "succeeded")
	}
	status, acc := b.post(t, f, "application/json", `{"email": "ada@example.com", "plan": "pro"}`)
	require.Equal(t, http.StatusAccepted, status)
	runID := acc["run_id"].(string)
	b.waitRun(t, runID, "failed")

	login(t, ctx, b.url, "ada@example.com", "correct horse battery")

	// The list: the run is failed, and its flow offers "Retry all failed".
	var runStatus, failedCount string
	var ok bool
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/runs"),
		chromedp.WaitVisible(`[data-testid="run-row"][data-run-id="`+runID+`"]`),
		chromedp.AttributeValue(`[data-run-id="`+runID+`"] [data-testid="run-status"]`, "data-status", &runStatus, &ok),
		chromedp.Text(`[data-testid="failed-flow"][data-flow-id="`+f.ID.String()+`"] [data-testid="failed-count"]`, &failedCount),
	))
	require.Equal(t, "failed", runStatus)
	require.Equal(t, "1 failed run", strings.TrimSpace(failedCount))
	var rows int
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid="run-row"]').length`, &rows)))
	require.Equal(t, 3, rows)
	screenshot(t, ctx, "runs.png")

	// The run page: every step, the error text, a Retry button on the failed step.
	var errText, retryLabel, stepStatus string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`[data-run-id="`+runID+`"] [data-testid="run-link"]`),
		chromedp.WaitVisible(`[data-testid="step-notify"]`),
		chromedp.Text(`[data-testid="step-notify"] [data-testid="step-error"]`, &errText),
		chromedp.Text(`[data-testid="retry-notify"]`, &retryLabel),
		chromedp.AttributeValue(`[data-testid="step-notify"] [data-testid="step-status"]`, "data-status", &stepStatus, &ok),
	))
	for _, id := range []string{"lookup", "notify", "track", "welcome"} {
		var n int
		require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid="step-`+id+`"]').length`, &n)))
		require.Equal(t, 1, n, "step %s is shown", id)
	}
	require.Contains(t, errText, "404")
	require.Contains(t, errText, "channel_not_found")
	require.Equal(t, "Retry", strings.TrimSpace(retryLabel))
	require.Equal(t, "failed", stepStatus)
	var graphNodes int
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid="graph-node"]').length`, &graphNodes)))
	require.Equal(t, 5, graphNodes, "the trigger and four steps are drawn")
	path := screenshot(t, ctx, "run.png")
	if os.Getenv("UPDATE_SCREENSHOTS") != "" && path != "" {
		copyFile(t, path, filepath.Join(filepath.Dir(filepath.Dir(path)), "docs", "screenshots", "run.png"))
	}

	// Fix the target, click Retry, accept the confirm: the page follows the
	// run to "succeeded" by itself.
	b.target.setHandle(func(string, int, map[string]any) (int, any) {
		return 200, map[string]any{"ok": true, "id": "contact-42", "ts": "1700000000.000100"}
	})
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`[data-testid="retry-notify"]`),
		chromedp.WaitVisible(`[data-testid="run-live"][data-status="succeeded"]`),
		chromedp.AttributeValue(`[data-testid="run-status"]`, "data-status", &runStatus, &ok),
		chromedp.AttributeValue(`[data-testid="step-welcome"] [data-testid="step-status"]`, "data-status", &stepStatus, &ok),
	))
	require.Equal(t, "succeeded", runStatus)
	require.Equal(t, "succeeded", stepStatus, "the run went on past the retried step")
	require.NotEmpty(t, dialogs(ctx))
	require.Contains(t, dialogs(ctx)[0], "Retry step")
	var retries int
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid^="retry-"]').length`, &retries)))
	require.Zero(t, retries, "no failed step is left to retry")
	screenshot(t, ctx, "run-succeeded.png")

	// Replay with an edited payload: a new run, which uses the edited value.
	before := len(b.target.calls("/lookup"))
	var url string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SetValue(`[data-testid="replay-payload"]`, `{"email": "grace@example.com", "plan": "team"}`),
		chromedp.Click(`[data-testid="replay"]`),
		chromedp.WaitVisible(`[data-testid="replay-of"]`),
		chromedp.Location(&url),
		chromedp.WaitVisible(`[data-testid="run-live"][data-status="succeeded"]`),
	))
	newID := strings.TrimPrefix(url, b.url+"/runs/")
	require.NotEqual(t, runID, newID)
	run := b.waitRun(t, newID, "succeeded")
	require.Equal(t, runID, run["replay_of"])
	lookups := b.target.calls("/lookup")
	require.Len(t, lookups, before+1)
	require.Equal(t, "grace@example.com", lookups[len(lookups)-1].Body["email"])
	tracks := b.target.calls("/track")
	require.Equal(t, "team", tracks[len(tracks)-1].Body["plan"])
	var flash string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text(`[data-testid="flash"]`, &flash)))
	require.Contains(t, flash, "Replayed")
}

// TestRunsBrowserLive follows running runs: the run page and the list update
// by themselves, and the sections a person opened stay open.
func TestRunsBrowserLive(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := newBrowser(t)
	// The n-th call of /slow waits for gates[n-1].
	gates := []chan struct{}{make(chan struct{}), make(chan struct{})}
	b.target.setHandle(func(path string, n int, _ map[string]any) (int, any) {
		if path == "/slow" && n <= len(gates) {
			<-gates[n-1]
		}
		return 200, map[string]any{"ok": true}
	})
	opened := make([]bool, len(gates))
	open := func(i int) {
		if !opened[i] {
			opened[i] = true
			close(gates[i])
		}
	}
	t.Cleanup(func() { open(0); open(1) })
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "quick", "action": "http.request", "input": {"method": "POST", "url": "TARGET/quick"}},
	  {"id": "slow", "action": "http.request", "input": {"method": "POST", "url": "TARGET/slow"}}]}`)
	start := func() string {
		calls := len(b.target.calls("/slow"))
		_, acc := b.post(t, f, "application/json", `{}`)
		for len(b.target.calls("/slow")) == calls {
			time.Sleep(20 * time.Millisecond)
		}
		return acc["run_id"].(string)
	}
	login(t, ctx, b.url, "ada@example.com", "correct horse battery")

	// The run page polls while the run goes on; an open section of a step
	// that did not change stays open.
	first := start()
	var isOpen, ok bool
	var status string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/runs/"+first),
		chromedp.WaitVisible(`[data-testid="run-live"][data-status="running"]`),
		chromedp.WaitVisible(`[data-testid="cancel"]`),
		chromedp.Click(`[data-testid="step-quick"] [data-testid="step-output"] summary`),
		chromedp.Sleep(4500*time.Millisecond), // two polls
		chromedp.Evaluate(`document.querySelector('[data-testid="step-quick"] [data-testid="step-output"]').open`, &isOpen),
	))
	require.True(t, isOpen, "polling keeps an unchanged step's open section open")
	open(0)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible(`[data-testid="run-live"][data-status="succeeded"]`),
		chromedp.AttributeValue(`[data-testid="step-slow"] [data-testid="step-status"]`, "data-status", &status, &ok),
		chromedp.Evaluate(`document.querySelector('[data-testid="step-quick"] [data-testid="step-output"]').open`, &isOpen),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="cancel"]').length === 0`, &ok),
	))
	require.Equal(t, "succeeded", status)
	require.True(t, isOpen)
	require.True(t, ok, "a finished run offers no Cancel")

	// The list: a running row makes the table body poll until it finishes.
	second := start()
	var live bool
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/runs"),
		chromedp.WaitVisible(`[data-run-id="`+second+`"][data-status="running"]`),
		chromedp.Evaluate(`document.getElementById("runs-body").hasAttribute("hx-get")`, &live),
	))
	require.True(t, live, "the table body polls while a run is running")
	open(1)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible(`[data-run-id="`+second+`"][data-status="succeeded"]`),
		chromedp.Evaluate(`document.getElementById("runs-body").hasAttribute("hx-get")`, &live),
	))
	require.False(t, live, "polling stops once nothing runs")
	require.NoError(t, chromedp.Run(ctx, chromedp.WaitVisible(`[data-run-id="`+first+`"][data-status="succeeded"]`)))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, raw, 0o644))
}
