package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
)

// hxGet fetches a path the way htmx polls it.
func (u *editorUser) hxGet(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.b.url+path, nil)
	require.NoError(t, err)
	req.Header.Set("HX-Request", "true")
	resp, err := u.c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// listenState is a flow's listen deadline and sample as stored.
type listenState struct {
	listening bool // listen_until is set and in the future
	cleared   bool // listen_until is NULL
	sample    map[string]any
}

func readListen(t *testing.T, b *bundle, id uuid.UUID) listenState {
	t.Helper()
	var s listenState
	var raw []byte
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT coalesce(listen_until > now(), false), listen_until IS NULL, sample FROM flows WHERE id = $1`, id).
		Scan(&s.listening, &s.cleared, &raw))
	if raw != nil {
		require.NoError(t, json.Unmarshal(raw, &s.sample))
	}
	return s
}

func (b *engineBundle) runCount(t *testing.T, flowID uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE flow_id = $1`, flowID).Scan(&n))
	return n
}

// pollURL is the URL the waiting listen box polls.
func pollURL(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`hx-get="(/flows/[^"]+/sample/listen\?until=\d+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "the panel polls: %s", body)
	return m[1]
}

func TestEditorListenCapturesTestEvent(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	u := editorLogin(t, b.bundle, b.member, "ada@example.com")
	id := u.newFlow(t, "Listener", "blank")
	base := "/flows/" + id.String()
	f, err := store.GetFlow(context.Background(), b.pool, b.member.WorkspaceID, id)
	require.NoError(t, err)
	require.False(t, f.Enabled, "a new flow is off until published")

	// Off and not listening: the URL answers 404.
	status, out := b.post(t, f, "application/json", `{"type": "early"}`)
	require.Equal(t, http.StatusNotFound, status, "%v", out)

	resp, body := u.hx(t, base+"/sample/listen", url.Values{})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `data-state="waiting"`)
	require.Contains(t, body, "Waiting for a request to")
	require.Contains(t, body, "/hooks/"+f.WebhookToken)
	require.Contains(t, body, `data-testid="listen-curl"`)
	require.Contains(t, body, `hx-trigger="every 1s"`)
	require.True(t, readListen(t, b.bundle, id).listening)
	poll := pollURL(t, body)
	resp, _ = u.hxGet(t, poll)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "nothing yet: no swap")

	// Bad input while listening is refused as usual and captures nothing.
	status, out = b.post(t, f, "application/json", `{"type": `)
	require.Equal(t, http.StatusBadRequest, status, "%v", out)
	status, out = b.post(t, f, "application/octet-stream", "\x00\x01")
	require.Equal(t, http.StatusUnsupportedMediaType, status, "%v", out)
	status, out = b.post(t, f, "text/plain", strings.Repeat("x", 65<<10))
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%v", out)
	status, out = b.post(t, f, "application/json", `{"name": "nul \u0000"}`)
	require.Equal(t, http.StatusBadRequest, status, "%v", out)
	require.Equal(t, "invalid_body", errorCode(out))
	st := readListen(t, b.bundle, id)
	require.True(t, st.listening)
	require.Nil(t, st.sample["trigger"])

	// The next request is the sample, with its headers; nothing runs.
	const payload = `{"type": "signup", "user": {"email": "ada@example.com", "note": "<script>alert(1)</script>"}}`
	status, out = b.post(t, f, "application/json", payload, "X-Source", "shop", "Authorization", "Bearer s3cret")
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, map[string]any{"sample": true, "message": "Captured as the flow's test event."}, out)
	st = readListen(t, b.bundle, id)
	require.True(t, st.cleared, "listening stops")
	var want any
	require.NoError(t, json.Unmarshal([]byte(payload), &want))
	require.Equal(t, want, st.sample["trigger"])
	headers, _ := st.sample["headers"].(map[string]any)
	require.Equal(t, "shop", headers["x-source"])
	require.NotContains(t, headers, "authorization", "credentials are never kept")
	require.Zero(t, b.eventCount(t, f))
	require.Zero(t, b.runCount(t, id))

	// The waiting panel gets the whole editor with the new sample, escaped.
	resp, body = u.hxGet(t, poll)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "#flow-editor", resp.Header.Get("HX-Retarget"))
	require.Contains(t, body, "Captured a test event")
	require.Contains(t, body, `\u003cscript\u003ealert(1)`)
	require.NotContains(t, body, `<script>alert(1)`)
	require.Contains(t, body, `data-path="trigger.user.email"`, "the data picker offers its fields")
	require.Contains(t, body, `data-state="idle"`)

	// Done listening: the disabled flow's URL is 404 again.
	status, out = b.post(t, f, "application/json", `{"type": "late"}`)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	require.Equal(t, want, readListen(t, b.bundle, id).sample["trigger"])

	// Saving the trigger keeps the captured headers with the same sample,
	// and drops them with another one.
	u.hx(t, base+"/trigger", url.Values{"type": {"webhook"}, "sample": {payload}})
	require.NotNil(t, readListen(t, b.bundle, id).sample["headers"])
	u.hx(t, base+"/trigger", url.Values{"type": {"webhook"}, "sample": {`{"type": "pasted"}`}})
	st = readListen(t, b.bundle, id)
	require.Equal(t, map[string]any{"type": "pasted"}, st.sample["trigger"])
	require.Nil(t, st.sample["headers"])
}

func TestEditorListenEnabledFlowRunsToo(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	u := editorLogin(t, b.bundle, b.member, "ada@example.com")
	f := b.flow(t, `{"trigger": {"type": "webhook"},
	 "steps": [{"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s", "body": {"n": "{{ trigger.n }}"}}}]}`)
	// Earlier test outputs stay beside the captured event.
	_, err := b.pool.Exec(context.Background(), `UPDATE flows SET sample = '{"steps": {"s": {"status": 200}}}' WHERE id = $1`, f.ID)
	require.NoError(t, err)
	resp, body := u.hx(t, "/flows/"+f.ID.String()+"/sample/listen", url.Values{})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)

	status, acc := b.post(t, f, "application/json", `{"n": 7}`)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"], "%v", run)
	st := readListen(t, b.bundle, f.ID)
	require.True(t, st.cleared)
	require.Equal(t, map[string]any{"n": float64(7)}, st.sample["trigger"])
	require.Equal(t, map[string]any{"s": map[string]any{"status": float64(200)}}, st.sample["steps"])
}

func TestEditorListenChecksTheDraftsSignature(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	u := editorLogin(t, b.bundle, b.member, "ada@example.com")
	const secret = "listen-secret"
	conn := b.connection(t, "webhook", nil, map[string]string{"secret": secret})
	// Published without a check; the draft being edited signs requests.
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": []}`)
	require.NoError(t, store.SetFlowEnabled(context.Background(), b.pool, b.member.WorkspaceID, f.ID, false))
	_, err := b.pool.Exec(context.Background(), `UPDATE flows SET draft = $2 WHERE id = $1`, f.ID,
		`{"trigger": {"type": "webhook", "config": {"signature": "hmac_sha256_header", "connection": "`+conn+`"}}, "steps": []}`)
	require.NoError(t, err)
	resp, body := u.hx(t, "/flows/"+f.ID.String()+"/sample/listen", url.Values{})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "This trigger checks signatures")

	const payload = `{"order": 1}`
	for name, header := range map[string][]string{
		"unsigned":     nil,
		"wrong secret": {"X-Hub-Signature-256", "sha256=" + hmacHex("other", payload)},
	} {
		status, out := b.post(t, f, "application/json", payload, header...)
		require.Equal(t, http.StatusUnauthorized, status, "%s: %v", name, out)
		require.Equal(t, "invalid_signature", errorCode(out), name)
	}
	st := readListen(t, b.bundle, f.ID)
	require.True(t, st.listening, "a refused request does not end listening")
	require.Nil(t, st.sample)

	status, out := b.post(t, f, "application/json", payload, "X-Hub-Signature-256", "sha256="+hmacHex(secret, payload))
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, map[string]any{"order": float64(1)}, readListen(t, b.bundle, f.ID).sample["trigger"])
}

func TestEditorListenEndsAndStops(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	u := editorLogin(t, b.bundle, b.member, "ada@example.com")
	id := u.newFlow(t, "Listener", "blank")
	base := "/flows/" + id.String()
	f, err := store.GetFlow(context.Background(), b.pool, b.member.WorkspaceID, id)
	require.NoError(t, err)

	// Past its deadline: 404, and the panel says the listen ran out.
	_, body := u.hx(t, base+"/sample/listen", url.Values{})
	require.NotEmpty(t, pollURL(t, body))
	var deadline time.Time
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`UPDATE flows SET listen_until = now() - interval '1 second' WHERE id = $1 RETURNING listen_until`, id).Scan(&deadline))
	poll := base + "/sample/listen?until=" + strconv.FormatInt(deadline.UnixMilli(), 10)
	status, out := b.post(t, f, "application/json", `{"type": "late"}`)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	resp, body := u.hxGet(t, poll)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-state="expired"`)
	require.Contains(t, body, "No request arrived within 5 minutes")
	require.NotContains(t, body, "hx-trigger", "polling stops")
	require.Nil(t, readListen(t, b.bundle, id).sample)

	// Stopped by hand: 404 too, and a poll still in flight shows the button.
	_, body = u.hx(t, base+"/sample/listen", url.Values{})
	poll = pollURL(t, body)
	resp, body = u.hx(t, base+"/sample/listen/stop", url.Values{})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Stopped listening")
	require.Contains(t, body, `data-state="idle"`)
	require.False(t, readListen(t, b.bundle, id).listening)
	status, out = b.post(t, f, "application/json", `{"type": "late"}`)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	resp, body = u.hxGet(t, poll)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-state="idle"`)

	// Listening needs edit rights and a CSRF token.
	resp, _ = postForm(t, u.c, b.url+base+"/sample/listen", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.False(t, readListen(t, b.bundle, id).listening)
}
