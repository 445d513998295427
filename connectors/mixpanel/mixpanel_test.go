package mixpanel_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/connectors/mixpanel"
)

const token = "mp_token_abc"

type bundle struct {
	fake   *fake.Mixpanel
	conn   *connectors.Connection
	client *http.Client
	track  connectors.Action
}

func setup(t *testing.T) *bundle {
	t.Helper()
	f := fake.NewMixpanel(token)
	t.Cleanup(f.Close)
	return &bundle{
		fake: f,
		conn: &connectors.Connection{
			ID:      "conn_1",
			Config:  map[string]any{"base_url": f.BaseURL()},
			Secrets: map[string]string{"project_token": token},
		},
		client: &http.Client{Timeout: 5 * time.Second},
		track:  mixpanel.New().Actions()[0],
	}
}

func (b *bundle) run(key string, input map[string]any) (map[string]any, error) {
	return b.track.Execute(context.Background(), connectors.Request{
		Input: input, Connection: b.conn, IdempotencyKey: key, HTTP: b.client,
	})
}

func input() map[string]any {
	return map[string]any{
		"distinct_id": "u_42",
		"event":       "Signed Up",
		"properties":  map[string]any{"plan": "pro"},
		"time":        "2026-11-22T10:00:00Z",
	}
}

type sentEvent struct {
	Event      string         `json:"event"`
	Properties map[string]any `json:"properties"`
}

func decode(t *testing.T, body []byte) sentEvent {
	t.Helper()
	var evs []sentEvent
	require.NoError(t, json.Unmarshal(body, &evs))
	require.Len(t, evs, 1)
	return evs[0]
}

func TestTrackImportsTheDocumentedRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out, err := b.run("run_1:track", input())
	require.NoError(t, err)
	insertID := mixpanel.InsertID("run_1:track")
	require.Equal(t, map[string]any{"insert_id": insertID, "num_records_imported": 1, "status": "OK"}, out)

	reqs := b.fake.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/import", r.Path)
	require.Equal(t, "1", r.Query.Get("strict"))
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(token+":")), r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))

	ev := decode(t, r.Body)
	require.Equal(t, "Signed Up", ev.Event)
	require.Equal(t, "u_42", ev.Properties["distinct_id"])
	require.Equal(t, token, ev.Properties["token"])
	require.Equal(t, "pro", ev.Properties["plan"])
	require.Equal(t, insertID, ev.Properties["$insert_id"])
	require.Equal(t, float64(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).UnixMilli()), ev.Properties["time"])

	events := b.fake.Events()
	require.Len(t, events, 1)
	require.Equal(t, "import", events[0].Endpoint)
	require.Equal(t, insertID, events[0].InsertID)
}

func TestRetryReusesTheInsertID(t *testing.T) {
	t.Parallel()
	b := setup(t)

	for range 2 {
		_, err := b.run("run_1:track", input())
		require.NoError(t, err)
	}
	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	first, second := decode(t, reqs[0].Body), decode(t, reqs[1].Body)
	require.Equal(t, first.Properties["$insert_id"], second.Properties["$insert_id"])
	require.Len(t, b.fake.Events(), 1, "Mixpanel deduplicates on event, distinct_id, time and $insert_id")

	_, err := b.run("run_2:track", input())
	require.NoError(t, err)
	require.Len(t, b.fake.Events(), 2)
}

func TestInsertIDFitsMixpanelRules(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[A-Za-z0-9-]{1,36}$`)
	for _, key := range []string{"run:step", "0193a0c4-7f5e-7b1a-9c1e-3d2f1a0b9c8d:welcome email", string(make([]byte, 500)), ""} {
		id := mixpanel.InsertID(key)
		require.Regexp(t, valid, id)
		if key != "" {
			require.Equal(t, id, mixpanel.InsertID(key))
		}
	}
	require.NotEqual(t, mixpanel.InsertID("a"), mixpanel.InsertID("b"))
}

func TestDefaultTimeIsNow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	delete(in, "time")

	_, err := b.run("k", in)
	require.NoError(t, err)
	ms := decode(t, b.fake.Requests()[0].Body).Properties["time"].(float64)
	require.WithinDuration(t, time.Now(), time.UnixMilli(int64(ms)), time.Minute)
}

func TestTimeInputForms(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).UnixMilli()
	for _, v := range []any{"2026-11-22T10:00:00Z", float64(want / 1000), float64(want), strconv.FormatInt(want/1000, 10)} {
		b := setup(t)
		in := input()
		in["time"] = v
		_, err := b.run("k", in)
		require.NoError(t, err, "%v", v)
		require.Equal(t, float64(want), decode(t, b.fake.Requests()[0].Body).Properties["time"], "%v", v)
	}
}

func TestWrongTokenIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets["project_token"] = "mp_wrong_secret"

	_, err := b.run("k", input())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusUnauthorized, perm.Status)
	require.Contains(t, perm.Message, "project token rejected")
	require.Contains(t, perm.Message, "Invalid credentials")
	require.NotContains(t, err.Error(), "mp_wrong_secret")
}

func TestValidationFailureIsPermanentWithMixpanelsReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := input()
	in["time"] = "1960-01-01T00:00:00Z"

	_, err := b.run("k", in)
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, http.StatusBadRequest, perm.Status)
	require.Contains(t, perm.Message, "'properties.time' is invalid")
	require.Empty(t, b.fake.Events())
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RateLimitNext(1, 12*time.Second)

	_, err := b.run("k", input())
	var rl *connectors.RateLimitedError
	require.ErrorAs(t, err, &rl)
	require.Equal(t, 12*time.Second, rl.RetryAfter)
	require.Contains(t, rl.Message, "exceeded rate limits")

	b.fake.RateLimitNext(1, 0)
	_, err = b.run("k", input())
	require.ErrorAs(t, err, &rl)
	require.Equal(t, time.Minute, rl.RetryAfter, "Mixpanel sends no Retry-After")

	_, err = b.run("k", input())
	require.NoError(t, err)
}

func TestServerErrorIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext(1, http.StatusBadGateway)

	_, err := b.run("k", input())
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	_, limited := connectors.AsRateLimited(err)
	require.False(t, limited)
	require.Contains(t, err.Error(), "502")
}

func TestBadInputIsPermanentAndNamesTheField(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mutate func(map[string]any)
		field  string
	}{
		"no distinct_id": {func(in map[string]any) { delete(in, "distinct_id") }, "input.distinct_id"},
		"no event":       {func(in map[string]any) { in["event"] = " " }, "input.event"},
		"bad properties": {func(in map[string]any) { in["properties"] = "not json" }, "input.properties"},
		"bad time":       {func(in map[string]any) { in["time"] = "yesterday" }, "input.time"},
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

func TestFakeTrackEndpointVerbose(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(body string) map[string]any {
		resp, err := b.client.Post(b.fake.URL+"/track?verbose=1", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	now := time.Now().Unix()
	ok := post(`[{"event":"E","properties":{"token":"` + token + `","distinct_id":"u","time":` + strconv.FormatInt(now, 10) + `}}]`)
	require.Equal(t, map[string]any{"status": float64(1), "error": nil}, ok)
	bad := post(`[]`)
	require.Equal(t, map[string]any{"status": float64(0), "error": "data, missing or empty"}, bad)
	require.Len(t, b.fake.Events(), 1)
	require.Equal(t, "track", b.fake.Events()[0].Endpoint)
}

func TestSpec(t *testing.T) {
	t.Parallel()
	c := mixpanel.New()
	require.Equal(t, "mixpanel", c.Key())
	spec := c.Actions()[0].Spec()
	require.Equal(t, "mixpanel.track", spec.Key)
	var keys []string
	for _, f := range spec.Fields {
		keys = append(keys, f.Key)
		require.NotEmpty(t, f.Label)
		require.NotEmpty(t, f.Help)
	}
	require.Equal(t, []string{"distinct_id", "event", "properties", "time"}, keys)
	require.True(t, c.AuthFields()[0].Secret)
	require.Equal(t, "project_token", c.AuthFields()[0].Key)
}
