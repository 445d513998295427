package fake_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
)

func mixpanelEvent(name, insertID string, at time.Time) string {
	return fmt.Sprintf(`{"event":%q,"properties":{"distinct_id":"u1","time":%d,"$insert_id":%q,"token":"tok"}}`, name, at.UnixMilli(), insertID)
}

func TestMixpanelImport(t *testing.T) {
	t.Parallel()
	f := fake.NewMixpanel("tok")
	t.Cleanup(f.Close)
	now := time.Now()
	ok := mixpanelEvent("A", "ins-1", now)
	bad := mixpanelEvent("B", "not valid!", now)

	code, _, body := analyticsPost(t, f.URL+"/import?strict=1", "application/json", []byte("["+ok+","+ok+"]"), basic("tok:"))
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"code":200,"num_records_imported":2,"status":"OK"}`, body)
	require.Len(t, f.Events(), 1, "identical event, distinct_id, time and $insert_id are deduplicated")

	// strict=1: a partial success is a 400 listing the failed records.
	code, _, body = analyticsPost(t, f.URL+"/import?strict=1", "application/json", []byte("["+mixpanelEvent("C", "ins-2", now)+","+bad+"]"), basic("tok:"))
	require.Equal(t, http.StatusBadRequest, code)
	m := decodeJSON(t, body)
	require.Equal(t, "some data points in the request failed validation", m["error"])
	require.Equal(t, float64(1), m["num_records_imported"])
	failed := m["failed_records"].([]any)[0].(map[string]any)
	require.Equal(t, float64(1), failed["index"])
	require.Equal(t, "properties.$insert_id", failed["field"])

	// Without strict, invalid events are dropped silently.
	code, _, body = analyticsPost(t, f.URL+"/import", "application/json", []byte("["+bad+"]"), basic("tok:"))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, float64(0), decodeJSON(t, body)["num_records_imported"])

	// Time rules.
	for _, at := range []time.Time{time.Date(1970, 6, 1, 0, 0, 0, 0, time.UTC), now.Add(2 * time.Hour)} {
		code, _, body = analyticsPost(t, f.URL+"/import?strict=1", "application/json", []byte("["+mixpanelEvent("D", "ins-3", at)+"]"), basic("tok:"))
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, "properties.time")
	}

	// NDJSON and gzip.
	code, _, _ = analyticsPost(t, f.URL+"/import?strict=1", "application/x-ndjson",
		gzipped(t, []byte(mixpanelEvent("E", "ins-4", now)+"\n"+mixpanelEvent("F", "ins-5", now)+"\n")),
		map[string]string{"Authorization": basic("tok:")["Authorization"], "Content-Encoding": "gzip"})
	require.Equal(t, http.StatusOK, code)
	require.Len(t, f.Events(), 4)

	// Auth.
	for _, hdr := range []map[string]string{nil, basic("wrong:")} {
		code, _, body = analyticsPost(t, f.URL+"/import", "application/json", []byte("["+ok+"]"), hdr)
		require.Equal(t, http.StatusUnauthorized, code)
		m := decodeJSON(t, body)
		require.Equal(t, float64(401), m["code"])
		require.Equal(t, "Unauthorized", m["status"])
		require.NotEmpty(t, m["error"])
	}
}

func TestMixpanelTrack(t *testing.T) {
	t.Parallel()
	f := fake.NewMixpanel("tok")
	t.Cleanup(f.Close)
	now := time.Now()

	code, _, body := analyticsPost(t, f.URL+"/track", "application/json", []byte("["+mixpanelEvent("A", "ins-1", now)+"]"), nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "1", body)

	form := url.Values{"data": {"[" + mixpanelEvent("B", "ins-2", now) + "]"}}.Encode()
	code, _, body = analyticsPost(t, f.URL+"/track?verbose=1", "application/x-www-form-urlencoded", []byte(form), nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":1,"error":null}`, body)

	code, _, body = analyticsPost(t, f.URL+"/track?verbose=1", "application/json",
		[]byte(`[{"event":"C","properties":{"distinct_id":"u","time":1,"token":"tok"}}]`), nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, float64(0), decodeJSON(t, body)["status"])

	old := mixpanelEvent("D", "ins-3", now.Add(-6*24*time.Hour))
	code, _, body = analyticsPost(t, f.URL+"/track?verbose=1", "application/json", []byte("["+old+"]"), nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "last 5 days")

	code, _, body = analyticsPost(t, f.URL+"/track?verbose=1", "application/json",
		[]byte(fmt.Sprintf(`[{"event":"E","properties":{"distinct_id":"u","time":%d,"token":"other"}}]`, now.Unix())), nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":0,"error":"token, missing or empty"}`, body)

	require.Len(t, f.Events(), 2)
	require.Equal(t, "track", f.Events()[0].Endpoint)
}

func TestMixpanelKnobs(t *testing.T) {
	t.Parallel()
	f := fake.NewMixpanel("tok")
	t.Cleanup(f.Close)
	f.RateLimitNext(2, 0)
	body := []byte("[" + mixpanelEvent("A", "ins-1", time.Now()) + "]")
	code, hdr, resp := analyticsPost(t, f.URL+"/import", "application/json", body, basic("tok:"))
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Empty(t, hdr.Get("Retry-After"), "Mixpanel sends none unless asked")
	require.Equal(t, float64(429), decodeJSON(t, resp)["code"])
	f.RateLimitNext(1, 5*time.Second)
	_, hdr, _ = analyticsPost(t, f.URL+"/import", "application/json", body, basic("tok:"))
	require.Equal(t, "5", hdr.Get("Retry-After"))
	f.FailNext(1, http.StatusInternalServerError)
	code, _, _ = analyticsPost(t, f.URL+"/import", "application/json", body, basic("tok:"))
	require.Equal(t, http.StatusInternalServerError, code)
	code, _, _ = analyticsPost(t, f.URL+"/import", "application/json", body, basic("tok:"))
	require.Equal(t, http.StatusOK, code)
}
