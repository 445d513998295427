package http_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	httpconn "github.com/switchboard/switchboard/connectors/http"
)

type received struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

type bundle struct {
	srv    *httptest.Server
	client *http.Client
	mu     *sync.Mutex
	got    *[]received
}

// setup starts a server that records requests and answers with handler.
func setup(t *testing.T, handler http.HandlerFunc) bundle {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
		mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return bundle{srv: srv, client: fake.LoopbackClient(), mu: &mu, got: &got}
}

func (b bundle) requests() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), *b.got...)
}

func (b bundle) run(t *testing.T, conn *connectors.Connection, input map[string]any) (map[string]any, error) {
	t.Helper()
	return httpconn.Request{}.Execute(context.Background(), connectors.Request{
		Input: input, Connection: conn, HTTP: b.client, IdempotencyKey: "run1:step1",
	})
}

func TestRequestJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"r1","items":[1,2]}`)
	})
	out, err := b.run(t, nil, map[string]any{
		"method": "post", "url": b.srv.URL + "/orders?x=1",
		"headers": map[string]any{"X-Trace": "t1"}, "body": map[string]any{"trip": "T9"},
	})
	require.NoError(t, err)
	require.Equal(t, 201, out["status"])
	require.Equal(t, map[string]any{"id": "r1", "items": []any{float64(1), float64(2)}}, out["body"])
	headers := out["headers"].(map[string]any)
	require.Equal(t, "a, b", headers["X-Multi"])

	r := b.requests()[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/orders", r.Path)
	require.Equal(t, "x=1", r.Query)
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.Equal(t, "t1", r.Header.Get("X-Trace"))
	require.Equal(t, "run1:step1", r.Header.Get("Idempotency-Key"))
	require.JSONEq(t, `{"trip":"T9"}`, r.Body)
}

func TestRequestTextAndHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "pong")
	})
	conn := &connectors.Connection{
		Config:  map[string]any{"base_url": b.srv.URL + "/api/"},
		Secrets: map[string]string{"headers": `{"Authorization":"Bearer s3cret","X-Trace":"from-connection"}`},
	}
	out, err := b.run(t, conn, map[string]any{
		"method": "PUT", "url": "/ping", "body": "hello",
		"headers": map[string]any{"Idempotency-Key": "mine", "X-Trace": "from-step"},
	})
	require.NoError(t, err)
	require.Equal(t, "pong", out["body"])

	r := b.requests()[0]
	require.Equal(t, "/api/ping", r.Path)
	require.Equal(t, "hello", r.Body)
	require.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"))
	require.Equal(t, "mine", r.Header.Get("Idempotency-Key"), "a step's own Idempotency-Key wins")
	require.Equal(t, "Bearer s3cret", r.Header.Get("Authorization"))
	require.Equal(t, "from-connection", r.Header.Get("X-Trace"), "connection headers override the step's")
}

func TestRequestDefaultsToGET(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	out, err := b.run(t, nil, map[string]any{"url": b.srv.URL})
	require.NoError(t, err)
	require.Equal(t, 204, out["status"])
	require.Equal(t, "", out["body"])
	r := b.requests()[0]
	require.Equal(t, http.MethodGet, r.Method)
	require.Empty(t, r.Body)
}

func TestRequestClientError(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"error":"trip T9 is already booked"}`)
	})
	_, err := b.run(t, nil, map[string]any{"method": "POST", "url": b.srv.URL + "/book?token=SECRET"})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 422, perm.Status)
	require.Equal(t, `http: POST `+b.srv.URL+`/book answered 422 Unprocessable Entity: {"error":"trip T9 is already booked"}`, perm.Message)
	require.NotContains(t, perm.Message, "SECRET")
}

func TestRequestRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "42")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := b.run(t, nil, map[string]any{"url": b.srv.URL})
	rl, ok := connectors.AsRateLimited(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 42*time.Second, rl.RetryAfter)
}

func TestRequestServerErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{408, 500, 503} {
		b := setup(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
		_, err := b.run(t, nil, map[string]any{"url": b.srv.URL})
		var re *connectors.RetryableError
		require.ErrorAs(t, err, &re, status)
		require.Equal(t, status, re.Status)
		require.False(t, connectors.IsPermanent(err))
	}
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	_, err := b.run(t, nil, map[string]any{"url": b.srv.URL, "timeout": "50ms"})
	var re *connectors.RetryableError
	require.ErrorAs(t, err, &re)
	require.Contains(t, re.Message, "timed out")
}

func TestRequestInvalidInput(t *testing.T) {
	t.Parallel()
	b := setup(t, func(http.ResponseWriter, *http.Request) {})
	for name, tc := range map[string]struct {
		conn  *connectors.Connection
		input map[string]any
		want  string
	}{
		"no url":           {nil, map[string]any{}, "input.url is required"},
		"relative no base": {nil, map[string]any{"url": "/x"}, "input.url must be an absolute http(s) URL"},
		"ftp":              {nil, map[string]any{"url": "ftp://example.com/x"}, "input.url must be an http(s) URL"},
		"method":           {nil, map[string]any{"url": b.srv.URL, "method": "BREW"}, "input.method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"},
		"timeout":          {nil, map[string]any{"url": b.srv.URL, "timeout": "1h"}, "input.timeout must be at most 5m0s"},
		"header name":      {nil, map[string]any{"url": b.srv.URL, "headers": map[string]any{"Bad Name": "x"}}, `input.headers has an invalid header name "Bad Name"`},
		"secret headers":   {&connectors.Connection{Secrets: map[string]string{"headers": "Bearer xyz"}}, map[string]any{"url": b.srv.URL}, "http: the connection's secrets.headers is not a JSON object of text values"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := b.run(t, tc.conn, tc.input)
			var perm *connectors.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Equal(t, tc.want, perm.Message)
		})
	}
	require.Empty(t, b.requests())
}

func TestRequestEgressRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, func(http.ResponseWriter, *http.Request) {})
	b.client = connectors.NewHTTPClient(connectors.EgressOptions{})
	_, err := b.run(t, nil, map[string]any{"url": b.srv.URL})
	require.True(t, connectors.IsEgressRefused(err))
	require.True(t, connectors.IsPermanent(err))
	require.Equal(t, "http: egress: refusing to connect to 127.0.0.1 (loopback); set SWITCHBOARD_EGRESS_ALLOW to allow it", err.Error())
}
