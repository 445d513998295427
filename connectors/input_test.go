package connectors_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
)

func permMessage(t *testing.T, err error) string {
	t.Helper()
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	return perm.Message
}

func TestInputString(t *testing.T) {
	t.Parallel()
	in := map[string]any{"s": "  hi ", "n": float64(42), "f": 1.5, "b": true, "m": map[string]any{}, "e": " ", "j": json.Number("7")}
	s, err := connectors.InputString(in, "s")
	require.NoError(t, err)
	require.Equal(t, "hi", s)
	s, _ = connectors.InputString(in, "n")
	require.Equal(t, "42", s)
	s, _ = connectors.InputString(in, "f")
	require.Equal(t, "1.5", s)
	s, _ = connectors.InputString(in, "b")
	require.Equal(t, "true", s)
	s, _ = connectors.InputString(in, "j")
	require.Equal(t, "7", s)

	_, err = connectors.InputString(in, "missing")
	require.Equal(t, "input.missing is required", permMessage(t, err))
	_, err = connectors.InputString(in, "e")
	require.Equal(t, "input.e is required", permMessage(t, err))
	_, err = connectors.InputString(in, "m")
	require.Equal(t, "input.m must be text", permMessage(t, err))

	s, err = connectors.InputOptionalString(in, "missing")
	require.NoError(t, err)
	require.Empty(t, s)
	s, _ = connectors.InputText(in, "s")
	require.Equal(t, "  hi ", s)
}

func TestInputMaps(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"obj":  map[string]any{"a": "x", "n": float64(2), "nil": nil},
		"json": `{"a":"y"}`,
		"bad":  `[1]`,
		"list": []any{"x"},
		"deep": map[string]any{"a": map[string]any{}},
	}
	m, err := connectors.InputMap(in, "obj")
	require.NoError(t, err)
	require.Equal(t, "x", m["a"])
	m, err = connectors.InputMap(in, "json")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": "y"}, m)
	_, err = connectors.InputMap(in, "bad")
	require.Equal(t, "input.bad must be an object", permMessage(t, err))
	_, err = connectors.InputMap(in, "list")
	require.Equal(t, "input.list must be an object", permMessage(t, err))
	m, err = connectors.InputMap(in, "missing")
	require.NoError(t, err)
	require.Nil(t, m)

	sm, err := connectors.InputStringMap(in, "obj")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "x", "n": "2"}, sm)
	_, err = connectors.InputStringMap(in, "deep")
	require.Equal(t, "input.deep.a must be text", permMessage(t, err))
}

func TestInputStringList(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"list":   []any{"a", " b ", float64(3), "", nil},
		"strs":   []string{"x", "y"},
		"csv":    "a, b,,c",
		"json":   `["p","q"]`,
		"nested": []any{[]any{"x"}},
		"num":    float64(1),
	}
	got, err := connectors.InputStringList(in, "list")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "3"}, got)
	got, _ = connectors.InputStringList(in, "strs")
	require.Equal(t, []string{"x", "y"}, got)
	got, _ = connectors.InputStringList(in, "csv")
	require.Equal(t, []string{"a", "b", "c"}, got)
	got, _ = connectors.InputStringList(in, "json")
	require.Equal(t, []string{"p", "q"}, got)
	_, err = connectors.InputStringList(in, "nested")
	require.Equal(t, "input.nested[0] must be text", permMessage(t, err))
	_, err = connectors.InputStringList(in, "num")
	require.Equal(t, "input.num must be a list of text", permMessage(t, err))
	got, err = connectors.InputStringList(in, "missing")
	require.NoError(t, err)
	require.Nil(t, got)
}

func TestInputBoolNumberDuration(t *testing.T) {
	t.Parallel()
	in := map[string]any{"t": true, "ts": "false", "bad": "maybe", "n": float64(2.5), "ns": " 10 ", "nb": "ten",
		"d": "1m30s", "ds": float64(20), "dneg": "-1s", "dbad": "later"}
	b, err := connectors.InputBool(in, "t", false)
	require.NoError(t, err)
	require.True(t, b)
	b, _ = connectors.InputBool(in, "ts", true)
	require.False(t, b)
	b, _ = connectors.InputBool(in, "missing", true)
	require.True(t, b)
	_, err = connectors.InputBool(in, "bad", false)
	require.Equal(t, "input.bad must be true or false", permMessage(t, err))

	n, err := connectors.InputNumber(in, "n", 0)
	require.NoError(t, err)
	require.InDelta(t, 2.5, n, 0)
	n, _ = connectors.InputNumber(in, "ns", 0)
	require.InDelta(t, 10, n, 0)
	n, _ = connectors.InputNumber(in, "missing", 9)
	require.InDelta(t, 9, n, 0)
	_, err = connectors.InputNumber(in, "nb", 0)
	require.Equal(t, "input.nb must be a number", permMessage(t, err))

	d, err := connectors.InputDuration(in, "d", 0)
	require.NoError(t, err)
	require.Equal(t, 90*time.Second, d)
	d, _ = connectors.InputDuration(in, "ds", 0)
	require.Equal(t, 20*time.Second, d)
	d, _ = connectors.InputDuration(in, "missing", time.Second)
	require.Equal(t, time.Second, d)
	_, err = connectors.InputDuration(in, "dneg", 0)
	require.Error(t, err)
	_, err = connectors.InputDuration(in, "dbad", 0)
	require.Contains(t, permMessage(t, err), "input.dbad must be a duration")
}

func TestBaseURLAndSecrets(t *testing.T) {
	t.Parallel()
	require.Equal(t, "https://x.example", connectors.BaseURL(nil, "https://x.example/"))
	conn := &connectors.Connection{Config: map[string]any{"base_url": " http://127.0.0.1:99/api/ "}, Secrets: map[string]string{"token": "t0k"}}
	require.Equal(t, "http://127.0.0.1:99/api", connectors.BaseURL(conn, "https://x.example"))

	s, err := connectors.RequireSecret(conn, "svc", "token")
	require.NoError(t, err)
	require.Equal(t, "t0k", s)
	_, err = connectors.RequireSecret(conn, "svc", "api_key")
	require.Equal(t, "svc: the connection has no secrets.api_key", permMessage(t, err))
	_, err = connectors.RequireSecret(nil, "svc", "api_key")
	require.Equal(t, "svc: this action needs a connection", permMessage(t, err))
}
