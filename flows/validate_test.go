package flows

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			def, err := Decode(sc.data)
			require.NoError(t, err)
			require.NoError(t, Validate(def, catalogEnv()))
			require.NoError(t, Validate(def, ValidateEnv{}))
			_, err = Compile(def)
			require.NoError(t, err)
		})
	}
}

// steps builds a definition from a trigger and step objects.
func defJSON(trigger string, steps ...string) string {
	return fmt.Sprintf(`{"trigger": %s, "steps": [%s]}`, trigger, strings.Join(steps, ","))
}

const webhook = `{"type": "webhook"}`

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		def  string
		want []string
	}{
		{"no steps", defJSON(webhook), []string{"steps: at least one step is required"}},
		{"missing trigger", `{"steps": [{"id": "a", "action": "http.request"}]}`, []string{"trigger.type: required"}},
		{"unknown trigger type", defJSON(`{"type": "slak.events"}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.type: unknown trigger type "slak.events"`}},
		{"malformed trigger type", defJSON(`{"type": "Web Hook"}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.type: unknown trigger type "Web Hook"`}},
		{"connector trigger", defJSON(`{"type": "slack.events"}`, `{"id": "a", "action": "http.request"}`), nil},
		{"trigger if", defJSON(`{"type": "webhook", "if": "triger.x == 1"}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.if: unknown name triger (1:1)`}},
		{"trigger if not bool", defJSON(`{"type": "webhook", "if": "'yes'"}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.if: a condition must be true or false, but this one is a string`}},
		{"trigger if reads steps", defJSON(`{"type": "webhook", "if": "steps.a.ok"}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.if: steps is not available in trigger expressions (use trigger or headers)`}},
		{"idempotency key", defJSON(`{"type": "webhook", "idempotency_key": "trigger.id +"}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.idempotency_key: unexpected token EOF (1:12)`}},
		{"batch", defJSON(`{"type": "webhook", "batch": {"window": "48h", "max": -1}}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.batch.window: must be at most 24h`, `trigger.batch.max: must be between 1 and 10000 (or omitted for no maximum)`}},
		{"batch without window", defJSON(`{"type": "webhook", "batch": {"max": 5}}`, `{"id": "a", "action": "http.request"}`),
			[]string{`trigger.batch.window: required, a positive duration such as "10m"`}},
		{"bad id", defJSON(webhook, `{"id": "a", "action": "http.request"}`, `{"id": "Send-Mail", "action": "http.request"}`),
			[]string{`steps[1].id: must match [a-z][a-z0-9_]* (got "Send-Mail")`}},
		{"missing id", defJSON(webhook, `{"action": "http.request"}`), []string{`steps[0].id: required`}},
		{"long id", defJSON(webhook, `{"id": "`+strings.Repeat("a", 65)+`", "action": "http.request"}`), []string{`steps[0].id: must be at most 64 characters`}},
		{"duplicate id", defJSON(webhook, `{"id": "track", "action": "http.request"}`, `{"id": "b", "action": "http.request"}`,
			`{"id": "c", "action": "http.request"}`, `{"id": "track", "action": "http.request"}`),
			[]string{`steps[3].id: duplicate id "track" (also steps[0])`}},
		{"unknown action", defJSON(webhook, `{"id": "a", "action": "slak.post"}`), []string{`steps[0].action: unknown action "slak.post"`}},
		{"malformed action", defJSON(webhook, `{"id": "a", "action": "post"}`), []string{`steps[0].action: unknown action "post" (actions look like connector.action)`}},
		{"missing action", defJSON(webhook, `{"id": "a"}`), []string{`steps[0].action: required`}},
		{"unknown connection", defJSON(webhook, `{"id": "a", "action": "slack.post_message", "connection": "<nope>"}`),
			[]string{`steps[0].connection: unknown connection "<nope>"`}},
		{"missing connection", defJSON(webhook, `{"id": "a", "action": "slack.post_message"}`),
			[]string{`steps[0].connection: action slack.post_message needs a connection`}},
		{"unknown need", defJSON(webhook, `{"id": "a", "action": "http.request"}`, `{"id": "send", "action": "http.request"}`,
			`{"id": "c", "action": "http.request", "needs": ["sned"]}`),
			[]string{`steps[2].needs[0]: unknown step "sned"`}},
		{"self need", defJSON(webhook, `{"id": "a", "action": "http.request", "needs": ["a"]}`), []string{`steps[0].needs[0]: a step cannot need itself`}},
		{"duplicate need", defJSON(webhook, `{"id": "a", "action": "http.request"}`, `{"id": "b", "action": "http.request", "needs": ["a", "a"]}`),
			[]string{`steps[1].needs[1]: duplicate need "a"`}},
		{"cycle", defJSON(webhook, `{"id": "a", "action": "http.request", "needs": ["b"]}`, `{"id": "b", "action": "http.request"}`),
			[]string{`steps: cycle through "a" → "b" → "a"`}},
		{"two cycles", defJSON(webhook,
			`{"id": "a", "action": "http.request", "needs": ["c"]}`, `{"id": "b", "action": "http.request"}`, `{"id": "c", "action": "http.request"}`,
			`{"id": "x", "action": "http.request", "needs": ["y"]}`, `{"id": "y", "action": "http.request"}`),
			[]string{`steps: cycle through "a" → "c" → "b" → "a"`, `steps: cycle through "x" → "y" → "x"`}},
		{"step if", defJSON(webhook, `{"id": "a", "action": "http.request"}`, `{"id": "b", "action": "http.request", "if": "trigger.x =="}`),
			[]string{`steps[1].if: unexpected token EOF (1:12)`}},
		{"step if not bool", defJSON(webhook, `{"id": "a", "action": "http.request", "if": "[1, 2]"}`),
			[]string{`steps[0].if: a condition must be true or false, but this one is a list`}},
		{"template", defJSON(webhook, `{"id": "a", "action": "http.request"}`, `{"id": "b", "action": "http.request", "input": {"text": "Hi {{ triger.name }}"}}`),
			[]string{`steps[1].input.text: {{ triger.name }}: unknown name triger (1:2)`}},
		{"nested template", defJSON(webhook, `{"id": "a", "action": "http.request", "input": {"body": {"items": [1, {"x": "{{ trigger.x"}], "My-Key": "{{}}"}}}`),
			[]string{`steps[0].input.body["My-Key"]: empty {{ }}`, `steps[0].input.body.items[1].x: unclosed {{ in "{{ trigger.x"`}},
		{"self outside undo", defJSON(webhook, `{"id": "a", "action": "http.request", "input": {"x": "{{ self.id }}"}}`),
			[]string{`steps[0].input.x: {{ self.id }}: self is only available in undo input`}},
		{"event outside match", defJSON(webhook, `{"id": "a", "action": "http.request", "if": "event.x == 1"}`),
			[]string{`steps[0].if: event is only available in a wait_for_event match`}},
		{"reserved names", defJSON(webhook, `{"id": "a", "action": "http.request", "input": {"x": "{{ __budget }}", "y": "{{ $env }}", "z": "{{ __add(1, 2) }}"}}`),
			[]string{`steps[0].input.x: {{ __budget }}: unknown name __budget`, `steps[0].input.y: {{ $env }}: unknown name $env`, `steps[0].input.z: {{ __add(1, 2) }}: unknown name __add`}},
		{"not upstream", defJSON(webhook,
			`{"id": "a", "action": "http.request", "needs": []}`,
			`{"id": "b", "action": "http.request", "needs": [], "if": "steps.a.status == 200", "input": {"x": "{{ steps.c.id }} {{ steps.zz }}"}}`,
			`{"id": "c", "action": "http.request", "input": {"me": "{{ steps.c.id }}"}}`),
			[]string{
				`steps[1].if: steps.a is not upstream of this step (add it to needs)`,
				`steps[1].input.x: steps.c is not upstream of this step (add it to needs)`,
				`steps[1].input.x: unknown step "zz" in steps.zz`,
				`steps[2].input.me: steps.c is this step's own output; it is not available here`,
			}},
		{"upstream through chain", defJSON(webhook,
			`{"id": "a", "action": "http.request"}`, `{"id": "b", "action": "http.request"}`,
			`{"id": "c", "action": "http.request", "input": {"x": "{{ steps.a.id }}{{ steps['b'].id }}"}}`), nil},
		{"retry", defJSON(webhook, `{"id": "a", "action": "http.request", "retry": {"max_attempts": 26, "initial_interval": "-1s", "max_interval": "48h"}}`,
			`{"id": "b", "action": "http.request", "retry": {"max_attempts": -1, "initial_interval": "2h"}}`),
			[]string{
				`steps[0].retry.max_attempts: must be between 1 and 25`,
				`steps[0].retry.initial_interval: must be a positive duration`,
				`steps[0].retry.max_interval: must be at most 24h`,
				`steps[1].retry.max_attempts: must be between 1 and 25`,
				`steps[1].retry.initial_interval: must not be longer than max_interval (1h)`,
			}},
		{"timeout", defJSON(webhook, `{"id": "a", "action": "http.request", "timeout": "2h"}`, `{"id": "b", "action": "http.request", "timeout": "-1s"}`),
			[]string{`steps[0].timeout: must be at most 5m`, `steps[1].timeout: must be a positive duration`}},
		{"undo", defJSON(webhook, `{"id": "a", "action": "http.request", "undo": {"action": "slack.post_message", "input": {"t": "{{ self.ts }} {{ steps.a.ts }} {{ triger }}"}}}`,
			`{"id": "b", "action": "http.request", "undo": {"input": {}}}`),
			[]string{
				`steps[0].undo.connection: action slack.post_message needs a connection`,
				`steps[0].undo.input.t: {{ triger }}: unknown name triger (1:2)`,
				`steps[1].undo.action: required`,
			}},
		{"delay", defJSON(webhook, `{"id": "a", "action": "core.delay", "input": {"for": "soon"}}`,
			`{"id": "b", "action": "core.delay", "input": {}}`, `{"id": "c", "action": "core.delay", "input": {"for": "1h", "until": "x"}}`,
			`{"id": "d", "action": "core.delay", "input": {"for": "{{ trigger.wait }}"}}`, `{"id": "e", "action": "core.delay", "input": {"for": "-1h"}}`),
			[]string{
				`steps[0].input.for: invalid duration "soon" (use a value like "30s", "10m", "24h" or "7d")`,
				`steps[1].input: core.delay needs "for" (a duration) or "until" (a time)`,
				`steps[2].input: core.delay takes either "for" or "until", not both`,
				`steps[4].input.for: must be a positive duration`,
			}},
		{"wait for event", defJSON(webhook, `{"id": "a", "action": "http.request"}`,
			`{"id": "b", "action": "core.wait_for_event", "input": {"match": "event.key == steps.a.key && self == nil", "timeout": "3 days"}}`,
			`{"id": "c", "action": "core.wait_for_event", "input": {"event": "x", "match": "{{ event.key }}"}}`,
			`{"id": "d", "action": "core.wait_for_event", "input": {"event": "x", "match": "event.key == steps.e.key"}}`,
			`{"id": "e", "action": "core.wait_for_event", "input": {"event": "x", "match": 5}}`),
			[]string{
				`steps[1].input.event: core.wait_for_event needs the name of the event to wait for`,
				`steps[1].input.timeout: invalid duration "3 days" (use a value like "30s", "10m", "24h" or "7d")`,
				`steps[1].input.match: self is only available in undo input`,
				`steps[2].input.match: {{ event.key }}: event is only available in a wait_for_event match`,
				`steps[2].input.match: is an expression; write it without {{ }}`,
				`steps[3].input.match: steps.e is not upstream of this step (add it to needs)`,
				`steps[4].input.match: must be an expression (a string)`,
			}},
		{"too many steps", manySteps(MaxSteps + 1), []string{`steps: at most 100 steps are allowed (this flow has 101)`}},
		{"most steps", manySteps(MaxSteps), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def := mustDecode(t, tt.def)
			require.Equal(t, tt.want, problemList(t, Validate(def, catalogEnv())))

			// Compile reports the same expression problems with the same
			// paths (it does not know the catalog).
			_, err := Compile(def)
			var catalogFree []string
			for _, p := range tt.want {
				if !strings.Contains(p, "connection") && !strings.Contains(p, "unknown action \"slak") && !strings.Contains(p, "slak.events") {
					catalogFree = append(catalogFree, p)
				}
			}
			require.Equal(t, catalogFree, problemList(t, err))
		})
	}
}

func manySteps(n int) string {
	steps := make([]string, n)
	for i := range steps {
		steps[i] = fmt.Sprintf(`{"id": "s%d", "action": "http.request"}`, i)
	}
	return defJSON(webhook, steps...)
}

func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	def := mustDecode(t, defJSON(`{"type": "webhok", "if": "trigger.a =="}`,
		`{"id": "welcome", "action": "email.send", "input": {"to": "{{ trigger.email }}"}}`,
		`{"id": "Notify", "action": "slack.post_message", "connection": "<slack>", "needs": [], "input": {"text": "{{ steps.welcome.id }}"}}`,
		`{"id": "track", "action": "segment.track", "connection": "<segment>", "needs": ["sned"], "retry": {"max_attempts": 0}}`,
		`{"id": "track", "action": "slak.post", "if": "triger.x"}`,
	))
	require.Equal(t, []string{
		`trigger.type: unknown trigger type "webhok"`,
		`trigger.if: unexpected token EOF (1:12)`,
		`steps[0].connection: action email.send needs a connection`,
		`steps[1].id: must match [a-z][a-z0-9_]* (got "Notify")`,
		`steps[2].needs[0]: unknown step "sned"`,
		`steps[3].id: duplicate id "track" (also steps[2])`,
		`steps[3].action: unknown action "slak.post"`,
		`steps[3].if: unknown name triger (1:1)`,
	}, problemList(t, Validate(def, catalogEnv())))
}

func TestValidateNilEnvChecksNothingOutside(t *testing.T) {
	t.Parallel()
	def := mustDecode(t, defJSON(`{"type": "made.up"}`, `{"id": "a", "action": "made.up", "connection": "nope"}`))
	require.NoError(t, Validate(def, ValidateEnv{}))
	require.Equal(t, []string{
		`trigger.type: unknown trigger type "made.up"`,
		`steps[0].action: unknown action "made.up"`,
	}, problemList(t, Validate(def, catalogEnv())))
}

func TestValidateCoreActionsGoThroughCatalog(t *testing.T) {
	t.Parallel()
	def := mustDecode(t, defJSON(webhook, `{"id": "a", "action": "core.approval"}`))
	env := catalogEnv()
	require.NoError(t, Validate(def, env))
	env.ActionExists = func(key string) bool { return key != "core.approval" }
	require.Equal(t, []string{`steps[0].action: unknown action "core.approval"`}, problemList(t, Validate(def, env)))
}

func TestProblemsError(t *testing.T) {
	t.Parallel()
	ps := &Problems{List: []Problem{{Path: "steps[0].id", Message: "required"}, {Message: "the definition is empty"}}}
	require.Equal(t, "invalid flow definition: steps[0].id: required; the definition is empty", ps.Error())
}
