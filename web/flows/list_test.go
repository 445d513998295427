package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/switchboard/switchboard/web/flows"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
)

func TestList(t *testing.T) {
	t.Parallel()

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ran := now.Add(-5 * time.Minute)
	tests := []struct {
		name     string
		rows     []flows.Row
		contains []string
		absent   []string
	}{
		{
			name:     "empty",
			contains: []string{"No flows yet", `data-testid="empty-new-flow"`, `href="/flows/new"`, `data-testid="empty-state"`},
			absent:   []string{`data-testid="flow-row"`, `data-testid="flows-table"`},
		},
		{
			name: "rows",
			rows: []flows.Row{
				{ID: "a/b", Name: "<i>Signup</i>", Trigger: "slack.event", Enabled: true, LastStatus: "failed", LastRunAt: &ran, Runs24h: 8, Failed24h: 2},
				{ID: "f2", Name: "Nightly", Trigger: "core.schedule"},
				{ID: "f3", Name: "Quiet", Trigger: "webhook.incoming", Enabled: true, LastStatus: "succeeded", LastRunAt: &ran, Runs24h: 1000, Failed24h: 1},
			},
			contains: []string{
				`href="/flows/a%2Fb"`, "&lt;i&gt;Signup&lt;/i&gt;",
				"/static/icons/slack.svg", `data-status="failed"`, "5 min ago", `datetime="2025-03-01T11:55:00Z"`,
				">25%<", "&lt;1%", "Never run", `data-status="disabled"`, `data-status="enabled"`,
			},
			absent: []string{"No flows yet", "<i>Signup"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, doc := htmltest.Render(t, flows.List(flows.ListView{
				Page:  layout.Page{User: &layout.User{Email: "a@example.com"}},
				Flows: tt.rows,
				Now:   now,
			}))
			for _, s := range append([]string{`data-testid="new-flow"`}, tt.contains...) {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q", s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("output contains %q", s)
				}
			}
			if n := strings.Count(out, `data-testid="flow-row"`); n != len(tt.rows) {
				t.Errorf("%d flow rows, want %d", n, len(tt.rows))
			}
			if cur, _ := htmltest.Attr(htmltest.ByTestID(doc, "nav-flows"), "aria-current"); cur != "page" {
				t.Error("Flows is not the active nav item")
			}
		})
	}
}

func TestListSwitchesAndExport(t *testing.T) {
	t.Parallel()
	out, doc := htmltest.Render(t, flows.List(flows.ListView{
		Page:    layout.Page{User: &layout.User{Email: "a@example.com"}, CSRF: "tok"},
		CanEdit: true,
		Flows: []flows.Row{
			{ID: "f1", Name: "On", Trigger: "webhook", Enabled: true, HasDraft: true},
			{ID: "f2", Name: "Off", Trigger: "webhook"},
		},
	}))
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
	for _, s := range []string{
		`action="/flows/f1/enabled"`, `aria-checked="true"`, `aria-label="Disable On"`,
		`action="/flows/f2/enabled"`, `aria-checked="false"`, `aria-label="Enable Off"`,
		`name="_csrf" value="tok"`, `href="/flows/f1/export"`, "Unpublished changes", `data-testid="import-flow"`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if n := strings.Count(out, `data-testid="flow-toggle"`); n != 2 {
		t.Errorf("%d switches, want 2", n)
	}
}

func TestNewAndImportPages(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert(1)</script>`
	page := layout.Page{User: &layout.User{Email: "a@example.com"}, CSRF: "tok"}
	for name, c := range map[string]templ.Component{
		"new": flows.New(flows.NewView{Page: page, Name: evil, Template: "fanout", Errors: map[string]string{"name": evil},
			Templates: []flows.TemplateOption{{Key: "fanout", Name: "Fan-out", Description: evil, Actions: []string{"slack.post_message"}}}}),
		"import": flows.Import(flows.ImportView{Page: page, Name: evil, JSON: evil, Errors: map[string]string{"definition": evil}}),
	} {
		out, doc := htmltest.Render(t, c)
		if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
			t.Errorf("%s: CSP violations: %v", name, bad)
		}
		if strings.Contains(out, evil) {
			t.Errorf("%s: unescaped markup", name)
		}
		if htmltest.ByName(doc, "_csrf") == nil {
			t.Errorf("%s: no CSRF input", name)
		}
	}
	out, _ := htmltest.Render(t, flows.New(flows.NewView{Page: page, Template: "fanout",
		Templates: []flows.TemplateOption{{Key: "fanout", Name: "Fan-out"}}}))
	if !strings.Contains(out, `value="fanout" checked`) {
		t.Error("the chosen template is not checked")
	}
}
