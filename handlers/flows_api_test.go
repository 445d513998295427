package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/catalog"
	"github.com/switchboard/switchboard/handlers"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

const testBaseURL = "https://switchboard.example.com"

// setupWithCatalog is setup with the real connector catalog, so that actions,
// connections and inputs are checked.
func setupWithCatalog(t *testing.T) *bundle {
	t.Helper()
	pool := storetest.Pool(t)
	sealer, err := store.NewSealer(make([]byte, 32))
	require.NoError(t, err)
	app := handlers.New(handlers.Deps{Pool: pool, Sealer: sealer, Catalog: catalog.New(), BaseURL: testBaseURL})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return &bundle{pool: pool, url: "http://" + ln.Addr().String()}
}

// raw sends a body as it is, with the given content type.
func (b *bundle) raw(t *testing.T, method, path, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func (b *bundle) connection(t *testing.T, workspaceID uuid.UUID, connector string) string {
	t.Helper()
	id := store.NewID()
	_, err := b.pool.Exec(context.Background(),
		`INSERT INTO connections (id, workspace_id, connector, name) VALUES ($1, $2, $3, $4)`,
		id, workspaceID, connector, connector+" test")
	require.NoError(t, err)
	return id.String()
}

func (b *bundle) countFlows(t *testing.T) (flows, versions int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM flows`).Scan(&flows))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM flow_versions`).Scan(&versions))
	return flows, versions
}

func validDefinition(slackConn string) map[string]any {
	return map[string]any{
		"trigger": map[string]any{"type": "webhook", "if": "trigger.event != 'test'"},
		"steps": []any{
			map[string]any{"id": "notify", "action": "slack.post_message", "connection": slackConn,
				"input": map[string]any{"channel": "#signups", "text": "New signup: {{ trigger.email }}"}},
			map[string]any{"id": "ping", "action": "http.request",
				"input": map[string]any{"method": "POST", "url": "https://example.com/hook", "body": "{{ steps.notify }}"}},
		},
	}
}

func errorOf(t *testing.T, body map[string]any) (code, message string, details map[string]string) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "an error body: %v", body)
	details = map[string]string{}
	if ds, ok := e["details"].([]any); ok {
		for _, d := range ds {
			d := d.(map[string]any)
			details[d["path"].(string)] += d["message"].(string)
		}
	}
	return e["code"].(string), e["message"].(string), details
}

func TestFlowsLifecycle(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	m, tok := b.owner(t, "ada@example.com", "Acme")
	slack := b.connection(t, m.WorkspaceID, "slack")
	def := validDefinition(slack)

	status, f := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "  Signups  ", "definition": def})
	require.Equal(t, http.StatusCreated, status, "%v", f)
	id := f["id"].(string)
	require.Equal(t, "Signups", f["name"], "the name is trimmed")
	require.EqualValues(t, 1, f["version"])
	require.Equal(t, true, f["enabled"], "enabled by default")
	require.NotEmpty(t, f["created_at"])
	require.NotEmpty(t, f["updated_at"])
	hook := f["webhook_url"].(string)
	hookToken, ok := strings.CutPrefix(hook, testBaseURL+"/hooks/")
	require.True(t, ok, hook)
	require.GreaterOrEqual(t, len(hookToken), 32, "the webhook token is unguessable")
	steps := f["definition"].(map[string]any)["steps"].([]any)
	require.Len(t, steps, 2)
	require.Equal(t, "notify", steps[0].(map[string]any)["id"])
	require.Equal(t, slack, steps[0].(map[string]any)["connection"])

	status, got := b.api(t, http.MethodGet, "/api/v1/flows/"+id, tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, f, got)

	// A second flow, created disabled, gets its own webhook token.
	status, f2 := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Other", "definition": def, "enabled": false})
	require.Equal(t, http.StatusCreated, status, "%v", f2)
	require.Equal(t, false, f2["enabled"])
	require.NotEqual(t, hook, f2["webhook_url"])

	status, list := b.api(t, http.MethodGet, "/api/v1/flows", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, list["flows"], 2)
	require.Equal(t, f, list["flows"].([]any)[0], "oldest first, same shape as one flow")

	// Update: a new version, a new name; the old version stays listed.
	def2 := validDefinition(slack)
	def2["steps"] = def2["steps"].([]any)[:1]
	status, up := b.api(t, http.MethodPut, "/api/v1/flows/"+id, tok, map[string]any{"name": "Signups v2", "definition": def2})
	require.Equal(t, http.StatusOK, status, "%v", up)
	require.EqualValues(t, 2, up["version"])
	require.Equal(t, "Signups v2", up["name"])
	require.Equal(t, hook, up["webhook_url"], "the webhook URL survives edits")
	require.Len(t, up["definition"].(map[string]any)["steps"], 1)

	// The name is optional on update.
	status, up = b.api(t, http.MethodPut, "/api/v1/flows/"+id, tok, map[string]any{"definition": def})
	require.Equal(t, http.StatusOK, status, "%v", up)
	require.EqualValues(t, 3, up["version"])
	require.Equal(t, "Signups v2", up["name"])

	status, vs := b.api(t, http.MethodGet, "/api/v1/flows/"+id+"/versions", tok, nil)
	require.Equal(t, http.StatusOK, status)
	versions := vs["versions"].([]any)
	require.Len(t, versions, 3)
	for i, v := range versions {
		v := v.(map[string]any)
		require.EqualValues(t, 3-i, v["version"], "newest first")
		require.Equal(t, m.UserID.String(), v["created_by"])
		require.NotEmpty(t, v["created_at"])
	}
	require.Len(t, versions[1].(map[string]any)["definition"].(map[string]any)["steps"], 1)
	require.Len(t, versions[2].(map[string]any)["definition"].(map[string]any)["steps"], 2)

	status, got = b.api(t, http.MethodPost, "/api/v1/flows/"+id+"/disable", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, false, got["enabled"])
	require.EqualValues(t, 3, got["version"])
	status, got = b.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, true, got["enabled"])

	status, _ = b.api(t, http.MethodDelete, "/api/v1/flows/"+id, tok, nil)
	require.Equal(t, http.StatusNoContent, status)
	status, got = b.api(t, http.MethodGet, "/api/v1/flows/"+id, tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	code, _, _ := errorOf(t, got)
	require.Equal(t, "not_found", code)
	status, _ = b.api(t, http.MethodDelete, "/api/v1/flows/"+id, tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = b.api(t, http.MethodGet, "/api/v1/flows/"+id+"/versions", tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	status, list = b.api(t, http.MethodGet, "/api/v1/flows", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, list["flows"], 1)
}

func TestFlowsEmptyList(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")
	status, raw := b.raw(t, http.MethodGet, "/api/v1/flows", tok, "", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"flows":[]}`, raw)
}

func TestFlowsInvalidDefinitionListsEveryProblem(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")

	def := map[string]any{
		"trigger": map[string]any{"type": "webhook"},
		"steps": []any{
			map[string]any{"id": "a", "action": "http.request", "needs": []any{"b"}, "input": map[string]any{"url": "https://example.com"}},
			map[string]any{"id": "b", "action": "http.request", "needs": []any{"a"}, "input": map[string]any{"url": "https://example.com"}},
			map[string]any{"id": "send", "action": "http.request", "needs": []any{"sned"}, "input": map[string]any{"url": "https://example.com"}},
			map[string]any{"id": "x", "action": "nope.nothing"},
			map[string]any{"id": "Bad-ID", "action": "http.request", "input": map[string]any{"url": "https://example.com"}},
			map[string]any{"id": "cond", "action": "http.request", "if": "trigger.a ==", "input": map[string]any{"url": "https://example.com"}},
			map[string]any{"id": "typo", "action": "http.request", "inptu": map[string]any{}, "input": map[string]any{"url": "https://example.com"}},
		},
	}
	status, body := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Broken", "definition": def})
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	code, msg, details := errorOf(t, body)
	require.Equal(t, "invalid_definition", code)
	require.Equal(t, fmt.Sprintf("The flow definition has %d problems.", len(body["error"].(map[string]any)["details"].([]any))), msg)

	require.Contains(t, details["definition.steps[2].needs[0]"], `unknown step "sned"`)
	require.Contains(t, details["definition.steps[3].action"], `unknown action "nope.nothing"`)
	require.Contains(t, details["definition.steps"], "cycle")
	require.Contains(t, details["definition.steps[4].id"], "must match")
	require.NotEmpty(t, details["definition.steps[5].if"], "a bad expression")
	require.Contains(t, details["definition.steps[6].inptu"], "unknown field")
	require.Contains(t, details["definition.steps[6].inptu"], `did you mean "input"`)

	// Listed in step order, whichever check found them; the cycle (about the
	// steps as a whole) comes last.
	var paths []string
	for _, d := range body["error"].(map[string]any)["details"].([]any) {
		paths = append(paths, d.(map[string]any)["path"].(string))
	}
	require.Equal(t, []string{"definition.steps[2].needs[0]", "definition.steps[3].action", "definition.steps[4].id",
		"definition.steps[5].if", "definition.steps[6].inptu", "definition.steps"}, paths)

	f, v := b.countFlows(t)
	require.Zero(t, f+v, "nothing written")
}

func TestFlowsConnectionsAndInputs(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	m, tok := b.owner(t, "ada@example.com", "Acme")
	other, _ := b.owner(t, "bob@example.com", "Bobco")
	slack := b.connection(t, m.WorkspaceID, "slack")
	foreign := b.connection(t, other.WorkspaceID, "mailchimp")

	def := map[string]any{
		"trigger": map[string]any{"type": "slack.events"},
		"steps": []any{
			// A slack connection for a mailchimp action.
			map[string]any{"id": "sub", "action": "mailchimp.upsert_member", "connection": slack,
				"input": map[string]any{"list_id": "abc", "email": "{{ trigger.email }}"}},
			// Another workspace's connection is unknown here.
			map[string]any{"id": "tag", "action": "mailchimp.add_tags", "connection": foreign,
				"input": map[string]any{"list_id": "abc", "email": "a@b.c", "tags": []any{"x"}}},
			// No connection at all; the input misses a field and has an extra one.
			map[string]any{"id": "post", "action": "slack.post_message",
				"input": map[string]any{"text": "hi", "colour": "red"}},
			// Not a uuid.
			map[string]any{"id": "post2", "action": "slack.post_message", "connection": "my-slack",
				"input": map[string]any{"channel": "#x", "text": "hi"}},
		},
	}
	status, body := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Conns", "definition": def})
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	_, _, details := errorOf(t, body)
	require.Equal(t, fmt.Sprintf("connection %s is a slack connection, action needs mailchimp", slack), details["definition.steps[0].connection"])
	require.Contains(t, details["definition.steps[1].connection"], "unknown connection")
	require.Contains(t, details["definition.steps[2].connection"], "needs a connection")
	require.Equal(t, "is required", details["definition.steps[2].input.channel"])
	require.Contains(t, details["definition.steps[2].input.colour"], "is not an input of slack.post_message")
	require.Contains(t, details["definition.steps[3].connection"], "unknown connection")
	require.Contains(t, details["definition.trigger.config.connection"], "is required", "Slack events are always verified")
	require.Len(t, details, 7, "%v", details)

	// An unknown trigger type.
	def = validDefinition(slack)
	def["trigger"] = map[string]any{"type": "slack.nothing"}
	status, body = b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "T", "definition": def})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, details = errorOf(t, body)
	require.Contains(t, details["definition.trigger.type"], "unknown trigger type")

	f, v := b.countFlows(t)
	require.Zero(t, f+v, "nothing written")
}

func TestFlowsBadBodies(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	m, tok := b.owner(t, "ada@example.com", "Acme")
	slack := b.connection(t, m.WorkspaceID, "slack")
	status, created := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Keep", "definition": validDefinition(slack)})
	require.Equal(t, http.StatusCreated, status)
	id := created["id"].(string)
	good := `{"trigger":{"type":"manual"},"steps":[{"id":"a","action":"http.request","input":{"url":"https://example.com"}}]}`

	cases := []struct {
		name, contentType, body string
		status                  int
		code, path              string
	}{
		{"broken JSON", "application/json", `{"name": "x", "definition": {`, 400, "invalid_json", ""},
		{"trailing garbage", "application/json", `{"name":"x","definition":` + good + `} {}`, 400, "invalid_json", ""},
		{"empty body", "application/json", ``, 400, "invalid_json", ""},
		{"text/plain", "text/plain", `{"name":"x","definition":` + good + `}`, 415, "unsupported_media_type", ""},
		{"form", "application/x-www-form-urlencoded", `name=x`, 415, "unsupported_media_type", ""},
		{"no content type", "", `{"name":"x","definition":` + good + `}`, 415, "unsupported_media_type", ""},
		{"array body", "application/json", `[1,2]`, 400, "invalid_json", ""},
		{"string body", "application/json", `"flow"`, 400, "invalid_json", ""},
		{"null body", "application/json", `null`, 400, "invalid_json", ""},
		{"unknown top-level field", "application/json", `{"name":"x","definition":` + good + `,"enabeld":true}`, 400, "invalid_json", "enabeld"},
		{"repeated field", "application/json", `{"name":"x","name":"y","definition":` + good + `}`, 400, "invalid_json", "name"},
		{"name a number", "application/json", `{"name":5,"definition":` + good + `}`, 400, "invalid_json", "name"},
		{"name an object", "application/json", `{"name":{},"definition":` + good + `}`, 400, "invalid_json", "name"},
		{"enabled a string", "application/json", `{"name":"x","enabled":"yes","definition":` + good + `}`, 400, "invalid_json", "enabled"},
		{"name missing", "application/json", `{"definition":` + good + `}`, 422, "invalid_input", "name"},
		{"name null", "application/json", `{"name":null,"definition":` + good + `}`, 422, "invalid_input", "name"},
		{"name blank", "application/json", `{"name":"   ","definition":` + good + `}`, 422, "invalid_input", "name"},
		{"name huge", "application/json", `{"name":"` + strings.Repeat("n", 100_000) + `","definition":` + good + `}`, 422, "invalid_input", "name"},
		{"name with NUL", "application/json", `{"name":"a\u0000b","definition":` + good + `}`, 422, "invalid_input", "name"},
		{"definition missing", "application/json", `{"name":"x"}`, 422, "invalid_input", "definition"},
		{"definition null", "application/json", `{"name":"x","definition":null}`, 422, "invalid_input", "definition"},
		{"definition a string", "application/json", `{"name":"x","definition":"steps"}`, 422, "invalid_definition", "definition"},
		{"definition an array", "application/json", `{"name":"x","definition":[]}`, 422, "invalid_definition", "definition"},
		{"definition empty", "application/json", `{"name":"x","definition":{}}`, 422, "invalid_definition", "definition.trigger.type"},
		{"steps an object", "application/json", `{"name":"x","definition":{"trigger":{"type":"manual"},"steps":{}}}`, 422, "invalid_definition", "definition.steps"},
		{"steps of nulls", "application/json", `{"name":"x","definition":{"trigger":{"type":"manual"},"steps":[null,1,"a"]}}`, 422, "invalid_definition", "definition.steps[0]"},
		{"input a string", "application/json", `{"name":"x","definition":{"trigger":{"type":"manual"},"steps":[{"id":"a","action":"http.request","input":"x"}]}}`, 422, "invalid_definition", "definition.steps[0].input"},
		{"NUL in input", "application/json", `{"name":"x","definition":{"trigger":{"type":"manual"},"steps":[{"id":"a","action":"http.request","input":{"url":"https://example.com","body":{"k":"a\u0000"}}}]}}`, 422, "invalid_definition", "definition.steps[0].input.body.k"},
		{"deep nesting", "application/json", `{"name":"x","definition":{"trigger":{"type":"manual"},"steps":[{"id":"a","action":"http.request","input":{"url":"https://example.com","body":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}]}}`, 422, "invalid_definition", ""},
		{"both name and definition", "application/json", `{"name":"","definition":{"trigger":{"type":"manual"},"steps":[]}}`, 422, "invalid_definition", "name"},
	}
	for _, tc := range cases {
		for _, target := range []struct{ method, path string }{{http.MethodPost, "/api/v1/flows"}, {http.MethodPut, "/api/v1/flows/" + id}} {
			status, raw := b.raw(t, target.method, target.path, tok, tc.contentType, tc.body)
			want, wantCode := tc.status, tc.code
			if target.method == http.MethodPut && (tc.name == "name missing" || tc.name == "name null") {
				// The name is optional on update.
				want, wantCode = 200, ""
			}
			if target.method == http.MethodPut && tc.name == "enabled a string" {
				want = 400 // not a field of PUT at all
			}
			require.Equal(t, want, status, "%s %s: %s", target.method, tc.name, raw)
			if wantCode != "" {
				require.Contains(t, raw, `"code":"`+wantCode+`"`, "%s %s: %s", target.method, tc.name, raw)
			}
			if tc.path != "" && want >= 400 {
				require.Contains(t, raw, `"path":"`+tc.path, "%s %s: %s", target.method, tc.name, raw)
			}
			require.NotContains(t, raw, strings.Repeat("n", 300), "the answer does not echo the body")
		}
	}

	// Only the two successful PUTs (name missing, name null) wrote anything.
	f, v := b.countFlows(t)
	require.Equal(t, 1, f)
	require.Equal(t, 3, v)
	status, got := b.api(t, http.MethodGet, "/api/v1/flows/"+id, tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 3, got["version"])
	require.Equal(t, "Keep", got["name"])

	// A definition is required on update too.
	status, body := b.api(t, http.MethodPut, "/api/v1/flows/"+id, tok, map[string]any{"name": "Renamed"})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, details := errorOf(t, body)
	require.Equal(t, "is required", details["definition"])

	// Malformed ids are simply unknown.
	for _, p := range []string{"/api/v1/flows/not-a-uuid", "/api/v1/flows/1", "/api/v1/flows/" + uuid.NewString()} {
		status, _ := b.api(t, http.MethodGet, p, tok, nil)
		require.Equal(t, http.StatusNotFound, status, p)
		status, _ = b.api(t, http.MethodPut, p, tok, map[string]any{"definition": validDefinition(slack)})
		require.Equal(t, http.StatusNotFound, status, p)
		status, _ = b.api(t, http.MethodPost, p+"/enable", tok, nil)
		require.Equal(t, http.StatusNotFound, status, p)
		status, _ = b.api(t, http.MethodDelete, p, tok, nil)
		require.Equal(t, http.StatusNotFound, status, p)
		status, _ = b.api(t, http.MethodGet, p+"/versions", tok, nil)
		require.Equal(t, http.StatusNotFound, status, p)
	}
}

func TestFlowsWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	m, tok := b.owner(t, "ada@example.com", "Acme")
	_, otherTok := b.owner(t, "bob@example.com", "Bobco")
	slack := b.connection(t, m.WorkspaceID, "slack")
	status, f := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Mine", "definition": validDefinition(slack)})
	require.Equal(t, http.StatusCreated, status)
	id := f["id"].(string)

	// Ada's connection does not exist for Bob either.
	status, body := b.api(t, http.MethodPost, "/api/v1/flows", otherTok, map[string]any{"name": "Theirs", "definition": validDefinition(slack)})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, details := errorOf(t, body)
	require.Contains(t, details["definition.steps[0].connection"], "unknown connection")

	def := map[string]any{"trigger": map[string]any{"type": "manual"},
		"steps": []any{map[string]any{"id": "a", "action": "http.request", "input": map[string]any{"url": "https://example.com"}}}}
	for _, call := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/flows/" + id, nil},
		{http.MethodPut, "/api/v1/flows/" + id, map[string]any{"name": "Stolen", "definition": def}},
		{http.MethodPost, "/api/v1/flows/" + id + "/enable", nil},
		{http.MethodPost, "/api/v1/flows/" + id + "/disable", nil},
		{http.MethodGet, "/api/v1/flows/" + id + "/versions", nil},
		{http.MethodDelete, "/api/v1/flows/" + id, nil},
	} {
		status, body := b.api(t, call.method, call.path, otherTok, call.body)
		require.Equal(t, http.StatusNotFound, status, "%s %s", call.method, call.path)
		code, _, _ := errorOf(t, body)
		require.Equal(t, "not_found", code)
	}
	status, list := b.api(t, http.MethodGet, "/api/v1/flows", otherTok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, list["flows"])

	status, got := b.api(t, http.MethodGet, "/api/v1/flows/"+id, tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, f, got, "untouched")
}

func TestFlowsViewerCannotWrite(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	owner, tok := b.owner(t, "ada@example.com", "Acme")
	slack := b.connection(t, owner.WorkspaceID, "slack")
	status, f := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Mine", "definition": validDefinition(slack)})
	require.Equal(t, http.StatusCreated, status)
	id := f["id"].(string)

	ctx := context.Background()
	viewer := store.Member{UserID: store.NewID(), Email: "vic@example.com", WorkspaceID: owner.WorkspaceID, Role: store.RoleViewer}
	_, err := b.pool.Exec(ctx, `INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, viewer.UserID, viewer.Email)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, 'viewer')`, viewer.WorkspaceID, viewer.UserID)
	require.NoError(t, err)
	vtok, _, err := store.CreateToken(ctx, b.pool, viewer, "viewer")
	require.NoError(t, err)

	for _, call := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/v1/flows", map[string]any{"name": "New", "definition": validDefinition(slack)}},
		{http.MethodPut, "/api/v1/flows/" + id, map[string]any{"definition": validDefinition(slack)}},
		{http.MethodPost, "/api/v1/flows/" + id + "/enable", nil},
		{http.MethodPost, "/api/v1/flows/" + id + "/disable", nil},
		{http.MethodDelete, "/api/v1/flows/" + id, nil},
	} {
		status, body := b.api(t, call.method, call.path, vtok, call.body)
		require.Equal(t, http.StatusForbidden, status, "%s %s", call.method, call.path)
		code, _, _ := errorOf(t, body)
		require.Equal(t, "forbidden", code)
	}

	// Reading is fine.
	status, got := b.api(t, http.MethodGet, "/api/v1/flows/"+id, vtok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, f, got)
	status, list := b.api(t, http.MethodGet, "/api/v1/flows", vtok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, list["flows"], 1)
	status, _ = b.api(t, http.MethodGet, "/api/v1/flows/"+id+"/versions", vtok, nil)
	require.Equal(t, http.StatusOK, status)
}

func TestFlowsWithoutCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")
	// Without a catalog, actions are not checked; the rest of the definition is.
	def := map[string]any{"trigger": map[string]any{"type": "webhook"},
		"steps": []any{map[string]any{"id": "a", "action": "anything.at_all", "input": map[string]any{"x": "{{ trigger.y }}"}}}}
	status, f := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Loose", "definition": def})
	require.Equal(t, http.StatusCreated, status, "%v", f)
	require.True(t, strings.HasPrefix(f["webhook_url"].(string), "http://localhost:8080/hooks/"))

	def["steps"] = []any{map[string]any{"id": "a", "action": "anything.at_all", "needs": []any{"zz"}}}
	status, body := b.api(t, http.MethodPost, "/api/v1/flows", tok, map[string]any{"name": "Loose", "definition": def})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, details := errorOf(t, body)
	require.Contains(t, details["definition.steps[0].needs[0]"], `unknown step "zz"`)
}
