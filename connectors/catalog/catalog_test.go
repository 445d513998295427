package catalog_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/catalog"
)

var (
	snake     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	fieldType = map[connectors.FieldType]bool{
		connectors.FieldString: true, connectors.FieldText: true, connectors.FieldNumber: true,
		connectors.FieldBool: true, connectors.FieldSelect: true, connectors.FieldJSON: true,
		connectors.FieldKeyValue: true, connectors.FieldList: true, connectors.FieldSecret: true,
	}
)

// checkFields checks one list of fields; where says whose they are.
func checkFields(t *testing.T, where string, fields []connectors.Field, secretsAllowed bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range fields {
		at := where + "." + f.Key
		require.Regexp(t, snake, f.Key, "%s: field key must be snake_case", at)
		require.False(t, seen[f.Key], "%s: duplicate field key", at)
		seen[f.Key] = true
		require.NotEmpty(t, strings.TrimSpace(f.Label), "%s: field needs a label", at)
		require.True(t, fieldType[f.Type], "%s: unknown field type %q", at, f.Type)
		if connectors.IsSecretField(f) {
			require.True(t, secretsAllowed, "%s: secret fields belong in auth or trigger fields only", at)
		}
		if f.Type == connectors.FieldSelect {
			require.NotEmpty(t, f.Enum, "%s: a select needs Enum", at)
			if f.Default != nil {
				require.Contains(t, f.Enum, f.Default, "%s: default must be one of Enum", at)
			}
		} else {
			require.Empty(t, f.Enum, "%s: only selects have Enum", at)
		}
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	c := catalog.New()
	conns := c.Connectors()
	require.NotEmpty(t, conns)

	keys := map[string]bool{}
	actionKeys := map[string]bool{}
	for _, conn := range conns {
		key := conn.Key()
		t.Run(key, func(t *testing.T) {
			require.Regexp(t, snake, key, "connector key must be snake_case")
			require.False(t, keys[key], "duplicate connector key")
			keys[key] = true
			require.NotEmpty(t, conn.Name())
			checkFields(t, key+".auth", conn.AuthFields(), true)

			for _, a := range conn.Actions() {
				spec := a.Spec()
				name, ok := strings.CutPrefix(spec.Key, key+".")
				require.True(t, ok, "action %q must start with %q", spec.Key, key+".")
				require.Regexp(t, snake, name, "action %q must be snake_case", spec.Key)
				require.False(t, actionKeys[spec.Key], "duplicate action %q", spec.Key)
				actionKeys[spec.Key] = true
				require.NotEmpty(t, spec.Name, spec.Key)
				got, ok := c.Action(spec.Key)
				require.True(t, ok)
				require.Equal(t, spec.Key, got.Spec().Key)
				checkFields(t, spec.Key, spec.Fields, false)
				checkFields(t, spec.Key+".outputs", spec.Outputs, false)
				if !spec.NoConnection {
					require.NotEmpty(t, conn.AuthFields(), "%s needs a connection, so %s must have auth fields", spec.Key, key)
				}

				// Examples and defaults are valid input, apart from missing required fields.
				example := map[string]any{}
				for _, f := range spec.Fields {
					if f.Example != nil {
						example[f.Key] = f.Example
					} else if f.Default != nil {
						example[f.Key] = f.Default
					}
				}
				if b, err := json.Marshal(example); err == nil {
					example = map[string]any{}
					require.NoError(t, json.Unmarshal(b, &example))
				}
				for _, p := range c.ValidateInput(spec.Key, example) {
					require.Equal(t, "is required", p.Message, "%s example: %s %s", spec.Key, p.Path, p.Message)
				}

				// Executing with nothing fails cleanly and permanently, without a panic or a request.
				_, err := a.Execute(context.Background(), connectors.Request{
					Input: map[string]any{}, HTTP: connectors.NewHTTPClient(connectors.EgressOptions{}),
				})
				require.Error(t, err, spec.Key)
				require.True(t, connectors.IsPermanent(err), "%s with empty input: %v", spec.Key, err)
			}

			for _, tr := range conn.Triggers() {
				name, ok := strings.CutPrefix(tr.Key, key+".")
				require.True(t, ok, "trigger %q must start with %q", tr.Key, key+".")
				require.Regexp(t, snake, name)
				require.NotEmpty(t, tr.Name, tr.Key)
				require.NotEmpty(t, tr.Description, tr.Key)
				checkFields(t, tr.Key, tr.Fields, true)
				_, ok = c.Trigger(tr.Key)
				require.True(t, ok)
			}
		})
	}
}

func TestCatalogListsEveryConnector(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, conn := range catalog.New().Connectors() {
		keys = append(keys, conn.Key())
	}
	require.ElementsMatch(t, []string{"webhook", "http", "slack", "mailchimp", "segment", "mixpanel", "posthog", "jira", "email"}, keys)

	// The first set of actions from DESIGN.md.
	c := catalog.New()
	for _, key := range []string{
		"http.request", "slack.post_message", "mailchimp.upsert_member", "mailchimp.add_tags",
		"segment.track", "segment.identify", "mixpanel.track", "posthog.capture",
		"jira.create_issue", "jira.transition_issue", "jira.add_comment", "email.send",
	} {
		_, ok := c.Action(key)
		require.True(t, ok, key)
	}
}

func TestCatalogJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(catalog.New())
	require.NoError(t, err)
	var view struct {
		Connectors []struct {
			Key  string `json:"key"`
			Name string `json:"name"`
			Auth struct {
				Fields []connectors.Field `json:"fields"`
			} `json:"auth"`
			Actions []struct {
				Key    string             `json:"key"`
				Name   string             `json:"name"`
				Fields []connectors.Field `json:"fields"`
			} `json:"actions"`
			Triggers []connectors.TriggerSpec `json:"triggers"`
		} `json:"connectors"`
	}
	require.NoError(t, json.Unmarshal(b, &view))
	require.Len(t, view.Connectors, 9)
	for _, c := range view.Connectors {
		require.NotNil(t, c.Auth.Fields, c.Key)
		require.NotNil(t, c.Actions, c.Key)
		require.NotNil(t, c.Triggers, c.Key)
	}
	require.NotContains(t, string(b), `null`)
}

func TestValidateSlackStep(t *testing.T) {
	t.Parallel()
	c := catalog.New()
	require.Nil(t, c.ValidateInput("slack.post_message", map[string]any{"channel": "#signups", "text": "New signup: {{ trigger.email }}"}))
	require.Equal(t, []connectors.FieldProblem{{Path: "input.channel", Message: "is required"}},
		c.ValidateInput("slack.post_message", map[string]any{"text": "hi"}))
	require.Nil(t, c.ValidateConnection("slack", map[string]any{}, map[string]string{"token": "xoxb-1"}))
	require.Equal(t, []connectors.FieldProblem{{Path: "secrets.token", Message: "is required"}},
		c.ValidateConnection("slack", nil, nil))
	require.Equal(t, []connectors.FieldProblem{{Path: "config.base_url", Message: "is required"}},
		c.ValidateConnection("jira", nil, map[string]string{"email": "a@b.c", "api_token": "t"}))
}
