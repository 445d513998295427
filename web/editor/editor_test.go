package editor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"github.com/switchboard/switchboard/web/editor"
	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
)

const evil = `<script>alert(1)</script>`

type htmlNode = html.Node

func sampleGraph(canEdit bool) editor.GraphView {
	nodes := []graph.Node{
		{ID: graph.TriggerID, Title: "Trigger", Subtitle: "Incoming webhook", Icon: "/static/icons/webhook.svg", Root: true},
		{ID: "announce", Title: "announce", Subtitle: "slack.post_message", Icon: "/static/icons/slack.svg"},
		{ID: "track", Title: "track", Subtitle: "segment.track", Icon: "/static/icons/segment.svg"},
		{ID: "onboard", Title: "onboard", Subtitle: "jira.create_issue", Needs: []string{"announce"}},
	}
	return editor.GraphView{FlowID: "f1", Layout: graph.New(nodes, editor.GraphOptions), Selected: "announce",
		Problems: map[string]int{"track": 2}, Tested: map[string]bool{"announce": true}, CanEdit: canEdit}
}

func editorView(panel editor.PanelView) editor.EditorView {
	return editor.EditorView{
		Page:     layout.Page{Title: "Flow", User: &layout.User{Email: "a@example.com"}, CSRF: "tok", Active: layout.NavFlows},
		Flow:     editor.FlowInfo{ID: "f1", Name: "Signup " + evil, Version: 3, HasDraft: true, ProblemCount: 2, CanEdit: true},
		Graph:    sampleGraph(true),
		Panel:    panel,
		Problems: []editor.Problem{{Where: "track", Message: "connection: " + evil, Href: editor.FlowURL("f1", "track")}},
	}
}

func stepPanel() *editor.StepPanel {
	return &editor.StepPanel{
		FlowID: "f1", Orig: "announce", ID: "announce", Action: "slack.post_message", ActionName: "Post a message", ConnectorName: "Slack",
		Needs:      []editor.NeedOption{{ID: "track", Label: "track"}},
		Connection: &editor.ConnectionPicker{Connector: "slack", ConnectorName: "Slack", Options: []editor.Option{{Value: "c1", Label: evil}}, Selected: "c1"},
		Fields: []editor.InputField{
			{Key: "channel", Label: "Channel", Type: "string", Required: true, Value: evil},
			{Key: "text", Label: "Text", Type: "text", Value: "Hi {{ trigger.name }}"},
			{Key: "blocks", Label: "Blocks", Type: "json"},
			{Key: "unfurl", Label: "Unfurl", Type: "bool", Value: "true"},
			{Key: "mode", Label: "Mode", Type: "select", Options: []string{"a", "b"}, Value: "b"},
		},
		Errors: map[string]string{"in.channel": evil},
		Data: editor.DataPaths{Groups: []editor.PathGroup{
			{Title: "Sample event", Paths: []string{"trigger.user.email", `trigger["` + evil + `"]`}},
		}},
		Test:    &editor.TestResult{Service: "Slack", OK: true, Input: `{"text": "` + evil + `"}`, Output: `{"ts": "1"}`},
		CanEdit: true,
	}
}

func TestEditorPages(t *testing.T) {
	t.Parallel()
	pages := map[string]templ.Component{
		"overview": editor.Editor(editorView(editor.PanelView{})),
		"step":     editor.Editor(editorView(editor.PanelView{Step: stepPanel()})),
		"trigger": editor.Editor(editorView(editor.PanelView{Trigger: &editor.TriggerPanel{
			FlowID: "f1", Type: "webhook", Types: []editor.Option{{Value: "webhook", Label: "Incoming webhook"}},
			WebhookURL: "https://sb.example/hooks/abc", Sample: `{"name": "` + evil + `"}`, Errors: map[string]string{"if": evil},
			Listen: &editor.ListenView{FlowID: "f1", WebhookURL: "https://sb.example/hooks/abc", State: editor.ListenWaiting,
				PollURL: "/flows/f1/sample/listen?until=1", Curl: "curl -d '" + evil + "'", CanEdit: true},
			CanEdit: true,
		}})),
		"catalog": editor.Editor(editorView(editor.PanelView{Catalog: &editor.CatalogPanel{
			FlowID: "f1", After: "announce", Query: evil, CanEdit: true,
			Groups: []editor.CatalogGroup{{Key: "jira", Name: "Jira", Actions: []editor.CatalogAction{{Key: "jira.create_issue", Name: "Create an issue"}}}},
		}})),
		"versions": editor.Versions(editor.VersionsView{
			Page: layout.Page{User: &layout.User{Email: "a@example.com"}, CSRF: "tok"}, FlowID: "f1", FlowName: evil, Current: 2, CanEdit: true,
			Versions: []editor.VersionRow{{Version: 2, Author: evil, At: time.Now(), Current: true}, {Version: 1, At: time.Now()}},
			A:        "1", B: "2", Compare: []editor.Option{{Value: "1", Label: "Version 1"}, {Value: "2", Label: "Version 2"}},
			Diff: editor.Diff("a\n"+evil+"\n", "a\nb\n"),
		}),
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, doc := htmltest.Render(t, page)
			if bad := htmltest.CSPViolations(raw, doc); len(bad) > 0 {
				t.Errorf("CSP violations: %v", bad)
			}
			if strings.Contains(raw, evil) {
				t.Error("unescaped markup in the page")
			}
			// Every POST form carries the CSRF token.
			htmltest.Walk(doc, func(n *htmlNode) {
				if n.Data != "form" {
					return
				}
				if m, _ := htmltest.Attr(n, "method"); m != "post" {
					return
				}
				if htmltest.ByName(n, "_csrf") == nil {
					action, _ := htmltest.Attr(n, "action")
					t.Errorf("POST form %s has no _csrf", action)
				}
			})
			// Every form control has a label (or an accessible name).
			htmltest.Walk(doc, func(n *htmlNode) {
				switch n.Data {
				case "input", "select", "textarea":
				default:
					return
				}
				if typ, _ := htmltest.Attr(n, "type"); typ == "hidden" || typ == "checkbox" || typ == "radio" {
					return
				}
				id, _ := htmltest.Attr(n, "id")
				_, aria := htmltest.Attr(n, "aria-label")
				if id == "" && !aria {
					t.Errorf("<%s name=%v> has no id for a label", n.Data, attrOf(n, "name"))
					return
				}
				if !aria && htmltest.ByAttr(doc, "for", id) == nil {
					t.Errorf("<%s id=%s> has no <label for>", n.Data, id)
				}
			})
		})
	}
}

func attrOf(n *htmlNode, k string) string {
	v, _ := htmltest.Attr(n, k)
	return v
}

func TestStepPanelFields(t *testing.T) {
	t.Parallel()
	raw, doc := htmltest.Render(t, editor.Root(editorView(editor.PanelView{Step: stepPanel()})))
	for _, id := range []string{"node", "node-problems", "node-tested", "add-after", "add-on-edge", "step-form", "test-result", "save-step", "test-step", "delete-step", "add-connection", "picker", "publish"} {
		if htmltest.ByTestID(doc, id) == nil {
			t.Errorf("no data-testid=%q", id)
		}
	}
	if n := strings.Count(raw, `data-testid="edge"`); n != 3 {
		t.Errorf("%d edges, want 3", n)
	}
	// Typed inputs are drawn by type.
	if n := htmltest.ByName(doc, "in.text"); n == nil || n.Data != "textarea" {
		t.Error("a text input is a <textarea>")
	}
	if n := htmltest.ByName(doc, "in.unfurl"); n == nil || n.Data != "select" {
		t.Error("a bool input is a <select>")
	}
	if n := htmltest.ByName(doc, "in.mode"); n == nil || n.Data != "select" {
		t.Error("a select input is a <select>")
	}
	// Fields validate as you type, into their own message.
	ch := htmltest.ByName(doc, "in.channel")
	if v, _ := htmltest.Attr(ch, "hx-post"); v != "/flows/f1/validate?node=announce" {
		t.Errorf("hx-post = %q", v)
	}
	if v, _ := htmltest.Attr(ch, "hx-target"); v != "#msg-in-channel" {
		t.Errorf("hx-target = %q", v)
	}
	if htmltest.ByAttr(doc, "id", "msg-in-channel") == nil {
		t.Error("no message element for in.channel")
	}
	// The data picker's entries live in one <template>.
	if !strings.Contains(raw, `<template id="data-paths">`) || !strings.Contains(raw, `data-path="trigger.user.email"`) {
		t.Error("no data picker template")
	}
	if !strings.Contains(raw, "Test run") {
		t.Error("the test result does not say it was a test")
	}
}

func TestTestOutcomePolls(t *testing.T) {
	t.Parallel()
	pending := &editor.TestResult{Pending: true, PollURL: editor.TestResultURL("f1", "announce", "r1"), RunURL: "/runs/r1"}
	_, doc := htmltest.Render(t, editor.TestOutcome(pending))
	n := htmltest.ByTestID(doc, "test-result")
	if n == nil {
		t.Fatal("no test result")
	}
	for k, want := range map[string]string{"hx-get": "/flows/f1/steps/announce/test/r1", "hx-trigger": "every 400ms", "hx-target": "this", "data-state": "pending"} {
		if v, _ := htmltest.Attr(n, k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if htmltest.ByTestID(doc, "test-run-link") == nil {
		t.Error("no link to the test run")
	}
	done := &editor.TestResult{Error: evil, Input: `{"a": 1}`, RunURL: "/runs/r1"}
	raw, doc := htmltest.Render(t, editor.TestOutcome(done))
	if strings.Contains(raw, "hx-get") || strings.Contains(raw, evil) {
		t.Error("a finished result polls, or is not escaped")
	}
	if n := htmltest.ByTestID(doc, "test-result"); n == nil || attrOf(n, "data-state") != "failed" {
		t.Error("the finished result is not marked failed")
	}
}

func TestListenBox(t *testing.T) {
	t.Parallel()
	v := editor.ListenView{FlowID: "f1", WebhookURL: "https://sb.example/hooks/abc", State: editor.ListenWaiting, Window: "5 minutes",
		PollURL: "/flows/f1/sample/listen?until=1", Curl: "curl -d '" + evil + "'", Signed: true, CanEdit: true}
	raw, doc := htmltest.Render(t, editor.ListenBox(v))
	if strings.Contains(raw, evil) {
		t.Error("unescaped markup in the listen box")
	}
	n := htmltest.ByTestID(doc, "listen")
	if got := attrOf(n, "hx-trigger"); got != "every 1s" {
		t.Errorf("hx-trigger = %q", got)
	}
	if got := attrOf(n, "hx-target"); got != "this" {
		t.Errorf("hx-target = %q: the form's target would be inherited", got)
	}
	for _, id := range []string{"listen-curl", "copy-listen-curl", "listen-stop", "listen-url"} {
		if htmltest.ByTestID(doc, id) == nil {
			t.Errorf("no data-testid=%q", id)
		}
	}
	v.State = editor.ListenExpired
	raw, doc = htmltest.Render(t, editor.ListenBox(v))
	if strings.Contains(raw, "hx-trigger") || htmltest.ByTestID(doc, "listen-expired") == nil || htmltest.ByTestID(doc, "listen-start") == nil {
		t.Error("an ended listen polls on, or offers no new one")
	}
	v.CanEdit = false
	if raw, _ := htmltest.Render(t, editor.ListenBox(v)); strings.Contains(raw, "listen") {
		t.Error("a viewer is offered to listen")
	}
}

func TestReadOnlyEditor(t *testing.T) {
	t.Parallel()
	v := editorView(editor.PanelView{Step: stepPanel()})
	v.Flow.CanEdit = false
	v.Graph = sampleGraph(false)
	v.Panel.Step.CanEdit = false
	raw, doc := htmltest.Render(t, editor.Root(v))
	for _, id := range []string{"publish", "add-after", "add-on-edge", "save-step", "delete-step"} {
		if htmltest.ByTestID(doc, id) != nil {
			t.Errorf("a viewer sees data-testid=%q", id)
		}
	}
	if !strings.Contains(raw, `<fieldset class="panel__lock" disabled>`) {
		t.Error("a viewer's fields are not disabled")
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	d := editor.Diff("a\nb\nc\n", "a\nc\nd\n")
	var got []string
	for _, l := range d {
		got = append(got, string(l.Op)+l.Text)
	}
	if want := " a,-b, c,+d"; strings.Join(got, ",") != want {
		t.Errorf("diff = %q, want %q", strings.Join(got, ","), want)
	}
	if a, r := editor.Changes(d); a != 1 || r != 1 {
		t.Errorf("changes = +%d -%d", a, r)
	}
	if d := editor.Diff("same\n", "same\n"); len(d) != 1 || d[0].Op != ' ' {
		t.Errorf("no change: %v", d)
	}
	if a, r := editor.Changes(editor.Diff("", "x\ny")); a != 2 || r != 0 {
		t.Errorf("from nothing: +%d -%d", a, r)
	}
}

func TestFlowURL(t *testing.T) {
	t.Parallel()
	cases := map[[2]string]string{
		{"f1", ""}:                 "/flows/f1",
		{"f1", editor.TriggerNode}: "/flows/f1?panel=trigger",
		{"f1", "announce"}:         "/flows/f1?step=announce",
		{"a/b", "x y"}:             "/flows/a%2Fb?step=x+y",
	}
	for in, want := range cases {
		if got := editor.FlowURL(in[0], in[1]); got != want {
			t.Errorf("FlowURL(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
