package auth_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/switchboard/switchboard/web/auth"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
)

// input returns the form control named name, failing the test when absent.
func input(t *testing.T, form *html.Node, name string) *html.Node {
	t.Helper()
	n := htmltest.ByName(form, name)
	if n == nil {
		t.Fatalf("no control named %q in the form", name)
	}
	return n
}

func wantAttr(t *testing.T, n *html.Node, key, want string) {
	t.Helper()
	if got, _ := htmltest.Attr(n, key); got != want {
		t.Errorf("<%s %s=%q>, want %q", n.Data, key, got, want)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()

	const next = `/flows"><script>alert(1)</script>`
	out, doc := htmltest.Render(t, auth.Login(auth.LoginView{
		Page:  layout.Page{CSRF: "tok-123"},
		Email: "ada@example.com",
		Error: "Email or password is wrong.",
		Next:  next,
	}))

	form := htmltest.ByTestID(doc, "login-form")
	if form == nil {
		t.Fatal("no login-form")
	}
	wantAttr(t, form, "action", "/login")
	wantAttr(t, form, "method", "post")

	email := input(t, form, "email")
	wantAttr(t, email, "type", "email")
	wantAttr(t, email, "value", "ada@example.com")
	wantAttr(t, email, "autocomplete", "username")

	password := input(t, form, "password")
	wantAttr(t, password, "type", "password")
	wantAttr(t, password, "autocomplete", "current-password")

	wantAttr(t, input(t, form, "_csrf"), "value", "tok-123")

	// The hostile next comes back intact as a value and escaped in the markup.
	wantAttr(t, input(t, form, "next"), "value", next)
	for _, s := range []string{`"><script>`, "<script>alert"} {
		if strings.Contains(out, s) {
			t.Errorf("output contains unescaped %q", s)
		}
	}

	for _, id := range []string{"field-email", "field-password"} {
		if htmltest.ByAttr(doc, "for", id) == nil {
			t.Errorf("no label for %s", id)
		}
	}
	if htmltest.ByTestID(doc, "login-error") == nil || !strings.Contains(out, "Email or password is wrong.") {
		t.Error("login error not shown")
	}
	if !strings.Contains(out, ">Sign in</button>") {
		t.Error(`no "Sign in" button`)
	}
	if htmltest.ByTestID(doc, "nav-flows") != nil {
		t.Error("nav rendered before sign-in")
	}
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
}

func TestLoginWithoutError(t *testing.T) {
	t.Parallel()

	_, doc := htmltest.Render(t, auth.Login(auth.LoginView{}))
	if htmltest.ByTestID(doc, "login-error") != nil {
		t.Error("error box without an error")
	}
}

func TestSetup(t *testing.T) {
	t.Parallel()

	out, doc := htmltest.Render(t, auth.Setup(auth.SetupView{
		Page:      layout.Page{CSRF: "tok"},
		Email:     "ada@example.com",
		Workspace: "Acme <b>",
		Errors: map[string]string{
			"password":         "Use at least 10 characters.",
			"password_confirm": "Passwords do not match.",
		},
	}))

	form := htmltest.ByTestID(doc, "setup-form")
	if form == nil {
		t.Fatal("no setup-form")
	}
	wantAttr(t, form, "action", "/setup")
	wantAttr(t, form, "method", "post")
	for _, name := range []string{"_csrf", "workspace", "email", "password", "password_confirm"} {
		input(t, form, name)
	}
	wantAttr(t, input(t, form, "workspace"), "value", "Acme <b>")
	if strings.Contains(out, "Acme <b>") {
		t.Error("workspace not escaped")
	}

	for id, want := range map[string]bool{"error-password": true, "error-password_confirm": true, "error-email": false, "error-workspace": false} {
		if got := htmltest.ByTestID(doc, id) != nil; got != want {
			t.Errorf("%s shown = %v, want %v", id, got, want)
		}
	}
	if !strings.Contains(out, "At least 10 characters.") {
		t.Error("no password help text")
	}
	wantAttr(t, input(t, form, "password"), "aria-invalid", "true")
	wantAttr(t, input(t, form, "password"), "aria-describedby", "field-password-error field-password-help")
}
