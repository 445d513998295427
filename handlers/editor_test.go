package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// editorUser is a signed-in browser session (cookies and its CSRF token).
type editorUser struct {
	b      *bundle
	c      *http.Client
	member store.Member
	csrf   string
}

// editorSignIn creates a workspace owner and signs them in.
func editorSignIn(t *testing.T, b *bundle, email string) *editorUser {
	t.Helper()
	m, _ := b.owner(t, email, "Acme")
	return editorLogin(t, b, m, email)
}

func editorLogin(t *testing.T, b *bundle, m store.Member, email string) *editorUser {
	t.Helper()
	c := b.browser(t)
	_, _, tok := get(t, c, b.url+"/login")
	resp, _ := postForm(t, c, b.url+"/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {"correct horse battery"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, _, tok = get(t, c, b.url+"/flows")
	require.NotEmpty(t, tok)
	return &editorUser{b: b, c: c, member: m, csrf: tok}
}

// post sends a form with the session's CSRF token.
func (u *editorUser) post(t *testing.T, path string, v url.Values) (*http.Response, string) {
	t.Helper()
	if v == nil {
		v = url.Values{}
	}
	v.Set("_csrf", u.csrf)
	return postForm(t, u.c, u.b.url+path, v)
}

// hx sends a form the way htmx does: the CSRF token in a header.
func (u *editorUser) hx(t *testing.T, path string, v url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.b.url+path, strings.NewReader(v.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", u.csrf)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := u.c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (u *editorUser) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, body, _ := get(t, u.c, u.b.url+path)
	return resp, body
}

var flowLocationRE = regexp.MustCompile(`^/flows/([0-9a-f-]{36})`)

// newFlow creates a flow through the "New flow" form and returns its id.
func (u *editorUser) newFlow(t *testing.T, name, template string) uuid.UUID {
	t.Helper()
	resp, body := u.post(t, "/flows/new", url.Values{"name": {name}, "template": {template}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	m := flowLocationRE.FindStringSubmatch(resp.Header.Get("Location"))
	require.NotNil(t, m, resp.Header.Get("Location"))
	return uuid.MustParse(m[1])
}

func editorDraft(t *testing.T, b *bundle, id uuid.UUID) *flows.Definition {
	t.Helper()
	var raw []byte
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT draft FROM flows WHERE id = $1`, id).Scan(&raw))
	if raw == nil {
		return nil
	}
	def, err := flows.Decode(raw)
	require.NoError(t, err)
	return def
}

func TestEditorCSRFAndEscaping(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	u := editorSignIn(t, b, "ada@example.com")

	// A POST without the token is refused, whatever else it carries.
	resp, body := postForm(t, u.c, b.url+"/flows/new", url.Values{"name": {"No token"}, "template": {"blank"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = postForm(t, u.c, b.url+"/flows/new", url.Values{"_csrf": {"forged"}, "name": {"Forged"}, "template": {"blank"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	flowsN, _ := b.countFlows(t)
	require.Zero(t, flowsN)

	const name = `<script>alert("owned")</script> & signups`
	id := u.newFlow(t, name, "blank")
	escaped := `&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt; &amp; signups`
	for _, path := range []string{"/flows", "/flows/" + id.String(), "/flows/" + id.String() + "/versions"} {
		resp, body := u.get(t, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, body, escaped, path)
		require.NotContains(t, body, `<script>alert`, path)
	}

	// htmx requests carry the token in a header; without it they are refused.
	req, err := http.NewRequest(http.MethodPost, b.url+"/flows/"+id.String()+"/steps", strings.NewReader("action=http.request&after=%24trigger"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err = u.c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, body = u.hx(t, "/flows/"+id.String()+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `data-step="http"`)
	require.NotContains(t, body, "<html", "htmx gets the editor's root, not a page")
}

func TestEditorDraftPublishAndVersions(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	u := editorSignIn(t, b, "ada@example.com")
	id := u.newFlow(t, "Orders", "blank")
	base := "/flows/" + id.String()
	ctx := context.Background()

	f, err := store.GetFlow(ctx, b.pool, u.member.WorkspaceID, id)
	require.NoError(t, err)
	require.False(t, f.Enabled, "a new flow waits for its first publish")
	_, body := u.get(t, base)
	require.Contains(t, body, "Not published yet")

	// Build: one HTTP step, with typed inputs.
	resp, body := u.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "/flows/"+id.String()+"?step=http", resp.Header.Get("HX-Push-Url"))
	resp, body = u.hx(t, base+"/steps/http", url.Values{
		"id": {"notify"}, "name": {"Tell the shop"}, "in.method": {"POST"}, "in.url": {"https://shop.example/hooks"},
		"in.headers": {"X-Source: switchboard"}, "in.body": {`{"order": "{{ trigger.id }}"}`},
		"retry.max_attempts": {"3"}, "timeout": {"10s"}, "if": {"trigger.total > 0"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `data-testid="saved"`)
	draft := editorDraft(t, b, id)
	require.Len(t, draft.Steps, 1)
	s := draft.Steps[0]
	require.Equal(t, "notify", s.ID)
	require.Equal(t, "trigger.total > 0", s.If)
	require.Equal(t, 3, s.Retry.MaxAttempts)
	require.Equal(t, map[string]any{"method": "POST", "url": "https://shop.example/hooks",
		"headers": map[string]any{"X-Source": "switchboard"}, "body": map[string]any{"order": "{{ trigger.id }}"}}, s.Input)

	// A field that cannot be read is not saved and says why.
	resp, body = u.hx(t, base+"/steps/notify", url.Values{"id": {"notify"}, "retry.max_attempts": {"lots"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "Not saved")
	require.Contains(t, body, "A whole number from 1 to 25.")
	require.Equal(t, 3, editorDraft(t, b, id).Steps[0].Retry.MaxAttempts)

	// Publish: version 2, the draft is gone and the flow is enabled.
	resp, body = u.hx(t, base+"/publish", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Published version 2 and enabled the flow")
	f, err = store.GetFlow(ctx, b.pool, u.member.WorkspaceID, id)
	require.NoError(t, err)
	require.Equal(t, 2, f.CurrentVersion)
	require.True(t, f.Enabled)
	require.Nil(t, editorDraft(t, b, id))

	// A draft with problems is not published; they are listed.
	resp, body = u.hx(t, base+"/steps", url.Values{"action": {"slack.post_message"}, "after": {"notify"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `data-testid="node-problems"`, "the new step's node shows a problem badge")
	resp, body = u.hx(t, base+"/publish", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-testid="publish-problems"`)
	require.Contains(t, body, "needs a connection")
	f, err = store.GetFlow(ctx, b.pool, u.member.WorkspaceID, id)
	require.NoError(t, err)
	require.Equal(t, 2, f.CurrentVersion, "nothing was published")

	// History: versions with their author, and a diff of v2 and the draft.
	resp, body = u.get(t, base+"/versions?a=2&b=draft")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, strings.Count(body, `data-testid="version-row"`))
	require.Contains(t, body, "ada@example.com")
	require.Contains(t, body, `diff__line diff__line--add`)
	require.Contains(t, body, "slack.post_message")

	// Revert to version 2: the draft is v2 again.
	resp, _ = u.post(t, base+"/versions/2/revert", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Len(t, editorDraft(t, b, id).Steps, 1)

	// Delete the step; discard the draft.
	resp, _ = u.hx(t, base+"/steps/notify/delete", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, editorDraft(t, b, id).Steps)
	resp, _ = u.hx(t, base+"/discard", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Nil(t, editorDraft(t, b, id))

	// Export: the published definition as a download.
	resp, body = u.get(t, base+"/export")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Disposition"), `attachment; filename="orders-v2.json"`)
	exported, err := flows.Decode([]byte(body))
	require.NoError(t, err)
	require.Equal(t, "notify", exported.Steps[0].ID)

	// Disable from the list's switch; enabling an invalid version is refused.
	resp, _ = u.post(t, base+"/enabled", url.Values{"enabled": {"false"}, "return": {"/flows"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/flows", resp.Header.Get("Location"))
	f, _ = store.GetFlow(ctx, b.pool, u.member.WorkspaceID, id)
	require.False(t, f.Enabled)
}

func TestEditorValidateAsYouType(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	u := editorSignIn(t, b, "ada@example.com")
	id := u.newFlow(t, "Checks", "blank")
	base := "/flows/" + id.String()
	u.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})

	check := func(node, field string, v url.Values) string {
		t.Helper()
		resp, body := u.hx(t, base+"/validate?node="+url.QueryEscape(node), v, "HX-Trigger-Name", field)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, `id="msg-`)
		return body
	}
	require.Contains(t, check("http", "if", url.Values{"id": {"http"}, "if": {"trigger.total >"}}), "field__error")
	require.NotContains(t, check("http", "if", url.Values{"id": {"http"}, "if": {"trigger.total > 1"}}), "field__error")
	require.Contains(t, check("http", "in.url", url.Values{"id": {"http"}, "in.url": {"{{ steps.nope.url }}"}}), "nope")
	require.Contains(t, check("http", "in.url", url.Values{"id": {"http"}, "in.url": {""}}), "Required.")
	require.Contains(t, check("$trigger", "idempotency_key", url.Values{"idempotency_key": {"steps.http.id"}}), "not available in trigger expressions")
	require.NotContains(t, check("$trigger", "if", url.Values{"if": {"trigger.type == 'signup'"}}), "field__error")
}

func TestEditorTemplatesAndImport(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	u := editorSignIn(t, b, "ada@example.com")
	slack := b.connection(t, u.member.WorkspaceID, "slack")

	// A template starts with its steps, the workspace's connections and a sample.
	id := u.newFlow(t, "Fan-out", "signup_fanout")
	draft := editorDraft(t, b, id)
	require.Len(t, draft.Steps, 4)
	announce, _ := draft.Step("announce")
	require.Equal(t, slack, announce.Connection)
	track, _ := draft.Step("track")
	require.Empty(t, track.Connection, "no Segment connection in this workspace")
	_, body := u.get(t, "/flows/"+id.String()+"?step=onboard")
	require.Contains(t, body, `data-path="trigger.user.company"`, "the template's sample feeds the data picker")
	require.Contains(t, body, `data-path="steps.announce.ts"`, "upstream outputs are offered")

	// Import: a valid definition is published and enabled at once.
	def := `{"trigger": {"type": "webhook"}, "steps": [{"id": "ping", "action": "http.request", "input": {"url": "https://example.com"}}]}`
	resp, body := u.post(t, "/flows/import", url.Values{"name": {"Pinger"}, "definition": {def}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	imported := uuid.MustParse(flowLocationRE.FindStringSubmatch(resp.Header.Get("Location"))[1])
	f, err := store.GetFlow(context.Background(), b.pool, u.member.WorkspaceID, imported)
	require.NoError(t, err)
	require.True(t, f.Enabled)
	require.Nil(t, editorDraft(t, b, imported))

	// An export with problems (a connection of another workspace) becomes a draft.
	wrapped, _ := json.Marshal(map[string]any{"name": "Elsewhere", "definition": json.RawMessage(
		`{"trigger": {"type": "webhook"}, "steps": [{"id": "say", "action": "slack.post_message", "connection": "` + uuid.NewString() + `", "input": {"channel": "#x", "text": "hi"}}]}`)})
	resp, body = u.post(t, "/flows/import", url.Values{"definition": {string(wrapped)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	other := uuid.MustParse(flowLocationRE.FindStringSubmatch(resp.Header.Get("Location"))[1])
	f, err = store.GetFlow(context.Background(), b.pool, u.member.WorkspaceID, other)
	require.NoError(t, err)
	require.Equal(t, "Elsewhere", f.Name)
	require.False(t, f.Enabled)
	require.NotNil(t, editorDraft(t, b, other))

	// Not JSON: the form says so.
	resp, body = u.post(t, "/flows/import", url.Values{"name": {"Broken"}, "definition": {`{"trigger": `}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, `data-testid="error-definition"`)
}

func TestEditorPermissionsAndIsolation(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	u := editorSignIn(t, b, "ada@example.com")
	id := u.newFlow(t, "Private", "blank")
	base := "/flows/" + id.String()

	// Another workspace sees nothing of it.
	stranger := editorSignIn(t, b, "eve@example.com")
	for _, path := range []string{base, base + "/versions", base + "/export", base + "/steps/x"} {
		resp, _ := stranger.get(t, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	resp, _ := stranger.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// A viewer reads but cannot change.
	addMember(t, b, u.member, "vic@example.com", "viewer")
	m, err := store.UserByEmail(context.Background(), b.pool, "vic@example.com")
	require.NoError(t, err)
	viewer := editorLogin(t, b, store.Member{UserID: m.ID, WorkspaceID: u.member.WorkspaceID}, "vic@example.com")
	resp, body := viewer.get(t, base)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, `data-testid="publish"`)
	require.NotContains(t, body, `data-testid="add-after"`)
	resp, _ = viewer.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = viewer.post(t, "/flows/new", url.Values{"name": {"Mine"}, "template": {"blank"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestConnectionsPages(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	u := editorLogin(t, b.bundle, b.member, "ada@example.com")
	slack := fake.NewSlack("xoxb-pages-secret")
	t.Cleanup(slack.Close)

	resp, body := u.get(t, "/connections/new")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-testid="choose-slack"`)
	resp, body = u.get(t, "/connections/new?connector=slack&return=%2Fflows%2Fx")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `name="secrets.token" type="password"`)

	// Missing fields are reported per field.
	resp, body = u.post(t, "/connections/new", url.Values{"connector": {"slack"}, "name": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, body, `data-testid="error-secrets.token"`)
	require.Contains(t, body, "Name the connection.")

	// Created: back where it was asked for, with its id.
	resp, body = u.post(t, "/connections/new", url.Values{"connector": {"slack"}, "name": {"Team <Slack>"},
		"config.base_url": {slack.BaseURL()}, "secrets.token": {"xoxb-pages-secret"}, "return": {"/flows/x?step=a"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	require.Regexp(t, `^/flows/x\?step=a&connection=[0-9a-f-]{36}$`, resp.Header.Get("Location"))
	// Off-site returns are not followed.
	resp, _ = u.post(t, "/connections/new", url.Values{"connector": {"slack"}, "name": {"Second"},
		"config.base_url": {slack.BaseURL()}, "secrets.token": {"xoxb-other"}, "return": {"//evil.example/"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/flows?connection="), resp.Header.Get("Location"))

	resp, body = u.get(t, "/connections")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, strings.Count(body, `data-testid="connection-row"`))
	require.Contains(t, body, "Team &lt;Slack&gt;")
	require.NotContains(t, body, "xoxb-pages-secret", "secrets are never shown")
	ids := regexp.MustCompile(`data-connection-id="([^"]+)" data-connector="slack"`).FindAllStringSubmatch(body, -1)
	require.Len(t, ids, 2)
	first := ids[0][1]

	// Test: the connector's own check, answered inline for htmx.
	resp, body = u.hx(t, "/connections/"+first+"/test", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-status="ok"`)
	resp, body = u.hx(t, "/connections/"+ids[1][1]+"/test", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-status="failed"`)
	require.NotContains(t, body, "xoxb-other")

	// Delete needs the token too.
	resp, _ = postForm(t, u.c, b.url+"/connections/"+first+"/delete", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = u.post(t, "/connections/"+first+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = u.get(t, "/connections")
	require.Equal(t, 1, strings.Count(body, `data-testid="connection-row"`))
}
