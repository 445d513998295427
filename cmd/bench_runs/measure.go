package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/store"
)

// recorder captures the SQL and arguments of the queries the store runs, so
// that EXPLAIN ANALYZE looks at exactly what store.ListRuns sends.
type recorder struct {
	mu   sync.Mutex
	on   bool
	sql  string
	args []any
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	if r.on {
		r.sql, r.args = d.SQL, d.Args
	}
	r.mu.Unlock()
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) capture(fn func() error) (string, []any, error) {
	r.mu.Lock()
	r.on, r.sql, r.args = true, "", nil
	r.mu.Unlock()
	err := fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.sql, r.args, err
}

// result is one measured query.
type result struct {
	Name     string
	Rows     int
	Median   time.Duration // wall time over the runs, client side
	Max      time.Duration
	Explain  float64  // EXPLAIN ANALYZE execution time, ms
	Scans    []string // the scan nodes of the plan
	Seq      bool     // a sequential scan on one of our tables
	Plan     string
	Target   time.Duration // 0: no target
	PageRows int
}

func (r result) ok() bool { return r.Target == 0 || (r.Median < r.Target && !r.Seq) }

var (
	scanRE = regexp.MustCompile(`(Index Only Scan(?: Backward)? using \w+|Index Scan(?: Backward)? using \w+|Bitmap Index Scan on \w+|Seq Scan on \w+)`)
	execRE = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	ourSeq = regexp.MustCompile(`Seq Scan on (runs|events|run_steps|step_attempts)\b`)
)

// measure runs fn once to warm up and capture its SQL, then times it runs
// times, then EXPLAIN ANALYZEs the captured SQL.
func measure(ctx context.Context, pool *pgxpool.Pool, rec *recorder, name string, target time.Duration, runs int, fn func() (int, error)) (result, error) {
	res := result{Name: name, Target: target}
	sql, args, err := rec.capture(func() error {
		n, err := fn()
		res.Rows = n
		return err
	})
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	var times []time.Duration
	for range runs {
		t := time.Now()
		if _, err := fn(); err != nil {
			return res, fmt.Errorf("%s: %w", name, err)
		}
		times = append(times, time.Since(t))
	}
	slices.Sort(times)
	res.Median, res.Max = times[len(times)/2], times[len(times)-1]
	if sql == "" {
		return res, nil
	}
	rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return res, fmt.Errorf("%s: explain: %w", name, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return res, fmt.Errorf("%s: explain: %w", name, err)
	}
	res.Plan = strings.Join(lines, "\n")
	for _, m := range scanRE.FindAllString(res.Plan, -1) {
		if !slices.Contains(res.Scans, m) {
			res.Scans = append(res.Scans, m)
		}
	}
	res.Seq = ourSeq.MatchString(res.Plan)
	if m := execRE.FindStringSubmatch(res.Plan); m != nil {
		res.Explain, _ = strconv.ParseFloat(m[1], 64)
	}
	return res, nil
}

type benchCase struct {
	name   string
	target time.Duration
	fn     func() (int, error)
}

// measureAll times the runs list's queries (the GET /runs page and
// GET /api/v1/runs use store.ListRuns), the dashboard's and /metrics' queries,
// then a retention prune of the oldest tenth.
func measureAll(ctx context.Context, pool *pgxpool.Pool, rec *recorder, s seeded, o seedOptions, logf func(string, ...any)) ([]result, error) {
	const page = 50
	const runs = 7
	ws := s.Workspace
	flow := s.Flows[3]
	list := func(f store.RunFilter) func() (int, error) {
		return func() (int, error) {
			f.Limit = page
			rs, err := store.ListRuns(ctx, pool, ws, f)
			return len(rs), err
		}
	}
	// Cursors deep in: the run at the given offset of each listing.
	cursor := func(where string, args []any, offset int) (time.Time, uuid.UUID, error) {
		var t time.Time
		var id uuid.UUID
		q := `SELECT created_at, id FROM runs WHERE workspace_id = $1` + where + ` ORDER BY created_at DESC, id DESC OFFSET ` +
			strconv.Itoa(offset) + ` LIMIT 1`
		err := pool.QueryRow(ctx, q, append([]any{ws}, args...)...).Scan(&t, &id)
		return t, id, err
	}
	deepT, deepID, err := cursor("", nil, o.Runs/2)
	if err != nil {
		return nil, err
	}
	failedT, failedID, err := cursor(` AND status = 'failed'`, nil, o.Runs*6/100/2)
	if err != nil {
		return nil, err
	}
	flowT, flowID, err := cursor(` AND flow_id = $2 AND status = 'failed'`, []any{flow}, o.Runs*6/100/len(s.Flows)/2)
	if err != nil {
		return nil, err
	}
	failed := "failed"
	cases := []benchCase{
		{"runs: first page", 100 * time.Millisecond, list(store.RunFilter{})},
		{"runs: status=failed", 100 * time.Millisecond, list(store.RunFilter{Status: failed})},
		{"runs: flow=…", 100 * time.Millisecond, list(store.RunFilter{FlowID: &flow})},
		{"runs: status=failed&flow=…", 100 * time.Millisecond, list(store.RunFilter{FlowID: &flow, Status: failed})},
		{"runs: status=waiting (rare)", 100 * time.Millisecond, list(store.RunFilter{Status: "waiting"})},
		{"runs: cursor 500,000 deep", 100 * time.Millisecond, list(store.RunFilter{BeforeTime: &deepT, BeforeID: &deepID})},
		{"runs: status=failed, cursor halfway", 100 * time.Millisecond, list(store.RunFilter{Status: failed, BeforeTime: &failedT, BeforeID: &failedID})},
		{"runs: status=failed&flow=…, cursor halfway", 100 * time.Millisecond, list(store.RunFilter{FlowID: &flow, Status: failed, BeforeTime: &flowT, BeforeID: &flowID})},
		{"runs: flow=…, cursor 500,000 deep", 100 * time.Millisecond, list(store.RunFilter{FlowID: &flow, BeforeTime: &deepT, BeforeID: &deepID})},
	}
	for _, r := range []struct {
		name         string
		span, bucket time.Duration
	}{{"hour", time.Hour, time.Minute}, {"day", 24 * time.Hour, 30 * time.Minute}, {"week", 7 * 24 * time.Hour, 3 * time.Hour}} {
		from := time.Now().Add(-r.span)
		cases = append(cases,
			benchCase{"dashboard " + r.name + ": runs per bucket", 0, func() (int, error) {
				cs, err := store.RunsPerBucket(ctx, pool, ws, from, r.bucket)
				return len(cs), err
			}},
			benchCase{"dashboard " + r.name + ": webhook events per bucket", 0, func() (int, error) {
				cs, err := store.EventsPerBucket(ctx, pool, ws, "webhook", from, r.bucket)
				return len(cs), err
			}},
			benchCase{"dashboard " + r.name + ": step p50/p95 (≤ 10,000 attempts)", 0, func() (int, error) {
				ds, _, err := store.StepDurations(ctx, pool, ws, from, 10_000)
				return len(ds), err
			}})
	}
	cases = append(cases,
		benchCase{"dashboard: River queue (system-wide)", 0, func() (int, error) {
			_, err := store.Queue(ctx, pool)
			return 1, err
		}},
		benchCase{"/metrics: runs by status (all workspaces)", 0, func() (int, error) {
			m, err := store.RunStatusCounts(ctx, pool)
			return len(m), err
		}})

	var out []result
	for _, c := range cases {
		r, err := measure(ctx, pool, rec, c.name, c.target, runs, c.fn)
		if err != nil {
			return out, err
		}
		r.PageRows = page
		logf("%-48s rows %6d  median %8s  max %8s  explain %7.2f ms  seq=%v  %s", r.Name, r.Rows,
			r.Median.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Explain, r.Seq, strings.Join(r.Scans, "; "))
		out = append(out, r)
	}
	return out, nil
}

// pruneTenth deletes the oldest tenth of the history the way prune_runs does
// and reports how long it took.
func pruneTenth(ctx context.Context, pool *pgxpool.Pool, o seedOptions) (store.PruneResult, time.Duration, error) {
	cutoff := time.Now().Add(-time.Duration(o.Days) * 24 * time.Hour * 9 / 10)
	t := time.Now()
	res, err := store.PruneRuns(ctx, pool, cutoff, 1000)
	return res, time.Since(t), err
}
