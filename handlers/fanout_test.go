package handlers_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/store"
)

// scenario1 is SCENARIOS.md's "Signup fan-out with message filtering", with
// the connection placeholders left to fill in.
const scenario1 = `{"trigger": {"type": "webhook", "idempotency_key": "trigger.event_id"},
 "steps": [
  {"id": "track", "action": "segment.track", "connection": "<segment>", "needs": [],
   "input": {"user_id": "{{ trigger.user.id }}", "event": "{{ trigger.type == 'signup' ? 'Signed Up' : 'Logged In' }}",
             "properties": {"plan": "{{ trigger.user.plan }}"}}},
  {"id": "subscribe", "action": "mailchimp.upsert_member", "connection": "<mailchimp>", "needs": [],
   "if": "trigger.type == 'signup'",
   "input": {"list_id": "a1b2c3", "email": "{{ trigger.user.email }}", "merge_fields": {"FNAME": "{{ trigger.user.first_name }}"}}},
  {"id": "announce", "action": "slack.post_message", "connection": "<slack>", "needs": [],
   "if": "trigger.type == 'signup'",
   "input": {"channel": "#signups", "text": "New {{ trigger.user.plan }} signup: {{ trigger.user.email }}"}},
  {"id": "onboard", "action": "jira.create_issue", "connection": "<jira>", "needs": ["announce"],
   "if": "trigger.user.plan == 'enterprise'",
   "input": {"project_key": "CS", "summary": "Onboard {{ trigger.user.company }}", "description": "Signed up by {{ trigger.user.email }}"}}]}`

// fanoutFakes are the four services of scenario 1 and their credentials.
type fanoutFakes struct {
	segment   *fake.Segment
	mailchimp *fake.Mailchimp
	slack     *fake.Slack
	jira      *fake.Jira
}

const (
	fanWriteKey   = "seg-write-key"
	fanMailchimp  = "0123456789abcdef0123456789abcdef-us21"
	fanSlackToken = "xoxb-fanout"
	fanJiraEmail  = "bot@example.com"
	fanJiraToken  = "jira-api-token"
)

func startFanoutFakes(t *testing.T) fanoutFakes {
	t.Helper()
	f := fanoutFakes{
		segment:   fake.NewSegment(fanWriteKey),
		mailchimp: fake.NewMailchimp(fanMailchimp),
		slack:     fake.NewSlack(fanSlackToken),
		jira:      fake.NewJira(fanJiraEmail, fanJiraToken),
	}
	t.Cleanup(f.segment.Close)
	t.Cleanup(f.mailchimp.Close)
	t.Cleanup(f.slack.Close)
	t.Cleanup(f.jira.Close)
	f.mailchimp.AddList("a1b2c3")
	f.jira.AddProject("CS")
	return f
}

// createConnection goes through POST /api/v1/connections.
func (b *engineBundle) createConnection(t *testing.T, connector string, config map[string]any, secrets map[string]string) string {
	t.Helper()
	status, out := b.api(t, http.MethodPost, "/api/v1/connections", b.token,
		map[string]any{"connector": connector, "name": connector, "config": config, "secrets": secrets})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.NotContains(t, out, "secrets")
	return out["id"].(string)
}

// createScenario1 creates scenario 1 through POST /api/v1/flows with the
// given connection ids and returns the flow's webhook token.
func (b *engineBundle) createScenario1(t *testing.T, name string, conns map[string]string) store.Flow {
	t.Helper()
	def := scenario1
	for placeholder, id := range conns {
		def = strings.ReplaceAll(def, placeholder, id)
	}
	status, out := b.api(t, http.MethodPost, "/api/v1/flows", b.token,
		map[string]any{"name": name, "definition": json.RawMessage(def), "enabled": true})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	u := out["webhook_url"].(string)
	return store.Flow{WebhookToken: u[strings.LastIndex(u, "/")+1:]}
}

// waitSettled waits until the run is finished and none of its steps is still
// queued or running, and returns it.
func (b *engineBundle) waitSettled(t *testing.T, runID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		run := b.waitRun(t, runID, "succeeded", "failed")
		settled := true
		for _, s := range run["steps"].([]any) {
			switch s.(map[string]any)["status"] {
			case "queued", "running":
				settled = false
			}
		}
		if settled {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s never settled: %v", runID, run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bodyOf(t *testing.T, r fake.CapturedRequest) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "%s", r.Body)
	return m
}

func subscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:])
}

// TestSignupFanOut runs scenario 1 end to end against the service fakes: a
// signup reaches Segment (after a 5xx, with one messageId), Mailchimp, Slack
// and Jira exactly once each; a login reaches only Segment; a Mailchimp that
// refuses the API key fails only its own step.
func TestSignupFanOut(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	fk := startFanoutFakes(t)
	conns := map[string]string{
		"<segment>":   b.createConnection(t, "segment", map[string]any{"base_url": fk.segment.BaseURL()}, map[string]string{"write_key": fanWriteKey}),
		"<mailchimp>": b.createConnection(t, "mailchimp", map[string]any{"base_url": fk.mailchimp.BaseURL()}, map[string]string{"api_key": fanMailchimp}),
		"<slack>":     b.createConnection(t, "slack", map[string]any{"base_url": fk.slack.BaseURL()}, map[string]string{"token": fanSlackToken}),
		"<jira>": b.createConnection(t, "jira", map[string]any{"base_url": fk.jira.BaseURL()},
			map[string]string{"email": fanJiraEmail, "api_token": fanJiraToken}),
	}
	flow := b.createScenario1(t, "Signup fan-out", conns)

	// The first Segment call fails with a 5xx; the step retries.
	fk.segment.FailNext(1, http.StatusServiceUnavailable)
	signup := `{"event_id": "evt-signup-1", "type": "signup",
	  "user": {"id": "u_42", "email": "Ada@Example.com", "first_name": "Ada", "plan": "enterprise", "company": "Acme Corp"}}`
	status, acc := b.post(t, flow, "application/json", signup)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run := b.waitSettled(t, acc["run_id"].(string))
	require.Equal(t, "succeeded", run["status"], "%v", run)
	for _, id := range []string{"track", "subscribe", "announce", "onboard"} {
		require.Equal(t, "succeeded", step(run, id)["status"], "%s: %v", id, step(run, id))
	}
	require.EqualValues(t, 2, step(run, "track")["attempts"], "a 503 then a 200")

	// Segment: two attempts of one track call with the same messageId; one event kept.
	segReqs := fk.segment.Requests()
	require.Len(t, segReqs, 2)
	var messageIDs []string
	for _, r := range segReqs {
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/v1/track", r.Path)
		user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
		require.True(t, ok)
		require.Equal(t, fanWriteKey, user)
		require.Empty(t, pass)
		body := bodyOf(t, r)
		require.Equal(t, "u_42", body["userId"])
		require.Equal(t, "Signed Up", body["event"])
		require.Equal(t, map[string]any{"plan": "enterprise"}, body["properties"])
		messageIDs = append(messageIDs, body["messageId"].(string))
	}
	require.NotEmpty(t, messageIDs[0])
	require.Equal(t, messageIDs[0], messageIDs[1], "the retry reuses the messageId")
	events := fk.segment.Events()
	require.Len(t, events, 1)
	require.Equal(t, "Signed Up", events[0].Event)

	// Mailchimp: one PUT of the member, keyed by the lowercase email's MD5.
	mcReqs := fk.mailchimp.Requests()
	require.Len(t, mcReqs, 1)
	require.Equal(t, http.MethodPut, mcReqs[0].Method)
	require.Equal(t, "/3.0/lists/a1b2c3/members/"+subscriberHash("ada@example.com"), mcReqs[0].Path)
	_, key, ok := (&http.Request{Header: mcReqs[0].Header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, fanMailchimp, key)
	mcBody := bodyOf(t, mcReqs[0])
	require.Equal(t, map[string]any{"FNAME": "Ada"}, mcBody["merge_fields"])
	require.Equal(t, "subscribed", mcBody["status_if_new"])
	require.True(t, strings.EqualFold("ada@example.com", mcBody["email_address"].(string)))
	member, ok := fk.mailchimp.Member("a1b2c3", "ada@example.com")
	require.True(t, ok)
	require.Equal(t, "Ada", member.MergeFields["FNAME"])

	// Slack: one chat.postMessage with the bot token.
	slReqs := fk.slack.Requests()
	require.Len(t, slReqs, 1)
	require.Equal(t, "/api/chat.postMessage", slReqs[0].Path)
	require.Equal(t, "Bearer "+fanSlackToken, slReqs[0].Header.Get("Authorization"))
	slBody := bodyOf(t, slReqs[0])
	require.Equal(t, "#signups", slBody["channel"])
	require.Equal(t, "New enterprise signup: Ada@Example.com", slBody["text"])
	msgs := fk.slack.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "C0000000002", msgs[0].Channel)

	// Jira: one issue, after the Slack post.
	jrReqs := fk.jira.Requests()
	require.Len(t, jrReqs, 1)
	require.Equal(t, http.MethodPost, jrReqs[0].Method)
	require.Equal(t, "/rest/api/3/issue", jrReqs[0].Path)
	email, token, ok := (&http.Request{Header: jrReqs[0].Header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, fanJiraEmail, email)
	require.Equal(t, fanJiraToken, token)
	fields := bodyOf(t, jrReqs[0])["fields"].(map[string]any)
	require.Equal(t, "Onboard Acme Corp", fields["summary"])
	require.Equal(t, map[string]any{"key": "CS"}, fields["project"])
	issues := fk.jira.Issues()
	require.Len(t, issues, 1)
	require.Equal(t, "Onboard Acme Corp", issues[0].Summary)
	desc, err := json.Marshal(issues[0].Description)
	require.NoError(t, err)
	require.Contains(t, string(desc), "Signed up by Ada@Example.com")
	require.Equal(t, "CS-1", step(run, "onboard")["output"].(map[string]any)["key"])

	// The same signup delivered again is the same run; nothing is called again.
	status, again := b.post(t, flow, "application/json", signup)
	require.Equal(t, http.StatusOK, status, "%v", again)
	require.Equal(t, acc["run_id"], again["run_id"])

	// A login counts in analytics only.
	login := `{"event_id": "evt-login-1", "type": "login",
	  "user": {"id": "u_42", "email": "ada@example.com", "first_name": "Ada", "plan": "enterprise", "company": "Acme Corp"}}`
	status, acc = b.post(t, flow, "application/json", login)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run = b.waitSettled(t, acc["run_id"].(string))
	require.Equal(t, "succeeded", run["status"], "%v", run)
	require.Equal(t, "succeeded", step(run, "track")["status"])
	for _, id := range []string{"subscribe", "announce", "onboard"} {
		require.Equal(t, "skipped", step(run, id)["status"], id)
	}
	segReqs = fk.segment.Requests()
	require.Len(t, segReqs, 3)
	loginBody := bodyOf(t, segReqs[2])
	require.Equal(t, "Logged In", loginBody["event"])
	require.Equal(t, "u_42", loginBody["userId"])
	require.NotEqual(t, messageIDs[0], loginBody["messageId"])
	require.Len(t, fk.mailchimp.Requests(), 1)
	require.Len(t, fk.slack.Requests(), 1)
	require.Len(t, fk.jira.Requests(), 1)

	// Mailchimp refusing the API key fails only its own step: Segment, Slack
	// and Jira (which needs only the Slack post) still go through.
	badMailchimp := b.createConnection(t, "mailchimp", map[string]any{"base_url": fk.mailchimp.BaseURL()},
		map[string]string{"api_key": "ffffffffffffffffffffffffffffffff-us21"})
	withBadKey := map[string]string{}
	for k, v := range conns {
		withBadKey[k] = v
	}
	withBadKey["<mailchimp>"] = badMailchimp
	flow2 := b.createScenario1(t, "Signup fan-out, bad Mailchimp key", withBadKey)
	status, acc = b.post(t, flow2, "application/json", `{"event_id": "evt-signup-2", "type": "signup",
	  "user": {"id": "u_43", "email": "grace@example.com", "first_name": "Grace", "plan": "enterprise", "company": "Navy"}}`)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run = b.waitSettled(t, acc["run_id"].(string))
	require.Equal(t, "failed", run["status"], "%v", run)
	sub := step(run, "subscribe")
	require.Equal(t, "failed", sub["status"], "%v", sub)
	require.EqualValues(t, 1, sub["attempts"], "an auth error is not retried")
	require.Contains(t, sub["error"], "API Key Invalid")
	require.NotContains(t, sub["error"], "ffffffff", "the key never shows in errors")
	for _, id := range []string{"track", "announce", "onboard"} {
		require.Equal(t, "succeeded", step(run, id)["status"], "%s: %v", id, step(run, id))
	}
	require.Len(t, fk.mailchimp.Requests(), 2)
	require.Len(t, fk.segment.Events(), 3)
	require.Len(t, fk.slack.Messages(), 2)
	require.Equal(t, "New enterprise signup: grace@example.com", fk.slack.Messages()[1].Text)
	require.Len(t, fk.jira.Issues(), 2)
	require.Equal(t, "Onboard Navy", fk.jira.Issues()[1].Summary)
	_, subscribed := fk.mailchimp.Member("a1b2c3", "grace@example.com")
	require.False(t, subscribed)
}
