package handlers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/jira"
	"github.com/switchboard/switchboard/connectors/slack"
	"github.com/switchboard/switchboard/connectors/webhook"
	"github.com/switchboard/switchboard/store"
)

// connection stores a connection straight into the workspace, sealed with
// the key setupEngine's app uses (all zeros). Trigger secrets are stored this
// way because the connections API validates against the connectors' auth
// fields, which do not list them yet.
func (b *engineBundle) connection(t *testing.T, connector string, config map[string]any, secrets map[string]string) string {
	t.Helper()
	sealer, err := store.NewSealer(make([]byte, 32))
	require.NoError(t, err)
	c, err := store.CreateConnection(context.Background(), b.pool, sealer, b.member.WorkspaceID, connector, connector+" connection", config, secrets)
	require.NoError(t, err)
	return c.ID.String()
}

// triggerFlow stores a flow whose definition has CONN replaced by conn.
func (b *engineBundle) triggerFlow(t *testing.T, conn, def string) store.Flow {
	t.Helper()
	return b.flow(t, strings.ReplaceAll(def, "CONN", conn))
}

func (b *engineBundle) eventCount(t *testing.T, f store.Flow) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE flow_id = $1`, f.ID).Scan(&n))
	return n
}

// get sends GET /hooks/<token> and returns the status and the decoded body.
func (b *engineBundle) getHook(t *testing.T, token string) (int, map[string]any) {
	t.Helper()
	status, out := b.api(t, http.MethodGet, "/hooks/"+token, "", nil)
	return status, out
}

func errorCode(out map[string]any) any {
	e, _ := out["error"].(map[string]any)
	return e["code"]
}

// swHeaders signs body as a Standard Webhooks sender would.
func swHeaders(t *testing.T, secret, id string, ts time.Time, body string) []string {
	t.Helper()
	sig, err := webhook.SignStandard(secret, id, ts, []byte(body))
	require.NoError(t, err)
	return []string{"webhook-id", id, "webhook-timestamp", strconv.FormatInt(ts.Unix(), 10), "webhook-signature", sig}
}

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestWebhookTriggerStandardWebhooks(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	conn := b.connection(t, "webhook", nil, map[string]string{"secret": swSecret})
	f := b.triggerFlow(t, conn, `{"trigger": {"type": "webhook", "config": {"signature": "standard_webhooks", "connection": "CONN"}},
	 "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s", "body": {"order": "{{ trigger.order }}"}}}]}`)
	body := `{"order": 17}`
	now := time.Now()

	status, acc := b.post(t, f, "application/json", body, swHeaders(t, swSecret, "msg_1", now, body)...)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"], "%v", run)
	require.Equal(t, float64(17), b.target.calls("/s")[0].Body["order"])

	// The sender's retry (same webhook-id, signed afresh) is the same event.
	status, again := b.post(t, f, "application/json", body, swHeaders(t, swSecret, "msg_1", now.Add(time.Second), body)...)
	require.Equal(t, http.StatusOK, status, "%v", again)
	require.Equal(t, acc["run_id"], again["run_id"])
	require.Equal(t, true, again["duplicate"])

	other := "whsec_" + "YW5vdGhlci1zZWNyZXQtb2YtMjQtYnl0ZXM="
	tampered := swHeaders(t, swSecret, "msg_2", now, `{"order": 1}`)
	for name, header := range map[string][]string{
		"missing":      nil,
		"only the id":  {"webhook-id", "msg_2"},
		"wrong secret": swHeaders(t, other, "msg_2", now, body),
		"other body":   tampered,
		"too old":      swHeaders(t, swSecret, "msg_2", now.Add(-6*time.Minute), body),
		"too new":      swHeaders(t, swSecret, "msg_2", now.Add(6*time.Minute), body),
		"garbled":      {"webhook-id", "msg_2", "webhook-timestamp", strconv.FormatInt(now.Unix(), 10), "webhook-signature", "v1,not base64!"},
	} {
		status, out := b.post(t, f, "application/json", body, header...)
		require.Equal(t, http.StatusUnauthorized, status, "%s: %v", name, out)
		require.Equal(t, "invalid_signature", errorCode(out), name)
	}
	require.Equal(t, 1, b.eventCount(t, f), "refused requests store nothing")
	require.Len(t, b.target.calls("/s"), 1)
}

func TestWebhookTriggerHMACHeader(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	const secret = "It's a Secret to Everybody"
	conn := b.connection(t, "webhook", nil, map[string]string{"secret": secret})
	f := b.triggerFlow(t, conn, `{"trigger": {"type": "webhook",
	   "config": {"signature": "hmac_sha256_header", "signature_header": "X-Signature", "connection": "CONN"}},
	 "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s", "body": {"n": "{{ trigger.n }}"}}}]}`)
	body := `{"n": 1}`
	status, acc := b.post(t, f, "application/json", body, "X-Signature", "sha256="+hmacHex(secret, body))
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	b.waitRun(t, acc["run_id"].(string), "succeeded")

	for name, header := range map[string][]string{
		"missing":           nil,
		"in another header": {"X-Hub-Signature-256", "sha256=" + hmacHex(secret, body)},
		"wrong secret":      {"X-Signature", "sha256=" + hmacHex("guess", body)},
		"other body":        {"X-Signature", "sha256=" + hmacHex(secret, `{"n": 2}`)},
		"not hex":           {"X-Signature", "sha256=zz"},
	} {
		status, out := b.post(t, f, "application/json", body, header...)
		require.Equal(t, http.StatusUnauthorized, status, "%s: %v", name, out)
		require.Equal(t, "invalid_signature", errorCode(out), name)
	}
	require.Equal(t, 1, b.eventCount(t, f))

	// The catalog's key for the same trigger, and GitHub's documented test
	// vector in the default header, X-Hub-Signature-256.
	f2 := b.triggerFlow(t, conn, `{"trigger": {"type": "webhook.incoming", "config": {"signature": "hmac_sha256_header", "connection": "CONN"}},
	 "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/gh", "body": {"text": "{{ trigger }}"}}}]}`)
	status, acc = b.post(t, f2, "text/plain", "Hello, World!",
		"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	b.waitRun(t, acc["run_id"].(string), "succeeded")
	require.Equal(t, "Hello, World!", b.target.calls("/gh")[0].Body["text"])
	status, _ = b.post(t, f2, "text/plain", "Hello, World?",
		"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, 1, b.eventCount(t, f2))
}

func TestWebhookTriggerMisconfiguredFailsClosed(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := context.Background()
	whConn := b.connection(t, "webhook", nil, map[string]string{"secret": swSecret})
	noSecret := b.connection(t, "webhook", nil, nil)
	slackConn := b.connection(t, "slack", nil, map[string]string{"token": "xoxb-1", "signing_secret": "s3cret"})
	badSecret := b.connection(t, "webhook", nil, map[string]string{"secret": "whsec_!!"})
	otherWS, _ := b.owner(t, "eve@example.com", "Elsewhere")
	sealer, err := store.NewSealer(make([]byte, 32))
	require.NoError(t, err)
	foreign, err := store.CreateConnection(ctx, b.pool, sealer, otherWS.WorkspaceID, "webhook", "theirs", nil, map[string]string{"secret": swSecret})
	require.NoError(t, err)

	for name, trigger := range map[string]string{
		"unknown connection":            `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": "` + uuid.NewString() + `"}}`,
		"another workspace's":           `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": "` + foreign.ID.String() + `"}}`,
		"connection of another service": `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": "` + slackConn + `"}}`,
		"connection without the secret": `{"type": "webhook", "config": {"signature": "hmac_sha256_header", "connection": "` + noSecret + `"}}`,
		"secret that is not whsec_":     `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": "` + badSecret + `"}}`,
		"unknown scheme":                `{"type": "webhook", "config": {"signature": "md5", "connection": "` + whConn + `"}}`,
		"no connection":                 `{"type": "webhook", "config": {"signature": "standard_webhooks"}}`,
		"blank connection":              `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": ""}}`,
		"connection not an id":          `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": "my-secret"}}`,
		"connection not text":           `{"type": "webhook", "config": {"signature": "standard_webhooks", "connection": 7}}`,
		"a misspelt key":                `{"type": "webhook", "config": {"signature": "standard_webhooks", "conection": "` + whConn + `"}}`,
		"an inline secret":              `{"type": "webhook", "config": {"signature": "hmac_sha256_header", "secret": "s3cret"}}`,
		"connection without a scheme":   `{"type": "webhook", "config": {"connection": "` + whConn + `"}}`,
		"slack without a connection":    `{"type": "slack.events"}`,
		"jira with a slack connection":  `{"type": "jira.issue_webhook", "config": {"connection": "` + slackConn + `"}}`,
		"mailchimp with settings":       `{"type": "mailchimp.list_webhook", "config": {"connection": "` + whConn + `"}}`,
	} {
		f := b.flow(t, `{"trigger": `+trigger+`, "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
		body := `{"x": 1}`
		status, out := b.post(t, f, "application/json", body, swHeaders(t, swSecret, "msg_1", time.Now(), body)...)
		require.Equal(t, http.StatusInternalServerError, status, "%s: %v", name, out)
		require.Equal(t, "trigger_misconfigured", errorCode(out), "%s: %v", name, out)
		require.NotContains(t, out["error"].(map[string]any)["message"], "s3cret", name)
		require.Equal(t, 0, b.eventCount(t, f), name)
	}
	require.Empty(t, b.target.calls("/s"))
}

func TestSlackEventsTrigger(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	conn := b.connection(t, "slack", nil, map[string]string{"token": "xoxb-test", "signing_secret": secret})
	f := b.triggerFlow(t, conn, `{"trigger": {"type": "slack.events", "config": {"connection": "CONN"}, "if": "trigger.event.type == 'app_mention'"},
	 "steps": [{"id": "s", "action": "http.request",
	   "input": {"method": "POST", "url": "TARGET/slack", "body": {"text": "{{ trigger.event.text }}", "user": "{{ trigger.event.user }}"}}}]}`)
	signed := func(body string, ts time.Time, extra ...string) []string {
		return append([]string{"X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10), "X-Slack-Signature", slack.Sign(secret, ts, []byte(body))}, extra...)
	}
	now := time.Now()

	// The Request URL handshake: verified, answered with the challenge, not stored.
	challenge := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	status, out := b.post(t, f, "application/json", challenge, signed(challenge, now)...)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, map[string]any{"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}, out)
	status, out = b.post(t, f, "application/json", challenge)
	require.Equal(t, http.StatusUnauthorized, status, "an unsigned handshake is refused: %v", out)
	require.Equal(t, 0, b.eventCount(t, f))

	event := `{"token":"XXYYZZ","team_id":"T123ABC456","api_app_id":"A123ABC456","type":"event_callback","event_id":"Ev123ABC456",
	  "event_time":1700000000,"event":{"type":"app_mention","user":"U123ABC456","text":"<@U0LAN0Z89> is it everything a river should be?",
	  "ts":"1515449522.000016","channel":"C123ABC456","event_ts":"1515449522000016"}}`
	status, acc := b.post(t, f, "application/json", event, signed(event, now)...)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"], "%v", run)
	require.Equal(t, "Ev123ABC456", run["trigger"].(map[string]any)["event_id"], "the whole envelope is the payload")
	hits := b.target.calls("/slack")
	require.Len(t, hits, 1)
	require.Equal(t, "<@U0LAN0Z89> is it everything a river should be?", hits[0].Body["text"])
	require.Equal(t, "U123ABC456", hits[0].Body["user"])

	// Slack's retry of the same event: same event_id, new timestamp and
	// signature, X-Slack-Retry-Num. One run only.
	status, again := b.post(t, f, "application/json", event, signed(event, now.Add(time.Minute), "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout")...)
	require.Equal(t, http.StatusOK, status, "%v", again)
	require.Equal(t, acc["run_id"], again["run_id"])
	require.Equal(t, acc["event_id"], again["event_id"])

	other := strings.Replace(event, "Ev123ABC456", "Ev999", 1)
	for name, header := range map[string][]string{
		"missing":      nil,
		"no timestamp": {"X-Slack-Signature", slack.Sign(secret, now, []byte(other))},
		"wrong secret": {"X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10), "X-Slack-Signature", slack.Sign("not-the-secret", now, []byte(other))},
		"other body":   signed(event, now),
		"other time":   {"X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix()+1, 10), "X-Slack-Signature", slack.Sign(secret, now, []byte(other))},
		"expired":      signed(other, now.Add(-6*time.Minute)),
		"not v0":       {"X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10), "X-Slack-Signature", "v1=abc"},
		"not a number": {"X-Slack-Request-Timestamp", "yesterday", "X-Slack-Signature", slack.Sign(secret, now, []byte(other))},
	} {
		status, out := b.post(t, f, "application/json", other, header...)
		require.Equal(t, http.StatusUnauthorized, status, "%s: %v", name, out)
		require.Equal(t, "invalid_signature", errorCode(out), name)
	}
	require.Equal(t, 1, b.eventCount(t, f), "refused requests and the handshake store nothing")

	// A signed event the trigger's if filters out is recorded without a run.
	reaction := strings.Replace(strings.Replace(event, "Ev123ABC456", "Ev2", 1), `"type":"app_mention"`, `"type":"reaction_added"`, 1)
	status, out = b.post(t, f, "application/json", reaction, signed(reaction, now)...)
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	require.Equal(t, true, out["filtered"])
	require.Len(t, b.target.calls("/slack"), 1)
}

func TestJiraIssueWebhookTrigger(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	const secret = "jira-webhook-secret"
	conn := b.connection(t, "jira", map[string]any{"base_url": "https://example.atlassian.net"},
		map[string]string{"email": "bot@example.com", "api_token": "tok", "secret": secret})
	def := `{"trigger": {"type": "jira.issue_webhook"CONFIG,
	   "if": "trigger.webhookEvent == 'jira:issue_updated' && trigger.issue.fields.status.statusCategory.key == 'done'"},
	 "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/jira", "body": {"key": "{{ trigger.issue.key }}"}}}]}`
	f := b.triggerFlow(t, conn, strings.Replace(def, "CONFIG", `, "config": {"connection": "CONN"}`, 1))
	body := `{"timestamp":1536083559131,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic",
	  "issue":{"id":"10001","key":"PROJ-123","fields":{"summary":"Ship it","status":{"id":"10001","name":"Done","statusCategory":{"id":3,"key":"done","name":"Done"}}}},
	  "changelog":{"id":"10200","items":[{"field":"status","fieldtype":"jira","from":"10000","fromString":"To Do","to":"10001","toString":"Done"}]}}`

	status, acc := b.post(t, f, "application/json", body, "X-Hub-Signature", jira.Sign(secret, []byte(body)),
		"X-Atlassian-Webhook-Identifier", "wh-1", "X-Atlassian-Webhook-Flow", "Primary")
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	b.waitRun(t, acc["run_id"].(string), "succeeded")
	require.Equal(t, "PROJ-123", b.target.calls("/jira")[0].Body["key"])

	// Jira's retry carries the same identifier: one run.
	status, again := b.post(t, f, "application/json", body, "X-Hub-Signature", jira.Sign(secret, []byte(body)),
		"X-Atlassian-Webhook-Identifier", "wh-1", "X-Atlassian-Webhook-Retry", "1")
	require.Equal(t, http.StatusOK, status, "%v", again)
	require.Equal(t, acc["run_id"], again["run_id"])

	for name, header := range map[string][]string{
		"missing":      {"X-Atlassian-Webhook-Identifier", "wh-2"},
		"wrong secret": {"X-Hub-Signature", jira.Sign("guess", []byte(body)), "X-Atlassian-Webhook-Identifier", "wh-2"},
		"sha1":         {"X-Hub-Signature", "sha1=" + hmacHex(secret, body), "X-Atlassian-Webhook-Identifier", "wh-2"},
		"other body":   {"X-Hub-Signature", jira.Sign(secret, []byte(`{}`)), "X-Atlassian-Webhook-Identifier", "wh-2"},
	} {
		status, out := b.post(t, f, "application/json", body, header...)
		require.Equal(t, http.StatusUnauthorized, status, "%s: %v", name, out)
		require.Equal(t, "invalid_signature", errorCode(out), name)
	}
	require.Equal(t, 1, b.eventCount(t, f))
	require.Len(t, b.target.calls("/jira"), 1)

	// A webhook saved without a secret is not signed; no connection, no check.
	unsigned := b.flow(t, strings.Replace(def, "CONFIG", "", 1))
	status, acc = b.post(t, unsigned, "application/json", body, "X-Atlassian-Webhook-Identifier", "wh-9")
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	b.waitRun(t, acc["run_id"].(string), "succeeded")
}

func TestMailchimpListWebhookTrigger(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "mailchimp.list_webhook", "if": "trigger.type == 'subscribe'"},
	 "steps": [{"id": "s", "action": "http.request",
	   "input": {"method": "POST", "url": "TARGET/mc", "body": {"email": "{{ trigger.data.email }}", "first": "{{ trigger.data.merges.FNAME }}"}}}]}`)

	// Mailchimp's validator GETs the URL before saving the webhook.
	status, out := b.getHook(t, f.WebhookToken)
	require.Equal(t, http.StatusOK, status, "%v", out)
	webhookFlow := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	status, out = b.getHook(t, webhookFlow.WebhookToken)
	require.Equal(t, http.StatusMethodNotAllowed, status, "%v", out)
	status, _ = b.getHook(t, "nope")
	require.Equal(t, http.StatusNotFound, status)
	require.NoError(t, store.SetFlowEnabled(context.Background(), b.pool, b.member.WorkspaceID, webhookFlow.ID, false))
	status, _ = b.getHook(t, webhookFlow.WebhookToken)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, 0, b.eventCount(t, f), "the validation ping stores nothing")

	form := "type=subscribe&fired_at=2025-01-24+15%3A30%3A00&data[id]=8a25ff1d98&data[email]=user%40example.com" +
		"&data[email_type]=html&data[web_id]=123&data[list_id]=a6b5da1054&data[merges][EMAIL]=user%40example.com" +
		"&data[merges][FNAME]=John&data[merges][INTERESTS]=Group1%2CGroup2"
	status, acc := b.post(t, f, "application/x-www-form-urlencoded", form)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"], "%v", run)
	require.Equal(t, map[string]any{
		"type": "subscribe", "fired_at": "2025-01-24 15:30:00",
		"data": map[string]any{
			"id": "8a25ff1d98", "email": "user@example.com", "email_type": "html", "web_id": "123", "list_id": "a6b5da1054",
			"merges": map[string]any{"EMAIL": "user@example.com", "FNAME": "John", "INTERESTS": "Group1,Group2"},
		},
	}, run["trigger"])
	hits := b.target.calls("/mc")
	require.Len(t, hits, 1)
	require.Equal(t, map[string]any{"email": "user@example.com", "first": "John"}, hits[0].Body)

	// Other event types are recorded and filtered by the trigger's if.
	status, out = b.post(t, f, "application/x-www-form-urlencoded", "type=unsubscribe&data[email]=user%40example.com&data[action]=unsub")
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, true, out["filtered"])
}

func TestNonWebhookTriggersRefusePosts(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	for _, trigger := range []string{
		`{"type": "manual"}`,
		`{"type": "schedule", "config": {"cron": "*/5 * * * *"}}`,
		`{"type": "event", "config": {"event": "user.created"}}`,
		`{"type": "github.push"}`,
	} {
		f := b.flow(t, `{"trigger": `+trigger+`, "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
		status, out := b.post(t, f, "application/json", `{}`)
		require.Equal(t, http.StatusNotFound, status, "%s: %v", trigger, out)
		require.Equal(t, "not_found", errorCode(out))
		require.Contains(t, out["error"].(map[string]any)["message"], "not triggered by webhooks")
		require.Equal(t, 0, b.eventCount(t, f))
	}
}

// TestWebhookTriggerBlankSettings: the fields a form sends empty, with the
// header field's default, mean "no signature check".
func TestWebhookTriggerBlankSettings(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook",
	   "config": {"signature": "none", "signature_header": "X-Hub-Signature-256", "secret": "", "connection": "", "extra": null}},
	 "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	status, acc := b.post(t, f, "application/json", `{}`)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	b.waitRun(t, acc["run_id"].(string), "succeeded")
}
