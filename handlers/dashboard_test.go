package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
)

// signedIn returns a browser signed in as a new owner of a new workspace.
func (b *bundle) signedIn(t *testing.T, email string) (*http.Client, store.Member, string) {
	t.Helper()
	m, apiToken := b.owner(t, email, "Acme")
	c := b.browser(t)
	_, _, tok := get(t, c, b.url+"/login")
	resp, _ := postForm(t, c, b.url+"/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {"correct horse battery"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	return c, m, apiToken
}

// seedDashboard gives a workspace a flow, runs of every kind five minutes
// ago (each with a step and its attempts), webhook events, and one River job
// waiting for 90 seconds.
func (b *bundle) seedDashboard(t *testing.T, m store.Member, statuses ...string) {
	t.Helper()
	ctx := context.Background()
	f, err := store.CreateFlow(ctx, b.pool, m.WorkspaceID, "Signup "+uuid.NewString(), []byte(`{"trigger":{"type":"webhook"},"steps":[]}`), true, nil)
	require.NoError(t, err)
	at := time.Now().Add(-5 * time.Minute)
	for i, status := range statuses {
		ev, run := store.NewID(), store.NewID()
		_, err := b.pool.Exec(ctx, `INSERT INTO events (id, workspace_id, flow_id, source, payload, received_at) VALUES ($1, $2, $3, 'webhook', '{}', $4)`,
			ev, m.WorkspaceID, f.ID, at)
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, `INSERT INTO runs (id, workspace_id, flow_id, flow_version, event_id, status, created_at)
			VALUES ($1, $2, $3, 1, $4, $5, $6)`, run, m.WorkspaceID, f.ID, ev, status, at)
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, `INSERT INTO run_steps (run_id, step_id, workspace_id, action, status, finished_at, duration_ms)
			VALUES ($1, 'notify', $2, 'slack.post_message', 'succeeded', $3, $4)`, run, m.WorkspaceID, at, 100*(i+1))
		require.NoError(t, err)
		_, err = b.pool.Exec(ctx, `INSERT INTO step_attempts (run_id, step_id, workspace_id, attempt, status, started_at, finished_at, duration_ms)
			VALUES ($1, 'notify', $2, 1, 'succeeded', $3, $3, $4)`, run, m.WorkspaceID, at, 100*(i+1))
		require.NoError(t, err)
	}
	_, err = b.pool.Exec(ctx, `INSERT INTO river_job (kind, args, max_attempts, state, scheduled_at)
		VALUES ('run_step', '{}', 5, 'available', now() - interval '90 seconds')`)
	require.NoError(t, err)
}

var testidRE = func(id string) *regexp.Regexp {
	return regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `">([^<]*)<`)
}

func testidText(t *testing.T, body, id string) string {
	t.Helper()
	m := testidRE(id).FindStringSubmatch(body)
	require.NotNil(t, m, "no element with data-testid=%q", id)
	return m[1]
}

func TestDashboardEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, _, _ := b.signedIn(t, "ada@example.com")

	resp, body, _ := get(t, c, b.url+"/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "No runs over the last hour")
	require.Contains(t, body, "No webhook events over the last hour")
	require.Contains(t, body, "No step attempts over the last hour")
	require.Equal(t, "0", testidText(t, body, "stat-runs"))
	require.Equal(t, "—", testidText(t, body, "stat-failure-rate"))
	require.Equal(t, "—", testidText(t, body, "queue-oldest"))
	require.NotContains(t, body, `data-testid="bar"`)
	require.NotContains(t, body, "style=", "the CSP forbids inline styles")
	require.NotContains(t, body, "<script>", "the CSP forbids inline scripts")
}

func TestDashboardWithData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, m, _ := b.signedIn(t, "ada@example.com")
	b.seedDashboard(t, m, "succeeded", "succeeded", "succeeded", "failed", "running")
	// Another workspace's runs never show.
	other, _ := b.owner(t, "bob@example.com", "Other")
	b.seedDashboard(t, other, "failed", "failed")

	resp, body, _ := get(t, c, b.url+"/dashboard")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "5", testidText(t, body, "stat-runs"))
	require.Equal(t, "25%", testidText(t, body, "stat-failure-rate"), "1 failed of 4 finished")
	require.Equal(t, "5", testidText(t, body, "stat-events"))
	// River's queue is system-wide: both workspaces' jobs count.
	require.Equal(t, "2", testidText(t, body, "stat-queue"))
	require.Equal(t, "2", testidText(t, body, "queue-available"))
	require.Equal(t, "1 min", testidText(t, body, "queue-oldest"))
	require.Contains(t, body, "System-wide")

	require.Contains(t, body, `data-testid="runs-chart-svg"`)
	require.Equal(t, 4, strings.Count(body, `data-testid="bar"`), "succeeded, failed and in-progress segments of one bar, plus one events bar")
	require.Contains(t, body, "· Failed: 1 run<")
	require.Contains(t, body, "· Events: 5 events")
	require.Contains(t, body, `data-testid="steps-chart"`)
	require.Contains(t, body, "slack.post_message: p50 300 ms, p95 480 ms (5 attempts)")
	require.NotContains(t, body, "style=")

	// Every range renders; an unknown one falls back to the last hour.
	for _, r := range []string{"day", "week", "nonsense"} {
		resp, body, _ := get(t, c, b.url+"/dashboard?range="+r)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "5", testidText(t, body, "stat-runs"), r)
	}
	_, body, _ = get(t, c, b.url+"/dashboard?range=week")
	require.Contains(t, body, `aria-current="page" data-testid="range-week"`)
	require.Contains(t, body, "over the last 7 days")

	// htmx refreshes get the panel alone.
	req, _ := http.NewRequest(http.MethodGet, b.url+"/dashboard?range=day", nil)
	req.Header.Set("HX-Request", "true")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	panel := string(raw)
	require.True(t, strings.HasPrefix(panel, `<div id="dashboard"`), panel[:min(len(panel), 200)])
	require.Contains(t, panel, `hx-get="/dashboard?range=day"`)
	require.NotContains(t, panel, "<html")
}

func TestDashboardNeedsSignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.owner(t, "ada@example.com", "Acme")
	for _, path := range []string{"/dashboard", "/settings"} {
		resp, _, _ := get(t, b.browser(t), b.url+path)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/login?next="+url.QueryEscape(path), resp.Header.Get("Location"))
	}
}

var newTokenRE = regexp.MustCompile(`data-testid="new-token-value">(sb_[A-Za-z0-9_-]+)<`)

func TestSettingsTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, m, apiToken := b.signedIn(t, "ada@example.com")

	resp, body, csrf := get(t, c, b.url+"/settings")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-testid="member-row"`)
	require.Contains(t, body, "ada@example.com")
	require.Contains(t, body, "Owner")
	require.Equal(t, 1, strings.Count(body, `data-testid="token-row"`), "the token made by the test bundle")
	require.NotContains(t, body, apiToken, "a token's secret is never shown again")

	// A name is required.
	resp, body = postForm(t, c, b.url+"/settings/tokens", url.Values{"_csrf": {csrf}, "name": {"  "}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, `data-testid="error-name"`)

	// Without the CSRF token nothing is created.
	resp, _ = postForm(t, c, b.url+"/settings/tokens", url.Values{"name": {"ci"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp, body = postForm(t, c, b.url+"/settings/tokens", url.Values{"_csrf": {csrf}, "name": {"ci"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	match := newTokenRE.FindStringSubmatch(body)
	require.NotNil(t, match, "the new token is shown once")
	tok := match[1]
	status, _ := b.api(t, http.MethodGet, "/api/v1/connectors", tok, nil)
	require.Equal(t, http.StatusOK, status, "the new token works")

	// Shown once: the page no longer has it.
	_, body, _ = get(t, c, b.url+"/settings")
	require.NotContains(t, body, tok)
	require.Equal(t, 2, strings.Count(body, `data-testid="token-row"`))

	tokens, err := store.ListTokens(context.Background(), b.pool, m.WorkspaceID)
	require.NoError(t, err)
	var id uuid.UUID
	for _, tk := range tokens {
		if tk.Name == "ci" {
			id = tk.ID
		}
	}
	require.NotEqual(t, uuid.Nil, id)

	// Revoking needs the CSRF token too.
	resp, _ = postForm(t, c, b.url+"/settings/tokens/"+id.String()+"/revoke", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = postForm(t, c, b.url+"/settings/tokens/"+id.String()+"/revoke", url.Values{"_csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/settings", resp.Header.Get("Location"))
	_, body, _ = get(t, c, b.url+"/settings")
	require.Contains(t, body, "Token “ci” revoked")
	require.Equal(t, 1, strings.Count(body, `data-testid="token-row"`))
	status, _ = b.api(t, http.MethodGet, "/api/v1/connectors", tok, nil)
	require.Equal(t, http.StatusUnauthorized, status, "a revoked token no longer works")

	// Another workspace's token is not found from here.
	other, _ := b.owner(t, "bob@example.com", "Other")
	_, ot, err := store.CreateToken(context.Background(), b.pool, other, "theirs")
	require.NoError(t, err)
	resp, _ = postForm(t, c, b.url+"/settings/tokens/"+ot.ID.String()+"/revoke", url.Values{"_csrf": {csrf}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
