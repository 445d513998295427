package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/handlers"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// bundle is one test's running app on a fresh database.
type bundle struct {
	pool *pgxpool.Pool
	url  string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	pool := storetest.Pool(t)
	key := make([]byte, 32)
	sealer, err := store.NewSealer(key)
	require.NoError(t, err)
	app := handlers.New(handlers.Deps{Pool: pool, Sealer: sealer, BaseURL: "http://localhost:8080"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return &bundle{pool: pool, url: "http://" + ln.Addr().String()}
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
func (b *bundle) browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// get fetches a page and returns its body and the CSRF token it carries.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok string
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		tok = m[1]
	}
	return resp, string(body), tok
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, v)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (b *bundle) owner(t *testing.T, email, workspace string) (store.Member, string) {
	t.Helper()
	ctx := context.Background()
	hash, err := store.HashPassword("correct horse battery")
	require.NoError(t, err)
	m, err := store.CreateOwner(ctx, b.pool, email, hash, workspace)
	require.NoError(t, err)
	tok, _, err := store.CreateToken(ctx, b.pool, m, "test")
	require.NoError(t, err)
	return m, tok
}

// api calls the JSON API with a token and decodes the answer.
func (b *bundle) api(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		r = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, b.url+path, r)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp.StatusCode, out
}
