package fake_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
)

// analyticsPost sends body to url with headers and returns status, headers and body.
func analyticsPost(t *testing.T, url, contentType string, body []byte, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(raw)
}

func basic(user string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user))}
}

func TestSegmentContract(t *testing.T) {
	t.Parallel()
	f := fake.NewSegment("wk")
	t.Cleanup(f.Close)
	track := []byte(`{"userId":"u1","event":"E","messageId":"m1"}`)

	code, _, body := analyticsPost(t, f.BaseURL()+"/track", "application/json", track, basic("wk:"))
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"success":true}`, body)

	// The same messageId again is accepted but deduplicated.
	code, _, _ = analyticsPost(t, f.BaseURL()+"/track", "application/json", track, basic("wk:"))
	require.Equal(t, http.StatusOK, code)
	require.Len(t, f.Events(), 1)

	// Key without the colon, and writeKey in the body, both authenticate.
	code, _, _ = analyticsPost(t, f.BaseURL()+"/identify", "application/json", []byte(`{"anonymousId":"a","messageId":"m2"}`), basic("wk"))
	require.Equal(t, http.StatusOK, code)
	code, _, _ = analyticsPost(t, f.BaseURL()+"/track", "application/json", []byte(`{"writeKey":"wk","userId":"u","event":"E2","messageId":"m3"}`), nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, f.Events(), 3)
	require.Equal(t, "identify", f.Events()[1].Type)

	// Missing key, bad JSON, wrong content type, too large: 400.
	for _, tc := range []struct {
		ct   string
		body []byte
		hdr  map[string]string
	}{
		{"application/json", track, nil},
		{"application/json", []byte(`{`), basic("wk:")},
		{"text/plain", track, basic("wk:")},
		{"application/json", []byte(`{"userId":"u","event":"E","properties":{"x":"` + strings.Repeat("x", 33<<10) + `"}}`), basic("wk:")},
	} {
		code, _, body := analyticsPost(t, f.BaseURL()+"/track", tc.ct, tc.body, tc.hdr)
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, body, `"success":false`)
	}

	// Wrong key: 200 and dropped, unless RejectUnknownWriteKeys.
	code, _, _ = analyticsPost(t, f.BaseURL()+"/track", "application/json", []byte(`{"userId":"u","event":"E","messageId":"m9"}`), basic("nope:"))
	require.Equal(t, http.StatusOK, code)
	// No identity: 200 and dropped.
	code, _, _ = analyticsPost(t, f.BaseURL()+"/track", "application/json", []byte(`{"event":"E"}`), basic("wk:"))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 2, f.Dropped())
	f.RejectUnknownWriteKeys(true)
	code, _, body = analyticsPost(t, f.BaseURL()+"/track", "application/json", track, basic("nope:"))
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, body, "Invalid write key")

	require.Len(t, f.Events(), 3)
	require.Len(t, f.Requests(), 11)
}

func TestSegmentBatch(t *testing.T) {
	t.Parallel()
	f := fake.NewSegment("wk")
	t.Cleanup(f.Close)
	code, _, _ := analyticsPost(t, f.BaseURL()+"/batch", "application/json",
		[]byte(`{"batch":[{"type":"identify","userId":"u","traits":{"a":1}},{"type":"track","userId":"u","event":"E"}],"context":{"library":{"name":"x"}}}`),
		basic("wk:"))
	require.Equal(t, http.StatusOK, code)
	events := f.Events()
	require.Len(t, events, 2)
	require.Equal(t, "identify", events[0].Type)
	require.Equal(t, "x", events[1].Context["library"].(map[string]any)["name"])
}

func TestSegmentKnobs(t *testing.T) {
	t.Parallel()
	f := fake.NewSegment("wk")
	t.Cleanup(f.Close)
	f.RateLimitNext(1, 1500*time.Millisecond)
	f.FailNext(1, http.StatusBadGateway)
	track := []byte(`{"userId":"u1","event":"E"}`)

	code, hdr, _ := analyticsPost(t, f.BaseURL()+"/track", "application/json", track, basic("wk:"))
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "2", hdr.Get("Retry-After"))
	require.Equal(t, "2", hdr.Get("X-RateLimit-Reset"))
	code, _, _ = analyticsPost(t, f.BaseURL()+"/track", "application/json", track, basic("wk:"))
	require.Equal(t, http.StatusBadGateway, code)
	code, _, _ = analyticsPost(t, f.BaseURL()+"/track", "application/json", track, basic("wk:"))
	require.Equal(t, http.StatusOK, code)
}

func TestSegmentHandlerServesWithoutAServer(t *testing.T) {
	t.Parallel()
	h := fake.NewSegmentHandler("wk")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	code, _, _ := analyticsPost(t, srv.URL+"/v1/track", "application/json", []byte(`{"userId":"u","event":"E"}`), basic("wk:"))
	require.Equal(t, http.StatusOK, code)
	require.Len(t, h.Events(), 1)
	code, _, _ = analyticsPost(t, srv.URL+"/v2/track", "application/json", nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}
