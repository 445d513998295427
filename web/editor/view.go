// Package editor renders the flow editor: the flow drawn as a graph (laid out
// by web/graph, drawn here with the editor's cards and "+" buttons), the side
// panel with the trigger's or a step's form, the catalog picker, the data
// picker and the version history with its diff. Handlers build the view
// models; nothing here touches the database.
package editor

import (
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/layout"
)

// ScriptPath is the editor's own behaviour (data picker, focus after swaps),
// loaded by the editor pages only.
const ScriptPath = "/static/js/editor.js"

// TriggerNode is the id of the trigger's node (graph.TriggerID).
const TriggerNode = graph.TriggerID

// EditorView is the flow editor page.
type EditorView struct {
	Page  layout.Page
	Flow  FlowInfo
	Graph GraphView
	Panel PanelView
	// Notice is a one-shot message above the editor (published, saved, …).
	Notice *Notice
	// Problems are listed above the editor when ShowProblems is set (after a
	// refused publish).
	Problems     []Problem
	ShowProblems bool
}

// FlowInfo is the flow as the editor's header shows it.
type FlowInfo struct {
	ID      string
	Name    string
	Enabled bool
	// Version is the published version runs use.
	Version int
	// HasDraft is true when the draft differs from the published version.
	HasDraft bool
	// ProblemCount counts the problems of the draft.
	ProblemCount int
	// NeverPublished is set while the flow has no runnable version yet.
	NeverPublished bool
	CanEdit        bool
}

// Notice is a message with a kind: success, info, warning or error.
type Notice struct {
	Kind string
	Text string
}

// Problem is one problem of the draft; Href opens the node it concerns.
type Problem struct {
	Where   string
	Message string
	Href    string
}

// GraphView is the flow's graph with what the editor adds to it.
type GraphView struct {
	FlowID string
	Layout graph.Layout
	// Selected is the node whose form is open (TriggerNode or a step id).
	Selected string
	// Problems counts the problems per node id.
	Problems map[string]int
	// Tested marks the steps with a stored test output.
	Tested  map[string]bool
	CanEdit bool
}

// PanelView is what the side panel shows: exactly one of its fields is set,
// or none (the overview).
type PanelView struct {
	Trigger *TriggerPanel
	Step    *StepPanel
	Catalog *CatalogPanel
}

// Option is one choice of a <select>.
type Option struct {
	Value string
	Label string
}

// DataPaths are the references the data picker offers.
type DataPaths struct {
	Groups []PathGroup
}

// PathGroup is one source of data: the sample event, or a step's output.
type PathGroup struct {
	Title string
	// Note explains where the paths come from, or why there are none.
	Note  string
	Paths []string
}

// Empty reports whether no group has any path.
func (d DataPaths) Empty() bool {
	for _, g := range d.Groups {
		if len(g.Paths) > 0 {
			return false
		}
	}
	return true
}

// TriggerPanel is the trigger's form.
type TriggerPanel struct {
	FlowID         string
	Type           string
	Types          []Option
	WebhookURL     string
	If             string
	IdempotencyKey string
	// Sample is the sample event as JSON text.
	Sample string
	// Errors maps a form field (type, if, idempotency_key, sample) to its
	// problem.
	Errors map[string]string
	Data   DataPaths
	// LastEvent says when the flow last received an event, "" when never.
	LastEvent string
	// Steps counts the flow's steps (none: the panel offers the first one).
	Steps int
	// Listen is "Listen for a test event"; nil when the trigger takes no
	// webhooks.
	Listen  *ListenView
	Saved   bool
	CanEdit bool
}

// Listening states of ListenView.
const (
	ListenIdle    = "idle"
	ListenWaiting = "waiting"
	// ListenExpired: the last listen ended without a request.
	ListenExpired = "expired"
)

// ListenView is "Listen for a test event": the next request to the webhook
// URL becomes the sample event.
type ListenView struct {
	FlowID     string
	WebhookURL string
	State      string
	// Window says how long a listen lasts ("5 minutes").
	Window string
	// PollURL is what the waiting box polls until the request arrives.
	PollURL string
	// Curl is a command that posts a test request to the webhook URL.
	Curl string
	// Signed is set when the trigger checks signatures, so that an unsigned
	// request such as Curl's is refused.
	Signed  bool
	CanEdit bool
}

// StepPanel is a step's form.
type StepPanel struct {
	FlowID string
	// Orig is the step's id as stored (its URL); ID is the edited value.
	Orig          string
	ID            string
	Name          string
	Action        string
	ActionName    string
	ConnectorName string
	Description   string
	// UnknownAction is set when the catalog lacks the action.
	UnknownAction bool
	If            string
	Needs         []NeedOption
	MaxAttempts   string
	Initial       string
	MaxInterval   string
	Timeout       string
	// Connection is nil for actions that need none.
	Connection *ConnectionPicker
	Fields     []InputField
	// Errors maps a form field name (id, in.channel, retry.max_attempts, …)
	// to its problem.
	Errors map[string]string
	// Other lists problems of the step that belong to no field.
	Other   []string
	Data    DataPaths
	Test    *TestResult
	Saved   bool
	CanEdit bool
}

// NeedOption is one step the edited step may wait for.
type NeedOption struct {
	ID      string
	Label   string
	Checked bool
}

// ConnectionPicker chooses the step's connection.
type ConnectionPicker struct {
	Connector     string
	ConnectorName string
	Options       []Option
	Selected      string
}

// InputField is one input of the step's action, built from its field spec.
type InputField struct {
	Key         string
	Label       string
	Type        string // string, text, number, bool, select, json, kv, list
	Help        string
	Placeholder string
	Required    bool
	Options     []string
	Value       string
}

// Name is the form field's name.
func (f InputField) Name() string { return "in." + f.Key }

// TestResult is the outcome of "Test step": a test run of the one step on
// the sample data, through the job queue like any run.
type TestResult struct {
	Service string
	// Pending is set until the test run's step has finished: the result then
	// polls PollURL, which answers 204 until it can show the outcome.
	Pending bool
	PollURL string
	// Stalled is set when the test run has waited long for a worker.
	Stalled bool
	// RunURL opens the test run on the runs page ("" when none started).
	RunURL string
	OK     bool
	Input  string
	Output string
	Error  string
	// Note says what the test could not honour, e.g. an if that is false.
	Note string
}

// CatalogPanel is the catalog picker that inserts a step.
type CatalogPanel struct {
	FlowID string
	// After and Before place the new step: after a node (TriggerNode or a
	// step), and before a step when inserting on an edge.
	After  string
	Before string
	// Where says it in words ("after announce").
	Where   string
	Query   string
	Groups  []CatalogGroup
	CanEdit bool
}

// CatalogGroup is one connector's actions.
type CatalogGroup struct {
	Key     string
	Name    string
	Actions []CatalogAction
}

// CatalogAction is one action to pick.
type CatalogAction struct {
	Key         string
	Name        string
	Description string
}

// VersionsView is the version history page with a diff of two versions.
type VersionsView struct {
	Page     layout.Page
	FlowID   string
	FlowName string
	Current  int
	HasDraft bool
	Versions []VersionRow
	// A and B are the compared versions ("3", or "draft").
	A, B    string
	Compare []Option
	Diff    []DiffLine
	Now     time.Time
	CanEdit bool
}

// VersionRow is one published version.
type VersionRow struct {
	Version int
	Author  string
	At      time.Time
	Steps   int
	Current bool
}

// FlowURL is the editor's address, optionally with a step open.
func FlowURL(flowID, step string) string {
	u := "/flows/" + url.PathEscape(flowID)
	if step == TriggerNode {
		return u + "?panel=trigger"
	}
	if step != "" {
		u += "?step=" + url.QueryEscape(step)
	}
	return u
}

// flowPath joins the flow's base path and a suffix.
func flowPath(flowID string, parts ...string) string {
	u := "/flows/" + url.PathEscape(flowID)
	for _, p := range parts {
		u += "/" + url.PathEscape(p)
	}
	return u
}

// TestResultURL is what a pending "Test step" result polls.
func TestResultURL(flowID, step, runID string) string {
	return stepPath(flowID, step, "test", runID)
}

func stepPath(flowID, step string, parts ...string) string {
	return flowPath(flowID, append([]string{"steps", step}, parts...)...)
}

// nodePanelURL is the htmx address of a node's form.
func nodePanelURL(flowID, node string) string {
	if node == TriggerNode {
		return flowPath(flowID, "trigger")
	}
	return stepPath(flowID, node)
}

// catalogURL opens the catalog picker for a new step after after (and
// before before).
func catalogURL(flowID, after, before string) string {
	q := url.Values{}
	q.Set("after", after)
	if before != "" {
		q.Set("before", before)
	}
	return flowPath(flowID, "catalog") + "?" + q.Encode()
}

// catalogPageURL is the same picker as a full page (no JavaScript).
func catalogPageURL(flowID, after, before string) string {
	q := url.Values{}
	q.Set("add_after", after)
	if before != "" {
		q.Set("add_before", before)
	}
	return "/flows/" + url.PathEscape(flowID) + "?" + q.Encode()
}

// domID turns a form field name into an element id.
func domID(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func fieldID(name string) string { return domID("f-", name) }
func msgID(name string) string   { return domID("msg-", name) }

// noticeKind keeps arbitrary strings out of class names.
func noticeKind(k string) string {
	switch k {
	case "success", "warning", "error":
		return k
	}
	return "info"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// compareURL compares a version with the one before it.
func compareURL(flowID string, version int) string {
	prev := max(version-1, 1)
	return flowPath(flowID, "versions") + "?a=" + itoa(prev) + "&b=" + itoa(version)
}

// testPollTrigger polls a pending test often, and a stalled one less.
func testPollTrigger(t *TestResult) string {
	if t.Stalled {
		return "every 2s"
	}
	return "every 400ms"
}

func testState(t *TestResult) string {
	if t.OK {
		return "succeeded"
	}
	return "failed"
}
