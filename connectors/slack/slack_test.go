package slack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/connectors/slack"
)

const token = "xoxb-test-token"

type bundle struct {
	fake   *fake.Slack
	conn   *connectors.Connection
	client *http.Client
}

func setup(t *testing.T) bundle {
	t.Helper()
	f := fake.NewSlack(token)
	t.Cleanup(f.Close)
	return bundle{
		fake:   f,
		conn:   &connectors.Connection{ID: "c1", Config: map[string]any{"base_url": f.BaseURL()}, Secrets: map[string]string{"token": token}},
		client: fake.LoopbackClient(),
	}
}

func (b bundle) post(t *testing.T, input map[string]any) (map[string]any, error) {
	t.Helper()
	return slack.PostMessage{}.Execute(context.Background(), connectors.Request{
		Input: input, Connection: b.conn, HTTP: b.client, IdempotencyKey: "run1:notify",
	})
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)

	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*hi*"}}}
	out, err := b.post(t, map[string]any{"channel": "#general", "text": "New signup", "blocks": blocks, "thread_ts": "1.000001"})
	require.NoError(t, err)
	require.Equal(t, "C0000000001", out["channel"])
	require.NotEmpty(t, out["ts"])

	reqs := b.fake.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/api/chat.postMessage", r.Path)
	require.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
	require.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, map[string]any{"channel": "#general", "text": "New signup", "blocks": blocks, "thread_ts": "1.000001"}, body)

	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, fake.SlackMessage{Channel: "C0000000001", Text: "New signup", Blocks: blocks, ThreadTS: "1.000001", TS: out["ts"].(string)}, msgs[0])
}

func TestPostMessageBlocksAsJSONText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.post(t, map[string]any{"channel": "C0000000002", "blocks": `[{"type":"divider"}]`})
	require.NoError(t, err)
	require.Equal(t, []any{map[string]any{"type": "divider"}}, b.fake.Messages()[0].Blocks)
}

func TestPostMessageInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, tc := range map[string]struct {
		input map[string]any
		want  string
	}{
		"no channel":       {map[string]any{"text": "x"}, "input.channel is required"},
		"no text":          {map[string]any{"channel": "#general"}, "input.text is required (or give blocks)"},
		"blocks no list":   {map[string]any{"channel": "#general", "blocks": map[string]any{"type": "x"}}, "input.blocks must be a list of Block Kit blocks"},
		"channel is a map": {map[string]any{"channel": map[string]any{}, "text": "x"}, "input.channel must be text"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := b.post(t, tc.input)
			var perm *connectors.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Equal(t, tc.want, perm.Message)
		})
	}
	require.Empty(t, b.fake.Requests())
}

func TestPostMessageSlackErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.AddChannel(fake.SlackChannel{ID: "C0000000003", Name: "old", Archived: true})
	b.fake.AddChannel(fake.SlackChannel{ID: "C0000000004", Name: "private", NotMember: true})
	for channel, code := range map[string]string{
		"#nope":    "channel_not_found",
		"#old":     "is_archived",
		"#private": "not_in_channel",
	} {
		_, err := b.post(t, map[string]any{"channel": channel, "text": "x"})
		var perm *connectors.PermanentError
		require.ErrorAs(t, err, &perm, channel)
		require.Contains(t, perm.Message, code)
		require.Contains(t, perm.Message, "slack: chat.postMessage failed: "+code+" (")
	}
}

func TestPostMessageAuthFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets["token"] = "xoxb-wrong"
	_, err := b.post(t, map[string]any{"channel": "#general", "text": "x"})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "invalid_auth")
	require.NotContains(t, perm.Message, "xoxb-wrong")

	b.conn.Secrets["token"] = ""
	_, err = b.post(t, map[string]any{"channel": "#general", "text": "x"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "slack: the connection has no secrets.token", perm.Message)
}

func TestPostMessageRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RateLimitNext(1, 30*time.Second)
	_, err := b.post(t, map[string]any{"channel": "#general", "text": "x"})
	rl, ok := connectors.AsRateLimited(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 30*time.Second, rl.RetryAfter)
	require.Contains(t, rl.Message, "ratelimited")

	_, err = b.post(t, map[string]any{"channel": "#general", "text": "x"})
	require.NoError(t, err)
}

func TestPostMessageServerError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext(1, http.StatusServiceUnavailable)
	_, err := b.post(t, map[string]any{"channel": "#general", "text": "x"})
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	_, limited := connectors.AsRateLimited(err)
	require.False(t, limited)
	require.Contains(t, err.Error(), "503")
	require.Empty(t, b.fake.Messages())
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, slack.New().TestConnection(context.Background(), b.conn, b.client))
	r := b.fake.Requests()[0]
	require.Equal(t, "/api/auth.test", r.Path)
	require.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))

	b.conn.Secrets["token"] = "xoxb-wrong"
	err := slack.New().TestConnection(context.Background(), b.conn, b.client)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "invalid_auth")
}

func TestEgressRefusedWithoutAllow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.client = connectors.NewHTTPClient(connectors.EgressOptions{})
	_, err := b.post(t, map[string]any{"channel": "#general", "text": "x"})
	require.True(t, connectors.IsPermanent(err))
	require.True(t, connectors.IsEgressRefused(err))
	require.Empty(t, b.fake.Requests())
}
