// Package storetest gives each test a fresh, migrated Postgres database: a managed
// local Postgres is started once per test binary (or TEST_DATABASE_URL is used),
// a template database is migrated once, and every test gets a clone of it.
//
// A package using it calls storetest.Main from TestMain so that the server it
// started is stopped when the tests end.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/localpg"
)

var (
	once     sync.Once
	initErr  error
	server   *localpg.Server
	tmpDir   string
	adminURL string // a URL to the maintenance database
	template string
	counter  atomic.Int64
)

// Main runs the tests and then stops the server this binary started.
func Main(m *testing.M) {
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if template != "" && initErr == nil {
		if conn, err := pgx.Connect(ctx, adminURL); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize())
			conn.Close(ctx)
		}
	}
	if server != nil {
		_ = server.Stop(ctx)
	}
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		adminURL = u
	} else {
		dir, err := os.MkdirTemp("", "sbtest-pg-*")
		if err != nil {
			return err
		}
		tmpDir = dir
		// The postgres user must be able to enter the folder when we run as root.
		if err := os.Chmod(dir, 0o711); err != nil {
			return err
		}
		server, err = localpg.Start(ctx, localpg.Options{
			Dir: dir + "/pg",
			Settings: map[string]string{
				"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
				"shared_buffers": "32MB", "max_connections": "300",
			},
		})
		if err != nil {
			return err
		}
		adminURL = server.URL("postgres")
	}
	template = fmt.Sprintf("sbtpl_%d_%d", os.Getpid(), rand.IntN(1_000_000))
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("storetest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return fmt.Errorf("storetest: create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(adminURL, template))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	return nil
}

func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		// key=value DSN
		return raw + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}

// URL returns the URL of a fresh migrated database for this test, dropped when
// the test ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { initErr = setup() })
	if initErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("storetest: no Postgres (CI=true makes this a failure): %v", initErr)
		}
		t.Skipf("storetest: no Postgres: %v", initErr)
	}
	ctx := context.Background()
	name := fmt.Sprintf("%s_t%d", template, counter.Add(1))
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("storetest: connect: %v", err)
	}
	defer conn.Close(ctx)
	// CREATE DATABASE … TEMPLATE fails while another clone is being made from
	// the same template; retry briefly.
	for i := 0; ; i++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize())
		if err == nil || i > 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return withDatabase(adminURL, name)
}

// Pool returns a pool on a fresh migrated database for this test.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := URL(t)
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("storetest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
