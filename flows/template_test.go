package flows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// renderOne compiles a one-step flow whose input is {"v": tmpl} and renders
// it.
func renderOne(t *testing.T, tmpl any, vars Vars) (any, error) {
	t.Helper()
	def := &Definition{Trigger: Trigger{Type: "webhook"}, Steps: []Step{
		{ID: "prev", Action: "http.request"},
		{ID: "s", Action: "http.request", Input: map[string]any{"v": tmpl}},
	}}
	prog, err := Compile(def)
	require.NoError(t, err)
	out, err := prog.RenderInput("s", vars)
	if err != nil {
		return nil, err
	}
	return out["v"], nil
}

var payload = Vars{
	Trigger: map[string]any{
		"name":  "Ada",
		"email": "ada@example.com",
		"count": 3.0,
		"ratio": 0.25,
		"big":   1e21,
		"ok":    true,
		"user":  map[string]any{"id": 42.0, "tags": []any{"a", "b"}},
		"items": []any{map[string]any{"sku": "x1", "qty": 2.0}},
		"html":  "<b>&</b>",
		"empty": "",
		"null":  nil,
	},
	Headers: map[string]any{"x-request-id": "r1"},
	Steps:   map[string]any{"prev": map[string]any{"id": "p1", "status": 200.0}},
	Run:     map[string]any{"id": "run1", "flow_id": "flow1"},
}

func TestRenderTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl string
		want any
	}{
		{"{{ trigger.user }}", map[string]any{"id": 42.0, "tags": []any{"a", "b"}}},
		{"  {{trigger.count}}\n", 3.0},
		{"{{ trigger.ok }}", true},
		{"{{ trigger.user.tags }}", []any{"a", "b"}},
		{"{{ trigger.missing }}", nil},
		{"{{ trigger.missing.deeper.still }}", nil},
		{"{{ trigger.items[5].sku }}", nil},
		{"{{ trigger.items[-1].sku }}", "x1"},
		{"{{ trigger.name.first }}", nil},
		{"{{ trigger.count * 2 }}", 6.0},
		{"{{ len(trigger.items) }}", 1},
		{"{{ steps.prev.status }}", 200.0},
		{"{{ run.id }}", "run1"},
		{"{{ headers['x-request-id'] }}", "r1"},
		{`{{ {"a": {"b": trigger.name}} }}`, map[string]any{"a": map[string]any{"b": "Ada"}}},
		{"{{ '}}' }}", "}}"},
		{"{{ trigger.null ?? 'default' }}", "default"},
		{"{{ trigger.type == 'signup' ? 'Signed Up' : 'Logged In' }}", "Logged In"},
		{"{{ map(trigger.items, .sku) }}", []any{"x1"}},
		{"{{ upper(trigger.name) + '!' }}", "ADA!"},
		{"{{ join(trigger.user.tags, ',') }}", "a,b"},
		{"{{ date('2024-05-01T10:00:00Z') }}", "2024-05-01T10:00:00Z"},
		{"{{ duration('90m') }}", "1h30m"},
		{"{{ trigger.count + 1 }}", 4.0},
		{"{{ 1 + 2 }}", 3},
		{"{{ groupBy(trigger.items, .sku) }}", map[string]any{"x1": []any{map[string]any{"sku": "x1", "qty": 2.0}}}},
		{"{{ groupBy(trigger.items, .qty) }}", map[string]any{"2": []any{map[string]any{"sku": "x1", "qty": 2.0}}}},
		{"{{ groupBy(trigger.items, .sku).x1[0].qty }}", 2.0},
		{"{{ groupBy(trigger.items, .sku).nope }}", nil},
		{"{{ split('a,b', ',') }}", []any{"a", "b"}},
		{"{{ trigger.user.tags[trigger.user.id - 41] }}", "b"},
		{"{{ trigger.user.tags['x'] }}", nil},
		{"{{ trigger.user.tags[0.5] }}", nil},
		{"{{ now() > date('2020-01-01') }}", true},
		{"{{ toJSON(trigger.user.tags) }}", "[\n  \"a\",\n  \"b\"\n]"},
		{"{{ fromJSON('{\"a\": [1]}') }}", map[string]any{"a": []any{1.0}}},
	}
	for _, tt := range tests {
		got, err := renderOne(t, tt.tmpl, payload)
		require.NoError(t, err, tt.tmpl)
		require.Equal(t, tt.want, got, tt.tmpl)
	}
}

func TestRenderText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl string
		want string
	}{
		{"Hi {{ trigger.name }}", "Hi Ada"},
		{"{{ trigger.name }} <{{ trigger.email }}>", "Ada <ada@example.com>"},
		{"n={{ trigger.count }}", "n=3"},
		{"r={{ trigger.ratio }}", "r=0.25"},
		{"big={{ trigger.big }}", "big=1e+21"},
		{"ok={{ trigger.ok }}", "ok=true"},
		{"missing=[{{ trigger.missing }}]", "missing=[]"},
		{"user={{ trigger.user }}", `user={"id":42,"tags":["a","b"]}`},
		{"tags={{ trigger.user.tags }}", `tags=["a","b"]`},
		{"html={{ trigger.html }} {{ [trigger.html] }}", `html=<b>&</b> ["<b>&</b>"]`},
		{"len={{ len(trigger.items) }}", "len=1"},
		{"{{ 1 }}{{ 2 }}", "12"},
		{"plain text", "plain text"},
		{"}} not a template {", "}} not a template {"},
		{"{{ trigger.count / 2 }} items", "1.5 items"},
	}
	for _, tt := range tests {
		got, err := renderOne(t, tt.tmpl, payload)
		require.NoError(t, err, tt.tmpl)
		require.Equal(t, tt.want, got, tt.tmpl)
	}
}

func TestRenderNested(t *testing.T) {
	t.Parallel()
	def := &Definition{Trigger: Trigger{Type: "webhook"}, Steps: []Step{{ID: "s", Action: "http.request", Input: map[string]any{
		"{{ trigger.name }}": "keys are not templated",
		"body": map[string]any{
			"user":  "{{ trigger.user.id }}",
			"list":  []any{"{{ trigger.name }}", 1.0, nil, true, []any{"x {{ trigger.count }}"}},
			"plain": "no template",
		},
		"n": 7.0,
	}}}}
	prog, err := Compile(def)
	require.NoError(t, err)
	out, err := prog.RenderInput("s", payload)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"{{ trigger.name }}": "keys are not templated",
		"body": map[string]any{
			"user":  42.0,
			"list":  []any{"Ada", 1.0, nil, true, []any{"x 3"}},
			"plain": "no template",
		},
		"n": 7.0,
	}, out)

	// Rendering returns a fresh value: changing it changes neither the
	// program nor the variables.
	out["body"].(map[string]any)["plain"] = "changed"
	again, err := prog.RenderInput("s", payload)
	require.NoError(t, err)
	require.Equal(t, "no template", again["body"].(map[string]any)["plain"])

	user, err := renderOne(t, "{{ trigger.user }}", payload)
	require.NoError(t, err)
	user.(map[string]any)["id"] = 0.0
	require.Equal(t, 42.0, payload.Trigger.(map[string]any)["user"].(map[string]any)["id"])
}

// Incoming data is only ever a value: template syntax or expressions inside
// a payload are never evaluated.
func TestRenderNeverEvaluatesData(t *testing.T) {
	t.Parallel()
	evil := Vars{
		Trigger: map[string]any{
			"name":  "{{ steps.secret.token }}",
			"sum":   "1+1",
			"expr":  "trigger.name",
			"close": "}} {{ run.id }}",
			"obj":   map[string]any{"k": "{{ headers }}"},
		},
		Steps: map[string]any{"secret": map[string]any{"token": "s3cr3t"}},
		Run:   map[string]any{"id": "run1"},
	}
	cases := map[string]any{
		"{{ trigger.name }}":              "{{ steps.secret.token }}",
		"Hi {{ trigger.name }}!":          "Hi {{ steps.secret.token }}!",
		"{{ trigger.sum }}":               "1+1",
		"{{ trigger.expr }}":              "trigger.name",
		"a{{ trigger.close }}b":           "a}} {{ run.id }}b",
		"{{ trigger.obj }}":               map[string]any{"k": "{{ headers }}"},
		"{{ trigger.obj }} as text":       `{"k":"{{ headers }}"} as text`,
		"{{ trigger.name + trigger.sum}}": "{{ steps.secret.token }}1+1",
	}
	for tmpl, want := range cases {
		got, err := renderOne(t, tmpl, evil)
		require.NoError(t, err, tmpl)
		require.Equal(t, want, got, tmpl)
	}
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src   string
		parts []string
		err   string
	}{
		{"a {{ b }} c", []string{"a ", " b ", " c"}, ""},
		{"{{x}}{{y}}", []string{"x", "y"}, ""},
		{`{{ {"a": {"b": 1}} }}`, []string{` {"a": {"b": 1}} `}, ""},
		{`{{ "}}" + '}}' + "\"}}" }}`, []string{` "}}" + '}}' + "\"}}" `}, ""},
		{"{{ x", nil, `unclosed {{ in "{{ x"`},
		{"{{ '}} }}", nil, `unclosed {{ in "{{ '}} }}"`},
		{"a {{ }} b", nil, "empty {{ }}"},
	}
	for _, tt := range tests {
		parts, _, err := parseTemplate(tt.src)
		if tt.err != "" {
			require.EqualError(t, err, tt.err, tt.src)
			continue
		}
		require.NoError(t, err, tt.src)
		require.Equal(t, tt.parts, parts, tt.src)
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	_, err := renderOne(t, "total: {{ trigger.name * 2 }}", payload)
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "s", ee.Step)
	require.Equal(t, "input.v", ee.Path)
	require.Equal(t, "{{ trigger.name * 2 }}", ee.Expr)
	require.Contains(t, err.Error(), `step "s" input.v: {{ trigger.name * 2 }}: invalid operation`)

	_, err = renderOne(t, "{{ 'a' + 1 }}", payload)
	require.ErrorContains(t, err, `{{ 'a' + 1 }}: invalid operation: string + int`)

	_, err = renderOne(t, "{{ upper(1) }}", payload)
	require.ErrorContains(t, err, "upper: invalid arguments")

	_, err = renderOne(t, "{{ 0.0 / 0 }}", payload)
	require.ErrorContains(t, err, "not a number JSON can hold")

	_, err = renderOne(t, "{{ date('2024-01-01', '2006-01-02', 'Europe/Paris') }}", payload)
	require.ErrorContains(t, err, "time zones are not supported")
}

func TestRenderUndoAndSelf(t *testing.T) {
	t.Parallel()
	prog := mustCompile(t, `{"trigger": {"type": "webhook"}, "steps": [
		{"id": "car", "action": "http.request", "input": {"url": "https://cars.example/reservations"},
		 "undo": {"action": "http.request", "input": {"method": "DELETE", "url": "https://cars.example/reservations/{{ self.body.id }}"}}},
		{"id": "flight", "action": "http.request"}]}`)
	out, err := prog.RenderUndo("car", Vars{Self: map[string]any{"body": map[string]any{"id": 17.0}}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"method": "DELETE", "url": "https://cars.example/reservations/17"}, out)

	_, err = prog.RenderUndo("flight", Vars{})
	require.EqualError(t, err, `flows: step "flight" has no undo`)
	_, err = prog.RenderInput("nope", Vars{})
	require.EqualError(t, err, `flows: unknown step "nope"`)

	in, err := prog.RenderInput("flight", Vars{})
	require.NoError(t, err)
	require.NotNil(t, in)
	require.Empty(t, in)
}
