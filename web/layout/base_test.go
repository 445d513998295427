package layout_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"github.com/switchboard/switchboard/web/auth"
	"github.com/switchboard/switchboard/web/components"
	"github.com/switchboard/switchboard/web/flows"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
)

var user = &layout.User{Email: "ada@example.com", Workspace: "Acme"}

// TestPagesAreCSPSafe renders every page and fails on anything the server's
// CSP would block: style attributes, <style>, inline scripts or handlers.
func TestPagesAreCSPSafe(t *testing.T) {
	t.Parallel()

	ran := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	pages := map[string]templ.Component{
		"base": layout.Base(layout.Page{
			Title: "Flows", User: user, CSRF: "tok", Active: layout.NavFlows,
			Flash: "Saved.", FlashKind: "success",
		}),
		"base error flash": layout.Base(layout.Page{Flash: "Nope.", FlashKind: "error"}),
		"login":            auth.Login(auth.LoginView{Error: "Wrong.", Next: "/runs"}),
		"setup":            auth.Setup(auth.SetupView{Errors: map[string]string{"email": "Required."}}),
		"flows": flows.List(flows.ListView{
			Page: layout.Page{User: user, CSRF: "tok"},
			Flows: []flows.Row{
				{ID: "f1", Name: "Signup to Slack", Trigger: "webhook.incoming", Enabled: true, LastStatus: "failed", LastRunAt: &ran, Runs24h: 10, Failed24h: 1},
				{ID: "f2", Name: "Nightly", Trigger: "core.schedule"},
			},
		}),
		"flows empty": flows.List(flows.ListView{Page: layout.Page{User: user}}),
		"error":       components.ErrorPage(500, "", "req-1"),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, doc := htmltest.Render(t, c)
			if bad := htmltest.CSPViolations(raw, doc); len(bad) > 0 {
				t.Errorf("CSP violations: %v", bad)
			}
			if !strings.HasPrefix(strings.ToLower(raw), "<!doctype html>") {
				t.Error("no doctype")
			}
		})
	}
}

func TestBase(t *testing.T) {
	t.Parallel()

	raw, doc := htmltest.Render(t, layout.Base(layout.Page{
		Title: "Runs", User: user, CSRF: "tok-9", Active: layout.NavRuns,
		Flash: `<b>done</b>`, FlashKind: "bogus",
	}))

	if lang, _ := htmltest.Attr(htmltest.Find(doc, func(n *html.Node) bool { return n.Data == "html" }), "lang"); lang != "en" {
		t.Errorf("lang = %q", lang)
	}
	if got, _ := htmltest.Attr(htmltest.ByName(doc, "csrf-token"), "content"); got != "tok-9" {
		t.Errorf("csrf-token meta = %q", got)
	}

	cfgJSON, _ := htmltest.Attr(htmltest.ByName(doc, "htmx-config"), "content")
	var cfg map[string]bool
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		t.Fatalf("htmx-config %q: %v", cfgJSON, err)
	}
	wantCfg := map[string]bool{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false}
	if !reflect.DeepEqual(cfg, wantCfg) {
		t.Errorf("htmx-config = %v, want %v", cfg, wantCfg)
	}

	var scripts []string
	htmltest.Walk(doc, func(n *html.Node) {
		if n.Data != "script" {
			return
		}
		src, _ := htmltest.Attr(n, "src")
		if _, ok := htmltest.Attr(n, "defer"); !ok {
			t.Errorf("script %s not deferred", src)
		}
		scripts = append(scripts, src)
	})
	if want := []string{"/static/js/htmx.min.js", "/static/js/app.js"}; !reflect.DeepEqual(scripts, want) {
		t.Errorf("scripts = %v, want %v", scripts, want)
	}

	for _, key := range []string{"flows", "runs", "connections", "dashboard", "settings"} {
		link := htmltest.ByTestID(doc, "nav-"+key)
		if link == nil {
			t.Errorf("no nav-%s", key)
			continue
		}
		if _, current := htmltest.Attr(link, "aria-current"); current != (key == "runs") {
			t.Errorf("nav-%s aria-current = %v", key, current)
		}
	}
	if !strings.Contains(raw, "ada@example.com") {
		t.Error("user email not shown")
	}

	logout := htmltest.ByTestID(doc, "nav-logout")
	if logout == nil {
		t.Fatal("no logout button")
	}
	form := logout.Parent
	if action, _ := htmltest.Attr(form, "action"); action != "/logout" {
		t.Errorf("logout action = %q", action)
	}
	if method, _ := htmltest.Attr(form, "method"); method != "post" {
		t.Errorf("logout method = %q", method)
	}
	if v, _ := htmltest.Attr(htmltest.ByName(form, "_csrf"), "value"); v != "tok-9" {
		t.Errorf("logout _csrf = %q", v)
	}

	flash := htmltest.ByTestID(doc, "flash")
	if class, _ := htmltest.Attr(flash, "class"); class != "flash flash--info" {
		t.Errorf("flash class = %q", class)
	}
	if strings.Contains(raw, "<b>done</b>") {
		t.Error("flash not escaped")
	}
	if !strings.Contains(raw, "<title>Runs · Switchboard</title>") {
		t.Error("title")
	}
}

func TestBaseWithoutUser(t *testing.T) {
	t.Parallel()

	raw, doc := htmltest.Render(t, layout.Base(layout.Page{}))
	if htmltest.ByTestID(doc, "nav-flows") != nil {
		t.Error("nav without a user")
	}
	if htmltest.ByTestID(doc, "flash") != nil {
		t.Error("flash without a message")
	}
	if !strings.Contains(raw, "<title>Switchboard</title>") {
		t.Error("title")
	}
}
