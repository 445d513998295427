package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/jobs"
)

// gaugesTTL is how long the database-wide gauges are reused between scrapes.
const gaugesTTL = 15 * time.Second

// metricRunStatuses are the run states, each always reported (0 when none).
var metricRunStatuses = []string{"queued", "running", "waiting", "succeeded", "failed", "cancelled"}

// metrics serves Prometheus metrics in the text format from a registry of its
// own (never the global one): the engine's counters of this process, the
// database-wide gauges (runs by status, River's queue) and Go runtime and
// process metrics.
func (a *app) metrics(c *fiber.Ctx) error {
	m := a.engineMetrics()
	col := newMetricsCollector(m.Snapshot())
	if g, err := m.ReadGauges(c.UserContext(), a.Pool, gaugesTTL); err != nil {
		// Serve the process's own counters anyway; the gap in the gauges shows.
		a.log.Warn("metrics: read gauges", "err", err)
	} else {
		col.gauges = &g
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))(c)
}

// instrumented is an engine that counts what it does.
type instrumented interface{ Instrumentation() *jobs.Metrics }

// engineMetrics returns the engine's counters when the engine carries them
// (jobs.Engine with an Instrumentation method), else nil: the counters then
// read zero and the gauges are read on every scrape.
func (a *app) engineMetrics() *jobs.Metrics {
	if a.Engine == nil {
		return nil
	}
	if e, ok := any(a.Engine).(instrumented); ok {
		return e.Instrumentation()
	}
	return nil
}

// metricsCollector turns a snapshot of the engine's counters and the gauges
// into Prometheus metrics (a custom collector: the values are computed
// elsewhere, it only describes them).
type metricsCollector struct {
	snap   jobs.Snapshot
	gauges *jobs.Gauges

	events, runs, steps, retries, queue, oldest *prometheus.Desc
}

func newMetricsCollector(s jobs.Snapshot) *metricsCollector {
	return &metricsCollector{
		snap: s,
		events: prometheus.NewDesc("switchboard_events_received_total",
			"Events accepted by this process (webhooks, manual runs, replays), duplicates excluded.", nil, nil),
		runs: prometheus.NewDesc("switchboard_runs",
			"Runs kept in the history by status, all workspaces.", []string{"status"}, nil),
		steps: prometheus.NewDesc("switchboard_step_duration_seconds",
			"Duration of the step attempts run by this process, by action and outcome.", []string{"action", "status"}, nil),
		retries: prometheus.NewDesc("switchboard_step_retries_total",
			"Step attempts run by this process that failed and will be retried.", nil, nil),
		queue: prometheus.NewDesc("switchboard_queue_depth",
			"River jobs available or retryable, all workspaces.", nil, nil),
		oldest: prometheus.NewDesc("switchboard_queue_oldest_wait_seconds",
			"How long the longest-waiting due River job has waited (0 when none).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (mc *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mc.events, mc.runs, mc.steps, mc.retries, mc.queue, mc.oldest} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (mc *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(mc.events, prometheus.CounterValue, float64(mc.snap.Events))
	ch <- prometheus.MustNewConstMetric(mc.retries, prometheus.CounterValue, float64(mc.snap.Retries))
	for _, s := range mc.snap.Steps {
		ch <- prometheus.MustNewConstHistogram(mc.steps, s.Count, s.Sum, s.Buckets, s.Action, s.Status)
	}
	if mc.gauges == nil {
		return
	}
	for _, st := range metricRunStatuses {
		ch <- prometheus.MustNewConstMetric(mc.runs, prometheus.GaugeValue, float64(mc.gauges.Runs[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(mc.queue, prometheus.GaugeValue, float64(mc.gauges.Queue.Depth()))
	ch <- prometheus.MustNewConstMetric(mc.oldest, prometheus.GaugeValue, mc.gauges.Queue.OldestWait().Seconds())
}
