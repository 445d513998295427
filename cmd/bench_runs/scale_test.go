//go:build scale

package main

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestRunsAtScale seeds a million runs and fails when a runs list query takes
// 100 ms or more or reads a table sequentially. Not part of `make test`:
//
//	go test -tags scale -run TestRunsAtScale -timeout 30m -v ./cmd/bench_runs
//
// SCALE_RUNS changes the number of runs; SCALE_REPORT names a file for the
// Markdown report.
func TestRunsAtScale(t *testing.T) {
	o := seedOptions{Runs: 1_000_000, SmallRuns: 20_000, Flows: 20, Days: 30}
	if v := os.Getenv("SCALE_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("SCALE_RUNS: %v", err)
		}
		o.Runs = n
	}
	report, err := bench(context.Background(), storetest.URL(t), o, t.Logf)
	if f := os.Getenv("SCALE_REPORT"); f != "" && report != "" {
		if werr := os.WriteFile(f, []byte(report), 0o644); werr != nil {
			t.Errorf("write report: %v", werr)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + report)
}
