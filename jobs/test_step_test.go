package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/catalog"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// recorder answers each path with the status set for it and counts calls.
type recorder struct {
	mu     sync.Mutex
	calls  map[string][]map[string]any
	status map[string]int
}

func newRecorder(t *testing.T) (*recorder, string) {
	rec := &recorder{calls: map[string][]map[string]any{}, status: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		rec.mu.Lock()
		rec.calls[r.URL.Path] = append(rec.calls[r.URL.Path], body)
		status := rec.status[r.URL.Path]
		rec.mu.Unlock()
		if status == 0 {
			status = 200
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

func (r *recorder) n(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls[path])
}

func startEngine(t *testing.T) *jobs.Engine {
	t.Helper()
	pool := storetest.Pool(t)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	eng := jobs.NewEngine(jobs.EngineDeps{Pool: pool, Catalog: catalog.NewWithEgress(loopback),
		HTTP: connectors.NewHTTPClient(connectors.EgressOptions{Allow: loopback})})
	rc, err := jobs.NewClient(jobs.Config{Workers: 20}, jobs.Deps{Pool: pool, Engine: eng})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		stop, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = rc.StopAndCancel(stop)
		cancel()
	})
	return eng
}

func waitTestRun(t *testing.T, eng *jobs.Engine, f store.Flow, id uuid.UUID) store.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		run, err := store.GetRun(context.Background(), eng.Pool, f.WorkspaceID, id)
		require.NoError(t, err)
		if run.FinishedAt != nil {
			return run
		}
		require.True(t, time.Now().Before(deadline), "test run %s still %s", id, run.Status)
		time.Sleep(20 * time.Millisecond)
	}
}

const testDraft = `{"trigger": {"type": "webhook", "if": "trigger.never == true"},
  "steps": [
    {"id": "a", "action": "http.request", "input": {"method": "POST", "url": "TARGET/a", "body": {}}},
    {"id": "b", "action": "http.request", "if": "false", "retry": {"max_attempts": 5},
     "input": {"method": "POST", "url": "TARGET/b", "body": {"email": "{{ trigger.email }}", "from_a": "{{ steps.a.body.id }}"}}},
    {"id": "c", "action": "http.request", "input": {"method": "POST", "url": "TARGET/c", "body": {}}}]}`

func TestStartTestStep(t *testing.T) {
	eng := startEngine(t)
	rec, target := newRecorder(t)
	ctx := context.Background()
	h := newHistory(t, eng.Pool)
	f, err := store.GetFlow(ctx, eng.Pool, h.ws, h.flow)
	require.NoError(t, err)
	def, err := flows.Decode([]byte(strings.ReplaceAll(testDraft, "TARGET", target)))
	require.NoError(t, err)

	t.Run("renders from samples and records a test run", func(t *testing.T) {
		id, err := eng.StartTestStep(ctx, jobs.TestStep{Flow: f, Definition: def, StepID: "b",
			Trigger: map[string]any{"email": "ada@example.com"}, Outputs: map[string]any{"a": map[string]any{"body": map[string]any{"id": 42}}}})
		require.NoError(t, err)
		run := waitTestRun(t, eng, f, id)
		require.Equal(t, "succeeded", run.Status)
		require.True(t, run.IsTest)
		require.NotNil(t, run.Definition)
		steps, err := store.RunSteps(ctx, eng.Pool, id)
		require.NoError(t, err)
		require.Len(t, steps, 2, "the step and the one it reads; not c")
		require.Equal(t, "a", steps[0].StepID)
		require.Equal(t, "succeeded", steps[0].Status)
		require.Equal(t, "succeeded", steps[1].Status, "its if is ignored in a test")
		var input map[string]any
		require.NoError(t, json.Unmarshal(steps[1].Input, &input))
		require.Equal(t, map[string]any{"email": "ada@example.com", "from_a": float64(42)}, input["body"], "a whole-string template keeps the type")
		require.NotNil(t, steps[1].Output)
		require.Equal(t, 0, rec.n("/a"), "stand-ins are never executed")
		require.Equal(t, 0, rec.n("/c"))
		require.Equal(t, 1, rec.n("/b"))
		ev, err := store.GetEvent(ctx, eng.Pool, run.EventID)
		require.NoError(t, err)
		require.Equal(t, "test", ev.Source)
	})

	t.Run("a failure is one attempt, no retries", func(t *testing.T) {
		rec.mu.Lock()
		rec.status["/b"] = 503
		rec.mu.Unlock()
		before := rec.n("/b")
		id, err := eng.StartTestStep(ctx, jobs.TestStep{Flow: f, Definition: def, StepID: "b", Trigger: map[string]any{}})
		require.NoError(t, err)
		run := waitTestRun(t, eng, f, id)
		require.Equal(t, "failed", run.Status)
		st, err := store.GetRunStep(ctx, eng.Pool, id, "b")
		require.NoError(t, err)
		require.Equal(t, 1, st.Attempts)
		require.NotNil(t, st.Error)
		require.Contains(t, *st.Error, "503")
		a, err := store.GetRunStep(ctx, eng.Pool, id, "a")
		require.NoError(t, err)
		require.Equal(t, "skipped", a.Status, "no sample output for a")
		require.Equal(t, before+1, rec.n("/b"))
	})

	t.Run("a step that does not compile is refused before anything is stored", func(t *testing.T) {
		bad, err := flows.Decode([]byte(`{"trigger": {"type": "webhook"}, "steps": [
		  {"id": "x", "action": "http.request", "input": {"method": "GET", "url": "{{ trigger.( }}"}}]}`))
		require.NoError(t, err)
		var n0, n1 int
		require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM runs`).Scan(&n0))
		_, err = eng.StartTestStep(ctx, jobs.TestStep{Flow: f, Definition: bad, StepID: "x"})
		var te *jobs.TestStepError
		require.True(t, errors.As(err, &te), "got %v", err)
		require.Contains(t, te.Error(), "Fix the step first")
		require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM runs`).Scan(&n1))
		require.Equal(t, n0, n1)
	})
}
