package posthog_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/connectors/posthog"
)

const apiKey = "phc_test_key"

type bundle struct {
	fake    *fake.PostHog
	conn    *connectors.Connection
	client  *http.Client
	capture connectors.Action
}

func setup(t *testing.T) *bundle {
	t.Helper()
	f := fake.NewPostHog(apiKey)
	t.Cleanup(f.Close)
	return &bundle{
		fake: f,
		conn: &connectors.Connection{
			ID:      "conn_1",
			Config:  map[string]any{"base_url": f.BaseURL()},
			Secrets: map[string]string{"api_key": apiKey},
		},
		client:  &http.Client{Timeout: 5 * time.Second},
		capture: posthog.New().Actions()[0],
	}
}

func (b *bundle) run(key string, input map[string]any) (map[string]any, error) {
	return b.capture.Execute(context.Background(), connectors.Request{
		Input: input, Connection: b.conn, IdempotencyKey: key, HTTP: b.client,
	})
}

func input() map[string]any {
	return map[string]any{"distinct_id": "u_42", "event": "signed_up", "properties": map[string]any{"plan": "pro"}}
}

func TestCaptureSendsTheDocumentedRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out, err := b.run("run_1:capture", input())
	require.NoError(t, err)
	uuid := posthog.EventUUID("run_1:capture")
	require.Equal(t, map[string]any{"uuid": uuid}, out)

	reqs := b.fake.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/i/v0/e/", r.Path)
	require.Empty(t, r.Header.Get("Authorization"), "the key travels in the body")
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, apiKey, body["api_key"])
	require.Equal(t, "signed_up", body["event"])
	require.Equal(t, "u_42", body["distinct_id"])
	require.Equal(t, uuid, body["uuid"])
	props := body["properties"].(map[string]any)
	require.Equal(t, "pro", props["plan"])
	require.Equal(t, "switchboard", props["$lib"])
	ts, err := time.Parse(time.RFC3339Nano, body["timestamp"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), ts, time.Minute)

	events := b.fake.Events()
	require.Len(t, events, 1)
	require.Equal(t, uuid, events[0].UUID)
	require.Equal(t, "u_42", events[0].DistinctID)
}

func TestRetryReusesTheUUID(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for range 2 {
		_, err := b.run("run_1:capture", input())
		require.NoError(t, err)
	}
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	var first, second struct {
		UUID string `json:"uuid"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].Body, &first))
	require.NoError(t, json.Unmarshal(reqs[1].Body, &second))
	require.Equal(t, first.UUID, second.UUID)
	require.Len(t, b.fake.Events(), 1)
}

func TestEventUUID(t *testing.T) {
	t.Parallel()
	u := posthog.EventUUID("run:step")
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, u)
	require.Equal(t, u, posthog.EventUUID("run:step"))
	require.NotEqual(t, u, posthog.EventUUID("run:other"))
	r := posthog.EventUUID("")
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, r)
	require.NotEqual(t, r, posthog.EventUUID(""))
}

func TestWrongAPIKeyIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets["api_key"] = "phc_wrong_secret"

	_, err := b.run("k", input())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusUnauthorized, perm.Status)
	require.Contains(t, perm.Message, "api_key rejected")
	require.Contains(t, perm.Message, "API key is not valid")
	require.NotContains(t, err.Error(), "phc_wrong_secret")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RateLimitNext(1, 3*time.Second)

	_, err := b.run("k", input())
	var rl *connectors.RateLimitedError
	require.ErrorAs(t, err, &rl)
	require.Equal(t, 3*time.Second, rl.RetryAfter)
	require.Contains(t, rl.Message, "rate limited")

	_, err = b.run("k", input())
	require.NoError(t, err)
}

func TestServerErrorIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext(1, http.StatusServiceUnavailable)

	_, err := b.run("k", input())
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	_, limited := connectors.AsRateLimited(err)
	require.False(t, limited)
	require.Contains(t, err.Error(), "transient error, please retry")
}

func TestBadInputIsPermanentAndNamesTheField(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mutate func(map[string]any)
		field  string
	}{
		"no distinct_id": {func(in map[string]any) { delete(in, "distinct_id") }, "input.distinct_id"},
		"no event":       {func(in map[string]any) { in["event"] = "" }, "input.event"},
		"bad properties": {func(in map[string]any) { in["properties"] = []any{"x"} }, "input.properties"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			in := input()
			tc.mutate(in)
			_, err := b.run("k", in)
			var perm *connectors.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Contains(t, perm.Message, tc.field)
			require.Empty(t, b.fake.Requests())
		})
	}
}

func TestFakeRejectsEventsLikePostHog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(path, body string) (int, string) {
		resp, err := b.client.Post(b.fake.URL+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(raw)
	}
	code, msg := post("/i/v0/e/", `{"api_key":"`+apiKey+`","event":"e"}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "event submitted without a distinct_id", msg)
	code, msg = post("/capture/", `{"event":"e","distinct_id":"u"}`)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "event submitted without an api_key", msg)
	code, msg = post("/batch/", `{"api_key":"`+apiKey+`","batch":[]}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "request holds no event", msg)
	code, msg = post("/batch/", `{"api_key":"`+apiKey+`","batch":[{"event":"a","distinct_id":"u"},{"event":"b","properties":{"distinct_id":"v"}}]}`)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":1}`, msg)
	require.Len(t, b.fake.Events(), 2)
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		"event submitted without a distinct_id":                                                        "event submitted without a distinct_id",
		`{"type":"authentication_error","code":"invalid_api_key","detail":"Project API key invalid."}`: "Project API key invalid.",
		`{"status":403,"code":"ingest_key_unknown","error":"api_key does not resolve"}`:                "api_key does not resolve",
		`{"error":"validation_error","error_description":"event name too long"}`:                       "event name too long",
		"": "",
	} {
		require.Equal(t, want, posthog.ErrorMessage([]byte(body)), body)
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	c := posthog.New()
	require.Equal(t, "posthog", c.Key())
	spec := c.Actions()[0].Spec()
	require.Equal(t, "posthog.capture", spec.Key)
	var keys []string
	for _, f := range spec.Fields {
		keys = append(keys, f.Key)
		require.NotEmpty(t, f.Label)
		require.NotEmpty(t, f.Help)
	}
	require.Equal(t, []string{"distinct_id", "event", "properties"}, keys)
	require.Equal(t, "uuid", spec.Outputs[0].Key)
	require.True(t, c.AuthFields()[0].Secret)
}
