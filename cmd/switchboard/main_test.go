package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key, val, want string
	}{
		{"workers not a number", "SWITCHBOARD_WORKERS", "many", "SWITCHBOARD_WORKERS: must be a whole number from 1 to 10000"},
		{"workers zero", "SWITCHBOARD_WORKERS", "0", "SWITCHBOARD_WORKERS"},
		{"secret key short", "SWITCHBOARD_SECRET_KEY", "c2hvcnQ=", "SWITCHBOARD_SECRET_KEY: must be 32 bytes in base64"},
		{"secret key garbage", "SWITCHBOARD_SECRET_KEY", "%%%", "SWITCHBOARD_SECRET_KEY"},
		{"base url relative", "SWITCHBOARD_BASE_URL", "/x", "SWITCHBOARD_BASE_URL: must be an absolute http(s) URL"},
		{"addr without port", "SWITCHBOARD_ADDR", "localhost", "SWITCHBOARD_ADDR"},
		{"max body unit", "SWITCHBOARD_MAX_BODY", "1 parsec", "SWITCHBOARD_MAX_BODY"},
		{"max body too big", "SWITCHBOARD_MAX_BODY", "1GB", "SWITCHBOARD_MAX_BODY"},
		{"egress not a cidr", "SWITCHBOARD_EGRESS_ALLOW", "10.0.0.0/8,nope", `SWITCHBOARD_EGRESS_ALLOW: "nope" is not a CIDR`},
		{"database url scheme", "DATABASE_URL", "mysql://x", "DATABASE_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"migrate"}, env(map[string]string{tc.key: tc.val}), &out, &errOut)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(env(map[string]string{"SWITCHBOARD_MAX_BODY": "512KB", "SWITCHBOARD_EGRESS_ALLOW": "127.0.0.0/8, ::1"}))
	require.NoError(t, err)
	require.Equal(t, ":8080", c.Addr)
	require.Equal(t, "./data", c.DataDir)
	require.Equal(t, "http://localhost:8080", c.BaseURL)
	require.Equal(t, 100, c.Workers)
	require.EqualValues(t, 512<<10, c.MaxBody)
	require.Len(t, c.EgressAllow, 2)
	require.Nil(t, c.SecretKey)
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, env(nil), &out, &errOut)
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
}

func TestMigrateAdminToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := env(map[string]string{"DATABASE_URL": storetest.URL(t)})
	var out, errOut bytes.Buffer

	require.NoError(t, run(ctx, []string{"migrate"}, e, &out, &errOut))
	require.NoError(t, run(ctx, []string{"migrate"}, e, &out, &errOut), "migrate twice")

	out.Reset()
	require.NoError(t, run(ctx, []string{"admin", "create", "--email", "ada@example.com", "--password", "correct horse battery", "--workspace", "Acme"}, e, &out, &errOut))
	require.Contains(t, out.String(), "ada@example.com")

	err := run(ctx, []string{"admin", "create", "--email", "ada@example.com", "--password", "correct horse battery"}, e, &out, &errOut)
	require.EqualError(t, err, "admin create: a user with email ada@example.com already exists")

	err = run(ctx, []string{"admin", "create", "--email", "bob@example.com", "--password", "short"}, e, &out, &errOut)
	require.ErrorContains(t, err, "at least 10")

	out.Reset()
	require.NoError(t, run(ctx, []string{"token", "create", "--email", "ada@example.com", "--name", "ci"}, e, &out, &errOut))
	tok := strings.TrimSpace(out.String())
	require.True(t, strings.HasPrefix(tok, "sb_"), "the token alone on stdout: %q", out.String())
	require.NotContains(t, tok, "\n")

	err = run(ctx, []string{"token", "create", "--email", "nobody@example.com"}, e, &out, &errOut)
	require.ErrorContains(t, err, "no user with email nobody@example.com")
}
