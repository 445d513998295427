package handlers_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
)

// signIn logs c in through the /login form and returns a CSRF token for
// its next forms.
func signIn(t *testing.T, b *bundle, c *http.Client, email string) string {
	t.Helper()
	_, _, tok := get(t, c, b.url+"/login")
	resp, body := postForm(t, c, b.url+"/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {"correct horse battery"}, "next": {"/runs"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	_, _, tok = get(t, c, b.url+"/runs")
	require.NotEmpty(t, tok)
	return tok
}

// addMember adds a user with role to the workspace of m.
func addMember(t *testing.T, b *bundle, m store.Member, email, role string) {
	t.Helper()
	hash, err := store.HashPassword("correct horse battery")
	require.NoError(t, err)
	id := store.NewID()
	ctx := context.Background()
	_, err = b.pool.Exec(ctx, `INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)`, id, email, hash)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)`, m.WorkspaceID, id, role)
	require.NoError(t, err)
}

var runRowRE = regexp.MustCompile(`data-testid="run-row" data-run-id="([^"]+)"`)

func runRows(body string) []string {
	var ids []string
	for _, m := range runRowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var olderRE = regexp.MustCompile(`href="([^"]+)" data-testid="runs-older"`)

func TestRunsPageFiltersAndPages(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(path string, _ int, _ map[string]any) (int, any) {
		if path == "/bad" {
			return 400, map[string]any{"error": "bad request"}
		}
		return 200, map[string]any{"ok": true}
	})
	good := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	bad := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [{"id": "b", "action": "http.request", "input": {"method": "POST", "url": "TARGET/bad"}}]}`)
	var ids []string
	for i := range 52 {
		status, out := b.api(t, http.MethodPost, "/api/v1/runs", b.token, map[string]any{"flow_id": good.ID,
			"payload": map[string]any{"email": fmt.Sprintf("user-%d@example.com", i), "note": "50% off_sale"}})
		require.Equal(t, http.StatusCreated, status, "%v", out)
		ids = append(ids, out["id"].(string))
	}
	_, acc := b.post(t, bad, "application/json", `{"email": "broken@example.com"}`)
	failedID := acc["run_id"].(string)
	b.waitRun(t, failedID, "failed")
	for _, id := range ids {
		b.waitRun(t, id, "succeeded")
	}

	c := b.browser(t)
	signIn(t, b.bundle, c, "ada@example.com")

	// Newest first, 50 a page, then "Older →" to the rest.
	resp, body, _ := get(t, c, b.url+"/runs")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rows := runRows(body)
	require.Len(t, rows, 50)
	require.Equal(t, failedID, rows[0])
	require.Equal(t, ids[51], rows[1])
	require.Contains(t, body, `data-testid="failed-flows"`)
	require.Contains(t, body, "Retry 1 failed run of “test flow”?")
	m := olderRE.FindStringSubmatch(body)
	require.NotNil(t, m, "an Older link")
	resp, body, _ = get(t, c, b.url+html.UnescapeString(m[1]))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, []string{ids[2], ids[1], ids[0]}, runRows(body))
	require.NotContains(t, body, `data-testid="runs-older"`)
	require.Contains(t, body, `data-testid="runs-newest"`)

	for _, tt := range []struct {
		name  string
		query url.Values
		want  []string
		text  string
	}{
		{"status", url.Values{"status": {"failed"}}, []string{failedID}, ""},
		{"flow", url.Values{"flow": {bad.ID.String()}}, []string{failedID}, ""},
		{"payload text", url.Values{"q": {"USER-7@"}}, []string{ids[7]}, ""},
		{"run id", url.Values{"q": {strings.ToUpper(ids[3])}}, []string{ids[3]}, ""},
		{"like wildcards are literal", url.Values{"q": {"50%sale"}}, nil, "No runs match"},
		{"like wildcards match themselves", url.Values{"q": {"% off_"}, "flow": {good.ID.String()}, "status": {"succeeded"}}, nil, ""},
		{"no match", url.Values{"q": {"nobody@example.com"}}, nil, "No runs match"},
		{"time range", url.Values{"from": {time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")}}, nil, "No runs match"},
		{"bad time is reported, not applied", url.Values{"from": {"yesterday"}, "status": {"failed"}}, []string{failedID}, "is not a date and time"},
		{"bad status is reported", url.Values{"status": {"exploded"}, "flow": {bad.ID.String()}}, []string{failedID}, "Choose a status"},
	} {
		resp, body, _ := get(t, c, b.url+"/runs?"+tt.query.Encode())
		require.Equal(t, http.StatusOK, resp.StatusCode, tt.name)
		if tt.name == "like wildcards match themselves" {
			require.Len(t, runRows(body), 50, "%% and _ match themselves")
			continue
		}
		require.Equal(t, tt.want, runRows(body), tt.name)
		if tt.text != "" {
			require.Contains(t, html.UnescapeString(body), tt.text, tt.name)
		}
	}

	// The polled partial is just the body and the pager.
	resp, body, _ = get(t, c, b.url+"/runs/rows?status=failed")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(strings.TrimSpace(body), `<tbody id="runs-body"`), body)
	require.NotContains(t, body, "hx-get", "nothing is running, so nothing polls")
	require.Contains(t, body, `hx-swap-oob="true"`)
	require.Equal(t, []string{failedID}, runRows(body))
}

func TestRunPageRecovery(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(path string, _ int, _ map[string]any) (int, any) {
		if path == "/flaky" {
			return 409, map[string]any{"error": "conflict", "secret_hint": "none"}
		}
		return 200, map[string]any{"ok": true}
	})
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "first", "action": "http.request", "input": {"method": "POST", "url": "TARGET/ok", "body": {"name": "{{ trigger.name }}"}}},
	  {"id": "flaky", "action": "http.request", "input": {"method": "POST", "url": "TARGET/flaky"}}]}`)
	var runs []string
	for _, name := range []string{"one", "two", "three"} {
		_, acc := b.post(t, f, "application/json", `{"name": "`+name+`"}`)
		runs = append(runs, acc["run_id"].(string))
	}
	for _, id := range runs {
		b.waitRun(t, id, "failed")
	}
	c := b.browser(t)
	tok := signIn(t, b.bundle, c, "ada@example.com")

	resp, body, _ := get(t, c, b.url+"/runs/"+runs[0])
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, s := range []string{`data-testid="step-first"`, `data-testid="step-flaky"`, `data-testid="retry-flaky"`, ">Retry</button>",
		`data-testid="replay"`, `data-status="failed"`, "409 Conflict", `&#34;error&#34;: &#34;conflict&#34;`, `data-testid="graph"`} {
		require.Contains(t, body, s)
	}
	require.NotContains(t, body, `data-testid="retry-first"`, "only failed steps offer Retry")
	require.NotContains(t, body, `data-testid="cancel"`, "a finished run cannot be cancelled")
	require.NotContains(t, body, `hx-trigger="every`, "a finished run does not poll")

	// Retrying a step that did not fail is refused with a message on the page.
	resp, _ = postForm(t, c, b.url+"/runs/"+runs[0]+"/steps/first/retry", url.Values{"_csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body, _ = get(t, c, b.url+"/runs/"+runs[0])
	require.Contains(t, body, "flash--error")
	require.Contains(t, body, "only a failed step can be retried")

	// htmx retry answers with the live region, polling while the run goes on.
	b.target.setHandle(func(string, int, map[string]any) (int, any) { return 200, map[string]any{"fixed": true} })
	req, _ := http.NewRequest(http.MethodPost, b.url+"/runs/"+runs[0]+"/steps/flaky/retry", strings.NewReader(url.Values{"_csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	hx, err := c.Do(req)
	require.NoError(t, err)
	raw := readAll(t, hx)
	require.Equal(t, http.StatusOK, hx.StatusCode, raw)
	require.True(t, strings.HasPrefix(strings.TrimSpace(raw), `<div id="run-live"`), raw)
	require.NotContains(t, raw, "<html")
	b.waitRun(t, runs[0], "succeeded")
	_, body, _ = get(t, c, b.url+"/runs/"+runs[0]+"/live")
	require.Contains(t, body, `data-status="succeeded"`)
	require.NotContains(t, body, "hx-trigger")

	// Retry all failed: the other two runs.
	resp, _ = postForm(t, c, b.url+"/runs/retry-failed", url.Values{"_csrf": {tok}, "flow_id": {f.ID.String()}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/runs", resp.Header.Get("Location"))
	_, body, _ = get(t, c, b.url+"/runs")
	require.Contains(t, body, "Retried 2 runs.")
	b.waitRun(t, runs[1], "succeeded")
	b.waitRun(t, runs[2], "succeeded")

	// Replay: invalid JSON re-renders the form with the text kept.
	resp, body = postForm(t, c, b.url+"/runs/"+runs[1]+"/replay", url.Values{"_csrf": {tok}, "payload": {`{"name": "edited",}`}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, "This is not valid JSON")
	require.Contains(t, body, `{&#34;name&#34;: &#34;edited&#34;,}`)
	resp, _ = postForm(t, c, b.url+"/runs/"+runs[1]+"/replay", url.Values{"_csrf": {tok}, "payload": {`{"name": "edited"}`}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	newRun := strings.TrimPrefix(resp.Header.Get("Location"), "/runs/")
	require.NotEqual(t, runs[1], newRun)
	run := b.waitRun(t, newRun, "succeeded")
	require.Equal(t, runs[1], run["replay_of"])
	require.Equal(t, map[string]any{"name": "edited"}, run["trigger"])

	// Cancel a run whose first step hangs.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	b.target.setHandle(func(path string, _ int, _ map[string]any) (int, any) {
		if path == "/ok" {
			<-release
		}
		return 200, map[string]any{}
	})
	_, acc := b.post(t, f, "application/json", `{"name": "slow"}`)
	slow := acc["run_id"].(string)
	b.waitRun(t, slow, "running")
	_, body, _ = get(t, c, b.url+"/runs/"+slow)
	require.Contains(t, body, `data-testid="cancel"`)
	require.Contains(t, body, `hx-trigger="every 2s"`)
	resp, _ = postForm(t, c, b.url+"/runs/"+slow+"/cancel", url.Values{"_csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	b.waitRun(t, slow, "cancelled")
	_, body, _ = get(t, c, b.url+"/runs/"+slow)
	require.Contains(t, body, "Run cancelled.")
	require.NotContains(t, body, `data-testid="cancel"`)
}

func TestRunPagePermissionsAndIsolation(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(string, int, map[string]any) (int, any) { return 500, map[string]any{"error": "down"} })
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "s", "action": "http.request", "retry": {"max_attempts": 1}, "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	_, acc := b.post(t, f, "application/json", `{}`)
	runID := acc["run_id"].(string)
	b.waitRun(t, runID, "failed")

	// A viewer sees the run but no recovery buttons, and may not post them.
	addMember(t, b.bundle, b.member, "vic@example.com", store.RoleViewer)
	viewer := b.browser(t)
	tok := signIn(t, b.bundle, viewer, "vic@example.com")
	resp, body, _ := get(t, viewer, b.url+"/runs/"+runID)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-testid="step-s"`)
	require.NotContains(t, body, `data-testid="retry-s"`)
	require.NotContains(t, body, `data-testid="replay"`)
	_, body, _ = get(t, viewer, b.url+"/runs")
	require.Contains(t, body, `data-testid="failed-flows"`)
	require.NotContains(t, body, `data-testid="retry-failed"`)
	for _, p := range []string{"/runs/" + runID + "/steps/s/retry", "/runs/" + runID + "/replay", "/runs/" + runID + "/cancel", "/runs/retry-failed"} {
		resp, _ := postForm(t, viewer, b.url+p, url.Values{"_csrf": {tok}, "flow_id": {f.ID.String()}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, p)
	}

	// An editor may.
	addMember(t, b.bundle, b.member, "eve@example.com", store.RoleEditor)
	editor := b.browser(t)
	signIn(t, b.bundle, editor, "eve@example.com")
	_, body, _ = get(t, editor, b.url+"/runs/"+runID)
	require.Contains(t, body, `data-testid="retry-s"`)

	// Another workspace's run is not found, and its runs are not listed.
	b.owner(t, "bob@example.com", "Other")
	bob := b.browser(t)
	tok = signIn(t, b.bundle, bob, "bob@example.com")
	for _, p := range []string{"/runs/" + runID, "/runs/" + runID + "/live", "/runs/not-a-uuid", "/runs/" + store.NewID().String()} {
		resp, body, _ := get(t, bob, b.url+p)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
		require.Contains(t, body, `data-testid="error-page"`, p)
	}
	for _, p := range []string{"/runs/" + runID + "/steps/s/retry", "/runs/" + runID + "/replay", "/runs/" + runID + "/cancel", "/runs/retry-failed"} {
		resp, _ := postForm(t, bob, b.url+p, url.Values{"_csrf": {tok}, "flow_id": {f.ID.String()}})
		require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
	_, body, _ = get(t, bob, b.url+"/runs")
	require.Empty(t, runRows(body))
	require.Contains(t, body, "No runs yet")
	require.NotContains(t, body, "test flow")
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
