package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func sessionCookie(c *http.Client, base string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "sb_session" {
			return ck.Value
		}
	}
	return ""
}

func TestSetupThenLogin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.browser(t)

	// Nobody exists yet: the login page sends people to setup.
	resp, _, _ := get(t, c, b.url+"/login")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/setup", resp.Header.Get("Location"))

	resp, body, tok := get(t, c, b.url+"/setup")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, tok, "the setup form carries a CSRF token")
	require.Contains(t, body, `name="password_confirm"`)

	// Invalid input re-renders with field messages and writes nothing.
	resp, body = postForm(t, c, b.url+"/setup", url.Values{"_csrf": {tok}, "workspace": {"Acme"}, "email": {"not-an-email"},
		"password": {"short"}, "password_confirm": {"short"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, "valid email")
	require.Contains(t, body, "at least 10")

	resp, _ = postForm(t, c, b.url+"/setup", url.Values{"_csrf": {tok}, "workspace": {"Acme"}, "email": {"ada@example.com"},
		"password": {"correct horse battery"}, "password_confirm": {"correct horse battery"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/flows", resp.Header.Get("Location"))
	resp, body, _ = get(t, c, b.url+"/flows")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "ada@example.com")

	// Setup is closed once a user exists.
	resp, _, _ = get(t, b.browser(t), b.url+"/setup")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

func TestLoginRotatesSessionAndLogout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.owner(t, "ada@example.com", "Acme")
	c := b.browser(t)

	resp, _, _ := get(t, c, b.url+"/flows")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login?next=%2Fflows", resp.Header.Get("Location"))

	resp, body, tok := get(t, c, b.url+"/login?next=/flows")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `name="email"`)
	require.Contains(t, body, `name="password"`)
	before := sessionCookie(c, b.url)
	require.NotEmpty(t, before, "an anonymous session holds the CSRF token")

	resp, body = postForm(t, c, b.url+"/login", url.Values{"_csrf": {tok}, "email": {"ada@example.com"}, "password": {"wrong password!"}, "next": {"/flows"}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "do not match")

	resp, _ = postForm(t, c, b.url+"/login", url.Values{"_csrf": {tok}, "email": {"ADA@example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/flows", resp.Header.Get("Location"), "an off-site next is ignored")
	after := sessionCookie(c, b.url)
	require.NotEmpty(t, after)
	require.NotEqual(t, before, after, "the session id is rotated at login")
	for _, ck := range resp.Cookies() {
		if ck.Name == "sb_session" {
			require.True(t, ck.HttpOnly)
			require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
		}
	}

	// The pre-login session id no longer signs anyone in.
	old := b.browser(t)
	u, _ := url.Parse(b.url)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "sb_session", Value: before}})
	resp, _, _ = get(t, old, b.url+"/flows")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	resp, body, tok = get(t, c, b.url+"/flows")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Acme")
	resp, _ = postForm(t, c, b.url+"/logout", url.Values{"_csrf": {tok}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _, _ = get(t, c, b.url+"/flows")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "logged out")
}

func TestCSRFRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.owner(t, "ada@example.com", "Acme")
	c := b.browser(t)
	_, _, tok := get(t, c, b.url+"/login")
	require.NotEmpty(t, tok)

	resp, body := postForm(t, c, b.url+"/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token")
	require.Contains(t, body, "reload the page")

	resp, _ = postForm(t, c, b.url+"/login", url.Values{"_csrf": {tok + "x"}, "email": {"ada@example.com"}, "password": {"correct horse battery"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "wrong token")

	// A token from another browser's session does not work either.
	other := b.browser(t)
	_, _, otherTok := get(t, other, b.url+"/login")
	resp, _ = postForm(t, c, b.url+"/login", url.Values{"_csrf": {otherTok}, "email": {"ada@example.com"}, "password": {"correct horse battery"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "someone else's token")

	// The header (htmx) works as well as the form field.
	req, _ := http.NewRequest(http.MethodPost, b.url+"/login", nil)
	req.Header.Set("X-CSRF-Token", tok)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Body = http.NoBody
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "token accepted; empty credentials refused")
}

func TestAPITokenAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")

	status, body := b.api(t, http.MethodGet, "/api/v1/connectors", "", nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "unauthorized", body["error"].(map[string]any)["code"])

	status, _ = b.api(t, http.MethodGet, "/api/v1/connectors", "sb_not-a-real-token", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	status, body = b.api(t, http.MethodGet, "/api/v1/connectors", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "connectors")

	status, body = b.api(t, http.MethodGet, "/api/v1/nope", tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "not_found", body["error"].(map[string]any)["code"])
}

func TestHealthAndHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get(b.url + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(b.url + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))

	resp, err = http.Get(b.url + "/static/js/htmx.min.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
