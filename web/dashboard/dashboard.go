// Package dashboard renders the dashboard (runs, failure rate, step durations,
// River's queue, webhook intake, as server-side SVG charts) and the settings
// page (members and API tokens).
package dashboard

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/web/chart"
	"github.com/switchboard/switchboard/web/layout"
)

// RangeOption is one choice of the range switch.
type RangeOption struct {
	Key    string // query value: hour, day, week
	Label  string // "Hour"
	Active bool
}

// Href is the option's link.
func (o RangeOption) Href() string { return "/dashboard?range=" + o.Key }

// Queue is River's queue across every workspace.
type Queue struct {
	Available, Retryable, Scheduled int
	// OldestWait is how long the longest-waiting due job has waited.
	OldestWait time.Duration
}

// View is the dashboard page.
type View struct {
	Page layout.Page
	// Range is the selected range key; RangeText says it in words ("the last hour").
	Range     string
	RangeText string
	Ranges    []RangeOption
	// BucketText is one bar's width in words ("minute", "30 minutes").
	BucketText string

	// Runs is stacked by status, one bar per bucket.
	Runs                         chart.Bars
	TotalRuns, Succeeded, Failed int
	Events                       chart.Bars
	TotalEvents                  int
	Steps                        chart.RangeBars
	StepAttempts                 int
	StepsSampled                 bool
	Queue                        Queue
	QueueError                   bool // River's table could not be read
	RefreshSeconds               int  // 0: no auto-refresh
	GeneratedAt                  time.Time
}

func page(p layout.Page, title, active string) layout.Page {
	if p.Title == "" {
		p.Title = title
	}
	if p.Active == "" {
		p.Active = active
	}
	return p
}

// FailureRate is failed runs over finished (succeeded + failed) runs.
func (v View) FailureRate() string {
	done := v.Succeeded + v.Failed
	if done == 0 {
		return "—"
	}
	pct := float64(v.Failed) * 100 / float64(done)
	switch {
	case v.Failed == 0:
		return "0%"
	case pct < 0.1:
		return "<0.1%"
	case pct < 10:
		return fmt.Sprintf("%.1f%%", pct)
	default:
		return fmt.Sprintf("%.0f%%", pct)
	}
}

func (v View) failureNote() string {
	done := v.Succeeded + v.Failed
	if done == 0 {
		return "no finished runs"
	}
	return fmt.Sprintf("%s of %s finished runs", count(v.Failed), count(done))
}

func (v View) refreshURL() string { return "/dashboard?range=" + v.Range }

func (v View) refreshTrigger() string { return fmt.Sprintf("every %ds", v.RefreshSeconds) }

func (q Queue) depth() int { return q.Available + q.Retryable }

// Wait formats a duration for people: "—", "12 s", "4 min", "3 h 20 min".
func Wait(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d d", int(d.Hours()/24))
	}
}

// Millis formats a duration in milliseconds: "8 ms", "1.2 s", "2 min".
func Millis(ms float64) string {
	switch {
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0f ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1f s", ms/1000)
	default:
		return fmt.Sprintf("%.1f min", ms/60_000)
	}
}

// count formats a whole number with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
