package handlers

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/flows"
)

func mustDef(t *testing.T, s string) *flows.Definition {
	t.Helper()
	def, err := flows.Decode([]byte(s))
	require.NoError(t, err)
	return def
}

func needsMap(def *flows.Definition) map[string][]string {
	out := map[string][]string{}
	for _, s := range def.Steps {
		out[s.ID] = append([]string{}, needsOf(&s)...)
	}
	return out
}

func ids(def *flows.Definition) []string {
	var out []string
	for _, s := range def.Steps {
		out = append(out, s.ID)
	}
	return out
}

func TestInsertStep(t *testing.T) {
	t.Parallel()
	chain := `{"trigger":{"type":"webhook"},"steps":[
		{"id":"a","action":"http.request"},
		{"id":"b","action":"http.request"}]}`
	tests := []struct {
		name          string
		def           string
		action        string
		after, before string
		wantID        string
		wantIDs       []string
		wantNeeds     map[string][]string
	}{
		{
			name: "first step after the trigger", def: `{"trigger":{"type":"webhook"},"steps":[]}`,
			action: "slack.post_message", after: triggerNode, wantID: "slack",
			wantIDs: []string{"slack"}, wantNeeds: map[string][]string{"slack": {}},
		},
		{
			name: "parallel branch after the trigger", def: chain,
			action: "slack.post_message", after: triggerNode, wantID: "slack",
			wantIDs:   []string{"a", "b", "slack"},
			wantNeeds: map[string][]string{"a": {}, "b": {"a"}, "slack": {}},
		},
		{
			name: "on the edge a → b", def: chain,
			action: "jira.create_issue", after: "a", before: "b", wantID: "jira",
			wantIDs:   []string{"a", "jira", "b"},
			wantNeeds: map[string][]string{"a": {}, "jira": {"a"}, "b": {"jira"}},
		},
		{
			name: "on the edge trigger → a", def: chain,
			action: "http.request", after: triggerNode, before: "a", wantID: "http",
			wantIDs:   []string{"http", "a", "b"},
			wantNeeds: map[string][]string{"http": {}, "a": {"http"}, "b": {"a"}},
		},
		{
			name: "after a leaf, id taken", def: `{"trigger":{"type":"webhook"},"steps":[{"id":"http","action":"http.request"}]}`,
			action: "http.request", after: "http", wantID: "http_2",
			wantIDs: []string{"http", "http_2"}, wantNeeds: map[string][]string{"http": {}, "http_2": {"http"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def := mustDef(t, tt.def)
			id, err := insertStep(def, tt.action, tt.after, tt.before)
			require.NoError(t, err)
			require.Equal(t, tt.wantID, id)
			require.Equal(t, tt.wantIDs, ids(def))
			require.Equal(t, tt.wantNeeds, needsMap(def))
			require.NoError(t, flows.Validate(def, flows.ValidateEnv{}), "the graph stays valid")
		})
	}

	def := mustDef(t, chain)
	_, err := insertStep(def, "http.request", "nope", "")
	require.Error(t, err)
	_, err = insertStep(def, "http.request", "a", "nope")
	require.Error(t, err)
}

func TestDeleteAndRenameStep(t *testing.T) {
	t.Parallel()
	// a and b after the trigger; c joins them; d follows c.
	def := mustDef(t, `{"trigger":{"type":"webhook"},"steps":[
		{"id":"a","action":"http.request","needs":[]},
		{"id":"b","action":"http.request","needs":[]},
		{"id":"c","action":"http.request","needs":["a","b"]},
		{"id":"d","action":"http.request"}]}`)
	require.True(t, deleteStep(def, "c"))
	require.Equal(t, map[string][]string{"a": {}, "b": {}, "d": {"a", "b"}}, needsMap(def), "d inherits c's needs")
	require.False(t, deleteStep(def, "c"))

	renameStep(def, "a", "first")
	require.Equal(t, map[string][]string{"first": {}, "b": {}, "d": {"first", "b"}}, needsMap(def))

	require.True(t, deleteStep(def, "first"))
	require.True(t, deleteStep(def, "b"))
	require.Equal(t, map[string][]string{"d": {}}, needsMap(def), "d now follows the trigger")
}

func TestUpstreamAndDownstream(t *testing.T) {
	t.Parallel()
	def := mustDef(t, `{"trigger":{"type":"webhook"},"steps":[
		{"id":"a","action":"http.request","needs":[]},
		{"id":"b","action":"http.request","needs":[]},
		{"id":"c","action":"http.request","needs":["a"]},
		{"id":"d","action":"http.request","needs":["c","b"]}]}`)
	require.Equal(t, []string{"a", "b", "c"}, flows.Upstream(def, "d"))
	require.Equal(t, []string{"a"}, flows.Upstream(def, "c"))
	require.Empty(t, flows.Upstream(def, "a"))
	require.Equal(t, map[string]bool{"c": true, "d": true}, stepsDownstream(def, "a"))
	require.Empty(t, stepsDownstream(def, "d"))
}

func TestUniqueStepID(t *testing.T) {
	t.Parallel()
	def := mustDef(t, `{"trigger":{"type":"webhook"},"steps":[{"id":"slack","action":"slack.post_message"},{"id":"slack_2","action":"slack.post_message"}]}`)
	require.Equal(t, "slack_3", uniqueStepID(def, "slack"))
	require.Equal(t, "mail_chimp", uniqueStepID(def, "Mail-Chimp"))
	require.Equal(t, "step", uniqueStepID(def, "42"))
	require.Equal(t, "x9", uniqueStepID(def, "9x9"))
}

func TestStepInputRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ  connectors.FieldType
		text string
		want any
	}{
		{connectors.FieldString, "  #signups ", "#signups"},
		{connectors.FieldText, "Hi {{ trigger.name }}\n\n", "Hi {{ trigger.name }}"},
		{connectors.FieldNumber, "42", 42.0},
		{connectors.FieldNumber, "{{ trigger.n }}", "{{ trigger.n }}"},
		{connectors.FieldBool, "true", true},
		{connectors.FieldSelect, "pending", "pending"},
		{connectors.FieldJSON, `{"plan": "{{ trigger.plan }}"}`, map[string]any{"plan": "{{ trigger.plan }}"}},
		{connectors.FieldJSON, `{{ trigger }}`, "{{ trigger }}"},
		{connectors.FieldJSON, `{"broken": `, `{"broken":`},
		{connectors.FieldKeyValue, "X-Api-Key: {{ trigger.key }}\nAccept: application/json", map[string]any{"X-Api-Key": "{{ trigger.key }}", "Accept": "application/json"}},
		{connectors.FieldKeyValue, "{{ trigger.headers }}", "{{ trigger.headers }}"},
		{connectors.FieldList, "customer\n\n pro ", []any{"customer", "pro"}},
		{connectors.FieldList, "{{ trigger.tags }}", "{{ trigger.tags }}"},
	}
	for _, tt := range tests {
		got, ok := parseInput(tt.typ, tt.text)
		require.True(t, ok, "%s %q", tt.typ, tt.text)
		require.Equal(t, tt.want, got, "%s %q", tt.typ, tt.text)
		// What the form shows reads back as the same value.
		again, ok := parseInput(tt.typ, displayValue(tt.typ, got))
		require.True(t, ok)
		require.Equal(t, got, again, "%s round trip", tt.typ)
	}
	_, ok := parseInput(connectors.FieldString, "   ")
	require.False(t, ok, "an empty field leaves the input out")
}

func TestMapDraftProblems(t *testing.T) {
	t.Parallel()
	def := mustDef(t, `{"trigger":{"type":"webhook"},"steps":[
		{"id":"a","action":"slack.post_message"},
		{"id":"b","action":"http.request"}]}`)
	dp := mapDraftProblems(def, []Detail{
		{Path: "definition.trigger.if", Message: "unknown name x"},
		{Path: "definition.steps[0].connection", Message: "action slack.post_message needs a connection"},
		{Path: "definition.steps[0].input.channel", Message: "is required"},
		{Path: "definition.steps[1].input.body.user", Message: "steps.z is not upstream"},
		{Path: `definition.steps[1].input["X-Key"]`, Message: "is not an input of http.request"},
		{Path: "definition.steps[1].needs[0]", Message: `unknown step "z"`},
		{Path: "definition.steps[1].undo.action", Message: "required"},
		{Path: "definition.steps", Message: "cycle through a → b → a"},
	})
	require.Equal(t, map[string]string{"if": "Unknown name x."}, dp.trigger)
	require.Equal(t, map[string]string{"connection": "Action slack.post_message needs a connection.", "in.channel": "Required."}, dp.steps[0])
	require.Equal(t, map[string]string{"in.body": "user: steps.z is not upstream.", "in.X-Key": "Is not an input of http.request.", "needs": `Unknown step "z".`}, dp.steps[1])
	require.Equal(t, []string{"undo.action: Required."}, dp.other[1])
	require.Equal(t, []string{"Cycle through a → b → a."}, dp.general)
	require.Equal(t, map[string]int{triggerNode: 1, "a": 2, "b": 4}, dp.perNode)
}

func TestTemplatesInstantiate(t *testing.T) {
	t.Parallel()
	for _, tpl := range flowTemplates {
		def, sample, err := tpl.instantiate(nil)
		require.NoError(t, err, tpl.Key)
		require.NotNil(t, sample, tpl.Key)
		for _, s := range def.Steps {
			require.Empty(t, s.Connection, "%s: placeholders are cleared without connections", tpl.Key)
		}
		raw, err := json.Marshal(def)
		require.NoError(t, err)
		_, err = flows.Decode(raw)
		require.NoError(t, err, "%s round-trips", tpl.Key)
	}
}
