package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/switchboard/switchboard/store/localpg"
)

const (
	serverDB  = "switchboard"
	ceilingDB = "ceiling"
)

// startPostgres starts the managed Postgres with its default, durable settings
// (fsync and synchronous_commit on) and creates the two databases.
func (b *bench) startPostgres(ctx context.Context) error {
	settings := map[string]string{}
	if b.o.pgstat {
		settings["shared_preload_libraries"] = "pg_stat_statements"
		settings["pg_stat_statements.track"] = "all"
	}
	for k, v := range b.o.pgSettings {
		settings[k] = v
		b.res.ExtraSettings = append(b.res.ExtraSettings, k+"="+v)
	}
	sort.Strings(b.res.ExtraSettings)
	dir := filepath.Join(b.tmp, "pg")
	srv, err := localpg.Start(ctx, localpg.Options{Dir: dir, Settings: settings})
	if err != nil {
		return err
	}
	b.pg = srv
	b.pgDir = dir
	b.cleanups = append(b.cleanups, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	conn, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, db := range []string{serverDB, ceilingDB} {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return fmt.Errorf("create database %s: %w", db, err)
		}
	}
	var version, fsync, syncCommit string
	if err := conn.QueryRow(ctx, `SELECT version(), current_setting('fsync'), current_setting('synchronous_commit')`).
		Scan(&version, &fsync, &syncCommit); err != nil {
		return err
	}
	b.res.Machine.Postgres = strings.SplitN(version, " on ", 2)[0]
	b.res.PGSettings = fmt.Sprintf("fsync=%s, synchronous_commit=%s", fsync, syncCommit)
	if b.o.pgstat {
		if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			return err
		}
	}
	return nil
}

// insertCeiling measures single-row INSERT commits per second from 32
// connections, one row per transaction: the most a durable, commit-per-event
// design can reach on this Postgres.
func (b *bench) insertCeiling(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, b.pg.URL(ceilingDB)+"&pool_max_conns=32&pool_min_conns=32")
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE ceiling (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), payload jsonb)`); err != nil {
		return err
	}
	payload := string(hookBody(time.Now()))
	run := func(d time.Duration) (int64, time.Duration) {
		var n atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for w := 0; w < concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) && ctx.Err() == nil {
					if _, err := pool.Exec(ctx, `INSERT INTO ceiling (payload) VALUES ($1)`, payload); err == nil {
						n.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return n.Load(), time.Since(start)
	}
	run(time.Second) // warm up connections and the table
	n, d := run(b.sz.ceilingFor)
	b.res.InsertCeiling = float64(n) / d.Seconds()
	logf("ceiling: %d single-row INSERT commits in %s = %.0f/s", n, d.Round(time.Millisecond), b.res.InsertCeiling)
	return ctx.Err()
}

type noopArgs struct {
	Seq int `json:"seq"`
}

func (noopArgs) Kind() string { return "bench_noop" }

// riverCeiling measures bare River: jobs inserted one per transaction from 32
// goroutines and worked by a no-op worker with the server's fetch settings and
// worker count, until every one is completed in the database.
func (b *bench) riverCeiling(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, b.pg.URL(ceilingDB)+"&pool_max_conns=45")
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil }))
	maxWorkers := 100
	if b.o.workers > 0 {
		maxWorkers = b.o.workers
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 200 * time.Millisecond,
		Logger:            discardLogger(),
	})
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = client.Stop(sctx)
	}()

	n := b.sz.riverJobs
	var next atomic.Int64
	var wg sync.WaitGroup
	var insertErr atomic.Value
	start := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > n || ctx.Err() != nil {
					return
				}
				if _, err := client.Insert(ctx, noopArgs{Seq: i}, nil); err != nil {
					insertErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	inserted := time.Since(start)
	if err, _ := insertErr.Load().(error); err != nil {
		return fmt.Errorf("river ceiling: insert: %w", err)
	}
	deadline := time.Now().Add(b.sz.drainTimeout)
	for {
		var done int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'bench_noop' AND state = 'completed'`).Scan(&done); err != nil {
			return err
		}
		if done >= n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("river ceiling: only %d of %d jobs completed after %s", done, n, b.sz.drainTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	d := time.Since(start)
	b.res.RiverCeiling = float64(n) / d.Seconds()
	b.res.RiverInsertRate = float64(n) / inserted.Seconds()
	logf("ceiling: River %d no-op jobs inserted in %s (%.0f/s), all completed after %s = %.0f/s",
		n, inserted.Round(time.Millisecond), b.res.RiverInsertRate, d.Round(time.Millisecond), b.res.RiverCeiling)
	return nil
}

// waitSampler samples what the server's Postgres sessions are doing (state
// and wait event) to show where time goes without pg_stat_statements.
type waitSampler struct {
	mu      sync.Mutex
	counts  map[string]int
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func startWaitSampler(ctx context.Context, pool *pgxpool.Pool, every time.Duration) *waitSampler {
	s := &waitSampler{counts: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := pool.Query(ctx, `SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, ''), count(*)
				FROM pg_stat_activity
				WHERE datname = $1 AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'
				GROUP BY 1, 2, 3`, serverDB)
			if err != nil {
				continue
			}
			local := map[string]int{}
			for rows.Next() {
				var state, typ, ev string
				var n int
				if rows.Scan(&state, &typ, &ev, &n) != nil {
					continue
				}
				label := state
				switch {
				case state == "active" && typ == "":
					label = "active: on CPU"
				case state == "active":
					label = "active: waiting " + typ + "/" + ev
				case state == "idle in transaction":
					label = "idle in transaction (app holds the tx)"
				}
				local[label] += n
			}
			rows.Close()
			s.mu.Lock()
			s.samples++
			for k, v := range local {
				s.counts[k] += v
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// waitShare is one line of a wait-event profile: sessions in that state on
// average per sample.
type waitShare struct {
	Label string
	Avg   float64
}

func (s *waitSampler) finish() []waitShare {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]waitShare, 0, len(s.counts))
	for k, v := range s.counts {
		out = append(out, waitShare{k, float64(v) / float64(max(s.samples, 1))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Avg > out[j].Avg })
	return out
}

// topStatements prints the costliest statements when pg_stat_statements is loaded.
func (b *bench) topStatements(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres")) // the extension lives there
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT calls, round(total_exec_time::numeric, 0), round(mean_exec_time::numeric, 3),
			round(total_plan_time::numeric, 0), regexp_replace(left(query, 100), '\s+', ' ', 'g')
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		WHERE d.datname = $1 ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`, serverDB)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var sb strings.Builder
	fmt.Fprintf(&sb, "%10s %10s %9s %9s  %s\n", "calls", "exec ms", "mean ms", "plan ms", "query")
	for rows.Next() {
		var calls int64
		var total, mean, plan float64
		var q string
		if err := rows.Scan(&calls, &total, &mean, &plan, &q); err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "%10d %10.0f %9.3f %9.0f  %s\n", calls, total, mean, plan, q)
	}
	return sb.String(), rows.Err()
}

// resetStatements clears pg_stat_statements so that it shows the phases only.
func (b *bench) resetStatements(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, b.pg.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `SELECT pg_stat_statements_reset()`)
	return err
}

// dbStats are cumulative counters of the server's database.
type dbStats struct {
	Commits, Inserted, Updated int64
	WAL                        int64 // bytes since 0/0
	Tables                     map[string]tableStats
}

type tableStats struct {
	Ins, Upd, HotUpd int64
}

// dbCounters reads the counters (statistics lag up to a second behind; the
// caller waits before the final read).
func (b *bench) dbCounters(ctx context.Context) (dbStats, error) {
	s := dbStats{Tables: map[string]tableStats{}}
	err := b.db.QueryRow(ctx, `SELECT xact_commit, tup_inserted, tup_updated, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&s.Commits, &s.Inserted, &s.Updated, &s.WAL)
	if err != nil {
		return s, err
	}
	rows, err := b.db.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
		WHERE relname IN ('events', 'runs', 'run_steps', 'step_attempts', 'river_job')`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var t tableStats
		if err := rows.Scan(&name, &t.Ins, &t.Upd, &t.HotUpd); err != nil {
			return s, err
		}
		s.Tables[name] = t
	}
	return s, rows.Err()
}

// perRun is what the database did per run between two readings.
type perRun struct {
	Commits, Inserted, Updated float64
	WALBytes                   float64
	Tables                     map[string]tableStats // totals over the phase
}

func (a dbStats) perRun(b dbStats, runs int) perRun {
	n := float64(max(runs, 1))
	p := perRun{
		Commits:  float64(b.Commits-a.Commits) / n,
		Inserted: float64(b.Inserted-a.Inserted) / n,
		Updated:  float64(b.Updated-a.Updated) / n,
		WALBytes: float64(b.WAL-a.WAL) / n,
		Tables:   map[string]tableStats{},
	}
	for name, t := range b.Tables {
		t0 := a.Tables[name]
		p.Tables[name] = tableStats{Ins: t.Ins - t0.Ins, Upd: t.Upd - t0.Upd, HotUpd: t.HotUpd - t0.HotUpd}
	}
	return p
}

// describe is one line for the log and the report.
func (p perRun) describe() string {
	var hot []string
	for _, name := range []string{"runs", "run_steps", "river_job"} {
		if t := p.Tables[name]; t.Upd > 0 {
			hot = append(hot, fmt.Sprintf("%s %.0f%%", name, float64(t.HotUpd)/float64(t.Upd)*100))
		}
	}
	line := fmt.Sprintf("%.1f commits (read-only ones included), %.1f rows inserted, %.1f rows updated, %.1f KB WAL per run",
		p.Commits, p.Inserted, p.Updated, p.WALBytes/1024)
	if len(hot) > 0 {
		line += "; share of updates that were HOT: " + strings.Join(hot, ", ")
	}
	return line
}
