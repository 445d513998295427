package localpg

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-*")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o711))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "pg")
}

func reachable(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func TestStartReuseStop(t *testing.T) {
	if _, err := FindBinaries(); err != nil && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	ctx := context.Background()
	dir := testDir(t)

	first, err := Start(ctx, Options{Dir: dir, Settings: map[string]string{"fsync": "off"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.ForceStop(context.Background()) })
	require.True(t, first.Started(), "a new folder is initialised and started")
	require.FileExists(t, filepath.Join(dir, "PG_VERSION"))
	require.True(t, reachable(first.Port()))

	// A second Start on the same folder finds the server running and reuses it.
	second, err := Start(ctx, Options{Dir: dir})
	require.NoError(t, err)
	require.False(t, second.Started(), "a running server is reused")
	require.Equal(t, first.Port(), second.Port())

	// Stopping the reusing handle leaves the server up.
	require.NoError(t, second.Stop(ctx))
	require.True(t, reachable(first.Port()))

	// The starter stops it.
	require.NoError(t, first.Stop(ctx))
	require.False(t, reachable(first.Port()))
	require.NoFileExists(t, filepath.Join(dir, "postmaster.pid"))

	// Starting again reuses the initialised cluster (no second initdb) and starts it.
	third, err := Start(ctx, Options{Dir: dir})
	require.NoError(t, err)
	require.True(t, third.Started())
	require.NoError(t, third.Stop(ctx))
}

func TestFindBinariesMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir, err := FindBinaries()
	if err == nil {
		// The machine has /usr/lib/postgresql/*/bin; that is found without PATH.
		require.FileExists(t, filepath.Join(dir, "pg_ctl"))
		return
	}
	require.ErrorIs(t, err, ErrNoBinaries)
	require.Contains(t, err.Error(), "DATABASE_URL")
	require.Contains(t, err.Error(), "docker compose up")
}
