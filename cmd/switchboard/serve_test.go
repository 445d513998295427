package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestServeManagedPostgres runs `serve` the way `make run` does: no
// DATABASE_URL, so the binary starts its own Postgres, migrates, serves, and
// stops that Postgres on shutdown.
func TestServeManagedPostgres(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "sbserve-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o711))
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	e := env(map[string]string{"SWITCHBOARD_DATA": dir, "SWITCHBOARD_ADDR": addr, "SWITCHBOARD_WORKERS": "4"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, e, &logs, &logs) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://%s/readyz", addr))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready in 60s; logs:\n%s", logs.b.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	pidFile := filepath.Join(dir, "pg", "postmaster.pid")
	require.FileExists(t, pidFile)
	require.FileExists(t, filepath.Join(dir, "secret.key"))
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// Another command reuses the running managed Postgres.
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"admin", "create", "--email", "ada@example.com", "--password", "correct horse battery"}, e, &out, &out))
	require.FileExists(t, pidFile, "admin create leaves serve's Postgres running")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not shut down")
	}
	require.NoFileExists(t, pidFile, "serve stops the Postgres it started")
}
