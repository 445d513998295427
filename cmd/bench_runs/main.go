// Command bench_runs checks that run history stays fast at scale: it seeds
// 1,000,000 runs (with their events, steps and attempts) into a fresh database
// with generate_series, then times the runs list's queries (store.ListRuns:
// first page, filtered, with a cursor deep in), the dashboard's and /metrics'
// queries, each with EXPLAIN ANALYZE, and a retention prune of the oldest
// tenth. It prints a Markdown report (docs/runs-at-scale.md holds one).
//
//	go run ./cmd/bench_runs                 # a throwaway managed Postgres
//	DATABASE_URL=postgres://… go run ./cmd/bench_runs   # an EMPTY database: it is filled
//
// The same runs as a test, not part of `make test`:
//
//	go test -tags scale -run TestRunsAtScale -timeout 30m -v ./cmd/bench_runs
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/localpg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench_runs:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("bench_runs", flag.ContinueOnError)
	o := seedOptions{}
	fs.IntVar(&o.Runs, "runs", 1_000_000, "runs in the big workspace")
	fs.IntVar(&o.SmallRuns, "small-runs", 20_000, "runs in a second, small workspace")
	fs.IntVar(&o.Flows, "flows", 20, "flows the big workspace's runs are spread over")
	fs.IntVar(&o.Days, "days", 30, "days the runs are spread over (newest now)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url := getenv("DATABASE_URL")
	if url == "" {
		dir, err := os.MkdirTemp("", "bench-runs-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o711); err != nil {
			return err
		}
		srv, err := localpg.Start(ctx, localpg.Options{Dir: dir + "/pg", Settings: map[string]string{
			"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "shared_buffers": "256MB",
		}})
		if err != nil {
			return err
		}
		defer srv.Stop(context.Background())
		conn, err := pgx.Connect(ctx, srv.URL("postgres"))
		if err != nil {
			return err
		}
		_, err = conn.Exec(ctx, `CREATE DATABASE bench_runs`)
		conn.Close(ctx)
		if err != nil {
			return err
		}
		url = srv.URL("bench_runs")
	}
	logf := func(format string, a ...any) { log.Printf(format, a...) }
	report, err := bench(ctx, url, o, logf)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, report)
	return err
}

// bench migrates the database at url, seeds it, measures, and returns the
// Markdown report.
func bench(ctx context.Context, url string, o seedOptions, logf func(string, ...any)) (string, error) {
	rec := &recorder{}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return "", err
	}
	cfg.ConnConfig.Tracer = rec
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool); err != nil {
		return "", err
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM runs`).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", fmt.Errorf("the database already has %d runs: point DATABASE_URL at an empty database", n)
	}
	s, err := seed(ctx, pool, o, logf)
	if err != nil {
		return "", err
	}
	logf("seeded %d runs, %d steps, %d attempts, %d events in %s", s.Runs, s.Steps, s.Attempts, s.Events, s.Took.Round(time.Second))
	results, err := measureAll(ctx, pool, rec, s, o, logf)
	if err != nil {
		return "", err
	}
	pr, took, err := pruneTenth(ctx, pool, o)
	if err != nil {
		return "", err
	}
	logf("prune: %d events, %d runs in %d batches, %s", pr.Events, pr.Runs, pr.Batches, took.Round(time.Millisecond))
	var version string
	_ = pool.QueryRow(ctx, `SHOW server_version`).Scan(&version)
	var sb strings.Builder
	fmt.Fprintf(&sb, "Seeded %s runs (+%s in a second workspace), %s events, %s steps, %s attempts in %s (Postgres %s).\n\n",
		thousands(int64(o.Runs)), thousands(int64(o.SmallRuns)), thousands(s.Events), thousands(s.Steps), thousands(s.Attempts),
		s.Took.Round(time.Second), version)
	sb.WriteString("| query | rows | median | max | EXPLAIN ANALYZE | scans | target |\n|---|---:|---:|---:|---:|---|---|\n")
	failed := 0
	for _, r := range results {
		target := "—"
		if r.Target > 0 {
			target = "✓ < " + r.Target.String()
			if !r.ok() {
				target = "✗ > " + r.Target.String()
				failed++
			}
		}
		fmt.Fprintf(&sb, "| %s | %d | %s | %s | %.2f ms | %s | %s |\n", r.Name, r.Rows, ms(r.Median), ms(r.Max), r.Explain,
			strings.Join(r.Scans, "<br>"), target)
	}
	fmt.Fprintf(&sb, "\nRetention: pruning the oldest tenth (%s events, %s runs with their steps and attempts) took %s in %d batches (%.1f ms per batch of 1,000).\n",
		thousands(pr.Events), thousands(pr.Runs), took.Round(time.Millisecond), pr.Batches, float64(took.Milliseconds())/float64(max(pr.Batches, 1)))
	sb.WriteString("\n<details><summary>Plans</summary>\n\n")
	for _, r := range results {
		if r.Plan != "" {
			fmt.Fprintf(&sb, "%s\n\n```\n%s\n```\n\n", r.Name, r.Plan)
		}
	}
	sb.WriteString("</details>\n")
	if failed > 0 {
		return sb.String(), fmt.Errorf("%d page queries missed the target or read a table sequentially:\n%s", failed, sb.String())
	}
	return sb.String(), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
