package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/store"
)

// pprofOverlay adds net/http/pprof to the server binary through `go build
// -overlay`, without touching the repository: it listens on BENCH_PPROF_ADDR.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
)

func init() {
	if addr := os.Getenv("BENCH_PPROF_ADDR"); addr != "" {
		runtime.SetMutexProfileFraction(20)
		runtime.SetBlockProfileRate(100000)
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// buildServer compiles ./cmd/switchboard into the temporary folder.
func (b *bench) buildServer(ctx context.Context) (string, error) {
	v, _ := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	b.res.Machine.Go = strings.TrimSpace(string(v))
	if b.o.bin != "" {
		return filepath.Abs(b.o.bin)
	}
	bin := filepath.Join(b.tmp, "switchboard")
	src := b.root
	if b.o.src != "" {
		var err error
		if src, err = filepath.Abs(b.o.src); err != nil {
			return "", err
		}
	}
	args := []string{"build", "-o", bin}
	replace := map[string]string{}
	if b.o.overlay != "" {
		data, err := os.ReadFile(b.o.overlay)
		if err != nil {
			return "", err
		}
		var ov struct{ Replace map[string]string }
		if err := json.Unmarshal(data, &ov); err != nil {
			return "", fmt.Errorf("-overlay %s: %w", b.o.overlay, err)
		}
		for k, v := range ov.Replace {
			replace[k] = v
			b.res.Overlay = append(b.res.Overlay, k)
		}
		sort.Strings(b.res.Overlay)
	}
	if b.o.pprofDir != "" {
		file := filepath.Join(b.tmp, "zz_bench_pprof.go")
		if err := os.WriteFile(file, []byte(pprofOverlay), 0o644); err != nil {
			return "", err
		}
		replace[filepath.Join(src, "cmd", "switchboard", "zz_bench_pprof.go")] = file
	}
	if len(replace) > 0 {
		overlay, _ := json.Marshal(map[string]any{"Replace": replace})
		ov := filepath.Join(b.tmp, "overlay.json")
		if err := os.WriteFile(ov, overlay, 0o644); err != nil {
			return "", err
		}
		args = append(args, "-overlay", ov)
	}
	args = append(args, "./cmd/switchboard")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/switchboard: %w\n%s", err, out)
	}
	return bin, nil
}

// serverProc is a running `switchboard serve`.
type serverProc struct {
	cmd     *exec.Cmd
	URL     string
	pprof   string // address, when built with pprof
	logPath string
	exited  chan struct{}
}

func (s *serverProc) pid() int { return s.cmd.Process.Pid }

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs `switchboard <role>` (serve, or web for ingest alone) on a
// free loopback port against the bench's Postgres and waits for /readyz.
func (b *bench) startServer(ctx context.Context, bin, role string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b.starts++
	s := &serverProc{URL: "http://" + addr, logPath: filepath.Join(b.tmp, fmt.Sprintf("server-%d-%s.log", b.starts, role)),
		exited: make(chan struct{})}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + b.pg.URL(serverDB),
		"SWITCHBOARD_ADDR=" + addr,
		"SWITCHBOARD_BASE_URL=" + s.URL,
		"SWITCHBOARD_DATA=" + filepath.Join(b.tmp, "data"),
		"SWITCHBOARD_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key),
		"SWITCHBOARD_EGRESS_ALLOW=127.0.0.0/8",
	}
	if b.o.workers > 0 {
		env = append(env, "SWITCHBOARD_WORKERS="+strconv.Itoa(b.o.workers))
	}
	if b.o.pprofDir != "" {
		if s.pprof, err = freeAddr(); err != nil {
			return err
		}
		env = append(env, "BENCH_PPROF_ADDR="+s.pprof)
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, role)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C reaches us, and we stop it properly
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); logf.Close(); close(s.exited) }()
	b.srv = s
	if b.starts == 1 {
		b.cleanups = append(b.cleanups, func() { b.stopServer() })
	}

	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("switchboard %s exited during start; log:\n%s", role, tail(s.logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("switchboard %s not ready after 90s; log:\n%s", role, tail(s.logPath, 20))
		}
	}
}

// stopServer sends SIGTERM and waits for the graceful shutdown (then kills).
func (b *bench) stopServer() {
	s := b.srv
	if s == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(45 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// setupWorkspace creates the bench's owner and API token with the store
// package; flows are then created over the API, which validates them.
func (b *bench) setupWorkspace(ctx context.Context) error {
	hash, err := store.HashPassword("bench-password-not-secret")
	if err != nil {
		return err
	}
	m, err := store.CreateOwner(ctx, b.db, "bench@example.com", hash, "Bench")
	if err != nil {
		return err
	}
	tok, _, err := store.CreateToken(ctx, b.db, m, "bench")
	if err != nil {
		return err
	}
	b.apiToken = tok
	return nil
}

// flow is a flow the bench created.
type flow struct {
	ID   string
	Hook string // webhook URL
	Tag  string // the fake's tag its steps call
}

// createFlow creates a chain of `steps` http.request steps that POST to the
// fake under tag; the first is named "call" (one step) or "a", "b", "c".
func (b *bench) createFlow(ctx context.Context, tag string, steps int) (flow, error) {
	ids := []string{"call"}
	if steps > 1 {
		ids = []string{"a", "b", "c", "d", "e", "f"}[:steps]
	}
	var ss []map[string]any
	for _, id := range ids {
		ss = append(ss, map[string]any{
			"id": id, "action": "http.request",
			"input": map[string]any{
				"method": "POST",
				"url":    b.fake.URL + "/hit/" + tag,
				"body": map[string]any{
					"sent_us":  "{{ trigger.sent_us }}",
					"order_id": "{{ trigger.order.id }}",
					"text":     "Order {{ trigger.order.id }} for {{ trigger.customer.email }}",
				},
			},
		})
	}
	body, _ := json.Marshal(map[string]any{
		"name":       "bench " + tag,
		"enabled":    true,
		"definition": map[string]any{"trigger": map[string]any{"type": "webhook"}, "steps": ss},
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.srv.URL+"/api/v1/flows", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.apiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return flow{}, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return flow{}, fmt.Errorf("create flow %s: %d %s", tag, resp.StatusCode, rb)
	}
	var out struct {
		ID         string `json:"id"`
		WebhookURL string `json:"webhook_url"`
	}
	if err := json.Unmarshal(rb, &out); err != nil || out.WebhookURL == "" {
		return flow{}, fmt.Errorf("create flow %s: unexpected answer %s", tag, rb)
	}
	return flow{ID: out.ID, Hook: out.WebhookURL, Tag: tag}, nil
}

// hookOn is the flow's webhook URL on the server now running.
func (b *bench) hookOn(f flow) string {
	if i := strings.Index(f.Hook, "/hooks/"); i >= 0 {
		return b.srv.URL + f.Hook[i:]
	}
	return f.Hook
}

// runCounts are a flow's runs in the database by status.
type runCounts struct {
	Total, Succeeded, Failed, Other int
}

func (b *bench) runCounts(ctx context.Context, f flow) (runCounts, error) {
	var c runCounts
	err := b.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'succeeded'),
		count(*) FILTER (WHERE status IN ('failed', 'cancelled')) FROM runs WHERE flow_id = $1`, f.ID).
		Scan(&c.Total, &c.Succeeded, &c.Failed)
	c.Other = c.Total - c.Succeeded - c.Failed
	return c, err
}

// waitRuns waits until want runs of the flow are finished (succeeded or
// failed) and returns when that happened.
func (b *bench) waitRuns(ctx context.Context, f flow, want int) (runCounts, time.Time, error) {
	deadline := time.Now().Add(b.sz.drainTimeout)
	for {
		c, err := b.runCounts(ctx, f)
		now := time.Now()
		if err != nil {
			return c, now, err
		}
		if c.Succeeded+c.Failed >= want {
			return c, now, nil
		}
		if now.After(deadline) {
			return c, now, fmt.Errorf("flow %s: %d of %d runs finished after %s (%d still queued or running)",
				f.Tag, c.Succeeded+c.Failed, want, b.sz.drainTimeout, c.Other)
		}
		select {
		case <-ctx.Done():
			return c, now, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
