package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/catalog"
	"github.com/switchboard/switchboard/connectors/email"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := storetest.URL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	keyA, keyB := bytes.Repeat([]byte{0xA}, 32), bytes.Repeat([]byte{0xB}, 32)
	b64A, b64B := base64.StdEncoding.EncodeToString(keyA), base64.StdEncoding.EncodeToString(keyB)
	sealerA, err := store.NewSealer(keyA)
	require.NoError(t, err)
	m, err := store.CreateOwner(ctx, pool, "ada@example.com", "x", "Acme")
	require.NoError(t, err)
	want := map[uuid.UUID]string{}
	for i := range 3 {
		tok := "xoxb-" + strings.Repeat(string(rune('a'+i)), 12)
		c, err := store.CreateConnection(ctx, pool, sealerA, m.WorkspaceID, "slack", "c", nil, map[string]string{"token": tok})
		require.NoError(t, err)
		want[c.ID] = tok
	}

	base := map[string]string{"DATABASE_URL": dbURL, "SWITCHBOARD_SECRET_KEY": b64B}
	with := func(kv map[string]string) func(string) string {
		all := map[string]string{}
		for k, v := range base {
			all[k] = v
		}
		for k, v := range kv {
			all[k] = v
		}
		return env(all)
	}
	var out, errOut bytes.Buffer

	// Mistakes fail in one line, before touching anything, and never print a key.
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no subcommand", []string{"keys"}, nil, "usage: switchboard keys rotate"},
		{"no old key", []string{"keys", "rotate"}, nil, "--old-key"},
		{"bad old key", []string{"keys", "rotate", "--old-key", "c2hvcnQtc2VjcmV0"}, nil, "--old-key number 1 must be 32 bytes in base64"},
		{"bad old key in env", []string{"keys", "rotate"}, map[string]string{"SWITCHBOARD_OLD_SECRET_KEYS": b64A + ",c2hvcnQtc2VjcmV0"}, "SWITCHBOARD_OLD_SECRET_KEYS: entry 2"},
		{"wrong old key", []string{"keys", "rotate", "--old-key", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xC}, 32))}, nil, store.KeyID(keyA)},
		{"no new key", []string{"keys", "rotate", "--old-key", b64A}, map[string]string{"SWITCHBOARD_SECRET_KEY": "", "SWITCHBOARD_DATA": t.TempDir()}, "set SWITCHBOARD_SECRET_KEY"},
	} {
		err := run(ctx, tc.args, with(tc.env), &out, &errOut)
		require.ErrorContains(t, err, tc.want, tc.name)
		require.NotContains(t, err.Error(), "\n", tc.name)
		require.NotContains(t, err.Error(), "c2hvcnQtc2VjcmV0", tc.name)
		require.NotContains(t, err.Error(), b64A, tc.name)
	}

	out.Reset()
	require.NoError(t, run(ctx, []string{"keys", "rotate", "--old-key", b64A}, with(nil), &out, &errOut))
	require.Equal(t, "re-encrypted 3 connections\n", out.String())

	onlyB, err := store.NewSealer(keyB)
	require.NoError(t, err)
	for id, tok := range want {
		_, secrets, err := store.OpenConnection(ctx, pool, onlyB, m.WorkspaceID, id)
		require.NoError(t, err)
		require.Equal(t, tok, secrets["token"])
	}

	out.Reset()
	require.NoError(t, run(ctx, []string{"keys", "rotate"}, with(map[string]string{"SWITCHBOARD_OLD_SECRET_KEYS": b64A + ", " + b64B}), &out, &errOut))
	require.Equal(t, "re-encrypted 0 connections\n", out.String())
}

// fakesOutput is a bytes.Buffer safe to write from the command's goroutine.
type fakesOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *fakesOutput) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *fakesOutput) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pasted turns a fake's "config.x=… secrets.y=…" line into a connection, as a
// person pasting it would.
func pasted(t *testing.T, s fakeService) (map[string]any, map[string]string) {
	t.Helper()
	config, secrets := map[string]any{}, map[string]string{}
	if s.BaseURL != "" {
		config["base_url"] = s.BaseURL
	}
	for _, field := range strings.Fields(s.Connection) {
		k, v, ok := strings.Cut(field, "=")
		require.True(t, ok, field)
		if name, ok := strings.CutPrefix(k, "secrets."); ok {
			secrets[name] = v
		} else {
			config[strings.TrimPrefix(k, "config.")] = v
		}
	}
	return config, secrets
}

func TestFakesAcceptWhatTheyPrint(t *testing.T) {
	t.Parallel()
	running, err := startFakes("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(running.Close)

	cat := catalog.New()
	client := fake.LoopbackClient()
	seen := map[string]bool{}
	for _, s := range running.Services {
		seen[s.Connector] = true
		config, secrets := pasted(t, s)
		require.Empty(t, cat.ValidateConnection(s.Connector, config, secrets), s.Name)
		if s.BaseURL != "" {
			require.True(t, strings.HasPrefix(s.BaseURL, "http://127.0.0.1:"), s.BaseURL)
		}
		tester, ok := cat.Tester(s.Connector)
		if !ok {
			continue
		}
		if s.Connector == "email" {
			// The catalog's SMTP dialer applies the default egress rules,
			// which refuse loopback; the server is told to allow it.
			tester = email.New(email.WithDialer((&net.Dialer{}).DialContext))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := tester.TestConnection(ctx, &connectors.Connection{ID: "demo", Config: config, Secrets: secrets}, client)
		cancel()
		require.NoError(t, err, s.Name)
	}
	for _, c := range []string{"slack", "mailchimp", "segment", "mixpanel", "posthog", "jira", "email"} {
		require.True(t, seen[c], c)
	}
}

func TestFakesCommand(t *testing.T) {
	t.Parallel()
	var out fakesOutput
	var errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"fakes", "--addr", "127.0.0.1:0"}, env(nil), &out, &errOut) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Ctrl-C") }, 10*time.Second, 10*time.Millisecond)
	text := out.String()
	for _, want := range []string{"Slack", "Mailchimp", "Segment", "Mixpanel", "PostHog", "Jira", "SMTP",
		"secrets.token=" + fakeSlackToken, "SWITCHBOARD_EGRESS_ALLOW=127.0.0.0/8", "http://127.0.0.1:"} {
		require.Contains(t, text, want)
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("fakes did not stop when the context ended")
	}

	err := run(context.Background(), []string{"fakes", "--addr", "0.0.0.0:9900"}, env(nil), &out, &errOut)
	require.ErrorContains(t, err, "loopback")
}
