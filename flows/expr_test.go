package flows

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCompileExpr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src string
		err string
	}{
		{"trigger.a == 1 && headers.b != nil && steps.x.y > 2 && run.id != '' && self == nil && event == nil", ""},
		{"triger.x", "unknown name triger (1:1)"},
		{"trigger.x ==", "unexpected token EOF (1:12)"},
		{"", "expression is empty"},
		{"   ", "expression is empty"},
		{"__budget", "unknown name __budget"},
		{"__get(trigger, 'x')", "unknown name __get"},
		{"$env.Budget", "unknown name $env"},
		{"let __x = 1; __x", "__x"},
		{"timezone('UTC')", "unknown name timezone"},
		{strings.Repeat("1+", 3000) + "1", "expression is too long (at most 4096 characters)"},
		{strings.Repeat("1+", 2000) + "1", "compilation failed: expression exceeds maximum allowed nodes (1:"},
	}
	for _, tt := range tests {
		e, err := CompileExpr(tt.src)
		if tt.err == "" {
			require.NoError(t, err, tt.src)
			require.Equal(t, tt.src, e.Source())
			continue
		}
		require.Error(t, err, tt.src)
		require.Contains(t, err.Error(), tt.err, tt.src)
		require.NotContains(t, err.Error(), "\n", "errors are one line")
	}
}

func TestEvalBool(t *testing.T) {
	t.Parallel()
	vars := Vars{
		Event: map[string]any{"issue": map[string]any{"key": "REL-1", "fields": map[string]any{"status": map[string]any{"statusCategory": map[string]any{"key": "done"}}}}},
		Steps: map[string]any{"ticket": map[string]any{"key": "REL-1"}},
	}
	ok, err := EvalBool("event.issue.key == steps.ticket.key && event.issue.fields.status.statusCategory.key == 'done'", vars)
	require.NoError(t, err)
	require.True(t, ok)

	ok, err = EvalBool("event.issue.key == steps.other.key", vars)
	require.NoError(t, err)
	require.False(t, ok, "missing values are nil and compare unequal")

	_, err = EvalBool("event.issue.key", vars)
	require.EqualError(t, err, `a condition must be true or false, but this one is the string "REL-1"`)
	_, err = EvalBool("event.nothing", vars)
	require.EqualError(t, err, `a condition must be true or false, but this one is null (missing)`)

	e, err := CompileExpr("{'n': len(event.issue.key)}")
	require.NoError(t, err)
	v, err := e.Eval(vars)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"n": 5}, v)
}

func TestProgramTrigger(t *testing.T) {
	t.Parallel()
	prog := mustCompile(t, `{"trigger": {"type": "webhook", "if": "trigger.event != 'test' && headers['x-kind'] != 'ping'", "idempotency_key": "trigger.id"},
		"steps": [{"id": "a", "action": "http.request"}]}`)
	ok, err := prog.TriggerIf(Vars{Trigger: map[string]any{"event": "signup"}})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = prog.TriggerIf(Vars{Trigger: map[string]any{"event": "test"}})
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = prog.TriggerIf(Vars{Trigger: map[string]any{}, Headers: map[string]any{"x-kind": "ping"}})
	require.NoError(t, err)
	require.False(t, ok)

	for _, tt := range []struct {
		trigger any
		key     string
		ok      bool
	}{
		{map[string]any{"id": "evt_1"}, "evt_1", true},
		{map[string]any{"id": 12345.0}, "12345", true},
		{map[string]any{"id": ""}, "", false},
		{map[string]any{}, "", false},
		{"not an object", "", false},
		{map[string]any{"id": map[string]any{"a": 1.0}}, `{"a":1}`, true},
	} {
		key, ok, err := prog.IdempotencyKey(Vars{Trigger: tt.trigger})
		require.NoError(t, err)
		require.Equal(t, tt.key, key)
		require.Equal(t, tt.ok, ok)
	}

	none := mustCompile(t, `{"trigger": {"type": "webhook"}, "steps": [{"id": "a", "action": "http.request"}]}`)
	ok, err = none.TriggerIf(Vars{})
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = none.IdempotencyKey(Vars{})
	require.NoError(t, err)
	require.False(t, ok)

	bad := mustCompile(t, `{"trigger": {"type": "webhook", "if": "trigger.flag"}, "steps": [{"id": "a", "action": "http.request"}]}`)
	_, err = bad.TriggerIf(Vars{Trigger: map[string]any{"flag": "yes"}})
	require.EqualError(t, err, `trigger.if: trigger.flag: a condition must be true or false, but this one is the string "yes"`)
}

func TestProgramStepIfAndMatch(t *testing.T) {
	t.Parallel()
	var def *Definition
	for _, sc := range scenarios(t) {
		if strings.HasPrefix(sc.name, "3_") {
			d, err := Decode(sc.data)
			require.NoError(t, err)
			def = d
		}
	}
	prog, err := Compile(def)
	require.NoError(t, err)

	ok, err := prog.StepIf("ticket", Vars{Trigger: map[string]any{"status": "success"}})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = prog.StepIf("bug", Vars{Trigger: map[string]any{"status": "success"}})
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = prog.StepIf("deploy", Vars{})
	require.NoError(t, err)
	require.True(t, ok, "no if")

	steps := map[string]any{"ticket": map[string]any{"key": "REL-7"}}
	event := func(key, status string) any {
		return map[string]any{"issue": map[string]any{"key": key, "fields": map[string]any{"status": map[string]any{"statusCategory": map[string]any{"key": status}}}}}
	}
	ok, err = prog.Match("approved", Vars{Steps: steps, Event: event("REL-7", "done")})
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = prog.Match("approved", Vars{Steps: steps, Event: event("REL-8", "done")})
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = prog.Match("deploy", Vars{})
	require.NoError(t, err)
	require.True(t, ok, "no match")

	// Advance with the program's conditions.
	status := map[string]Status{}
	run, skip, err := Advance(def, status, func(id string) (bool, error) {
		return prog.StepIf(id, Vars{Trigger: map[string]any{"status": "failure"}})
	})
	require.NoError(t, err)
	require.Equal(t, []string{"bug"}, run)
	require.Equal(t, []string{"ticket", "approved", "deploy"}, skip)

	cart := mustCompile(t, `{"trigger": {"type": "webhook"}, "steps": [{"id": "cart", "action": "http.request"},
		{"id": "remind", "action": "email.send", "if": "steps.cart.body.status"}]}`)
	_, err = cart.StepIf("remind", Vars{Steps: map[string]any{"cart": map[string]any{"body": map[string]any{"status": 1.0}}}})
	require.EqualError(t, err, `step "remind" if: steps.cart.body.status: a condition must be true or false, but this one is the number 1`)
	var ee *EvalError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "remind", ee.Step)
}

func TestProgramConcurrentUse(t *testing.T) {
	t.Parallel()
	var def *Definition
	for _, sc := range scenarios(t) {
		if strings.HasPrefix(sc.name, "1_") {
			d, err := Decode(sc.data)
			require.NoError(t, err)
			def = d
		}
	}
	prog, err := Compile(def)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			vars := Vars{Trigger: map[string]any{"type": "signup", "user": map[string]any{"id": float64(i), "plan": "enterprise", "email": "a@b"}}}
			for _, s := range def.Steps {
				in, err := prog.RenderInput(s.ID, vars)
				if err != nil {
					errs <- err
					return
				}
				if s.ID == "track" && in["user_id"] != float64(i) {
					errs <- &EvalError{Step: s.ID, Err: err}
					return
				}
				if _, err := prog.StepIf(s.ID, vars); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// The sandbox stops runaway expressions with an error instead of letting
// them eat memory or time.
func TestBudget(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1<<20)
	vars := Vars{Trigger: map[string]any{"big": big, "list": []any{1.0, 2.0, 3.0}}}
	runaways := []string{
		"repeat('x', 1000000000)",
		"repeat(trigger.big, 1000)",
		"reduce(1..64, #acc + #acc, 'xxxxxxxx')",
		"len(map(1..100000, trigger.big + 'y'))",
		"join(map(1..5000, trigger.big))",
		"toJSON(map(1..5000, trigger.big))",
		"string(map(1..5000, trigger.big))",
		"replace(trigger.big, '', trigger.big)",
		"len(flatten(map(1..5000, map(1..5000, #))))",
		"count(1..999999, all(1..999999, true))",
		"sum(map(1..999999, len(upper(trigger.big))))",
		"len(split(repeat('ab', 4000000), ''))",
		"len(1..100000000)",
	}
	for _, src := range runaways {
		t.Run(src, func(t *testing.T) {
			e, err := CompileExpr(src)
			require.NoError(t, err)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err = e.Eval(vars)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			require.Less(t, elapsed, 5*time.Second)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(512<<20), "allocated too much")
		})
	}

	// Ordinary work stays well inside the limits.
	e, err := CompileExpr("len(join(map(1..1000, 'item ' + string(#)), ', ')) > 0 && len(trigger.big + 'y') == 1048577")
	require.NoError(t, err)
	ok, err := e.EvalBool(vars)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestBudgetErrorsWrapErrLimit(t *testing.T) {
	t.Parallel()
	_, err := renderOne(t, "{{ repeat('ab', 100000000) }}", Vars{})
	require.ErrorIs(t, err, ErrLimit)
	_, err = EvalBool("count(1..999999, all(1..999999, true)) > 0", Vars{})
	require.ErrorIs(t, err, ErrLimit)
}

func TestPaths(t *testing.T) {
	t.Parallel()
	sample := map[string]any{
		"user":       map[string]any{"email": "a@b", "name": "Ada"},
		"items":      []any{map[string]any{"sku": "x"}},
		"first-name": "Ada",
		"empty":      []any{},
		"n":          1.0,
	}
	require.Equal(t, []string{
		"trigger.empty",
		`trigger["first-name"]`,
		"trigger.items",
		"trigger.items[0]",
		"trigger.items[0].sku",
		"trigger.n",
		"trigger.user",
		"trigger.user.email",
		"trigger.user.name",
	}, Paths(sample, "trigger"))
	require.Nil(t, Paths("scalar", "trigger"))
	require.Equal(t, []string{"a"}, Paths(map[string]any{"a": 1.0}, ""))

	wide := map[string]any{}
	for i := range 2000 {
		wide[strings.Repeat("k", 1+i%7)+string(rune('a'+i%26))+strings.Repeat("z", i/182)] = map[string]any{"x": 1.0}
	}
	require.Len(t, Paths(wide, "trigger"), MaxPaths)

	// Every path is a valid expression that reads its value.
	for _, p := range Paths(sample, "trigger") {
		_, err := EvalBool(p+" == nil || true", Vars{Trigger: sample})
		require.NoError(t, err, p)
	}
}

func TestBudgetTimeLimit(t *testing.T) {
	t.Parallel()
	list := make([]any, 1000)
	for i := range list {
		list[i] = float64(i)
	}
	vars := Vars{Trigger: map[string]any{"big": strings.Repeat("x", 1<<20), "list": list}}
	// A million scans of a megabyte allocate nothing but would take minutes.
	start := time.Now()
	_, err := EvalBool("count(trigger.list, count(trigger.list, trigger.big contains 'z') > 0) > 0", vars)
	require.ErrorIs(t, err, ErrLimit)
	require.ErrorContains(t, err, "took longer than 2s")
	require.Less(t, time.Since(start), 10*time.Second)
}
