// Package runs renders the run history: the list of runs with its filters
// and live-updating rows, and the run page (the flow graph coloured by step
// state, each step's input, output and attempts, and the recovery actions
// retry, replay and cancel). Components take the view models below and never
// touch the database.
package runs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/layout"
)

// PageSize is how many runs one page of the list shows.
const PageSize = 50

// Statuses are the run statuses the list filters by, in display order.
var Statuses = []string{"queued", "running", "waiting", "succeeded", "failed", "cancelled"}

// FlowOption is one flow in the filter's select.
type FlowOption struct {
	ID   string
	Name string
}

// Filter is the list's query: every field is the raw form value.
type Filter struct {
	Flow   string // flow id
	Status string
	From   string // "2006-01-02T15:04" (UTC), inclusive
	To     string // "2006-01-02T15:04" (UTC), exclusive
	Q      string // text searched in the trigger payload
}

// Active reports whether any filter is set.
func (f Filter) Active() bool {
	return f.Flow != "" || f.Status != "" || f.From != "" || f.To != "" || f.Q != ""
}

// Values is the filter as query parameters, with the page cursor when set.
func (f Filter) Values(cursor string) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("flow", f.Flow)
	set("status", f.Status)
	set("from", f.From)
	set("to", f.To)
	set("q", f.Q)
	set("cursor", cursor)
	return v
}

// Row is one run in the list.
type Row struct {
	ID          string
	FlowID      string
	FlowName    string
	FlowVersion int
	Status      string
	Source      string // webhook, manual, replay, test, app
	IsTest      bool
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	StepsTotal  int
	StepsDone   int      // succeeded or skipped
	FailedSteps []string // ids of its failed steps
}

// FailedFlow is a flow with failed runs, for the "Retry all failed" panel.
type FailedFlow struct {
	FlowID   string
	FlowName string
	Count    int
}

// ListView is the runs page.
type ListView struct {
	Page    layout.Page
	Flows   []FlowOption
	Filter  Filter
	Errors  map[string]string // filter field → message
	Rows    []Row
	Cursor  string // this page's cursor; "" on the newest page
	Next    string // the next (older) page's cursor; "" on the last page
	Failed  []FailedFlow
	CanEdit bool
	CSRF    string
	// Now is the reference for relative times; zero means time.Now().
	Now time.Time
}

func (v ListView) now() time.Time { return nowOr(v.Now) }

func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// live reports whether some row can still change, so the rows poll.
func (v ListView) live() bool {
	for _, r := range v.Rows {
		if r.Status == "queued" || r.Status == "running" {
			return true
		}
	}
	return false
}

func (v ListView) rowsURL() string {
	return "/runs/rows?" + v.Filter.Values(v.Cursor).Encode()
}

func (v ListView) olderURL() string {
	return "/runs?" + v.Filter.Values(v.Next).Encode()
}

func (v ListView) newestURL() string {
	if q := v.Filter.Values("").Encode(); q != "" {
		return "/runs?" + q
	}
	return "/runs"
}

func (v ListView) fieldError(name string) string { return v.Errors[name] }

// RunURL is the path of a run's page.
func RunURL(id string) string { return "/runs/" + url.PathEscape(id) }

func failedURL(flowID string) string {
	return "/runs?" + url.Values{"flow": {flowID}, "status": {"failed"}}.Encode()
}

func retryAllConfirm(f FailedFlow) string {
	what := fmt.Sprintf("all %d failed runs", f.Count)
	if f.Count == 1 {
		what = "1 failed run"
	}
	return fmt.Sprintf("Retry %s of “%s”? Each retries its failed steps and continues from there.", what, f.FlowName)
}

func (r Row) progress() string {
	if r.StepsTotal == 0 {
		return "No steps"
	}
	return fmt.Sprintf("%d of %d steps", r.StepsDone, r.StepsTotal)
}

func (r Row) duration(now time.Time) string {
	return runDuration(r.CreatedAt, r.StartedAt, r.FinishedAt, r.Status, now)
}

// runDuration is how long a run took, or has been going.
func runDuration(created time.Time, started, finished *time.Time, status string, now time.Time) string {
	from := created
	if started != nil {
		from = *started
	}
	switch {
	case finished != nil:
		return FormatDuration(finished.Sub(from))
	case status == "queued" || status == "running" || status == "waiting":
		return FormatDuration(now.Sub(from))
	}
	return "—"
}

// ShortID is the last 8 characters of a run id, enough to tell runs apart by
// eye (ids are UUIDv7: the first characters are a timestamp, alike for runs
// started together; the last are random).
func ShortID(id string) string {
	if len(id) > 8 {
		return id[len(id)-8:]
	}
	return id
}

func sourceLabel(source string, isTest bool) string {
	label := map[string]string{"webhook": "Webhook", "manual": "Manual", "replay": "Replay", "test": "Test", "app": "App event"}[source]
	if label == "" {
		label = source
	}
	if isTest && source != "test" {
		label += " (test)"
	}
	return label
}

// FormatDuration formats a duration for people: "340 ms", "1.2 s",
// "2 min 5 s", "3 h 2 min".
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// DetailView is a run's page.
type DetailView struct {
	Page  layout.Page
	Run   Run
	Graph *graph.Layout // nil when the flow version cannot be drawn
	Steps []Step
	// Payload is the trigger payload, pretty JSON; the replay form's
	// textarea starts with it (or with the edited text after an error).
	Payload      string
	PayloadError string
	CanEdit      bool
	CSRF         string
	Now          time.Time
}

// Run is the run a DetailView shows.
type Run struct {
	ID             string
	FlowID         string
	FlowName       string
	FlowVersion    int
	CurrentVersion int // the flow's current version, which replays use
	Status         string
	Source         string
	IsTest         bool
	ReplayOf       string
	CreatedAt      time.Time
	StartedAt      *time.Time
	FinishedAt     *time.Time
}

// Step is one step of the run.
type Step struct {
	ID       string
	Name     string
	Action   string
	Status   string
	Attempts int
	// Input and Output are pretty JSON; "" when the step has none yet.
	Input      string
	Output     string
	Error      string
	StartedAt  *time.Time
	FinishedAt *time.Time
	DurationMS *int
	Needs      []string
	History    []Attempt
}

// Attempt is one call of a step's action.
type Attempt struct {
	N          int
	Status     string
	Error      string
	StartedAt  time.Time
	DurationMS int
}

func (v DetailView) now() time.Time { return nowOr(v.Now) }

// active reports whether the run can still change by itself.
func (r Run) active() bool {
	return r.Status == "queued" || r.Status == "running" || r.Status == "waiting"
}

// pollEvery is how often the run page refreshes while the run is going: a
// waiting run (a delay, an approval) changes rarely.
func (r Run) pollEvery() string {
	if r.Status == "waiting" {
		return "every 10s"
	}
	return "every 2s"
}

func (r Run) liveURL() string { return RunURL(r.ID) + "/live" }

func (r Run) duration(now time.Time) string {
	return runDuration(r.CreatedAt, r.StartedAt, r.FinishedAt, r.Status, now)
}

func (r Run) title() string {
	if r.FlowName == "" {
		return "Run " + ShortID(r.ID)
	}
	return r.FlowName
}

func (v DetailView) failedSteps() []Step {
	var out []Step
	for _, s := range v.Steps {
		if s.Status == "failed" {
			out = append(out, s)
		}
	}
	return out
}

func (s Step) title() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

func (s Step) anchor() string { return "step-" + s.ID }

// bodyID changes whenever the step changes: the live region keeps an
// unchanged step's body (and which of its sections are open) across polls
// with hx-preserve, and takes the new one when the step moved on.
func (s Step) bodyID() string {
	return fmt.Sprintf("step-body-%s-%s-%d", s.ID, s.Status, s.Attempts)
}

func (s Step) retryURL(runID string) string {
	return RunURL(runID) + "/steps/" + url.PathEscape(s.ID) + "/retry"
}

func (s Step) retryConfirm() string {
	return fmt.Sprintf("Retry step “%s”? It runs again with a fresh retry budget and the run continues from there.", s.title())
}

func (s Step) meta() string {
	var parts []string
	if s.Attempts > 0 {
		parts = append(parts, plural(s.Attempts, "attempt"))
	}
	if s.DurationMS != nil {
		parts = append(parts, FormatDuration(time.Duration(*s.DurationMS)*time.Millisecond))
	}
	return strings.Join(parts, " · ")
}

// firstLine keeps an error's first line for summaries.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 240 {
		line = line[:240] + "…"
	}
	return line
}

// maxShown bounds the JSON shown on the page; the API has the rest.
const maxShown = 200_000

// PrettyJSON indents raw JSON for display; "" for no value (nil or null).
func PrettyJSON(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return clip(string(raw))
	}
	return clip(buf.String())
}

// PrettyError shows an error message with any JSON it carries indented: a
// connector's error often ends with the API's JSON answer.
func PrettyError(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.IndexAny(msg, "{["); i >= 0 {
		var buf bytes.Buffer
		if json.Valid([]byte(msg[i:])) && json.Indent(&buf, []byte(msg[i:]), "", "  ") == nil {
			prefix := strings.TrimSpace(msg[:i])
			if prefix == "" {
				return clip(buf.String())
			}
			return clip(prefix + "\n" + buf.String())
		}
	}
	return clip(msg)
}

func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return s[:maxShown] + "\n… (cut here; GET /api/v1/runs/:id has the whole value)"
}

// payloadRows sizes the replay textarea to its payload, within bounds.
func (v DetailView) payloadRows() string {
	n := strings.Count(v.Payload, "\n") + 2
	return strconv.Itoa(min(max(n, 4), 24))
}

func (v DetailView) replayHelp() string {
	return fmt.Sprintf("Replay starts a new run of “%s” on its current version (v%d) with this payload. Edit it first to try a fix.",
		v.Run.FlowName, v.Run.CurrentVersion)
}

func statusTitle(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func dateValue(f Filter, name string) string {
	if name == "from" {
		return f.From
	}
	return f.To
}

// stacked puts a wide graph above the steps instead of beside them, so it
// is never shrunk to an unreadable size.
func (v DetailView) stacked() bool {
	return v.Graph != nil && v.Graph.Width > 440
}

// statusClass keeps class names to known statuses.
func statusClass(s string) string {
	if _, ok := map[string]bool{"pending": true, "queued": true, "running": true, "waiting": true,
		"succeeded": true, "failed": true, "skipped": true, "cancelled": true}[s]; ok {
		return s
	}
	return "unknown"
}

func attemptClass(s string) string {
	switch s {
	case "succeeded", "failed", "retrying", "snoozed", "cancelled":
		return s
	}
	return "unknown"
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// stepNote explains a step that has nothing to show yet.
func stepNote(status string) string {
	switch status {
	case "pending":
		return "Waits for the steps it needs."
	case "queued":
		return "Queued: a worker picks it up next."
	case "running":
		return "Running now."
	case "waiting":
		return "Waiting for its time, event or approval."
	case "skipped":
		return "Skipped: its condition was false, or every step it needs was skipped."
	case "cancelled":
		return "Cancelled before it ran."
	}
	return "Nothing recorded."
}
