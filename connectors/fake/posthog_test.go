package fake_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
)

func TestPostHogCapture(t *testing.T) {
	t.Parallel()
	f := fake.NewPostHog("phc_k")
	t.Cleanup(f.Close)
	ev := []byte(`{"api_key":"phc_k","event":"e","distinct_id":"u","uuid":"0190c3a4-5b6c-7d8e-9f01-23456789abcd"}`)

	for _, path := range []string{"/i/v0/e/", "/capture/", "/i/v0/e"} {
		code, hdr, body := analyticsPost(t, f.URL+path, "application/json", ev, nil)
		require.Equal(t, http.StatusOK, code, path)
		require.Equal(t, "application/json", hdr.Get("Content-Type"))
		require.JSONEq(t, `{"status":1}`, body)
	}
	require.Len(t, f.Events(), 1, "same uuid kept once")

	// token aliases, properties.distinct_id, gzip, invalid uuid kept without one.
	code, _, _ := analyticsPost(t, f.URL+"/i/v0/e/?compression=gzip", "application/json",
		gzipped(t, []byte(`{"token":"phc_k","event":"e2","properties":{"distinct_id":42},"uuid":"nope"}`)), nil)
	require.Equal(t, http.StatusOK, code)
	events := f.Events()
	require.Len(t, events, 2)
	require.Equal(t, "42", events[1].DistinctID)
	require.Empty(t, events[1].UUID)

	for body, want := range map[string]struct {
		code int
		msg  string
	}{
		`{"event":"e","distinct_id":"u"}`:                   {401, "event submitted without an api_key"},
		`{"api_key":"phc_x","event":"e","distinct_id":"u"}`: {401, "API key is not valid: api_key does not resolve to a known project"},
		`{"api_key":"phc_k","event":"","distinct_id":"u"}`:  {400, "event submitted with an empty event name"},
		`{"api_key":"phc_k","event":"e"}`:                   {400, "event submitted without a distinct_id"},
		`{"api_key":"phc_k",`:                               {400, "failed to parse request: invalid JSON"},
		`{"api_key":"phc_k","batch":[]}`:                    {400, "request holds no event"},
		`{"batch":[{"api_key":"phc_k","event":"e","distinct_id":"u"},{"api_key":"phc_j","event":"e","distinct_id":"u"}]}`: {400, "batch submitted with inconsistent api_key values"},
	} {
		code, hdr, msg := analyticsPost(t, f.URL+"/capture/", "application/json", []byte(body), nil)
		require.Equal(t, want.code, code, body)
		require.Equal(t, want.msg, msg, body)
		require.Equal(t, "text/plain; charset=utf-8", hdr.Get("Content-Type"))
	}
}

func TestPostHogBatchAndKnobs(t *testing.T) {
	t.Parallel()
	f := fake.NewPostHog("phc_k")
	t.Cleanup(f.Close)
	batch := []byte(`{"api_key":"phc_k","batch":[{"event":"a","distinct_id":"u"},{"event":"b","distinct_id":"v"}]}`)
	code, _, _ := analyticsPost(t, f.URL+"/batch/", "application/json", batch, nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, f.Events(), 2)

	f.RateLimitNext(1, 2*time.Second)
	f.FailNext(1, http.StatusServiceUnavailable)
	code, hdr, msg := analyticsPost(t, f.URL+"/batch/", "application/json", batch, nil)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "2", hdr.Get("Retry-After"))
	require.Equal(t, "rate limited", msg)
	code, _, msg = analyticsPost(t, f.URL+"/batch/", "application/json", batch, nil)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "transient error, please retry", msg)
	require.Len(t, f.Requests(), 3)
}
