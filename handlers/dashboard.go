package handlers

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/chart"
	"github.com/switchboard/switchboard/web/dashboard"
	"github.com/switchboard/switchboard/web/layout"
)

// dashRange is one choice of the dashboard's range switch: how far back it
// looks and how wide one bar is.
type dashRange struct {
	key, label, text string
	span, bucket     time.Duration
	bucketText       string
	// labelFormat names a bucket in tooltips; tick reports whether a bucket
	// starting at t gets an x-axis label, tickFormat how it reads.
	labelFormat, tickFormat string
	tick                    func(t time.Time) bool
	refresh                 int // seconds between htmx refreshes
}

var dashRanges = []dashRange{
	{key: "hour", label: "Hour", text: "the last hour", span: time.Hour, bucket: time.Minute, bucketText: "minute",
		labelFormat: "15:04", tickFormat: "15:04", tick: func(t time.Time) bool { return t.Minute()%10 == 0 }, refresh: 30},
	{key: "day", label: "Day", text: "the last 24 hours", span: 24 * time.Hour, bucket: 30 * time.Minute, bucketText: "30 minutes",
		labelFormat: "Jan 2 15:04", tickFormat: "15:04", tick: func(t time.Time) bool { return t.Minute() == 0 && t.Hour()%4 == 0 }, refresh: 120},
	{key: "week", label: "Week", text: "the last 7 days", span: 7 * 24 * time.Hour, bucket: 3 * time.Hour, bucketText: "3 hours",
		labelFormat: "Mon Jan 2 15:04", tickFormat: "Mon 2", tick: func(t time.Time) bool { return t.Hour() == 0 }, refresh: 600},
}

func dashRangeFor(key string) dashRange {
	for _, r := range dashRanges {
		if r.key == key {
			return r
		}
	}
	return dashRanges[0]
}

// stepSampleLimit bounds how many of the latest attempts the duration
// percentiles read.
const stepSampleLimit = 10_000

// buckets returns the start of the first bucket and the bucket count: the
// last bucket holds now; starts are multiples of the width since the Unix
// epoch, as the store's queries bucket them.
func (r dashRange) buckets(now time.Time) (time.Time, int) {
	w := int64(r.bucket / time.Second)
	n := int(r.span / r.bucket)
	last := now.Unix() / w * w
	return time.Unix(last-int64(n-1)*w, 0).UTC(), n
}

func (a *app) dashboardPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m := member(c)
	rg := dashRangeFor(c.Query("range"))
	from, n := rg.buckets(time.Now())
	v := dashboard.View{Range: rg.key, RangeText: rg.text, BucketText: rg.bucketText, RefreshSeconds: rg.refresh}
	for _, o := range dashRanges {
		v.Ranges = append(v.Ranges, dashboard.RangeOption{Key: o.key, Label: o.label, Active: o.key == rg.key})
	}
	labels := make([]string, n)
	ticks := map[int]string{}
	for i := range n {
		t := from.Add(time.Duration(i) * rg.bucket)
		labels[i] = t.Format(rg.labelFormat)
		if rg.tick(t) {
			ticks[i] = t.Format(rg.tickFormat)
		}
	}
	index := func(t time.Time) int {
		i := int(t.Sub(from) / rg.bucket)
		if i < 0 || i >= n {
			return -1
		}
		return i
	}

	runs, err := store.RunsPerBucket(ctx, a.Pool, m.WorkspaceID, from, rg.bucket)
	if err != nil {
		return err
	}
	series := []chart.Series{
		{Name: "Succeeded", Color: chart.ColorSucceeded, Values: make([]float64, n)},
		{Name: "Failed", Color: chart.ColorFailed, Values: make([]float64, n)},
		{Name: "Cancelled", Color: chart.ColorCancelled, Values: make([]float64, n)},
		{Name: "In progress", Color: chart.ColorActive, Values: make([]float64, n)},
	}
	for _, rc := range runs {
		i := index(rc.Bucket)
		if i < 0 {
			continue
		}
		s := 3
		switch rc.Status {
		case "succeeded":
			s = 0
			v.Succeeded += rc.Count
		case "failed":
			s = 1
			v.Failed += rc.Count
		case "cancelled":
			s = 2
		}
		series[s].Values[i] += float64(rc.Count)
		v.TotalRuns += rc.Count
	}
	v.Runs = chart.Bars{ID: "runs-chart", Title: "Runs per " + rg.bucketText + " by status", Labels: labels, Ticks: ticks,
		Series: series, Unit: "runs"}

	events, err := store.EventsPerBucket(ctx, a.Pool, m.WorkspaceID, "webhook", from, rg.bucket)
	if err != nil {
		return err
	}
	ev := make([]float64, n)
	for _, e := range events {
		if i := index(e.Bucket); i >= 0 {
			ev[i] += float64(e.Count)
			v.TotalEvents += e.Count
		}
	}
	v.Events = chart.Bars{ID: "events-chart", Title: "Webhook events per " + rg.bucketText, Labels: labels, Ticks: ticks,
		Series: []chart.Series{{Name: "Events", Color: chart.ColorAccent, Values: ev}}, Unit: "events"}

	durations, sampled, err := store.StepDurations(ctx, a.Pool, m.WorkspaceID, from, stepSampleLimit)
	if err != nil {
		return err
	}
	v.Steps = chart.RangeBars{ID: "steps-chart", Title: "Step duration per action, median and 95th percentile",
		LowName: "p50", HighName: "p95"}
	for _, d := range durations {
		v.StepAttempts += d.Count
		v.Steps.Rows = append(v.Steps.Rows, chart.Range{Label: d.Action, Low: d.P50MS, High: d.P95MS,
			LowText: dashboard.Millis(d.P50MS), HighText: dashboard.Millis(d.P95MS), Note: dashPlural(d.Count, "attempt")})
	}
	v.StepsSampled = sampled

	if q, err := store.Queue(ctx, a.Pool); err != nil {
		a.log.Warn("dashboard: read River's queue", "err", err)
		v.QueueError = true
	} else {
		v.Queue = dashboard.Queue{Available: q.Available, Retryable: q.Retryable, Scheduled: q.Scheduled, OldestWait: q.OldestWait()}
	}

	if c.Get("HX-Request") == "true" {
		return render(c, dashboard.Panel(v))
	}
	v.Page = a.page(c, "Dashboard", layout.NavDashboard)
	return render(c, dashboard.Page(v))
}

func dashPlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
