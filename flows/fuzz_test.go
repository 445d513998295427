package flows

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecodeValidate checks that no input makes Decode, Validate, Compile or
// the DAG functions panic, and that a definition that validates survives a
// JSON round trip unchanged.
func FuzzDecodeValidate(f *testing.F) {
	for _, sc := range scenarios(f) {
		f.Add(sc.data)
	}
	f.Add([]byte(`{"trigger": {"type": "webhook", "batch": {"window": "7d", "max": 3}}, "steps": [{"id": "a", "action": "x.y", "needs": ["b"]}, {"id": "b", "action": "x.y", "needs": ["a"]}]}`))
	f.Add([]byte(`{"trigger": {"type": "manual", "sample": [1, {"a": null}], "config": {"k": [true]}}, "steps": [{"id": "a", "action": "x.y", "timeout": "1m30s", "retry": {}, "undo": {"action": "x.z", "input": {"u": "{{ self }}"}}}]}`))
	f.Add([]byte(`{"trigger": {"type": "webhook"}, "steps": [{"id": "a", "action": "x.y", "input": {"t": "{{ {'a': '}}'} }}"}}]} `))
	f.Add([]byte(`{"trigger":{},"steps":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Decode(data)
		if err != nil {
			var ps *Problems
			require.True(t, errors.As(err, &ps))
			require.NotEmpty(t, ps.List)
			return
		}
		// The DAG functions accept any decoded definition, valid or not.
		_, _ = TopologicalOrder(def)
		_, _, _ = Advance(def, nil, nil)
		_, _ = RunFinished(def, nil)

		if err := Validate(def, ValidateEnv{}); err != nil {
			var ps *Problems
			require.True(t, errors.As(err, &ps))
			require.NotEmpty(t, ps.List)
			_, cerr := Compile(def)
			require.Error(t, cerr)
			return
		}
		prog, err := Compile(def)
		require.NoError(t, err)

		b, err := json.Marshal(def)
		require.NoError(t, err)
		again, err := Decode(b)
		require.NoError(t, err, "re-decoding %s", b)
		require.Equal(t, def, again)
		require.NoError(t, Validate(again, ValidateEnv{}))

		vars := Vars{Trigger: map[string]any{"a": 1.0}}
		_, _ = prog.TriggerIf(vars)
		_, _, _ = prog.IdempotencyKey(vars)
		for _, s := range def.Steps {
			_, _ = prog.StepIf(s.ID, vars)
			if in, err := prog.RenderInput(s.ID, vars); err == nil {
				_, err := json.Marshal(in)
				require.NoError(t, err)
			}
		}
	})
}

// FuzzRender checks that no template and payload make compiling or
// rendering panic, and that whatever renders is a JSON value.
func FuzzRender(f *testing.F) {
	f.Add("Hi {{ trigger.name }}", []byte(`{"name": "Ada"}`))
	f.Add("{{ trigger }}", []byte(`{"a": [1, 2, {"b": null}]}`))
	f.Add("{{ trigger.items[0].sku }} x {{ len(trigger.items) }}", []byte(`{"items": []}`))
	f.Add("{{ {'a': '}}'} }}", []byte(`"{{ trigger }}"`))
	f.Add("{{ steps.a.b ?? 'x' }} {{ upper(trigger) }}", []byte(`"1+1"`))
	f.Add("{{ repeat(trigger, 3) + join(['a'], trigger) }}", []byte(`"ab"`))
	f.Add("{{ map(1..3, # * trigger) }}", []byte(`2.5`))
	f.Add("{{ date(trigger) }}", []byte(`"2024-01-02"`))
	f.Add("{{", []byte(`null`))
	f.Fuzz(func(t *testing.T, tmpl string, payload []byte) {
		var data any
		if err := json.Unmarshal(payload, &data); err != nil {
			data = string(payload)
		}
		v := compileValue(map[string]any{"v": tmpl}, "input", scopeAny, &Problems{}, func(string, []string) {})
		vars := Vars{Trigger: data, Steps: map[string]any{"a": data}, Self: data, Event: data, Headers: map[string]any{"h": data}}
		out, err := newRenderer(vars, "s").value(v, "input")
		if err != nil {
			return
		}
		_, err = json.Marshal(out)
		require.NoError(t, err)
		if !isTemplate(tmpl) {
			require.Equal(t, map[string]any{"v": tmpl}, out, "a string without {{ is literal")
		}
	})
}
