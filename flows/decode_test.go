package flows

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecodeScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			def, err := Decode(sc.data)
			require.NoError(t, err)
			require.NotEmpty(t, def.Steps)

			// A round trip through JSON is stable.
			b, err := json.Marshal(def)
			require.NoError(t, err)
			again, err := Decode(b)
			require.NoError(t, err)
			require.Equal(t, def, again)
		})
	}
}

func TestDecodeFields(t *testing.T) {
	t.Parallel()
	def := mustDecode(t, `{
		"trigger": {"type": "webhook", "if": "trigger.ok", "idempotency_key": "trigger.id",
		            "batch": {"window": "10m", "max": 100}, "config": {"secret": "s"}, "sample": {"id": 1}},
		"steps": [
			{"id": "a", "name": "A", "action": "http.request", "input": {"url": "x", "n": 2}},
			{"id": "b", "action": "slack.post_message", "connection": "c1", "needs": [], "if": "true",
			 "retry": {"max_attempts": 8, "initial_interval": "2s", "max_interval": "1h"}, "timeout": "10s",
			 "undo": {"action": "http.request", "connection": "c2", "input": {"id": "{{ self.id }}"}}},
			{"id": "c", "action": "http.request", "needs": ["a", "b"], "input": {}, "retry": null}
		]}`)
	require.Equal(t, Trigger{
		Type: "webhook", If: "trigger.ok", IdempotencyKey: "trigger.id",
		Batch:  &Batch{Window: Duration(10 * time.Minute), Max: 100},
		Config: map[string]any{"secret": "s"}, Sample: map[string]any{"id": 1.0},
	}, def.Trigger)
	require.Nil(t, def.Steps[0].Needs, "omitted needs stay nil")
	require.Equal(t, &[]string{}, def.Steps[1].Needs, "an empty needs list is kept")
	require.Equal(t, &[]string{"a", "b"}, def.Steps[2].Needs)
	require.Equal(t, map[string]any{"url": "x", "n": 2.0}, def.Steps[0].Input)
	require.Equal(t, &RetryPolicy{MaxAttempts: 8, InitialInterval: Duration(2 * time.Second), MaxInterval: Duration(time.Hour)}, def.Steps[1].Retry)
	require.Equal(t, Duration(10*time.Second), def.Steps[1].Timeout)
	require.Equal(t, &Undo{Action: "http.request", Connection: "c2", Input: map[string]any{"id": "{{ self.id }}"}}, def.Steps[1].Undo)
	require.Nil(t, def.Steps[2].Input, "an empty input decodes to nil so that round trips are stable")
	require.Nil(t, def.Steps[2].Retry)
}

func TestDecodeProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty", ``, []string{"the definition is empty"}},
		{"syntax", "{\n  \"trigger\": {,}\n}", []string{"invalid JSON at line 2, column 15: invalid character ',' looking for beginning of object key string"}},
		{"truncated", `{"trigger": {"type": "webhook"}`, []string{"invalid JSON: unexpected end of input"}},
		{"trailing data", `{"trigger": {"type": "webhook"}, "steps": []} {}`, []string{"unexpected data after the definition"}},
		{"not an object", `[1]`, []string{"must be an object"}},
		{"unknown top field", `{"trigger": {"type": "webhook"}, "stepz": []}`, []string{`stepz: unknown field (did you mean "steps"?)`}},
		{"unknown step field", `{"trigger": {"type": "webhook"}, "steps": [{"id": "a", "action": "x.y", "nedds": []}]}`,
			[]string{`steps[0].nedds: unknown field (did you mean "needs"?)`}},
		{"unknown field without suggestion", `{"trigger": {"type": "webhook", "zzzzzz": 1}, "steps": []}`,
			[]string{`trigger.zzzzzz: unknown field`}},
		{"odd key", `{"trigger": {"type": "webhook", "my key": 1}, "steps": []}`, []string{`trigger["my key"]: unknown field`}},
		{"duplicate field", `{"trigger": {"type": "webhook", "type": "manual"}, "steps": []}`, []string{`trigger.type: duplicate field`}},
		{"case matters", `{"trigger": {"Type": "webhook"}, "steps": []}`, []string{`trigger.Type: unknown field (did you mean "type"?)`}},
		{"wrong types", `{"trigger": {"type": 1, "batch": {"window": 10, "max": "5"}}, "steps": [
			{"id": 7, "action": "x.y", "needs": "a", "retry": {"max_attempts": 3.5, "initial_interval": "soon"}, "timeout": "5 seconds", "input": [1]},
			{"id": "b", "action": "x.y", "needs": ["a", 2], "undo": "no", "retry": {"max_attempts": 1e12}}]}`,
			[]string{
				`trigger.type: must be a string`,
				`trigger.batch.window: must be a duration string like "30s"`,
				`trigger.batch.max: must be an integer`,
				`steps[0].id: must be a string`,
				`steps[0].needs: must be an array of step ids`,
				`steps[0].retry.max_attempts: must be an integer`,
				`steps[0].retry.initial_interval: invalid duration "soon" (use a value like "30s", "10m", "24h" or "7d")`,
				`steps[0].timeout: invalid duration "5 seconds" (use a value like "30s", "10m", "24h" or "7d")`,
				`steps[0].input: must be an object`,
				`steps[1].needs[1]: must be a step id (a string)`,
				`steps[1].undo: must be an object`,
				`steps[1].retry.max_attempts: must be an integer between -2147483648 and 2147483647`,
			}},
		{"steps not an array", `{"trigger": {"type": "webhook"}, "steps": {}}`, []string{`steps: must be an array of steps`}},
		{"step not an object", `{"trigger": {"type": "webhook"}, "steps": ["a"]}`, []string{`steps[0]: must be an object`}},
		{"number out of range", `{"trigger": {"type": "webhook"}, "steps": [{"id": "a", "action": "x.y", "input": {"n": 1e999}}]}`,
			[]string{`steps[0].input: cannot unmarshal number 1e999 into Go value of type float64`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def, err := Decode([]byte(tt.src))
			require.Nil(t, def)
			require.Equal(t, tt.want, problemList(t, err))
		})
	}
}

func TestDecodeNullMeansOmitted(t *testing.T) {
	t.Parallel()
	def := mustDecode(t, `{"trigger": {"type": "webhook", "if": null, "batch": null, "config": null},
		"steps": [{"id": "a", "action": "x.y", "needs": null, "undo": null, "timeout": null, "input": null}]}`)
	require.Equal(t, &Definition{Trigger: Trigger{Type: "webhook"}, Steps: []Step{{ID: "a", Action: "x.y"}}}, def)
}

func TestMarshalOmitsEmptyFields(t *testing.T) {
	t.Parallel()
	def := &Definition{
		Trigger: Trigger{Type: "webhook"},
		Steps: []Step{
			{ID: "a", Action: "http.request"},
			{ID: "b", Action: "http.request", Needs: &[]string{}, Timeout: Duration(90 * time.Second)},
		},
	}
	b, err := json.Marshal(def)
	require.NoError(t, err)
	require.JSONEq(t, `{"trigger": {"type": "webhook"}, "steps": [
		{"id": "a", "action": "http.request"},
		{"id": "b", "action": "http.request", "needs": [], "timeout": "1m30s"}]}`, string(b))
}

func TestDuration(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"2s": 2 * time.Second, "10m": 10 * time.Minute, "24h": 24 * time.Hour, "72h": 72 * time.Hour,
		"1h30m": 90 * time.Minute, "1.5h": 90 * time.Minute, "500ms": 500 * time.Millisecond,
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "0d": 0, "-5s": -5 * time.Second,
	}
	for s, want := range good {
		got, err := ParseDuration(s)
		require.NoError(t, err, s)
		require.Equal(t, Duration(want), got, s)

		var d Duration
		require.NoError(t, json.Unmarshal([]byte(`"`+s+`"`), &d))
		require.Equal(t, Duration(want), d)
	}
	for _, s := range []string{"", "abc", "5", "-1d", "1d-5s", "d", "1.5d", "99999999999d", "1dd"} {
		_, err := ParseDuration(s)
		require.Error(t, err, s)
	}
	var d Duration
	require.Error(t, json.Unmarshal([]byte(`5`), &d))

	formats := map[time.Duration]string{
		24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 10 * time.Minute: "10m", 2 * time.Second: "2s",
		time.Hour + time.Second: "1h0m1s", 1500 * time.Millisecond: "1.5s", 0: "0s", 7 * 24 * time.Hour: "168h",
	}
	for d, want := range formats {
		b, err := json.Marshal(Duration(d))
		require.NoError(t, err)
		require.Equal(t, `"`+want+`"`, string(b))
		back, err := ParseDuration(want)
		require.NoError(t, err)
		require.Equal(t, Duration(d), back)
	}
}

func TestDefinitionStep(t *testing.T) {
	t.Parallel()
	def := mustDecode(t, `{"trigger": {"type": "webhook"}, "steps": [{"id": "a", "action": "x.y"}, {"id": "b", "action": "x.z"}]}`)
	s, ok := def.Step("b")
	require.True(t, ok)
	require.Equal(t, "x.z", s.Action)
	_, ok = def.Step("c")
	require.False(t, ok)
}
