package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/store/localpg"
)

// bench holds everything one run of the benchmark uses.
type bench struct {
	o    options
	sz   sizes
	root string
	tmp  string
	res  *results

	pg       *localpg.Server
	pgDir    string
	db       *pgxpool.Pool // the bench's own checks on the server's database
	srv      *serverProc
	fake     *fakeTarget
	rss      *rssMonitor
	client   *http.Client
	apiToken string
	bin      string
	starts   int // server processes started
	cleanups []func()
}

func (b *bench) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
}

func (b *bench) run(ctx context.Context) error {
	r := b.res
	r.Quick = b.o.quick
	r.Machine.CPUs = runtime.NumCPU()
	r.Machine.CPUModel = cpuModel()
	r.Machine.MemTotal = memTotal()
	r.Machine.Kernel = kernel()

	logf("building ./cmd/switchboard")
	bin, err := b.buildServer(ctx)
	if err != nil {
		return err
	}
	if b.o.waitQuiet > 0 {
		load, ok := waitQuiet(b.o.waitQuiet, 0.25)
		if !ok {
			logf("machine still busy after %s (other processes use %.2f CPUs); measuring anyway", b.o.waitQuiet, load)
		}
	}
	logf("starting a managed Postgres in %s", b.tmp)
	if err := b.startPostgres(ctx); err != nil {
		return err
	}
	if err := b.measure("ceilings", func() error {
		if err := b.insertCeiling(ctx); err != nil {
			return err
		}
		return b.riverCeiling(ctx)
	}); err != nil {
		return err
	}

	if b.fake, err = startFake(); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, b.fake.close)
	b.bin = bin
	logf("starting switchboard serve")
	if err := b.startServer(ctx, bin, "serve"); err != nil {
		return err
	}
	if b.db, err = pgxpool.New(ctx, b.pg.URL(serverDB)+"&pool_max_conns=4"); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, b.db.Close)
	if b.o.sqlFile != "" {
		sql, err := os.ReadFile(b.o.sqlFile)
		if err != nil {
			return err
		}
		if _, err := b.db.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("-sql %s: %w", b.o.sqlFile, err)
		}
		r.Overlay = append(r.Overlay, "schema change "+filepath.Base(b.o.sqlFile))
	}
	if err := b.setupWorkspace(ctx); err != nil {
		return err
	}
	b.client = newLoadClient(burstConcurrency)
	flows := map[string]flow{}
	for _, spec := range []struct {
		tag   string
		steps int
	}{{"ingest-web", 1}, {"ingest", 1}, {"one", 1}, {"three", 3}, {"latency", 1}, {"burst", 1}} {
		f, err := b.createFlow(ctx, spec.tag, spec.steps)
		if err != nil {
			return err
		}
		flows[spec.tag] = f
	}

	// Idle footprint: after start-up settles, before any load.
	time.Sleep(3 * time.Second)
	r.RSSIdle, _ = procStatus(b.srv.pid(), "VmRSS")
	logf("server idle: RSS %.1f MiB", mib(r.RSSIdle))

	// Ingest alone: `switchboard web` (no workers) takes the webhooks; then
	// `serve` comes back and drains the backlog with nothing else to do.
	if b.o.runs("ingest") {
		if err := b.measure("ingest-web", func() error { return b.phaseIngestWeb(ctx, flows["ingest-web"]) }); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("ingest-web: %v", err))
			logf("ingest-web: %v", err)
		}
		if b.srv == nil || isDone(b.srv.exited) {
			if err := b.startServer(ctx, bin, "serve"); err != nil {
				return err
			}
		}
	}
	pid := b.srv.pid()
	b.rss = startRSSMonitor(pid, 100*time.Millisecond)
	b.cleanups = append(b.cleanups, b.rss.close)

	// Warm up connections, the program cache and the fake's keep-alive pool.
	warm := closedLoop(ctx, b.client, b.hookOn(flows["ingest"]), 4, 200, time.Time{}, http.StatusAccepted)
	if warm.Refused > 0 {
		return fmt.Errorf("warm-up: %d of %d webhooks refused (first: %s); server log:\n%s",
			warm.Refused, warm.Sent, warm.FirstErr, tail(b.srv.logPath, 20))
	}
	if _, _, err := b.waitRuns(ctx, flows["ingest"], warm.Accepted); err != nil {
		return err
	}

	if b.o.pgstat {
		if err := b.resetStatements(ctx); err != nil {
			return err
		}
	}
	for _, phase := range []struct {
		name string
		fn   func(context.Context, flow) error
		flow string
	}{
		{"ingest", b.phaseIngest, "ingest"},
		{"one-step", func(ctx context.Context, f flow) error { return b.phaseThroughput(ctx, f, 1, b.sz.oneStepRuns) }, "one"},
		{"three-step", func(ctx context.Context, f flow) error { return b.phaseThroughput(ctx, f, 3, b.sz.threeStepRuns) }, "three"},
		{"latency", b.phaseLatency, "latency"},
		{"burst", b.phaseBurst, "burst"},
	} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !b.o.runs(phase.name) {
			continue
		}
		b.rss.phase(phase.name)
		if err := b.measure(phase.name, func() error { return phase.fn(ctx, flows[phase.flow]) }); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", phase.name, err))
			logf("%s: %v", phase.name, err)
		}
		b.rss.phase("between")
	}

	r.RSSLoad = b.rss.peak("*")
	r.RSSHWM, _ = procStatus(pid, "VmHWM")
	if b.o.pprofDir != "" {
		b.fetchProfile("heap", "heap", 0)
		b.fetchProfile("block", "block", 0)
		b.fetchProfile("mutex", "mutex", 0)
	}
	if b.o.pgstat {
		if s, err := b.topStatements(ctx); err == nil {
			r.TopStatements = s
			fmt.Fprintln(os.Stderr, s)
		} else {
			logf("pg_stat_statements: %v", err)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(b.tmp, "server-*.log"))
	r.ServerLogProblems = problemLines(logs...)
	logf("server peak RSS %.1f MiB (VmHWM %.1f MiB); stopping it", mib(r.RSSLoad), mib(r.RSSHWM))
	b.rss.close()
	b.stopServer()

	if b.o.skipPeer || !b.o.runs("peer") {
		r.Peer.Skipped = "not run (-skip-peer or -only)"
	} else if err := b.measure("peer", func() error { return b.phasePeer(ctx) }); err != nil {
		r.Peer.Skipped = err.Error()
		logf("peer: %v", err)
	}
	r.Finished = time.Now()
	return nil
}

// measure runs a phase and records how busy other processes kept the machine.
func (b *bench) measure(name string, fn func() error) error {
	m := startCPUMeter(b.pids)
	err := fn()
	other, d := m.other()
	if d > 0 {
		load := other / d.Seconds()
		b.res.Noise = append(b.res.Noise, noise{name, load})
		if load > 0.25 {
			logf("%s: other processes used %.2f CPUs meanwhile; the numbers are disturbed", name, load)
		}
	}
	return err
}

// pids are the server's and the postmaster's process ids (0 when not running).
func (b *bench) pids() (int, int) {
	server := 0
	if b.srv != nil && b.srv.cmd.Process != nil {
		server = b.srv.pid()
	}
	pm := 0
	if b.pgDir != "" {
		pm, _ = postmasterPID(b.pgDir)
	}
	return server, pm
}

// phaseIngestWeb measures ingest alone: the serve process stops, a web-only
// process takes webhooks from 32 connections, then serve starts again and the
// backlog's drain is timed (runs/s with no ingest competing for the CPUs).
func (b *bench) phaseIngestWeb(ctx context.Context, f flow) error {
	r := b.res
	b.stopServer()
	if err := b.startServer(ctx, b.bin, "web"); err != nil {
		return err
	}
	hook := b.hookOn(f)
	warm := closedLoop(ctx, b.client, hook, 4, 100, time.Time{}, http.StatusAccepted)
	if warm.Refused > 0 {
		return fmt.Errorf("warm-up: %d of %d refused (first: %s)", warm.Refused, warm.Sent, warm.FirstErr)
	}
	pid := b.srv.pid()
	pm, _ := postmasterPID(b.pgDir)
	cpu0, pg0, self0 := cpuSeconds(pid), treeCPUSeconds(pm), cpuSeconds(os.Getpid())
	db0, _ := b.dbCounters(ctx)
	stopProf := b.startProfile("cpu-ingest-web", b.sz.ingestFor)
	go func() {
		time.Sleep(b.sz.ingestFor / 2)
		b.goroutineCensus("ingest-web")
	}()
	lr := closedLoop(ctx, b.client, hook, concurrency, 0, time.Now().Add(b.sz.ingestFor), http.StatusAccepted)
	stopProf()
	cpu, pg, self := cpuSeconds(pid)-cpu0, treeCPUSeconds(pm)-pg0, cpuSeconds(os.Getpid())-self0
	time.Sleep(1200 * time.Millisecond)
	if db1, err := b.dbCounters(ctx); err == nil {
		r.IngestWebDB = db0.perRun(db1, lr.Accepted)
	}
	r.IngestWebBenchCPU = self / lr.duration().Seconds()
	r.IngestWeb = lr.rate()
	r.IngestWebRefused = lr.Refused
	r.IngestWebP50, r.IngestWebP99 = percentile(lr.Latency, 50), percentile(lr.Latency, 99)
	r.IngestWebCPUPer1000 = cpu / float64(max(lr.Accepted, 1)) * 1000
	r.IngestWebPGCPUPer1000 = pg / float64(max(lr.Accepted, 1)) * 1000
	logf("ingest (web only): %d accepted in %s = %.0f/s (refused %d; 202 p50 %.1f ms, p99 %.1f ms; web %.2f CPU-s, Postgres %.2f CPU-s per 1,000)",
		lr.Accepted, lr.duration().Round(time.Millisecond), r.IngestWeb, lr.Refused, ms(r.IngestWebP50), ms(r.IngestWebP99),
		r.IngestWebCPUPer1000, r.IngestWebPGCPUPer1000)
	logf("  database: %s; the load generator itself used %.2f CPUs", r.IngestWebDB.describe(), r.IngestWebBenchCPU)
	if lr.Refused > 0 {
		logf("ingest (web only): first refusal: %s", lr.FirstErr)
	}
	b.stopServer()

	backlog := warm.Accepted + lr.Accepted
	if err := b.startServer(ctx, b.bin, "serve"); err != nil {
		return err
	}
	start := time.Now()
	c, at, err := b.waitRuns(ctx, f, backlog)
	if err != nil {
		return err
	}
	r.BacklogRuns = c.Succeeded
	r.BacklogRate = float64(c.Succeeded) / at.Sub(start).Seconds()
	logf("backlog: serve drained %d runs in %s = %.0f runs/s", c.Succeeded, at.Sub(start).Round(time.Millisecond), r.BacklogRate)
	return nil
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// phaseIngest: webhooks accepted per second from 32 connections for a fixed
// time, each 202 meaning the event, run, steps and job are committed.
func (b *bench) phaseIngest(ctx context.Context, f flow) error {
	r := b.res
	cpu0 := cpuSeconds(b.srv.pid())
	stopProf := b.startProfile("cpu-ingest", b.sz.ingestFor)
	go func() {
		time.Sleep(b.sz.ingestFor / 2)
		b.goroutineCensus("ingest")
	}()
	lr := closedLoop(ctx, b.client, b.hookOn(f), concurrency, 0, time.Now().Add(b.sz.ingestFor), http.StatusAccepted)
	stopProf()
	r.Ingest = lr.rate()
	r.IngestRefused = lr.Refused
	r.IngestP50, r.IngestP99 = percentile(lr.Latency, 50), percentile(lr.Latency, 99)
	r.IngestCPU = cpuSeconds(b.srv.pid()) - cpu0
	logf("ingest: %d accepted in %s = %.0f/s (refused %d; 202 p50 %.1f ms, p99 %.1f ms)",
		lr.Accepted, lr.duration().Round(time.Millisecond), r.Ingest, lr.Refused, ms(r.IngestP50), ms(r.IngestP99))
	if lr.Refused > 0 {
		logf("ingest: first refusal: %s", lr.FirstErr)
	}
	// Let the backlog drain before the next phase.
	c, at, err := b.waitRuns(ctx, f, lr.Accepted+200)
	if err != nil {
		return err
	}
	r.IngestDrain = at.Sub(lr.End)
	logf("ingest: backlog drained %s after the last 202 (%d succeeded, %d failed)",
		r.IngestDrain.Round(time.Millisecond), c.Succeeded, c.Failed)
	return nil
}

// phaseThroughput sends n webhooks from 32 connections and measures from the
// first send until all n runs have succeeded in the database.
func (b *bench) phaseThroughput(ctx context.Context, f flow, steps, n int) error {
	pid := b.srv.pid()
	pm, _ := postmasterPID(b.pgDir)
	cpu0, pg0 := cpuSeconds(pid), treeCPUSeconds(pm)
	db0, _ := b.dbCounters(ctx)
	waits := startWaitSampler(ctx, b.db, 100*time.Millisecond)
	stopProf := b.startProfile(fmt.Sprintf("cpu-throughput-%dstep", steps), b.profileWindow())
	start := time.Now()
	go func() {
		time.Sleep(1500 * time.Millisecond)
		b.goroutineCensus(fmt.Sprintf("throughput-%dstep", steps))
	}()
	lr := closedLoop(ctx, b.client, b.hookOn(f), concurrency, n, time.Time{}, http.StatusAccepted)
	c, at, err := b.waitRuns(ctx, f, lr.Accepted)
	stopProf()
	wp := waits.finish()
	cpu, pg := cpuSeconds(pid)-cpu0, treeCPUSeconds(pm)-pg0
	tp := throughput{
		Steps: steps, Runs: lr.Accepted, Refused: lr.Refused, Failed: c.Failed,
		Elapsed: at.Sub(start), SendFor: lr.duration(), Waits: wp,
		CPUPer1000: cpu / float64(max(lr.Accepted, 1)) * 1000, PGCPUPer1000: pg / float64(max(lr.Accepted, 1)) * 1000,
	}
	time.Sleep(1200 * time.Millisecond) // statistics are flushed once a second
	if db1, err := b.dbCounters(ctx); err == nil {
		tp.DB = db0.perRun(db1, lr.Accepted)
	}
	tp.Rate = float64(c.Succeeded) / tp.Elapsed.Seconds()
	tp.IngestRate = lr.rate()
	b.res.Throughput = append(b.res.Throughput, tp)
	logf("throughput %d-step: %d runs succeeded in %s = %.0f runs/s (webhooks sent in %s = %.0f/s; server %.2f CPU-s, Postgres %.2f CPU-s per 1,000 runs)",
		steps, c.Succeeded, tp.Elapsed.Round(time.Millisecond), tp.Rate, tp.SendFor.Round(time.Millisecond), tp.IngestRate, tp.CPUPer1000, tp.PGCPUPer1000)
	logf("  database: %s", tp.DB.describe())
	for i, w := range wp {
		if i == 6 {
			break
		}
		logf("  postgres sessions: %5.2f %s", w.Avg, w.Label)
	}
	if err != nil {
		return err
	}
	if lr.Refused > 0 {
		return fmt.Errorf("%d webhooks refused (first: %s)", lr.Refused, lr.FirstErr)
	}
	return nil
}

// phaseLatency sends 50 webhooks per second (open loop) and reads, from the
// fake, how long after each was sent its run's first connector call arrived.
func (b *bench) phaseLatency(ctx context.Context, f flow) error {
	r := b.res
	lr := openLoop(ctx, b.client, b.hookOn(f), latencyRate, b.sz.latencyFor, http.StatusAccepted)
	if _, _, err := b.waitRuns(ctx, f, lr.Accepted); err != nil {
		return err
	}
	fc := b.fake.counts(f.Tag)
	r.LatencyEvents = len(fc.FirstCall)
	r.LatencyP50 = percentile(fc.FirstCall, 50)
	r.LatencyP99 = percentile(fc.FirstCall, 99)
	r.LatencyMax = percentile(fc.FirstCall, 100)
	r.LatencyAckP50, r.LatencyAckP99 = percentile(lr.Latency, 50), percentile(lr.Latency, 99)
	logf("latency at %d/s: %d events, webhook→first call p50 %.1f ms, p99 %.1f ms, max %.1f ms (202 p50 %.1f ms, p99 %.1f ms)",
		latencyRate, r.LatencyEvents, ms(r.LatencyP50), ms(r.LatencyP99), ms(r.LatencyMax), ms(r.LatencyAckP50), ms(r.LatencyAckP99))
	if lr.Refused > 0 {
		return fmt.Errorf("%d webhooks refused (first: %s)", lr.Refused, lr.FirstErr)
	}
	return nil
}

// phaseBurst sends the burst as fast as 128 connections allow, waits for the
// drain, and reconciles 202s, runs in the database and calls at the fake.
func (b *bench) phaseBurst(ctx context.Context, f flow) error {
	r := &b.res.Burst
	r.Sent = b.sz.burst
	stopProf := b.startProfile("cpu-burst", b.profileWindow())
	lr := closedLoop(ctx, b.client, b.hookOn(f), burstConcurrency, b.sz.burst, time.Time{}, http.StatusAccepted)
	r.Accepted, r.Refused, r.SendFor = lr.Accepted, lr.Refused, lr.duration()
	logf("burst: %d sent in %s (%.0f/s): %d accepted, %d refused %v",
		lr.Sent, lr.duration().Round(time.Millisecond), lr.rate(), lr.Accepted, lr.Refused, lr.Statuses)
	if lr.Refused > 0 {
		logf("burst: first refusal: %s", lr.FirstErr)
	}
	// Wait for every run the database holds (a refused request may still have
	// committed one), at least the accepted ones.
	c, at, err := b.waitRuns(ctx, f, lr.Accepted)
	stopProf()
	if err != nil {
		return err
	}
	// A run that committed although its request was refused (a client
	// timeout) is still to be worked: wait for those too.
	if c.Total > c.Succeeded+c.Failed {
		c, at, err = b.waitRuns(ctx, f, c.Total)
		if err != nil {
			return err
		}
	}
	r.Drain = at.Sub(lr.End)
	r.Total = at.Sub(lr.Start)
	// Give stragglers a moment to show at the fake.
	time.Sleep(200 * time.Millisecond)

	rows, err := b.db.Query(ctx, `SELECT id::text, status FROM runs WHERE flow_id = $1`, f.ID)
	if err != nil {
		return err
	}
	inDB := map[string]string{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			rows.Close()
			return err
		}
		inDB[id] = status
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	fc := b.fake.counts(f.Tag)
	r.RunsInDB = len(inDB)
	r.FakeCalls = fc.Calls
	r.FakeDistinct = fc.Distinct
	for id, n := range lr.RunIDs {
		if n > 1 {
			r.Duplicated += n - 1 // two 202s naming one run
		}
		if inDB[id] != "succeeded" || fc.Keys[id+":call"] == 0 {
			r.Lost++
		}
	}
	for id := range inDB {
		if lr.RunIDs[id] == 0 {
			r.Extra++ // a run nobody got a 202 for (a refused request that committed)
		}
	}
	r.Duplicated += fc.Duplicate
	r.Failed = c.Failed
	logf("burst: drained %s after the last 202; 202s %d, runs in DB %d, fake calls %d (distinct %d): lost %d, duplicated %d, extra %d",
		r.Drain.Round(time.Millisecond), r.Accepted, r.RunsInDB, r.FakeCalls, r.FakeDistinct, r.Lost, r.Duplicated, r.Extra)
	return nil
}

// startProfile collects a CPU profile of the server over the next d (only
// with -pprof); the returned func waits for it. pprof's endpoint drops the
// profile when the request is cancelled, so the window is fixed up front.
func (b *bench) startProfile(name string, d time.Duration) func() {
	if b.o.pprofDir == "" || b.srv.pprof == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.fetchProfile(name, "profile", max(int(d.Seconds()), 1))
	}()
	return func() { <-done }
}

func (b *bench) fetchProfile(name, kind string, secs int) {
	ctx := context.Background()
	url := "http://" + b.srv.pprof + "/debug/pprof/" + kind
	if secs > 0 {
		url += fmt.Sprintf("?seconds=%d", secs)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		logf("pprof %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(b.o.pprofDir, 0o755); err != nil {
		return
	}
	path := filepath.Join(b.o.pprofDir, name+".pprof")
	data, err := io.ReadAll(resp.Body)
	if err != nil || len(data) == 0 {
		return
	}
	_ = os.WriteFile(path, data, 0o644)
	logf("pprof: wrote %s", path)
}

// problemLines returns the most frequent warnings and errors of the server logs.
func problemLines(paths ...string) []string {
	var data []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil {
			data = append(data, b...)
		}
	}
	counts := map[string]int{}
	var order []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, `"level":"WARN"`) && !strings.Contains(line, `"level":"ERROR"`) {
			continue
		}
		msg := line
		if i := strings.Index(line, `"msg":`); i >= 0 {
			msg = line[i:]
			if len(msg) > 200 {
				msg = msg[:200]
			}
		}
		if counts[msg] == 0 {
			order = append(order, msg)
		}
		counts[msg]++
	}
	sort.SliceStable(order, func(i, j int) bool { return counts[order[i]] > counts[order[j]] })
	var out []string
	for i, m := range order {
		if i == 8 {
			break
		}
		out = append(out, fmt.Sprintf("%d× %s", counts[m], m))
	}
	return out
}

// profileWindow is the CPU profile length of phases of unknown duration.
func (b *bench) profileWindow() time.Duration {
	if b.o.quick {
		return 3 * time.Second
	}
	return 10 * time.Second
}

// goroutineCensus saves the server's goroutine stacks (with -pprof) and logs
// how many goroutines wait for a pooled database connection, for a reply from
// Postgres, or for a River job's outbound HTTP call.
func (b *bench) goroutineCensus(name string) {
	if b.o.pprofDir == "" || b.srv.pprof == "" {
		return
	}
	resp, err := http.Get("http://" + b.srv.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	_ = os.MkdirAll(b.o.pprofDir, 0o755)
	_ = os.WriteFile(filepath.Join(b.o.pprofDir, "goroutines-"+name+".txt"), data, 0o644)
	// debug=1 groups identical stacks: "N @ 0x..." then the frames.
	counts := map[string]int{}
	for _, block := range strings.Split(string(data), "\n\n") {
		var n int
		if _, err := fmt.Sscanf(block, "%d @", &n); err != nil {
			continue
		}
		var where string
		switch {
		case strings.Contains(block, "puddle") && strings.Contains(block, "Acquire"):
			where = "waiting for a pool connection"
		case strings.Contains(block, "pgconn") || strings.Contains(block, "pgproto3"):
			where = "waiting for Postgres"
		case strings.Contains(block, "net/http.(*persistConn)") || strings.Contains(block, "net/http.(*Transport)"):
			where = "outbound HTTP"
		default:
			continue
		}
		if strings.Contains(block, "handlers.(*app).ingest") || strings.Contains(block, "fasthttp") {
			where += " (HTTP handler)"
		} else if strings.Contains(block, "jobs.(*Engine)") || strings.Contains(block, "jobs.(*StepWorker)") {
			where += " (step job)"
		}
		counts[where] += n
	}
	var parts []string
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(parts)
	logf("%s: server goroutines: %s", name, strings.Join(parts, "; "))
	b.res.Census = append(b.res.Census, name+": "+strings.Join(parts, "; "))
}
