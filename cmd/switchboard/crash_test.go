package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// TestCrashLosesNoAcceptedEvent posts 1,000 webhooks, kills the server with
// SIGKILL part-way, restarts it, and checks that every event answered 202 has
// exactly one run and that the run completes.
func TestCrashLosesNoAcceptedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server")
	}
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.URL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()

	bin := filepath.Join(t.TempDir(), "switchboard")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	var hits sync.Map // i → *atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			I float64 `json:"i"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		v, _ := hits.LoadOrStore(int(body.I), new(atomic.Int32))
		v.(*atomic.Int32).Add(1)
		time.Sleep(5 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer target.Close()

	hash, err := store.HashPassword("correct horse battery")
	require.NoError(t, err)
	m, err := store.CreateOwner(ctx, pool, "ops@example.com", hash, "Ops")
	require.NoError(t, err)
	def := fmt.Sprintf(`{"trigger": {"type": "webhook", "idempotency_key": "trigger.i"},
	  "steps": [{"id": "call", "action": "http.request", "timeout": "2s", "input": {"method": "POST", "url": "%s/hit", "body": {"i": "{{ trigger.i }}"}}}]}`, target.URL)
	flow, err := store.CreateFlow(ctx, pool, m.WorkspaceID, "crash", []byte(def), true, nil)
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	dataDir := t.TempDir()
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "SWITCHBOARD_ADDR="+addr, "SWITCHBOARD_DATA="+dataDir,
			"SWITCHBOARD_SECRET_KEY="+base64.StdEncoding.EncodeToString(make([]byte, 32)),
			"SWITCHBOARD_EGRESS_ALLOW=127.0.0.0/8", "SWITCHBOARD_RESCUE_AFTER=3s", "SWITCHBOARD_WORKERS=20",
			"SWITCHBOARD_LOG_LEVEL=error")
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		require.NoError(t, cmd.Start())
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			require.True(t, time.Now().Before(deadline), "server not ready")
			time.Sleep(50 * time.Millisecond)
		}
	}

	srv := start()
	var (
		mu       sync.Mutex
		accepted = map[int]string{} // i → run id
		count    atomic.Int32
		killed   atomic.Bool
		restart  sync.Mutex
	)
	work := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				for {
					resp, err := client.Post("http://"+addr+"/hooks/"+flow.WebhookToken, "application/json", strings.NewReader(fmt.Sprintf(`{"i": %d}`, i)))
					if err != nil {
						restart.Lock() // wait for the server to come back
						restart.Unlock()
						time.Sleep(20 * time.Millisecond)
						continue
					}
					var body struct {
						RunID string `json:"run_id"`
					}
					_ = json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
						mu.Lock()
						if prev, ok := accepted[i]; ok && prev != body.RunID {
							t.Errorf("event %d answered with two runs: %s and %s", i, prev, body.RunID)
						}
						accepted[i] = body.RunID
						mu.Unlock()
						if count.Add(1) == 300 && killed.CompareAndSwap(false, true) {
							restart.Lock()
							_ = srv.Process.Signal(syscall.SIGKILL)
							_ = srv.Wait()
							srv = start()
							restart.Unlock()
						}
						break
					}
					time.Sleep(20 * time.Millisecond) // 5xx while shutting down: retry
				}
			}
		}()
	}
	for i := 0; i < 1000; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	require.True(t, killed.Load())
	require.Len(t, accepted, 1000)

	deadline := time.Now().Add(90 * time.Second)
	for {
		var done, total int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM runs WHERE flow_id = $1`, flow.ID).Scan(&done, &total))
		if done == 1000 {
			require.Equal(t, 1000, total, "exactly one run per event")
			break
		}
		if time.Now().After(deadline) {
			rows, _ := pool.Query(ctx, `SELECT r.status, s.status, s.attempts, coalesce(s.error, ''), j.state, j.attempt, j.scheduled_at < now()
				FROM runs r JOIN run_steps s ON s.run_id = r.id LEFT JOIN river_job j ON j.args @> jsonb_build_object('run_id', r.id::text, 'step_id', s.step_id)
				WHERE r.flow_id = $1 AND r.status <> 'succeeded' LIMIT 10`, flow.ID)
			for rows.Next() {
				var rs, ss, e, js string
				var att, jatt int
				var due bool
				_ = rows.Scan(&rs, &ss, &att, &e, &js, &jatt, &due)
				t.Logf("run %s step %s attempts %d err %q job %s attempt %d due %v", rs, ss, att, e, js, jatt, due)
			}
			rows.Close()
			t.Fatalf("%d of %d runs succeeded after the crash", done, total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, runID := range accepted {
		var status string
		require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM runs WHERE id = $1`, runID).Scan(&status), "event %d", i)
		require.Equal(t, "succeeded", status)
		v, ok := hits.Load(i)
		require.True(t, ok, "event %d never reached the target", i)
		require.GreaterOrEqual(t, v.(*atomic.Int32).Load(), int32(1))
	}
}
