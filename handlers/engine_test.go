package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/catalog"
	"github.com/switchboard/switchboard/handlers"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// engineBundle is a running app with River workers and a target HTTP server
// whose answers each test scripts.
type engineBundle struct {
	*bundle
	member store.Member
	token  string
	target *target
}

// target is an HTTP server the flows call; handle decides each answer.
type target struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string][]targetHit
	handle func(path string, n int, body map[string]any) (int, any)
}

type targetHit struct {
	Body   map[string]any
	Header http.Header
}

func newTarget(t *testing.T) *target {
	tg := &target{hits: map[string][]targetHit{}}
	tg.handle = func(string, int, map[string]any) (int, any) { return 200, map[string]any{"ok": true} }
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		tg.mu.Lock()
		tg.hits[r.URL.Path] = append(tg.hits[r.URL.Path], targetHit{Body: body, Header: r.Header.Clone()})
		n := len(tg.hits[r.URL.Path])
		h := tg.handle
		tg.mu.Unlock()
		status, out := h(r.URL.Path, n, body)
		w.Header().Set("Content-Type", "application/json")
		if status == 429 {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) setHandle(h func(path string, n int, body map[string]any) (int, any)) {
	tg.mu.Lock()
	tg.handle = h
	tg.mu.Unlock()
}

func (tg *target) calls(path string) []targetHit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]targetHit(nil), tg.hits[path]...)
}

func setupEngine(t *testing.T) *engineBundle {
	t.Helper()
	pool := storetest.Pool(t)
	sealer, err := store.NewSealer(make([]byte, 32))
	require.NoError(t, err)
	cat := catalog.NewWithEgress(loopback)
	httpc := connectors.NewHTTPClient(connectors.EgressOptions{Allow: loopback})
	eng := jobs.NewEngine(jobs.EngineDeps{Pool: pool, Catalog: cat, HTTP: httpc, OpenConnection: jobs.StoreConnections(pool, sealer)})
	rc, err := jobs.NewClient(jobs.Config{Workers: 20}, jobs.Deps{Pool: pool, Engine: eng})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = rc.StopAndCancel(stopCtx)
		cancel()
	})
	app := handlers.New(handlers.Deps{Pool: pool, Sealer: sealer, Catalog: cat, Engine: eng, HTTP: httpc,
		BaseURL: "http://localhost:8080", MaxBody: 64 << 10, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	b := &bundle{pool: pool, url: "http://" + ln.Addr().String()}
	m, tok := b.owner(t, "ada@example.com", "Acme")
	return &engineBundle{bundle: b, member: m, token: tok, target: newTarget(t)}
}

// flow stores a flow directly (the flows API has its own tests) and returns it.
func (b *engineBundle) flow(t *testing.T, def string) store.Flow {
	t.Helper()
	def = strings.ReplaceAll(def, "TARGET", b.target.URL)
	f, err := store.CreateFlow(context.Background(), b.pool, b.member.WorkspaceID, "test flow", []byte(def), true, nil)
	require.NoError(t, err)
	return f
}

func (b *engineBundle) post(t *testing.T, f store.Flow, contentType, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/hooks/"+f.WebhookToken, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(raw, &out), "body %s", raw)
	return resp.StatusCode, out
}

// waitRun polls the run until its status is one of want.
func (b *engineBundle) waitRun(t *testing.T, runID string, want ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, run := b.api(t, http.MethodGet, "/api/v1/runs/"+runID, b.token, nil)
		require.Equal(t, http.StatusOK, status, "%v", run)
		for _, w := range want {
			if run["status"] == w {
				return run
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %v, want %v: %v", runID, run["status"], want, run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func step(run map[string]any, id string) map[string]any {
	for _, s := range run["steps"].([]any) {
		if s.(map[string]any)["id"] == id {
			return s.(map[string]any)
		}
	}
	return nil
}

func TestDAGParallelSkipAndJoin(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(path string, n int, body map[string]any) (int, any) {
		return 200, map[string]any{"path": path, "echo": body, "id": "obj-" + strings.TrimPrefix(path, "/")}
	})
	f := b.flow(t, `{"trigger": {"type": "webhook"},
	 "steps": [
	  {"id": "a", "action": "http.request", "needs": [],
	   "input": {"method": "POST", "url": "TARGET/a", "body": {"email": "{{ trigger.user.email }}", "n": "{{ trigger.n }}"}}},
	  {"id": "b", "action": "http.request", "needs": [],
	   "input": {"method": "POST", "url": "TARGET/b", "body": {"plan": "{{ trigger.user.plan }}"}}},
	  {"id": "vip", "action": "http.request", "needs": [], "if": "trigger.user.plan == 'enterprise'",
	   "input": {"method": "POST", "url": "TARGET/vip", "body": {}}},
	  {"id": "after_vip", "action": "http.request", "needs": ["vip"],
	   "input": {"method": "POST", "url": "TARGET/after_vip", "body": {}}},
	  {"id": "join", "action": "http.request", "needs": ["a", "b", "vip"],
	   "input": {"method": "POST", "url": "TARGET/join",
	             "body": {"from_a": "{{ steps.a.body.id }}", "text": "a={{ steps.a.body.echo.email }} b={{ steps.b.status }}", "vip": "{{ steps.vip }}"}}}]}`)

	status, acc := b.post(t, f, "application/json", `{"user": {"email": "ada@example.com", "plan": "free"}, "n": 42}`)
	require.Equal(t, http.StatusAccepted, status, "%v", acc)
	require.NotNil(t, acc["run_id"])
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"], "%v", run)

	require.Equal(t, "succeeded", step(run, "a")["status"])
	require.Equal(t, "succeeded", step(run, "b")["status"])
	require.Equal(t, "skipped", step(run, "vip")["status"], "the conditional step is skipped")
	require.Equal(t, "skipped", step(run, "after_vip")["status"], "a step whose only need was skipped is skipped")
	require.Equal(t, "succeeded", step(run, "join")["status"], "a join runs after a skipped need when another succeeded")

	// Templating from trigger (typed: 42 stays a number) and from steps.<id>.
	a := b.target.calls("/a")
	require.Len(t, a, 1)
	require.Equal(t, "ada@example.com", a[0].Body["email"])
	require.Equal(t, float64(42), a[0].Body["n"])
	join := b.target.calls("/join")
	require.Len(t, join, 1)
	require.Equal(t, "obj-a", join[0].Body["from_a"])
	require.Equal(t, "a=ada@example.com b=200", join[0].Body["text"])
	require.Nil(t, join[0].Body["vip"])
	require.Empty(t, b.target.calls("/vip"))
	require.Empty(t, b.target.calls("/after_vip"))

	// The rendered input and the output are kept per step; the trigger too.
	inA := step(run, "a")["input"].(map[string]any)
	require.Equal(t, "TARGET/a", strings.Replace(inA["url"].(string), b.target.URL, "TARGET", 1))
	require.Equal(t, float64(200), step(run, "a")["output"].(map[string]any)["status"])
	require.Equal(t, "free", run["trigger"].(map[string]any)["user"].(map[string]any)["plan"])
	// The outbound idempotency key is run id + step id.
	require.Equal(t, acc["run_id"].(string)+":a", a[0].Header.Get("Idempotency-Key"))
}

func TestRetryThenSuccessAndPermanentFailure(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(path string, n int, _ map[string]any) (int, any) {
		switch {
		case path == "/flaky" && n <= 2:
			return 503, map[string]any{"error": "busy"}
		case path == "/bad":
			return 404, map[string]any{"error": "no such thing"}
		}
		return 200, map[string]any{"ok": true}
	})
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "flaky", "action": "http.request", "retry": {"max_attempts": 4, "initial_interval": "100ms", "max_interval": "200ms"},
	   "input": {"method": "POST", "url": "TARGET/flaky"}}]}`)
	_, acc := b.post(t, f, "application/json", `{}`)
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"])
	s := step(run, "flaky")
	require.EqualValues(t, 3, s["attempts"], "two 503s then a 200")
	require.Len(t, b.target.calls("/flaky"), 3)
	hist := s["history"].([]any)
	require.Len(t, hist, 3)
	require.Equal(t, "retrying", hist[0].(map[string]any)["status"])
	require.Contains(t, hist[0].(map[string]any)["error"], "503")
	require.Equal(t, "succeeded", hist[2].(map[string]any)["status"])
	// Every call of the step carried the same outbound idempotency key.
	keys := map[string]bool{}
	for _, c := range b.target.calls("/flaky") {
		keys[c.Header.Get("Idempotency-Key")] = true
	}
	require.Len(t, keys, 1)

	// A 4xx fails at once: one attempt, the run failed, the error kept.
	f2 := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "bad", "action": "http.request", "input": {"method": "GET", "url": "TARGET/bad"}},
	  {"id": "next", "action": "http.request", "input": {"method": "GET", "url": "TARGET/next"}}]}`)
	_, acc = b.post(t, f2, "application/json", `{}`)
	runID := acc["run_id"].(string)
	run = b.waitRun(t, runID, "succeeded", "failed")
	require.Equal(t, "failed", run["status"])
	require.EqualValues(t, 1, step(run, "bad")["attempts"])
	require.Contains(t, step(run, "bad")["error"], "404")
	require.Equal(t, "pending", step(run, "next")["status"], "a failed need leaves its dependent pending")
	require.Len(t, b.target.calls("/bad"), 1)

	// Fix the target, retry the failed step: the run goes on from there.
	b.target.setHandle(func(string, int, map[string]any) (int, any) { return 200, map[string]any{"fixed": true} })
	status, body := b.api(t, http.MethodPost, "/api/v1/runs/"+runID+"/steps/next/retry", b.token, nil)
	require.Equal(t, http.StatusConflict, status, "only a failed step can be retried: %v", body)
	status, body = b.api(t, http.MethodPost, "/api/v1/runs/"+runID+"/steps/bad/retry", b.token, nil)
	require.Equal(t, http.StatusAccepted, status, "%v", body)
	run = b.waitRun(t, runID, "succeeded", "failed")
	require.Equal(t, "succeeded", run["status"], "%v", run)
	require.EqualValues(t, 2, step(run, "bad")["attempts"])
	require.Equal(t, "succeeded", step(run, "next")["status"])
	require.Len(t, b.target.calls("/next"), 1)
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.target.setHandle(func(string, int, map[string]any) (int, any) { return 500, map[string]any{"error": "down"} })
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "down", "action": "http.request", "retry": {"max_attempts": 2, "initial_interval": "100ms"},
	   "input": {"method": "POST", "url": "TARGET/down"}}]}`)
	_, acc := b.post(t, f, "application/json", `{}`)
	run := b.waitRun(t, acc["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "failed", run["status"])
	require.EqualValues(t, 2, step(run, "down")["attempts"])
	require.Len(t, b.target.calls("/down"), 2)

	// Bulk redrive: the failed run is retried.
	b.target.setHandle(func(string, int, map[string]any) (int, any) { return 200, map[string]any{} })
	status, body := b.api(t, http.MethodPost, "/api/v1/runs/retry-failed", b.token, map[string]any{"flow_id": f.ID})
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, body["retried"])
	run = b.waitRun(t, acc["run_id"].(string), "succeeded")
	require.EqualValues(t, 3, step(run, "down")["attempts"])
}

func TestReplayCancelAndVersionPinning(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	release := make(chan struct{})
	b.target.setHandle(func(path string, _ int, _ map[string]any) (int, any) {
		if path == "/slow" {
			<-release
		}
		return 200, map[string]any{}
	})
	t.Cleanup(func() { close(release) })
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "echo", "action": "http.request", "input": {"method": "POST", "url": "TARGET/v1", "body": {"name": "{{ trigger.name }}"}}}]}`)
	_, acc := b.post(t, f, "application/json", `{"name": "first"}`)
	first := acc["run_id"].(string)
	b.waitRun(t, first, "succeeded")

	// A new version: the old run keeps version 1; new runs use version 2.
	_, err := store.UpdateFlow(context.Background(), b.pool, b.member.WorkspaceID, f.ID, nil,
		[]byte(strings.ReplaceAll(`{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "echo", "action": "http.request", "input": {"method": "POST", "url": "TARGET/v2", "body": {"name": "{{ trigger.name }}"}}}]}`, "TARGET", b.target.URL)), nil)
	require.NoError(t, err)
	status, run := b.api(t, http.MethodGet, "/api/v1/runs/"+first, b.token, nil)
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1, run["flow_version"])

	// Replay with an edited payload: a new run on the current version.
	status, replay := b.api(t, http.MethodPost, "/api/v1/runs/"+first+"/replay", b.token, map[string]any{"payload": map[string]any{"name": "edited"}})
	require.Equal(t, http.StatusCreated, status, "%v", replay)
	require.NotEqual(t, first, replay["id"])
	require.EqualValues(t, 2, replay["flow_version"])
	require.Equal(t, first, replay["replay_of"])
	b.waitRun(t, replay["id"].(string), "succeeded")
	v2 := b.target.calls("/v2")
	require.Len(t, v2, 1)
	require.Equal(t, "edited", v2[0].Body["name"])
	// Replay without a payload reuses the original.
	status, replay = b.api(t, http.MethodPost, "/api/v1/runs/"+first+"/replay", b.token, nil)
	require.Equal(t, http.StatusCreated, status)
	b.waitRun(t, replay["id"].(string), "succeeded")
	require.Equal(t, "first", b.target.calls("/v2")[1].Body["name"])

	// Cancel a run whose first step hangs: the running step and the pending one are cancelled.
	f2 := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "slow", "action": "http.request", "input": {"method": "POST", "url": "TARGET/slow"}},
	  {"id": "after", "action": "http.request", "input": {"method": "POST", "url": "TARGET/after"}}]}`)
	_, acc = b.post(t, f2, "application/json", `{}`)
	id := acc["run_id"].(string)
	run = b.waitRun(t, id, "running")
	// A slow call shows as running, with its attempt and rendered input.
	require.Eventually(t, func() bool {
		_, run = b.api(t, http.MethodGet, "/api/v1/runs/"+id, b.token, nil)
		return step(run, "slow")["status"] == "running"
	}, 10*time.Second, 20*time.Millisecond)
	require.EqualValues(t, 1, step(run, "slow")["attempts"])
	require.Equal(t, "POST", step(run, "slow")["input"].(map[string]any)["method"])
	status, run = b.api(t, http.MethodPost, "/api/v1/runs/"+id+"/cancel", b.token, nil)
	require.Equal(t, http.StatusOK, status, "%v", run)
	require.Equal(t, "cancelled", run["status"])
	require.Equal(t, "cancelled", step(run, "slow")["status"])
	require.Equal(t, "cancelled", step(run, "after")["status"])
	status, _ = b.api(t, http.MethodPost, "/api/v1/runs/"+id+"/cancel", b.token, nil)
	require.Equal(t, http.StatusConflict, status, "a finished run cannot be cancelled again")
	time.Sleep(300 * time.Millisecond)
	run = b.waitRun(t, id, "cancelled")
	require.Equal(t, "cancelled", step(run, "slow")["status"], "the interrupted worker does not overwrite the cancellation")
	require.Empty(t, b.target.calls("/after"))
	// The hanging step's River job was found by its args and cancelled.
	require.Eventually(t, func() bool {
		var state string
		err := b.pool.QueryRow(context.Background(), `SELECT state FROM river_job WHERE args @> jsonb_build_object('run_id', $1::text)`, id).Scan(&state)
		return err == nil && state == "cancelled"
	}, 20*time.Second, 50*time.Millisecond)
}

func TestIngestIdempotentUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook", "idempotency_key": "trigger.event_id"}, "steps": [
	  {"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	var wg sync.WaitGroup
	var accepted, ok atomic.Int32
	runIDs := sync.Map{}
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, out := b.post(t, f, "application/json", `{"event_id": "evt-1"}`)
			switch status {
			case http.StatusAccepted:
				accepted.Add(1)
			case http.StatusOK:
				ok.Add(1)
			}
			runIDs.Store(out["run_id"], true)
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, accepted.Load(), "exactly one post starts the run")
	require.EqualValues(t, 49, ok.Load(), "the others answer 200 with the first run")
	n := 0
	runIDs.Range(func(any, any) bool { n++; return true })
	require.Equal(t, 1, n, "every answer names the same run")
	var runs int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE flow_id = $1`, f.ID).Scan(&runs))
	require.Equal(t, 1, runs)

	// The Idempotency-Key header works the same way.
	s1, a1 := b.post(t, f, "application/json", `{"event_id": "x1"}`, "Idempotency-Key", "hdr-1")
	s2, a2 := b.post(t, f, "application/json", `{"event_id": "x2"}`, "Idempotency-Key", "hdr-1")
	require.Equal(t, http.StatusAccepted, s1)
	require.Equal(t, http.StatusOK, s2)
	require.Equal(t, a1["run_id"], a2["run_id"])
}

func TestIngestBodiesAndErrors(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook", "if": "trigger.kind != 'test'"}, "steps": [
	  {"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s", "body": {"got": "{{ trigger }}"}}}]}`)

	status, out := b.post(t, f, "application/json", `{"kind": "real"`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_json", out["error"].(map[string]any)["code"])

	status, out = b.post(t, f, "application/pdf", `%PDF`)
	require.Equal(t, http.StatusUnsupportedMediaType, status)
	require.Equal(t, "unsupported_media_type", out["error"].(map[string]any)["code"])

	status, out = b.post(t, f, "application/json", `{"pad": "`+strings.Repeat("x", 64<<10)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	require.Equal(t, "body_too_large", out["error"].(map[string]any)["code"])

	status, out = b.post(t, store.Flow{WebhookToken: "nope"}, "application/json", `{}`)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "not_found", out["error"].(map[string]any)["code"])

	// Filtered by the trigger's if: recorded, no run.
	status, out = b.post(t, f, "application/json", `{"kind": "test"}`)
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, true, out["filtered"])
	require.Nil(t, out["run_id"])
	require.NotEmpty(t, out["event_id"])

	// Form and text bodies become objects and strings.
	status, out = b.post(t, f, "application/x-www-form-urlencoded", `kind=form&tag=a&tag=b`)
	require.Equal(t, http.StatusAccepted, status)
	run := b.waitRun(t, out["run_id"].(string), "succeeded")
	require.Equal(t, map[string]any{"kind": "form", "tag": []any{"a", "b"}}, run["trigger"])
	status, out = b.post(t, f, "text/plain", `hello`)
	require.Equal(t, http.StatusAccepted, status)
	run = b.waitRun(t, out["run_id"].(string), "succeeded")
	require.Equal(t, "hello", run["trigger"])

	// A disabled flow is not found.
	require.NoError(t, store.SetFlowEnabled(context.Background(), b.pool, b.member.WorkspaceID, f.ID, false))
	status, _ = b.post(t, f, "application/json", `{}`)
	require.Equal(t, http.StatusNotFound, status)
	// Nothing half-written by the refused posts: 3 events (filtered, form, text).
	var events int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE flow_id = $1`, f.ID).Scan(&events))
	require.Equal(t, 3, events)
}

func TestRunsAPIListAndIsolation(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	var ids []string
	for i := 0; i < 5; i++ {
		status, out := b.api(t, http.MethodPost, "/api/v1/runs", b.token, map[string]any{"flow_id": f.ID, "payload": map[string]any{"i": i}})
		require.Equal(t, http.StatusCreated, status, "%v", out)
		ids = append(ids, out["id"].(string))
	}
	for _, id := range ids {
		b.waitRun(t, id, "succeeded")
	}
	seen := []string{}
	cursor := ""
	for {
		path := fmt.Sprintf("/api/v1/runs?flow_id=%s&status=succeeded&limit=2", f.ID)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		status, page := b.api(t, http.MethodGet, path, b.token, nil)
		require.Equal(t, http.StatusOK, status)
		for _, r := range page["runs"].([]any) {
			seen = append(seen, r.(map[string]any)["id"].(string))
		}
		if page["next_cursor"] == nil {
			break
		}
		cursor = page["next_cursor"].(string)
	}
	require.Equal(t, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, seen, "newest first, every run once")

	status, body := b.api(t, http.MethodGet, "/api/v1/runs?status=bogus", b.token, nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "status", body["error"].(map[string]any)["details"].([]any)[0].(map[string]any)["path"])

	// Another workspace sees none of it.
	_, other := b.owner(t, "bob@example.com", "Other")
	for _, p := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/runs/" + ids[0]},
		{http.MethodPost, "/api/v1/runs/" + ids[0] + "/replay"},
		{http.MethodPost, "/api/v1/runs/" + ids[0] + "/cancel"},
		{http.MethodPost, "/api/v1/runs/" + ids[0] + "/steps/s/retry"},
		{http.MethodGet, "/api/v1/runs/" + uuid.NewString()},
		{http.MethodGet, "/api/v1/runs/not-a-uuid"},
	} {
		status, _ := b.api(t, p.method, p.path, other, nil)
		require.Equal(t, http.StatusNotFound, status, "%s %s", p.method, p.path)
	}
	status, body = b.api(t, http.MethodGet, "/api/v1/runs", other, nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body["runs"])
	status, _ = b.api(t, http.MethodPost, "/api/v1/runs", other, map[string]any{"flow_id": f.ID})
	require.Equal(t, http.StatusNotFound, status)
}

func TestIngestRefusesNUL(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "s", "action": "http.request", "input": {"method": "POST", "url": "TARGET/s"}}]}`)
	status, out := b.post(t, f, "application/json", `{"a": "x\u0000y"}`)
	require.Equal(t, http.StatusBadRequest, status, "%v", out)
	require.Equal(t, "invalid_body", out["error"].(map[string]any)["code"])
	// An escaped backslash before u0000 is ordinary text.
	status, _ = b.post(t, f, "application/json", `{"a": "x\\u0000y"}`)
	require.Equal(t, http.StatusAccepted, status)
}

func TestStepIfErrorFailsThatStep(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "odd", "action": "http.request", "needs": [], "if": "trigger.name", "input": {"method": "POST", "url": "TARGET/odd"}},
	  {"id": "fine", "action": "http.request", "needs": [], "input": {"method": "POST", "url": "TARGET/fine"}}]}`)
	status, out := b.post(t, f, "application/json", `{"name": "not a bool"}`)
	require.Equal(t, http.StatusAccepted, status)
	run := b.waitRun(t, out["run_id"].(string), "succeeded", "failed")
	require.Equal(t, "failed", run["status"])
	require.Equal(t, "failed", step(run, "odd")["status"])
	require.NotEmpty(t, step(run, "odd")["error"], "the expression's error is shown on the step")
	require.Equal(t, "succeeded", step(run, "fine")["status"], "a parallel branch is unaffected")
	require.Empty(t, b.target.calls("/odd"))
	var jobs int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE args->>'step_id' = 'odd'`).Scan(&jobs))
	require.Zero(t, jobs, "no job is queued for a step whose if failed")
}

// A JSON body is stored as sent when Postgres takes it unchanged (numbers keep
// every digit); one with \u escapes Postgres would refuse is stored from its
// parsed value instead, never failing the request.
func TestIngestStoresJSONBodies(t *testing.T) {
	b := setupEngine(t)
	f := b.flow(t, `{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "a", "action": "http.request", "input": {"method": "POST", "url": "TARGET/a", "body": {}}}]}`)
	stored := func(eventID string) string {
		var s string
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT payload::text FROM events WHERE id = $1`, eventID).Scan(&s))
		return s
	}
	status, acc := b.post(t, f, "application/json", `{"id": 12345678901234567890, "name": "Zoë"}`)
	require.Equal(t, 202, status)
	require.Equal(t, `{"id": 12345678901234567890, "name": "Zoë"}`, stored(acc["event_id"].(string)))

	status, acc = b.post(t, f, "application/json", `{"s": "\ud800 lone", "t": "\u00e9"}`)
	require.Equal(t, 202, status, "%v", acc)
	require.Equal(t, `{"s":"� lone","t":"é"}`, stored(acc["event_id"].(string)), "encoded again from the parsed value")
}
