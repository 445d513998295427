// Command bench measures Switchboard end to end on this machine and writes
// docs/benchmarks.md (run it with `make bench`).
//
// It builds the server binary, starts a private Postgres (store/localpg, fsync
// on), measures that Postgres's own ceilings (single-row INSERT commits/s, bare
// River insert→complete), then runs `switchboard serve` against it and drives it
// over HTTP on loopback with a fast fake HTTP target served in this process:
// ingest, sustained throughput, latency at a fixed rate, a burst, memory and CPU.
// Node-RED 4 (installed with npm into a folder outside the repository) runs the
// same kind of flow against the same fake as a peer.
//
// Flags: -quick for a short run (about a minute; does not rewrite the report
// unless -out is given), -pprof DIR to collect CPU and heap profiles of the
// server (built with an overlay that adds net/http/pprof; the repository is not
// touched), -pgstat to print the top statements from pg_stat_statements.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	quick      bool
	out        string
	outSet     bool
	workers    int
	noderedDir string
	skipPeer   bool
	pprofDir   string
	bin        string
	src        string
	overlay    string
	only       string
	waitQuiet  time.Duration
	sqlFile    string
	pgstat     bool
	pgSettings settingsFlag
	keep       bool
	verbose    bool
}

// sizes are the bounded counts and durations of each phase.
type sizes struct {
	ceilingFor    time.Duration // INSERT ceiling duration
	riverJobs     int           // River ceiling job count
	ingestFor     time.Duration // ingest phase duration
	oneStepRuns   int           // throughput, one-step runs
	threeStepRuns int           // throughput, three-step runs
	latencyFor    time.Duration // latency phase at latencyRate
	burst         int           // burst webhooks
	peerRequests  int           // Node-RED requests
	drainTimeout  time.Duration // the longest wait for a phase's runs to finish
}

var (
	fullSizes = sizes{
		ceilingFor: 10 * time.Second, riverJobs: 10000, ingestFor: 10 * time.Second,
		oneStepRuns: 5000, threeStepRuns: 5000, latencyFor: 30 * time.Second,
		burst: 20000, peerRequests: 5000, drainTimeout: 4 * time.Minute,
	}
	quickSizes = sizes{
		ceilingFor: 3 * time.Second, riverJobs: 2000, ingestFor: 3 * time.Second,
		oneStepRuns: 1000, threeStepRuns: 500, latencyFor: 8 * time.Second,
		burst: 3000, peerRequests: 1000, drainTimeout: 2 * time.Minute,
	}
)

// Load shapes shared by every phase (and by the Node-RED peer).
const (
	concurrency      = 32  // client connections for ingest, throughput and the peer
	burstConcurrency = 128 // client connections for the burst
	latencyRate      = 50  // events per second in the latency phase
)

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "short run (about a minute); the report is only written when -out is given")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "report to write, relative to the module root (empty: none)")
	flag.IntVar(&o.workers, "workers", 0, "SWITCHBOARD_WORKERS for the server (0: the server's default)")
	flag.StringVar(&o.noderedDir, "nodered", "/tmp/nodered", "folder holding (or to receive) `npm install node-red@4`")
	flag.BoolVar(&o.skipPeer, "skip-peer", false, "skip the Node-RED peer")
	flag.StringVar(&o.pprofDir, "pprof", "", "build the server with net/http/pprof and write CPU/heap profiles of each phase to this folder")
	flag.StringVar(&o.bin, "bin", "", "use this switchboard binary instead of building ./cmd/switchboard")
	flag.StringVar(&o.src, "src", "", "module folder to build the server from (default: this module); for trying a change on a copy")
	flag.StringVar(&o.overlay, "overlay", "", "`go build -overlay` JSON file applied when building the server, to measure a candidate change without editing the tree")
	flag.StringVar(&o.only, "only", "", "comma-separated phases to run (ingest, one-step, three-step, latency, burst, peer); default all")
	flag.DurationVar(&o.waitQuiet, "wait-quiet", 0, "first wait up to this long for other processes to use less than a quarter of a CPU")
	flag.StringVar(&o.sqlFile, "sql", "", "SQL file run on the server's database after its migrations, to measure a candidate schema change")
	flag.BoolVar(&o.pgstat, "pgstat", false, "load pg_stat_statements and print the costliest statements")
	flag.Var(&o.pgSettings, "pg-setting", "extra Postgres setting name=value for experiments (repeatable; the report notes it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (Postgres data, server log)")
	flag.BoolVar(&o.verbose, "v", false, "print progress details")
	flag.Parse()
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "out" {
			o.outSet = true
		}
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	sz := fullSizes
	if o.quick {
		sz = quickSizes
	}
	tmp, err := os.MkdirTemp("", "switchboard-bench-")
	if err != nil {
		return err
	}
	// The managed Postgres runs as the postgres user when we are root: it must
	// be able to enter the folder.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if o.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	b := &bench{o: o, sz: sz, root: root, tmp: tmp, res: &results{Started: time.Now()}}
	defer b.cleanup()
	if err := b.run(ctx); err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(b.res.table())
	if o.out != "" && ((!o.quick && o.only == "") || o.outSet) {
		path := o.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if old, err := os.ReadFile(path); err == nil {
			b.res.Notes = keptNotes(string(old))
		}
		report := b.res.markdown(b)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			return err
		}
		logf("wrote %s", path)
	} else if o.out != "" {
		logf("partial run: report not written (pass -out to write it)")
	}
	return nil
}

// moduleRoot is the folder holding go.mod (bench runs from anywhere inside it).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run bench inside the switchboard module (no go.mod found)")
		}
		dir = parent
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// settingsFlag collects repeated name=value flags.
type settingsFlag map[string]string

func (s *settingsFlag) String() string { return fmt.Sprint(map[string]string(*s)) }

func (s *settingsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	if *s == nil {
		*s = settingsFlag{}
	}
	(*s)[k] = val
	return nil
}

// runs reports whether a phase is selected by -only.
func (o options) runs(phase string) bool {
	if o.only == "" {
		return true
	}
	for _, p := range strings.Split(o.only, ",") {
		if strings.TrimSpace(p) == phase {
			return true
		}
	}
	return false
}
