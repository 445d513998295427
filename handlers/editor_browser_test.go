package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
)

// TestEditorBuildsSignupFanOut builds SCENARIOS.md's signup fan-out in the
// editor, from an empty workspace, by clicking: a webhook trigger with a
// sample event; Slack, Mailchimp and Segment in parallel; a Jira ticket
// after Slack. Each connection is added through the UI against the fake
// services, one step is tested, the draft is published, and a webhook posted
// to the flow's URL runs every step to success.
func TestEditorBuildsSignupFanOut(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)

	slack := fake.NewSlack("xoxb-editor")
	t.Cleanup(slack.Close)
	mc := fake.NewMailchimp("mc-editor-us21")
	mc.AddList("a1b2c3")
	t.Cleanup(mc.Close)
	seg := fake.NewSegment("seg-editor")
	t.Cleanup(seg.Close)
	jira := fake.NewJira("ops@example.com", "jira-editor")
	jira.AddProject("CS")
	t.Cleanup(jira.Close)

	ctx := newBrowser(t)
	login(t, ctx, b.url, "ada@example.com", "correct horse battery")

	const name = `Signup fan-out <script>alert("x")</script>`
	const sample = `{"event_id": "evt_1", "type": "signup", "user": {"id": "u_42", "email": "ada@example.com", "first_name": "Ada", "plan": "enterprise", "company": "Analytical Engines"}}`

	// A new, blank flow opens in the editor at its trigger.
	editorDo(t, ctx, "create the flow",
		chromedp.Navigate(b.url+"/flows"),
		chromedp.WaitVisible(`[data-testid="empty-new-flow"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="new-flow"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="new-flow-form"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#field-name`, name, chromedp.ByQuery),
		chromedp.Click(`[data-testid="create-flow"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="trigger-form"]`, chromedp.ByQuery),
	)
	var heading string
	editorDo(t, ctx, "read the flow name", chromedp.Text(`[data-testid="flow-name"]`, &heading, chromedp.ByQuery))
	require.Equal(t, name, heading, "the name is shown as text, escaped")

	// The sample event feeds the data picker.
	editorDo(t, ctx, "save a sample event",
		chromedp.SetValue(`#f-sample`, sample, chromedp.ByQuery),
		chromedp.Click(`[data-testid="save-trigger"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="saved"]`, chromedp.ByQuery),
	)
	screenshot(t, ctx, "editor-trigger")
	var webhookURL string
	editorDo(t, ctx, "read the webhook URL", chromedp.Value(`[data-testid="webhook-url"]`, &webhookURL, chromedp.ByQuery))
	require.Contains(t, webhookURL, "/hooks/")
	u, err := url.Parse(webhookURL)
	require.NoError(t, err)
	hookURL := b.url + u.Path

	// "Listen for a test event": the next request to the webhook URL (of the
	// flow, still off) becomes the sample, shown without a reload.
	editorDo(t, ctx, "listen for a test event",
		chromedp.Click(`[data-testid="listen-start"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="listen"][data-state="waiting"]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__editorPage = true`, nil),
	)
	var listenURL, curl string
	editorDo(t, ctx, "read the waiting panel",
		chromedp.Text(`[data-testid="listen-url"]`, &listenURL, chromedp.ByQuery),
		chromedp.Value(`[data-testid="listen-curl"]`, &curl, chromedp.ByQuery),
		chromedp.ScrollIntoView(`[data-testid="listen"]`, chromedp.ByQuery),
	)
	require.Equal(t, webhookURL, listenURL)
	require.Contains(t, curl, "curl -X POST '"+webhookURL+"'")
	screenshot(t, ctx, "editor-listen")
	captured := strings.Replace(sample, `"type": "signup"`, `"type": "signup", "via": "<listen>"`, 1)
	resp, err := http.Post(hookURL, "application/json", strings.NewReader(captured))
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var shown, notice string
	var samePage bool
	editorDo(t, ctx, "see the captured event",
		chromedp.WaitVisible(`[data-testid="listen"][data-state="idle"]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid="notice"]`, &notice, chromedp.ByQuery),
		chromedp.Value(`#f-sample`, &shown, chromedp.ByQuery),
		chromedp.Evaluate(`window.__editorPage === true`, &samePage),
	)
	require.True(t, samePage, "the sample arrived without a reload")
	require.Contains(t, notice, "Captured a test event")
	require.Contains(t, shown, `"via": "\u003clisten\u003e"`)
	require.Contains(t, shown, `"email": "ada@example.com"`)

	// Slack first, right after the trigger.
	editorAddStep(t, ctx, `[data-testid="add-after"][data-target="$trigger"]`, "slack", "slack.post_message", "slack")
	screenshot(t, ctx, "editor-step-new")
	editorRenameStep(t, ctx, "slack", "announce")
	editorAddConnection(t, ctx, "announce", "Slack (test)", map[string]string{
		"config.base_url": slack.BaseURL(), "secrets.token": "xoxb-editor",
	})
	editorDo(t, ctx, "fill the Slack step",
		chromedp.SendKeys(`#f-in-channel`, "#signups", chromedp.ByQuery),
		chromedp.SendKeys(`#f-in-text`, "New signup: ", chromedp.ByQuery),
		// The channel's "Required." goes away as it is typed (and the
		// form moves up: wait for that before clicking further down).
		chromedp.WaitNotPresent(`#msg-in-channel .field__error`, chromedp.ByQuery),
		chromedp.Sleep(100*time.Millisecond),
		// The data picker inserts the reference at the cursor.
		chromedp.Click(`[data-testid="input-text"] .picker > summary`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="input-text"] .picker__item[data-path="trigger.user.email"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="input-text"] .picker__item[data-path="trigger.user.email"]`, chromedp.ByQuery),
	)
	var text string
	editorDo(t, ctx, "read the text", chromedp.Value(`#f-in-text`, &text, chromedp.ByQuery))
	require.Equal(t, "New signup: {{ trigger.user.email }}", text)
	editorSaveStep(t, ctx)

	// "Test step" really calls the (fake) Slack with the sample data, as a
	// test run through the job queue; the panel polls until it is done.
	editorDo(t, ctx, "test the Slack step",
		chromedp.Click(`[data-testid="test-step"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="test-result"]`, chromedp.ByQuery),
		chromedp.Evaluate(`window.__editorPage = true`, nil),
		chromedp.WaitVisible(`[data-testid="test-result"][data-state="succeeded"], [data-testid="test-result"][data-state="failed"]`, chromedp.ByQuery),
	)
	var status, output string
	editorDo(t, ctx, "read the test result",
		chromedp.Text(`[data-testid="test-status"]`, &status, chromedp.ByQuery),
		chromedp.Text(`[data-testid="test-output"]`, &output, chromedp.ByQuery),
		chromedp.Evaluate(`window.__editorPage === true`, &samePage),
	)
	screenshot(t, ctx, "editor-test-step")
	require.Equal(t, "Test succeeded", status)
	require.Contains(t, output, `"ts"`)
	require.True(t, samePage, "the result arrived without a reload")
	require.Len(t, slack.Messages(), 1)
	require.Equal(t, "New signup: ada@example.com", slack.Messages()[0].Text)
	var testRuns int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE is_test AND status = 'succeeded'`).Scan(&testRuns))
	require.Equal(t, 1, testRuns, "the test was a test run")

	// Mailchimp in parallel: the trigger's "+" for another branch.
	editorAddStep(t, ctx, `[data-testid="add-after"][data-target="$trigger"]`, "mailchimp", "mailchimp.upsert_member", "mailchimp")
	editorRenameStep(t, ctx, "mailchimp", "subscribe")
	editorAddConnection(t, ctx, "subscribe", "Mailchimp (test)", map[string]string{
		"config.base_url": mc.BaseURL(), "secrets.api_key": "mc-editor-us21",
	})
	editorDo(t, ctx, "fill the Mailchimp step",
		chromedp.SendKeys(`#f-in-list_id`, "a1b2c3", chromedp.ByQuery),
		chromedp.SendKeys(`#f-in-email`, "{{ trigger.user.email }}", chromedp.ByQuery),
		// A broken condition is reported as it is typed…
		chromedp.SendKeys(`#f-if`, "trigger.type ==", chromedp.ByQuery),
		chromedp.WaitVisible(`#msg-if .field__error`, chromedp.ByQuery),
	)
	editorDo(t, ctx, "fix the condition",
		chromedp.SendKeys(`#f-if`, " 'signup'", chromedp.ByQuery),
		chromedp.WaitNotPresent(`#msg-if .field__error`, chromedp.ByQuery),
	)
	editorSaveStep(t, ctx)

	// Segment in parallel too.
	editorAddStep(t, ctx, `[data-testid="add-after"][data-target="$trigger"]`, "track", "segment.track", "segment")
	editorRenameStep(t, ctx, "segment", "track")
	editorAddConnection(t, ctx, "track", "Segment (test)", map[string]string{
		"config.base_url": seg.BaseURL(), "secrets.write_key": "seg-editor",
	})
	editorDo(t, ctx, "fill the Segment step",
		chromedp.SendKeys(`#f-in-user_id`, "{{ trigger.user.id }}", chromedp.ByQuery),
		chromedp.SendKeys(`#f-in-event`, "Signed Up", chromedp.ByQuery),
	)
	editorSaveStep(t, ctx)

	// Jira after Slack: the "+" below the announce node.
	editorAddStep(t, ctx, `[data-testid="add-after"][data-target="announce"]`, "jira", "jira.create_issue", "jira")
	editorRenameStep(t, ctx, "jira", "onboard")
	editorAddConnection(t, ctx, "onboard", "Jira (test)", map[string]string{
		"config.base_url": jira.BaseURL(), "secrets.email": "ops@example.com", "secrets.api_token": "jira-editor",
	})
	editorDo(t, ctx, "fill the Jira step",
		chromedp.SendKeys(`#f-in-project_key`, "CS", chromedp.ByQuery),
		chromedp.SendKeys(`#f-in-summary`, "Onboard {{ trigger.user.company }}", chromedp.ByQuery),
		chromedp.SendKeys(`#f-in-description`, "Announced in Slack as {{ steps.announce.ts }}", chromedp.ByQuery),
	)
	editorSaveStep(t, ctx)
	var needs []string
	editorDo(t, ctx, "read the Jira step's needs",
		chromedp.Evaluate(`Array.from(document.querySelectorAll('[data-testid="needs"] input:checked')).map(e => e.value)`, &needs))
	require.Equal(t, []string{"announce"}, needs)

	// Publish: version 2, and the new flow is enabled.
	editorDo(t, ctx, "publish",
		chromedp.Click(`[data-testid="publish"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="notice"], [data-testid="publish-problems"]`, chromedp.ByQuery),
	)
	editorDo(t, ctx, "read the notice", chromedp.Text(`#flow-editor > .alert`, &notice, chromedp.ByQuery))
	require.Contains(t, notice, "Published version 2 and enabled the flow")
	var edges int
	editorDo(t, ctx, "count the edges", chromedp.Evaluate(`document.querySelectorAll('[data-testid="edge"]').length`, &edges))
	require.Equal(t, 4, edges, "trigger → announce, subscribe, track; announce → onboard")

	// The picture for the README: the published flow with a step open.
	editorDo(t, ctx, "open the Jira step's data picker",
		chromedp.Click(`[data-testid="node"][data-node="onboard"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="step-form"][data-step="onboard"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="input-summary"] .picker > summary`, chromedp.ByQuery),
		// Earlier steps' test outputs are offered beside the sample event.
		chromedp.WaitVisible(`[data-testid="input-summary"] .picker__item[data-path="steps.announce.ts"]`, chromedp.ByQuery),
	)
	shot := screenshot(t, ctx, "editor")
	require.NotEmpty(t, shot)
	if os.Getenv("UPDATE_SCREENSHOTS") != "" && shot != "" {
		editorCopyFile(t, shot, filepath.Join(filepath.Dir(filepath.Dir(shot)), "docs", "screenshots", "editor.png"))
	}

	// A webhook posted to the flow's URL runs every step.
	resp, err = http.Post(hookURL, "application/json", strings.NewReader(sample))
	require.NoError(t, err)
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "%s", raw)
	runID := editorJSONField(t, raw, "run_id")
	got := b.waitRun(t, runID, "succeeded", "failed")
	require.Equal(t, "succeeded", got["status"], "%v", got)
	for _, id := range []string{"announce", "subscribe", "track", "onboard"} {
		require.Equal(t, "succeeded", step(got, id)["status"], "step %s: %v", id, step(got, id))
	}
	require.Len(t, slack.Messages(), 2)
	require.Len(t, mc.Members("a1b2c3"), 1)
	require.Len(t, seg.Events(), 1)
	require.Len(t, jira.Issues(), 1)
	require.Equal(t, "Onboard Analytical Engines", jira.Issues()[0].Summary)

	// The flows list shows the run; the name stays text.
	var rows int
	var link string
	editorDo(t, ctx, "see the flows list",
		chromedp.Navigate(b.url+"/flows"),
		chromedp.WaitVisible(`[data-testid="flows-table"]`, chromedp.ByQuery),
		chromedp.Text(`[data-testid="flow-link"]`, &link, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('[data-testid="flow-row"] [data-status="succeeded"]').length`, &rows),
	)
	require.Equal(t, name, link)
	require.Equal(t, 1, rows, "the last run's status is shown")
	screenshot(t, ctx, "flows-list")

	// The version history compares the published version with the first.
	var diffLines int
	editorDo(t, ctx, "see the version history",
		chromedp.Click(`[data-testid="flow-link"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="history"]`, chromedp.ByQuery),
		chromedp.Click(`[data-testid="history"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="versions-table"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('.diff__line--add').length`, &diffLines),
	)
	require.Greater(t, diffLines, 10)
	screenshot(t, ctx, "editor-versions")

	// Connections: the four made from the editor, each testable in place.
	var result string
	editorDo(t, ctx, "test a connection",
		chromedp.Navigate(b.url+"/connections"),
		chromedp.WaitVisible(`[data-testid="connections-table"]`, chromedp.ByQuery),
		chromedp.Click(`[data-connector="slack"] [data-testid="test-connection"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-connector="slack"] [data-testid="test-connection-result"][data-status="ok"]`, chromedp.ByQuery),
		chromedp.Text(`[data-connector="slack"] [data-testid="test-connection-result"]`, &result, chromedp.ByQuery),
	)
	require.Equal(t, "Connected", strings.TrimSpace(result))
	screenshot(t, ctx, "connections")
}

// run runs chromedp actions, failing the test with what was being done.
func editorDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	start := time.Now()
	// One action never waits for the rest of the test's time.
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Run(actx, actions...), what)
	t.Logf("%s: %s", what, time.Since(start).Round(time.Millisecond))
}

// addStep clicks a "+" and picks an action from the catalog after searching
// for it; the new step's form opens.
func editorAddStep(t *testing.T, ctx context.Context, plus, query, action, newID string) {
	t.Helper()
	sel := `[data-testid="catalog-action"][data-action="` + action + `"]`
	editorDo(t, ctx, "open the catalog for "+action,
		chromedp.Click(plus, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="catalog-search"]`, chromedp.ByQuery),
	)
	if action == "segment.track" {
		screenshot(t, ctx, "editor-catalog")
	}
	editorDo(t, ctx, "add "+action,
		chromedp.SendKeys(`[data-testid="catalog-search"]`, query, chromedp.ByQuery),
		// The search narrows the list to the matching connector.
		chromedp.WaitNotPresent(`[data-testid="catalog-action"][data-action="http.request"]`, chromedp.ByQuery),
		chromedp.Click(sel, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="step-form"][data-step="`+newID+`"]`, chromedp.ByQuery),
	)
}

func editorRenameStep(t *testing.T, ctx context.Context, from, to string) {
	t.Helper()
	editorDo(t, ctx, "rename "+from,
		chromedp.SetValue(`#f-id`, to, chromedp.ByQuery),
		chromedp.Click(`[data-testid="save-step"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="step-form"][data-step="`+to+`"]`, chromedp.ByQuery),
	)
}

func editorSaveStep(t *testing.T, ctx context.Context) {
	t.Helper()
	editorDo(t, ctx, "save the step",
		chromedp.Click(`[data-testid="save-step"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="saved"]`, chromedp.ByQuery),
	)
}

// addConnection follows the step's "Add a connection" link, fills the
// connector's form and comes back to the step with the connection chosen.
func editorAddConnection(t *testing.T, ctx context.Context, stepID, name string, fields map[string]string) {
	t.Helper()
	actions := []chromedp.Action{
		chromedp.Click(`[data-testid="add-connection"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="connection-form"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#field-name`, name, chromedp.ByQuery),
	}
	for k, v := range fields {
		actions = append(actions, chromedp.SendKeys(`[name="`+k+`"]`, v, chromedp.ByQuery))
	}
	if stepID == "onboard" {
		actions = append(actions, chromedp.ActionFunc(func(ctx context.Context) error {
			screenshot(t, ctx, "connection-form")
			return nil
		}))
	}
	actions = append(actions,
		chromedp.Click(`[data-testid="save-connection"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-testid="step-form"][data-step="`+stepID+`"]`, chromedp.ByQuery),
	)
	editorDo(t, ctx, "add the connection "+name, actions...)
	var chosen string
	editorDo(t, ctx, "read the chosen connection", chromedp.Value(`#f-connection`, &chosen, chromedp.ByQuery))
	require.NotEmpty(t, chosen, "the new connection is chosen for %s", stepID)
}

func editorCopyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, data, 0o644))
}

func editorJSONField(t *testing.T, raw []byte, key string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	s, _ := m[key].(string)
	require.NotEmpty(t, s, "%s in %s", key, raw)
	return s
}
