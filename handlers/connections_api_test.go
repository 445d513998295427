package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/catalog"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/handlers"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/localpg"
	"github.com/switchboard/switchboard/store/storetest"
)

// connBundle is a running app with the connector catalog, a sealer and the
// loopback-allowing egress client, on a fresh database.
type connBundle struct {
	*bundle
	dbURL string
	// bodies collects every answer's body, to check that no secret leaks.
	bodies []string
}

func connSetup(t *testing.T) *connBundle {
	t.Helper()
	dbURL := storetest.URL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	sealer, err := store.NewSealer(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	app := handlers.New(handlers.Deps{
		Pool:    pool,
		Sealer:  sealer,
		Catalog: catalog.New(),
		HTTP:    fake.LoopbackClient(),
		BaseURL: "http://localhost:8080",
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return &connBundle{bundle: &bundle{pool: pool, url: "http://" + ln.Addr().String()}, dbURL: dbURL}
}

// call sends body (raw when it is a string, else JSON) with contentType and
// returns the status, the raw answer and the answer decoded.
func (b *connBundle) call(t *testing.T, method, path, token, contentType string, body any) (int, string, map[string]any) {
	t.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.url+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	b.bodies = append(b.bodies, string(raw))
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp.StatusCode, string(raw), out
}

func (b *connBundle) json(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	status, _, out := b.call(t, method, path, token, ct, body)
	return status, out
}

// noLeak asserts that no answer so far held any of the secrets.
func (b *connBundle) noLeak(t *testing.T, secrets ...string) {
	t.Helper()
	require.NotEmpty(t, b.bodies)
	for _, body := range b.bodies {
		for _, s := range secrets {
			require.NotContains(t, body, s)
		}
	}
}

func connDetails(out map[string]any) map[string]string {
	m := map[string]string{}
	e, _ := out["error"].(map[string]any)
	list, _ := e["details"].([]any)
	for _, d := range list {
		d := d.(map[string]any)
		m[d["path"].(string)] = d["message"].(string)
	}
	return m
}

func connErrorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

const slackSecret = "xoxb-1111-2222-TOPSECRET"

func TestConnectionsCreateListDelete(t *testing.T) {
	t.Parallel()
	b := connSetup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")

	status, out := b.json(t, "POST", "/api/v1/connections", tok, map[string]any{
		"connector": "slack", "name": "  Team Slack ",
		"config":  map[string]any{"base_url": "https://slack.example.com/api"},
		"secrets": map[string]any{"token": slackSecret},
	})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	id := out["id"].(string)
	require.NotEmpty(t, id)
	require.Equal(t, "slack", out["connector"])
	require.Equal(t, "Team Slack", out["name"])
	require.Equal(t, map[string]any{"base_url": "https://slack.example.com/api"}, out["config"])
	require.NotEmpty(t, out["created_at"])
	require.NotContains(t, out, "secrets")

	status, out = b.json(t, "POST", "/api/v1/connections", tok, map[string]any{
		"connector": "http", "name": "Internal API",
		"secrets": map[string]any{"headers": `{"Authorization":"Bearer HEADER-SECRET-42"}`},
	})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, map[string]any{}, out["config"])
	httpID := out["id"].(string)

	status, out = b.json(t, "GET", "/api/v1/connections", tok, nil)
	require.Equal(t, http.StatusOK, status)
	list := out["connections"].([]any)
	require.Len(t, list, 2)
	first := list[0].(map[string]any)
	require.Equal(t, id, first["id"])
	require.Equal(t, "Team Slack", first["name"])
	require.Equal(t, httpID, list[1].(map[string]any)["id"])

	status, out = b.json(t, "DELETE", "/api/v1/connections/"+id, tok, nil)
	require.Equal(t, http.StatusNoContent, status, "%v", out)
	status, out = b.json(t, "DELETE", "/api/v1/connections/"+id, tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "not_found", connErrorCode(out))
	status, _ = b.json(t, "DELETE", "/api/v1/connections/not-a-uuid", tok, nil)
	require.Equal(t, http.StatusNotFound, status)

	status, out = b.json(t, "GET", "/api/v1/connections", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["connections"].([]any), 1)

	status, _ = b.json(t, "GET", "/api/v1/connections", "", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	b.noLeak(t, slackSecret, "HEADER-SECRET-42")
}

func TestConnectionsValidation(t *testing.T) {
	t.Parallel()
	b := connSetup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")

	for _, tc := range []struct {
		name string
		body map[string]any
		want map[string]string // path → part of the message
	}{
		{"unknown connector", map[string]any{"connector": "myspace", "name": "x", "secrets": map[string]any{"token": slackSecret}},
			map[string]string{"connector": "not a connector"}},
		{"missing connector", map[string]any{"name": "x"}, map[string]string{"connector": "required"}},
		{"missing required secret", map[string]any{"connector": "slack", "name": "x"}, map[string]string{"secrets.token": "required"}},
		{"blank required secret", map[string]any{"connector": "slack", "name": "x", "secrets": map[string]any{"token": "  "}},
			map[string]string{"secrets.token": "required"}},
		{"non-string secret", map[string]any{"connector": "slack", "name": "x", "secrets": map[string]any{"token": 12345}},
			map[string]string{"secrets.token": "must be text"}},
		{"object secret", map[string]any{"connector": "slack", "name": "x", "secrets": map[string]any{"token": map[string]any{"v": slackSecret}}},
			map[string]string{"secrets.token": "must be text"}},
		{"secret sent in config", map[string]any{"connector": "slack", "name": "x", "config": map[string]any{"token": slackSecret}},
			map[string]string{"config.token": "is a secret", "secrets.token": "required"}},
		{"unknown secret", map[string]any{"connector": "slack", "name": "x", "secrets": map[string]any{"token": slackSecret, "password": slackSecret + "-2"}},
			map[string]string{"secrets.password": "is not a secret"}},
		{"bad base url", map[string]any{"connector": "slack", "name": "x", "config": map[string]any{"base_url": "ftp://x"}, "secrets": map[string]any{"token": slackSecret}},
			map[string]string{"config.base_url": "http(s) URL"}},
		{"empty name", map[string]any{"connector": "slack", "name": " ", "secrets": map[string]any{"token": slackSecret}},
			map[string]string{"name": "required"}},
		{"long name", map[string]any{"connector": "slack", "name": strings.Repeat("é", 101), "secrets": map[string]any{"token": slackSecret}},
			map[string]string{"name": "at most 100"}},
		{"config not an object", map[string]any{"connector": "slack", "name": "x", "config": "base_url", "secrets": map[string]any{"token": slackSecret}},
			map[string]string{"config": "object"}},
		{"secrets not an object", map[string]any{"connector": "slack", "name": "x", "secrets": slackSecret},
			map[string]string{"secrets": "object"}},
		{"kv secret not JSON", map[string]any{"connector": "http", "name": "x", "secrets": map[string]any{"headers": "Authorization: " + slackSecret}},
			map[string]string{"secrets.headers": "JSON object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := b.json(t, "POST", "/api/v1/connections", tok, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
			require.Equal(t, "invalid_connection", connErrorCode(out))
			got := connDetails(out)
			for path, msg := range tc.want {
				require.Contains(t, got, path, "%v", out)
				require.Contains(t, got[path], msg)
			}
		})
	}
	// 100 characters are fine.
	status, out := b.json(t, "POST", "/api/v1/connections", tok, map[string]any{
		"connector": "slack", "name": strings.Repeat("é", 100), "secrets": map[string]any{"token": slackSecret}})
	require.Equal(t, http.StatusCreated, status, "%v", out)

	status, raw, out := b.call(t, "POST", "/api/v1/connections", tok, "application/json", `{"connector":"slack","secrets":{"token":"`+slackSecret+`"`)
	require.Equal(t, http.StatusBadRequest, status, raw)
	require.Equal(t, "invalid_json", connErrorCode(out))
	status, raw, out = b.call(t, "POST", "/api/v1/connections", tok, "application/json", `{"secrets":{"token":`+slackSecret+`}}`)
	require.Equal(t, http.StatusBadRequest, status, raw)
	require.Equal(t, "invalid_json", connErrorCode(out))
	status, raw, _ = b.call(t, "POST", "/api/v1/connections", tok, "application/json", `["slack"]`)
	require.Equal(t, http.StatusBadRequest, status, raw)
	status, raw, out = b.call(t, "POST", "/api/v1/connections", tok, "text/plain", `{"connector":"slack","name":"x","secrets":{"token":"`+slackSecret+`"}}`)
	require.Equal(t, http.StatusUnsupportedMediaType, status, raw)
	require.Equal(t, "unsupported_media_type", connErrorCode(out))

	status, out = b.json(t, "GET", "/api/v1/connections", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["connections"].([]any), 1, "nothing invalid was stored")

	b.noLeak(t, slackSecret)
}

func TestConnectionsWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	b := connSetup(t)
	_, tokA := b.owner(t, "ada@example.com", "Acme")
	_, tokB := b.owner(t, "bob@example.com", "Globex")
	slack := fake.NewSlack(slackSecret)
	t.Cleanup(slack.Close)

	status, out := b.json(t, "POST", "/api/v1/connections", tokA, map[string]any{
		"connector": "slack", "name": "Acme Slack",
		"config": map[string]any{"base_url": slack.BaseURL()}, "secrets": map[string]any{"token": slackSecret}})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	id := out["id"].(string)

	status, out = b.json(t, "GET", "/api/v1/connections", tokB, nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, out["connections"])

	status, out = b.json(t, "POST", "/api/v1/connections/"+id+"/test", tokB, nil)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	require.Empty(t, slack.Requests(), "another workspace's test reaches nothing")
	status, _ = b.json(t, "DELETE", "/api/v1/connections/"+id, tokB, nil)
	require.Equal(t, http.StatusNotFound, status)

	status, out = b.json(t, "GET", "/api/v1/connections", tokA, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["connections"].([]any), 1, "still there")

	b.noLeak(t, slackSecret)
}

func TestConnectionTest(t *testing.T) {
	t.Parallel()
	b := connSetup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")
	slack := fake.NewSlack(slackSecret)
	t.Cleanup(slack.Close)
	const wrong = "xoxb-9999-WRONG-TOKEN"

	create := func(connector, token string, config map[string]any, secrets map[string]any) string {
		t.Helper()
		status, out := b.json(t, "POST", "/api/v1/connections", tok, map[string]any{
			"connector": connector, "name": connector + " " + token, "config": config, "secrets": secrets})
		require.Equal(t, http.StatusCreated, status, "%v", out)
		return out["id"].(string)
	}
	good := create("slack", "good", map[string]any{"base_url": slack.BaseURL()}, map[string]any{"token": slackSecret})
	bad := create("slack", "bad", map[string]any{"base_url": slack.BaseURL()}, map[string]any{"token": wrong})

	status, out := b.json(t, "POST", "/api/v1/connections/"+good+"/test", tok, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, map[string]any{"ok": true}, out)
	reqs := slack.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/api/auth.test", reqs[0].Path)

	status, out = b.json(t, "POST", "/api/v1/connections/"+bad+"/test", tok, nil)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, false, out["ok"])
	require.Contains(t, out["error"], "invalid_auth")

	segment := create("segment", "seg", nil, map[string]any{"write_key": "SEGMENT-WRITE-KEY-1"})
	status, out = b.json(t, "POST", "/api/v1/connections/"+segment+"/test", tok, nil)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	require.Equal(t, "not_testable", connErrorCode(out))

	status, _ = b.json(t, "POST", "/api/v1/connections/00000000-0000-0000-0000-000000000000/test", tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = b.json(t, "POST", "/api/v1/connections/nope/test", tok, nil)
	require.Equal(t, http.StatusNotFound, status)

	// A service the egress guard refuses is a failed test, not a server error.
	guarded := handlers.New(handlers.Deps{Pool: b.pool, Sealer: connSealer(t), Catalog: catalog.New(), BaseURL: "http://localhost:8080"})
	req, err := http.NewRequest("POST", "/api/v1/connections/"+good+"/test", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := guarded.Test(req, -1)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), `"ok":false`)
	require.Contains(t, string(raw), "egress")
	b.bodies = append(b.bodies, string(raw))

	b.noLeak(t, slackSecret, wrong, "SEGMENT-WRITE-KEY-1")
}

func connSealer(t *testing.T) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	return s
}

func TestConnectionsNeedCatalogAndSealer(t *testing.T) {
	t.Parallel()
	b := connSetup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")
	app := handlers.New(handlers.Deps{Pool: b.pool, BaseURL: "http://localhost:8080"})
	req, err := http.NewRequest("POST", "/api/v1/connections", strings.NewReader(`{"connector":"slack","name":"x","secrets":{"token":"t"}}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := app.Test(req, -1)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), "connections_unavailable")
}

// connPgDump finds pg_dump next to the server binaries the tests use, else on PATH.
func connPgDump(t *testing.T) string {
	t.Helper()
	if dir, err := localpg.FindBinaries(); err == nil {
		if p := filepath.Join(dir, "pg_dump"); connFileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("pg_dump not found (CI=true makes this a failure)")
	}
	t.Skip("pg_dump not found")
	return ""
}

func connFileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func TestSecretsAbsentFromDatabaseDump(t *testing.T) {
	t.Parallel()
	b := connSetup(t)
	_, tok := b.owner(t, "ada@example.com", "Acme")
	const secret = "xoxb-DUMP-ME-IF-YOU-CAN-31337"
	const name = "Dumpable Slack connection"
	status, out := b.json(t, "POST", "/api/v1/connections", tok, map[string]any{
		"connector": "slack", "name": name, "secrets": map[string]any{"token": secret}})
	require.Equal(t, http.StatusCreated, status, "%v", out)

	cmd := exec.Command(connPgDump(t), "--no-owner", "--dbname="+b.dbURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dump, err := cmd.Output()
	require.NoError(t, err, "pg_dump: %s", stderr.String())
	text := string(dump)
	require.Contains(t, text, name, "the dump holds the connections table")
	for _, leak := range []string{
		secret,
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawStdEncoding.EncodeToString([]byte(secret)),
		hex.EncodeToString([]byte(secret)), // bytea is dumped as hex
		strings.ToUpper(hex.EncodeToString([]byte(secret))),
	} {
		require.NotContains(t, text, leak)
	}
}
