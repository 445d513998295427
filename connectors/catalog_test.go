package connectors_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
)

type testConnector struct {
	key     string
	auth    []connectors.Field
	actions []connectors.Action
	trigs   []connectors.TriggerSpec
}

func (c *testConnector) Key() string                        { return c.key }
func (c *testConnector) Name() string                       { return "Test " + c.key }
func (c *testConnector) AuthFields() []connectors.Field     { return c.auth }
func (c *testConnector) Actions() []connectors.Action       { return c.actions }
func (c *testConnector) Triggers() []connectors.TriggerSpec { return c.trigs }
func (c *testConnector) TestConnection(context.Context, *connectors.Connection, *http.Client) error {
	return nil
}

type testAction struct{ spec connectors.ActionSpec }

func (a testAction) Spec() connectors.ActionSpec { return a.spec }
func (a testAction) Execute(context.Context, connectors.Request) (map[string]any, error) {
	return map[string]any{}, nil
}

type noAuth struct{ testConnector }

// noAuth hides TestConnection so the catalog sees a connector without a Tester.
func (n *noAuth) TestConnection() {}

func testCatalog() *connectors.Catalog {
	chat := &testConnector{
		key: "chat",
		auth: []connectors.Field{
			{Key: "token", Label: "Token", Type: connectors.FieldSecret, Required: true},
			{Key: "headers", Label: "Headers", Type: connectors.FieldKeyValue, Secret: true},
			{Key: "region", Label: "Region", Type: connectors.FieldSelect, Enum: []string{"us", "eu"}},
			{Key: "port", Label: "Port", Type: connectors.FieldNumber},
		},
		actions: []connectors.Action{testAction{connectors.ActionSpec{
			Key: "chat.post", Name: "Post",
			Fields: []connectors.Field{
				{Key: "channel", Label: "Channel", Type: connectors.FieldString, Required: true},
				{Key: "text", Label: "Text", Type: connectors.FieldText},
				{Key: "count", Label: "Count", Type: connectors.FieldNumber},
				{Key: "urgent", Label: "Urgent", Type: connectors.FieldBool},
				{Key: "mode", Label: "Mode", Type: connectors.FieldSelect, Enum: []string{"a", "b"}},
				{Key: "data", Label: "Data", Type: connectors.FieldJSON},
				{Key: "headers", Label: "Headers", Type: connectors.FieldKeyValue},
				{Key: "tags", Label: "Tags", Type: connectors.FieldList, Required: true},
			},
		}}},
		trigs: []connectors.TriggerSpec{{Key: "chat.events", Name: "Events"}},
	}
	hooks := &noAuth{testConnector{key: "hooks"}}
	return connectors.NewCatalog(chat, hooks)
}

func TestCatalogLookups(t *testing.T) {
	t.Parallel()
	c := testCatalog()
	require.Len(t, c.Connectors(), 2)
	conn, ok := c.Connector("chat")
	require.True(t, ok)
	require.Equal(t, "chat", conn.Key())
	_, ok = c.Connector("nope")
	require.False(t, ok)
	a, ok := c.Action("chat.post")
	require.True(t, ok)
	require.Equal(t, "Post", a.Spec().Name)
	_, ok = c.Action("chat.nope")
	require.False(t, ok)
	require.Len(t, c.ActionSpecs(), 1)
	_, ok = c.Trigger("chat.events")
	require.True(t, ok)
	_, ok = c.Tester("chat")
	require.True(t, ok)
	_, ok = c.Tester("hooks")
	require.False(t, ok)
}

func TestNewCatalogPanicsOnDuplicates(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { connectors.NewCatalog(&testConnector{key: "a"}, &testConnector{key: "a"}) })
	bad := &testConnector{key: "a", actions: []connectors.Action{testAction{connectors.ActionSpec{Key: "b.x"}}}}
	require.Panics(t, func() { connectors.NewCatalog(bad) })
}

func TestValidateConnection(t *testing.T) {
	t.Parallel()
	c := testCatalog()
	require.Nil(t, c.ValidateConnection("chat",
		map[string]any{"region": "eu", "port": float64(25), "base_url": "https://chat.example/api"},
		map[string]string{"token": "s3cret", "headers": `{"X-Key":"v"}`}))

	problems := c.ValidateConnection("chat",
		map[string]any{"region": "mars", "port": "many", "token": "s3cret", "base_url": "ftp://x", "colour": "red"},
		map[string]string{"headers": `nope`, "region": "us", "extra": "x"})
	require.Equal(t, []connectors.FieldProblem{
		{Path: "config.token", Message: "is a secret; send it in secrets.token"},
		{Path: "secrets.token", Message: "is required"},
		{Path: "secrets.headers", Message: `must be a JSON object of text values, e.g. {"X-Api-Key":"…"}`},
		{Path: "secrets.region", Message: "is not a secret; send it in config.region"},
		{Path: "config.region", Message: "must be one of us, eu"},
		{Path: "config.port", Message: "must be a number"},
		{Path: "config.base_url", Message: "must be an http(s) URL such as https://example.com"},
		{Path: "config.colour", Message: "is not a setting of chat connections"},
		{Path: "secrets.extra", Message: "is not a secret of chat connections"},
	}, problems)
	for _, p := range problems {
		require.NotContains(t, p.Message, "s3cret")
	}

	require.Equal(t, []connectors.FieldProblem{{Path: "connector", Message: `unknown connector "nope"`}},
		c.ValidateConnection("nope", nil, nil))
}

func TestValidateInput(t *testing.T) {
	t.Parallel()
	c := testCatalog()
	require.Nil(t, c.ValidateInput("chat.post", map[string]any{
		"channel": "#x", "text": "hi", "count": float64(3), "urgent": true, "mode": "a",
		"data": map[string]any{"any": []any{1}}, "headers": map[string]any{"A": "b", "N": float64(1)},
		"tags": []any{"a", "b"},
	}))
	// Templates pass type checks, at the top and inside objects and lists.
	require.Nil(t, c.ValidateInput("chat.post", map[string]any{
		"channel": "{{ trigger.channel }}", "count": "{{ trigger.n }}", "urgent": "{{ trigger.urgent }}",
		"mode": "{{ trigger.mode }}", "headers": "{{ trigger.headers }}", "tags": "{{ trigger.tags }}",
	}))
	require.Nil(t, c.ValidateInput("chat.post", map[string]any{
		"channel": "x", "count": "12", "urgent": "false", "tags": "a,b",
		"headers": map[string]any{"A": "{{ trigger.a }}"},
	}))

	require.Equal(t, []connectors.FieldProblem{
		{Path: "input.channel", Message: "is required"},
		{Path: "input.text", Message: "must be text"},
		{Path: "input.count", Message: "must be a number"},
		{Path: "input.urgent", Message: "must be true or false"},
		{Path: "input.mode", Message: "must be one of a, b"},
		{Path: "input.data", Message: "is not valid JSON"},
		{Path: "input.headers", Message: `must be an object of text values ("A" is not text)`},
		{Path: "input.tags", Message: "must be a list of text (item 1 is not text)"},
		{Path: "input.chanel", Message: "is not an input of chat.post"},
	}, c.ValidateInput("chat.post", map[string]any{
		"channel": "  ", "chanel": "#x", "text": map[string]any{"a": 1}, "count": "many", "urgent": "yes",
		"mode": "c", "data": "{broken", "headers": map[string]any{"A": []any{}}, "tags": []any{"a", map[string]any{}},
	}))
	require.Equal(t, []connectors.FieldProblem{{Path: "input.tags", Message: "is required"}},
		c.ValidateInput("chat.post", map[string]any{"channel": "x", "tags": []any{}}))
	require.Equal(t, []connectors.FieldProblem{{Path: "action", Message: `unknown action "chat.nope"`}},
		c.ValidateInput("chat.nope", nil))
}

func TestCatalogJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(testCatalog())
	require.NoError(t, err)
	var got struct {
		Connectors []struct {
			Key  string `json:"key"`
			Name string `json:"name"`
			Auth struct {
				Fields         []map[string]any `json:"fields"`
				TestConnection bool             `json:"test_connection"`
			} `json:"auth"`
			Actions []struct {
				Key    string           `json:"key"`
				Name   string           `json:"name"`
				Fields []map[string]any `json:"fields"`
			} `json:"actions"`
			Triggers []map[string]any `json:"triggers"`
		} `json:"connectors"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.Len(t, got.Connectors, 2)
	chat := got.Connectors[0]
	require.Equal(t, "chat", chat.Key)
	require.Equal(t, "Test chat", chat.Name)
	require.True(t, chat.Auth.TestConnection)
	require.Equal(t, "token", chat.Auth.Fields[0]["key"])
	require.Equal(t, "secret", chat.Auth.Fields[0]["type"])
	require.Equal(t, "chat.post", chat.Actions[0].Key)
	require.Len(t, chat.Actions[0].Fields, 8)
	require.Equal(t, "chat.events", chat.Triggers[0]["key"])

	// Empty lists are [] rather than null.
	require.Contains(t, string(b), `{"key":"hooks","name":"Test hooks","auth":{"fields":[],"test_connection":false},"actions":[],"triggers":[]}`)
}
