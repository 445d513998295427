package segment_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/connectors/segment"
)

const writeKey = "wk_test_123"

type bundle struct {
	fake   *fake.Segment
	conn   *connectors.Connection
	client *http.Client
	track  connectors.Action
	ident  connectors.Action
}

func setup(t *testing.T) *bundle {
	t.Helper()
	f := fake.NewSegment(writeKey)
	t.Cleanup(f.Close)
	actions := map[string]connectors.Action{}
	for _, a := range segment.New().Actions() {
		actions[a.Spec().Key] = a
	}
	return &bundle{
		fake: f,
		conn: &connectors.Connection{
			ID:      "conn_1",
			Config:  map[string]any{"base_url": f.BaseURL()},
			Secrets: map[string]string{"write_key": writeKey},
		},
		client: &http.Client{Timeout: 5 * time.Second},
		track:  actions["segment.track"],
		ident:  actions["segment.identify"],
	}
}

func (b *bundle) run(a connectors.Action, key string, input map[string]any) (map[string]any, error) {
	return a.Execute(context.Background(), connectors.Request{
		Input: input, Connection: b.conn, IdempotencyKey: key, HTTP: b.client,
	})
}

func trackInput() map[string]any {
	return map[string]any{"user_id": "u_42", "event": "Signed Up", "properties": map[string]any{"plan": "pro"}}
}

func TestTrackSendsTheDocumentedRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out, err := b.run(b.track, "run_1:track", trackInput())
	require.NoError(t, err)
	require.Equal(t, map[string]any{"message_id": "run_1:track"}, out)

	reqs := b.fake.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/v1/track", r.Path)
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(writeKey+":")), r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, "u_42", body["userId"])
	require.NotContains(t, body, "anonymousId")
	require.Equal(t, "Signed Up", body["event"])
	require.Equal(t, map[string]any{"plan": "pro"}, body["properties"])
	require.Equal(t, "run_1:track", body["messageId"])
	require.NotContains(t, body, "writeKey", "the write key travels in the header only")
	ts, err := time.Parse(time.RFC3339Nano, body["timestamp"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), ts, time.Minute)
	lib := body["context"].(map[string]any)["library"].(map[string]any)
	require.Equal(t, "switchboard", lib["name"])

	events := b.fake.Events()
	require.Len(t, events, 1)
	require.Equal(t, "track", events[0].Type)
	require.Equal(t, "Signed Up", events[0].Event)
}

func TestTrackRetryReusesTheMessageID(t *testing.T) {
	t.Parallel()
	b := setup(t)

	_, err := b.run(b.track, "run_1:track", trackInput())
	require.NoError(t, err)
	_, err = b.run(b.track, "run_1:track", trackInput())
	require.NoError(t, err)

	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	ids := make([]string, 2)
	for i, r := range reqs {
		var body struct {
			MessageID string `json:"messageId"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		ids[i] = body.MessageID
	}
	require.Equal(t, ids[0], ids[1])
	require.Len(t, b.fake.Events(), 1, "Segment deduplicates on messageId")
}

func TestIdentifySendsTraits(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out, err := b.run(b.ident, "run_2:identify", map[string]any{
		"anonymous_id": "anon-7",
		"traits":       `{"email":"ada@example.com"}`,
	})
	require.NoError(t, err)
	require.Equal(t, "run_2:identify", out["message_id"])

	r := b.fake.Requests()[0]
	require.Equal(t, "/v1/identify", r.Path)
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, "anon-7", body["anonymousId"])
	require.Equal(t, map[string]any{"email": "ada@example.com"}, body["traits"])
	require.Equal(t, "run_2:identify", body["messageId"])

	events := b.fake.Events()
	require.Len(t, events, 1)
	require.Equal(t, "identify", events[0].Type)
	require.Equal(t, "ada@example.com", events[0].Traits["email"])
}

func TestWrongWriteKeyIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RejectUnknownWriteKeys(true)
	b.conn.Secrets["write_key"] = "wk_wrong_secret"

	_, err := b.run(b.track, "k", trackInput())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusUnauthorized, perm.Status)
	require.Contains(t, perm.Message, "Invalid write key")
	require.NotContains(t, err.Error(), "wk_wrong_secret")
}

func TestWrongWriteKeyIsDroppedSilentlyLikeSegment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets["write_key"] = "wk_wrong"

	_, err := b.run(b.track, "k", trackInput())
	require.NoError(t, err, "Segment answers 200 for unknown write keys")
	require.Empty(t, b.fake.Events())
	require.Equal(t, 1, b.fake.Dropped())
}

func TestMissingWriteKeyIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets = map[string]string{}

	_, err := b.run(b.track, "k", trackInput())
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "write_key")
	require.Empty(t, b.fake.Requests())
}

func TestRateLimitCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RateLimitNext(1, 7*time.Second)

	_, err := b.run(b.track, "k", trackInput())
	var rl *connectors.RateLimitedError
	require.ErrorAs(t, err, &rl)
	require.Equal(t, 7*time.Second, rl.RetryAfter)
	require.Contains(t, rl.Message, "429")

	_, err = b.run(b.track, "k", trackInput())
	require.NoError(t, err)
}

func TestServerErrorIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext(1, http.StatusServiceUnavailable)

	_, err := b.run(b.track, "k", trackInput())
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	_, limited := connectors.AsRateLimited(err)
	require.False(t, limited)
	require.Contains(t, err.Error(), "503")

	_, err = b.run(b.track, "k", trackInput())
	require.NoError(t, err)
}

func TestTooLargeIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := trackInput()
	in["properties"] = map[string]any{"blob": strings.Repeat("x", 40<<10)}

	_, err := b.run(b.track, "k", in)
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusBadRequest, perm.Status)
	require.Contains(t, perm.Message, "Payload too large")
}

func TestBadInputIsPermanentAndNamesTheField(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		action string
		input  map[string]any
		field  string
	}{
		"no event":         {"segment.track", map[string]any{"user_id": "u"}, "input.event"},
		"no identity":      {"segment.track", map[string]any{"event": "E"}, "input.user_id"},
		"bad properties":   {"segment.track", map[string]any{"user_id": "u", "event": "E", "properties": []any{1}}, "input.properties"},
		"identify no user": {"segment.identify", map[string]any{"traits": map[string]any{}}, "input.anonymous_id"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			a := b.track
			if tc.action == "segment.identify" {
				a = b.ident
			}
			_, err := b.run(a, "k", tc.input)
			var perm *connectors.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Contains(t, perm.Message, tc.field)
			require.Empty(t, b.fake.Requests())
		})
	}
}

func TestTransportErrorIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Close()

	_, err := b.run(b.track, "k", trackInput())
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "run:step", segment.MessageID("run:step"))

	long := strings.Repeat("k", 150)
	id := segment.MessageID(long)
	require.Less(t, len(id), 100)
	require.Equal(t, id, segment.MessageID(long))

	a, c := segment.MessageID(""), segment.MessageID("")
	require.NotEmpty(t, a)
	require.NotEqual(t, a, c)
}

func TestSpec(t *testing.T) {
	t.Parallel()
	c := segment.New()
	require.Equal(t, "segment", c.Key())
	var keys []string
	for _, f := range c.AuthFields() {
		keys = append(keys, f.Key)
		if f.Key == "write_key" {
			require.True(t, f.Secret)
			require.True(t, f.Required)
		}
	}
	require.Equal(t, []string{"write_key", "base_url"}, keys)

	for _, a := range c.Actions() {
		spec := a.Spec()
		require.Equal(t, []string{"message_id"}, fieldKeys(spec.Outputs), spec.Key)
		for _, f := range spec.Fields {
			require.NotEmpty(t, f.Label, f.Key)
			require.NotEmpty(t, f.Help, f.Key)
		}
	}
	require.Equal(t, []string{"user_id", "anonymous_id", "event", "properties"}, fieldKeys(c.Actions()[0].Spec().Fields))
	require.Equal(t, []string{"user_id", "anonymous_id", "traits"}, fieldKeys(c.Actions()[1].Spec().Fields))
}

func fieldKeys(fs []connectors.Field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}
