package flows_test

import (
	"strings"
	"testing"
	"time"

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
