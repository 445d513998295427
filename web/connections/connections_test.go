package connections_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/web/connections"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
)

const evil = `<script>alert(1)</script>`

var page = layout.Page{User: &layout.User{Email: "a@example.com"}, CSRF: "tok"}

func TestList(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	out, doc := htmltest.Render(t, connections.List(connections.ListView{Page: page, CanEdit: true, Now: now,
		Connections: []connections.Row{
			{ID: "c1", Name: evil, Connector: "slack", ConnectorName: "Slack", Summary: "https://slack.example/api", CreatedAt: now.Add(-time.Hour), Testable: true},
			{ID: "c2", Name: "Mail", Connector: "email", ConnectorName: "Email", CreatedAt: now},
		}}))
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
	if strings.Contains(out, evil) {
		t.Error("unescaped markup")
	}
	for _, s := range []string{`hx-post="/connections/c1/test"`, `hx-target="#conn-test-c1"`, `action="/connections/c2/delete"`,
		`data-confirm=`, "1 h ago", `name="_csrf" value="tok"`} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if strings.Contains(out, `/connections/c2/test`) {
		t.Error("an untestable connection offers Test")
	}
	if cur, _ := htmltest.Attr(htmltest.ByTestID(doc, "nav-connections"), "aria-current"); cur != "page" {
		t.Error("Connections is not the active nav item")
	}
}

func TestNewForm(t *testing.T) {
	t.Parallel()
	out, doc := htmltest.Render(t, connections.New(connections.NewView{Page: page, Return: "/flows/f1?step=a",
		Form: &connections.Form{Connector: "jira", ConnectorName: "Jira", Name: evil, Errors: map[string]string{"secrets.api_token": evil},
			Fields: []connections.Field{
				{Name: "config.base_url", Label: "Site URL", Type: "string", Required: true, Value: "https://x.atlassian.net"},
				{Name: "secrets.api_token", Label: "API token", Type: "secret", Secret: true, Required: true, Value: "never-shown"},
				{Name: "config.tls", Label: "TLS", Type: "select", Options: []string{"starttls", "tls"}, Value: "tls"},
			}}}))
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
	if strings.Contains(out, evil) || strings.Contains(out, "never-shown") {
		t.Error("unescaped markup or a secret in the page")
	}
	tok := htmltest.ByName(doc, "secrets.api_token")
	if typ, _ := htmltest.Attr(tok, "type"); typ != "password" {
		t.Errorf("secret input type %q", typ)
	}
	if v, _ := htmltest.Attr(htmltest.ByName(doc, "return"), "value"); v != "/flows/f1?step=a" {
		t.Errorf("return = %q", v)
	}
	if !strings.Contains(out, `value="tls" selected`) {
		t.Error("select value lost")
	}

	out, doc = htmltest.Render(t, connections.New(connections.NewView{Page: page,
		Connectors: []connections.ConnectorChoice{{Key: "slack", Name: "Slack"}}, Return: "/flows/f1"}))
	if htmltest.ByTestID(doc, "choose-slack") == nil || !strings.Contains(out, `href="/connections/new?connector=slack&amp;return=%2Fflows%2Ff1"`) {
		t.Error("no connector choice keeping the return path")
	}
}
