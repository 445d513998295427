package components_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/web/components"
	"github.com/switchboard/switchboard/web/internal/htmltest"
)

func TestAgo(t *testing.T) {
	t.Parallel()

	now := time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{-time.Minute, "just now"},
		{30 * time.Second, "just now"},
		{5 * time.Minute, "5 min ago"},
		{3 * time.Hour, "3 h ago"},
		{49 * time.Hour, "2 d ago"},
		{30 * 24 * time.Hour, "May 16"},
		{400 * 24 * time.Hour, "May 11, 2024"},
	}
	for _, tt := range tests {
		if got := components.Ago(now.Add(-tt.ago), now); got != tt.want {
			t.Errorf("Ago(-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}

func TestIconPath(t *testing.T) {
	t.Parallel()

	for key, want := range map[string]string{
		"slack.post_message": "/static/icons/slack.svg",
		"jira":               "/static/icons/jira.svg",
		"../etc/passwd":      "/static/icons/core.svg",
		"":                   "/static/icons/core.svg",
	} {
		if got := components.IconPath(key); got != want {
			t.Errorf("IconPath(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestStatusBadge(t *testing.T) {
	t.Parallel()

	tests := []struct{ status, class, label string }{
		{"failed", "badge badge--failed", "Failed"},
		{"waiting", "badge badge--waiting", "Waiting"},
		{"", "badge badge--none", "—"},
		{`x" onclick="y`, "badge", `x" onclick="y`},
	}
	for _, tt := range tests {
		raw, doc := htmltest.Render(t, components.StatusBadge(tt.status))
		badge := htmltest.ByTestID(doc, "status-badge")
		if class, _ := htmltest.Attr(badge, "class"); class != tt.class {
			t.Errorf("%q: class %q, want %q", tt.status, class, tt.class)
		}
		if badge == nil || badge.FirstChild == nil || badge.FirstChild.Data != tt.label {
			t.Errorf("%q: label wrong in %s", tt.status, raw)
		}
		if bad := htmltest.CSPViolations(raw, doc); len(bad) > 0 {
			t.Errorf("%q: %v", tt.status, bad)
		}
	}
}

func TestInput(t *testing.T) {
	t.Parallel()

	raw, doc := htmltest.Render(t, components.Input(components.FieldView{
		Name: "password", Label: "Password", Type: "password", Value: "hunter2hunter2",
		Error: "Too short.", Help: "At least 10 characters.", Required: true,
	}))
	if strings.Contains(raw, "hunter2") {
		t.Error("password value echoed")
	}
	in := htmltest.ByName(doc, "password")
	if _, ok := htmltest.Attr(in, "required"); !ok {
		t.Error("not required")
	}
	if id, _ := htmltest.Attr(in, "id"); htmltest.ByAttr(doc, "for", id) == nil {
		t.Error("label not linked")
	}
	if htmltest.ByTestID(doc, "error-password") == nil {
		t.Error("no inline error")
	}

	raw, doc = htmltest.Render(t, components.Input(components.FieldView{Name: "email", Label: "Email"}))
	if ty, _ := htmltest.Attr(htmltest.ByName(doc, "email"), "type"); ty != "text" {
		t.Errorf("default type %q", ty)
	}
	for _, s := range []string{"aria-invalid", "aria-describedby", "field__error", "required"} {
		if strings.Contains(raw, s) {
			t.Errorf("plain field renders %q", s)
		}
	}
}

func TestErrorPage(t *testing.T) {
	t.Parallel()

	raw, doc := htmltest.Render(t, components.ErrorPage(404, "Flow <x> not found.", "req-42"))
	if !strings.Contains(raw, "Flow &lt;x&gt; not found.") {
		t.Error("message missing or unescaped")
	}
	if htmltest.ByTestID(doc, "request-id") == nil || htmltest.ByAttr(doc, "data-copy", "req-42") == nil {
		t.Error("request id not shown with a copy button")
	}
	if htmltest.ByTestID(doc, "nav-flows") != nil {
		t.Error("error page renders the nav")
	}
	if !strings.Contains(raw, "<title>Not Found · Switchboard</title>") {
		t.Error("title")
	}
}
