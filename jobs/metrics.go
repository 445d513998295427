package jobs

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/store"
)

// Metrics counts what this process's engine does, for GET /metrics: events
// accepted, step attempts (a duration histogram per action and outcome) and
// retries. It also caches the database-wide gauges (runs by status, River's
// queue) so that frequent scrapes cost one query per TTL. The methods are safe
// for concurrent use and do nothing on a nil *Metrics, so the engine can call
// them unconditionally.
//
// It has no Prometheus dependency: handlers turn a Snapshot into metrics.
type Metrics struct {
	events  atomic.Uint64
	retries atomic.Uint64

	mu    sync.Mutex
	steps map[StepKey]*stepHistogram

	gaugesMu sync.Mutex
	gauges   Gauges
	gaugesAt time.Time
}

// StepBuckets are the upper bounds, in seconds, of the step duration histogram:
// from a fast API call to the default 30s attempt timeout and beyond.
var StepBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// StepKey labels one step duration series.
type StepKey struct {
	Action string // connector.action
	Status string // the attempt's outcome: succeeded, failed, retrying, snoozed
}

type stepHistogram struct {
	counts []uint64 // per bucket (not cumulative); the last one is +Inf
	sum    float64
	count  uint64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{steps: map[StepKey]*stepHistogram{}}
}

// IncEvents counts one accepted event (not a duplicate).
func (m *Metrics) IncEvents() {
	if m != nil {
		m.events.Add(1)
	}
}

// IncRetry counts one failed attempt that will be retried (or snoozed).
func (m *Metrics) IncRetry() {
	if m != nil {
		m.retries.Add(1)
	}
}

// ObserveStep records one attempt of an action with its outcome and duration.
func (m *Metrics) ObserveStep(action, status string, d time.Duration) {
	if m == nil {
		return
	}
	s := d.Seconds()
	i := sort.SearchFloat64s(StepBuckets, s) // first bound >= s
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.steps[StepKey{action, status}]
	if h == nil {
		h = &stepHistogram{counts: make([]uint64, len(StepBuckets)+1)}
		m.steps[StepKey{action, status}] = h
	}
	h.counts[i]++
	h.sum += s
	h.count++
}

// StepSeries is one step duration histogram, cumulative as Prometheus wants it.
type StepSeries struct {
	StepKey
	// Buckets maps each bound of StepBuckets to the attempts that took at most
	// that long.
	Buckets map[float64]uint64
	Sum     float64 // seconds
	Count   uint64
}

// Snapshot is a consistent copy of the counters.
type Snapshot struct {
	Events  uint64
	Retries uint64
	Steps   []StepSeries // sorted by action, then status
}

// Snapshot copies the counters (a zero Snapshot for nil).
func (m *Metrics) Snapshot() Snapshot {
	if m == nil {
		return Snapshot{}
	}
	s := Snapshot{Events: m.events.Load(), Retries: m.retries.Load()}
	m.mu.Lock()
	for k, h := range m.steps {
		ser := StepSeries{StepKey: k, Buckets: make(map[float64]uint64, len(StepBuckets)), Sum: h.sum, Count: h.count}
		var cum uint64
		for i, b := range StepBuckets {
			cum += h.counts[i]
			ser.Buckets[b] = cum
		}
		s.Steps = append(s.Steps, ser)
	}
	m.mu.Unlock()
	sort.Slice(s.Steps, func(i, j int) bool {
		if s.Steps[i].Action != s.Steps[j].Action {
			return s.Steps[i].Action < s.Steps[j].Action
		}
		return s.Steps[i].Status < s.Steps[j].Status
	})
	return s
}

// Gauges are the database-wide numbers /metrics reports.
type Gauges struct {
	Runs  map[string]int64 // kept runs by status, every workspace
	Queue store.QueueStats
}

// ReadGauges reads the gauges from the database, reusing the last reading for
// ttl. On a nil *Metrics it always reads.
func (m *Metrics) ReadGauges(ctx context.Context, db store.DB, ttl time.Duration) (Gauges, error) {
	if m != nil {
		m.gaugesMu.Lock()
		defer m.gaugesMu.Unlock()
		if !m.gaugesAt.IsZero() && time.Since(m.gaugesAt) < ttl {
			return m.gauges, nil
		}
	}
	runs, err := store.RunStatusCounts(ctx, db)
	if err != nil {
		return Gauges{}, err
	}
	q, err := store.Queue(ctx, db)
	if err != nil {
		return Gauges{}, err
	}
	g := Gauges{Runs: runs, Queue: q}
	if m != nil {
		m.gauges, m.gaugesAt = g, time.Now()
	}
	return g, nil
}
