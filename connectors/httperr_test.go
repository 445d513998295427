package connectors_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	h := func(v string) http.Header { return http.Header{"Retry-After": []string{v}} }
	def := 7 * time.Second
	require.Equal(t, def, connectors.RetryAfter(http.Header{}, def))
	require.Equal(t, 30*time.Second, connectors.RetryAfter(h("30"), def))
	require.Equal(t, 1500*time.Millisecond, connectors.RetryAfter(h("1.5"), def))
	require.Equal(t, def, connectors.RetryAfter(h("0"), def))
	require.Equal(t, def, connectors.RetryAfter(h("-3"), def))
	require.Equal(t, def, connectors.RetryAfter(h("soon"), def))
	require.Equal(t, connectors.MaxRetryAfter, connectors.RetryAfter(h("86400"), def))

	future := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	got := connectors.RetryAfter(h(future), def)
	require.Greater(t, got, 100*time.Second)
	require.LessOrEqual(t, got, 2*time.Minute)
	past := time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat)
	require.Equal(t, def, connectors.RetryAfter(h(past), def))
	far := time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat)
	require.Equal(t, connectors.MaxRetryAfter, connectors.RetryAfter(h(far), def))
}

func TestClassifyHTTP(t *testing.T) {
	t.Parallel()
	require.NoError(t, connectors.ClassifyHTTP(200, 0, "ok"))
	require.NoError(t, connectors.ClassifyHTTP(204, 0, "ok"))

	rl, ok := connectors.AsRateLimited(connectors.ClassifyHTTP(429, 12*time.Second, "slow down"))
	require.True(t, ok)
	require.Equal(t, 12*time.Second, rl.RetryAfter)
	require.Equal(t, "slow down", rl.Message)
	rl, ok = connectors.AsRateLimited(connectors.ClassifyHTTP(429, 0, "slow down"))
	require.True(t, ok)
	require.Equal(t, connectors.DefaultRetryAfter, rl.RetryAfter)

	for _, status := range []int{408, 500, 502, 503, 504} {
		err := connectors.ClassifyHTTP(status, 0, "try again")
		var re *connectors.RetryableError
		require.ErrorAs(t, err, &re, status)
		require.Equal(t, status, re.Status)
		require.False(t, connectors.IsPermanent(err))
	}
	rl, ok = connectors.AsRateLimited(connectors.ClassifyHTTP(503, 5*time.Second, "maintenance"))
	require.True(t, ok, "a 503 with Retry-After is honoured")
	require.Equal(t, 5*time.Second, rl.RetryAfter)

	for _, status := range []int{400, 401, 403, 404, 409, 410, 422, 304} {
		err := connectors.ClassifyHTTP(status, 0, "nope")
		var perm *connectors.PermanentError
		require.ErrorAs(t, err, &perm, status)
		require.Equal(t, status, perm.Status)
		require.Equal(t, "nope", perm.Message)
	}
}

func TestTransportError(t *testing.T) {
	t.Parallel()
	client := connectors.NewHTTPClient(connectors.EgressOptions{})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1:9/?api_key=SECRET", nil)
	_, err := connectors.DoHTTP(client, "svc", req)
	require.True(t, connectors.IsPermanent(err))
	require.True(t, connectors.IsEgressRefused(err))
	require.NotContains(t, err.Error(), "SECRET")
	require.Equal(t, "svc: egress: refusing to connect to 127.0.0.1 (loopback); set SWITCHBOARD_EGRESS_ALLOW to allow it", err.Error())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = connectors.TransportError("svc", &urlError{err: ctx.Err()})
	var re *connectors.RetryableError
	require.ErrorAs(t, err, &re)
	require.True(t, errors.Is(err, context.Canceled))
}

type urlError struct{ err error }

func (e *urlError) Error() string { return "Get \"http://x/?secret\": " + e.err.Error() }
func (e *urlError) Unwrap() error { return e.err }

func TestBodySnippet(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a b c", connectors.BodySnippet([]byte("  a\n\tb   c "), 10))
	require.Equal(t, "abc…", connectors.BodySnippet([]byte("abcdef"), 3))
	require.Equal(t, "é…", connectors.BodySnippet([]byte("éééé"), 1))
}
