package flows

import (
	"fmt"
	"sort"
)

// Program is a definition's expressions and templates, compiled once. It is
// immutable and safe for concurrent use; callers cache it per flow version.
type Program struct {
	triggerIf      *Expr
	idempotencyKey *Expr
	steps          map[string]*stepProgram
}

type stepProgram struct {
	cond  *Expr
	input map[string]any // compiled: template strings are *template
	undo  map[string]any
	match *Expr // core.wait_for_event's input.match
}

// EvalError is a failure to evaluate an expression or template at run time.
// It names where the expression lives and the expression itself.
type EvalError struct {
	// Step is the step id, or "" for the trigger.
	Step string
	// Path locates the expression within the step or trigger: "if",
	// "input.text", "undo.input.url", "trigger.if".
	Path string
	// Expr is the expression or template segment that failed.
	Expr string
	// Err is what went wrong; it wraps [ErrLimit] when the expression
	// exceeded the sandbox's limits.
	Err error
}

// Error names the step, the place and the expression, then the problem:
// step "remind" if: steps.cart.body.status == 'open': ....
func (e *EvalError) Error() string {
	where := e.Path
	if e.Step != "" {
		where = fmt.Sprintf("step %q %s", e.Step, e.Path)
	}
	return fmt.Sprintf("%s: %s: %v", where, e.Expr, e.Err)
}

// Unwrap returns the underlying error.
func (e *EvalError) Unwrap() error { return e.Err }

// Compile compiles every expression and template of a definition: the
// trigger's if and idempotency_key, and each step's if, input, undo input
// and wait_for_event match. It checks the definition as [Validate] does
// without a catalog, and returns the same *[Problems] when it is invalid.
func Compile(def *Definition) (*Program, error) {
	prog, ps := check(def, ValidateEnv{})
	if err := ps.err(); err != nil {
		return nil, err
	}
	return prog, nil
}

// TriggerIf evaluates the trigger's if; it is true when there is none.
func (p *Program) TriggerIf(vars Vars) (bool, error) {
	if p.triggerIf == nil {
		return true, nil
	}
	v, err := p.triggerIf.eval(vars, newBudget())
	if err == nil {
		var ok bool
		if ok, err = asBool(v); err == nil {
			return ok, nil
		}
	}
	return false, &EvalError{Path: "trigger.if", Expr: p.triggerIf.src, Err: err}
}

// IdempotencyKey evaluates the trigger's idempotency_key as text. ok is
// false when the definition has none, or when its value is null or empty.
func (p *Program) IdempotencyKey(vars Vars) (key string, ok bool, err error) {
	if p.idempotencyKey == nil {
		return "", false, nil
	}
	v, err := p.idempotencyKey.eval(vars, newBudget())
	if err == nil {
		key, err = textOf(v, &outputBudget{})
	}
	if err != nil {
		return "", false, &EvalError{Path: "trigger.idempotency_key", Expr: p.idempotencyKey.src, Err: err}
	}
	return key, key != "", nil
}

// StepIf evaluates a step's if; it is true when the step has none. It is
// the natural cond for [Advance].
func (p *Program) StepIf(stepID string, vars Vars) (bool, error) {
	s, err := p.step(stepID)
	if err != nil {
		return false, err
	}
	if s.cond == nil {
		return true, nil
	}
	v, err := s.cond.eval(vars, newBudget())
	if err == nil {
		var ok bool
		if ok, err = asBool(v); err == nil {
			return ok, nil
		}
	}
	return false, &EvalError{Step: stepID, Path: "if", Expr: s.cond.src, Err: err}
}

// RenderInput renders a step's input: every template is replaced by its
// value. The result is a fresh map of JSON values (never nil).
func (p *Program) RenderInput(stepID string, vars Vars) (map[string]any, error) {
	s, err := p.step(stepID)
	if err != nil {
		return nil, err
	}
	return render(s.input, vars, stepID, "input")
}

// RenderUndo renders a step's undo input; vars.Self should hold the step's
// output. It fails when the step has no undo.
func (p *Program) RenderUndo(stepID string, vars Vars) (map[string]any, error) {
	s, err := p.step(stepID)
	if err != nil {
		return nil, err
	}
	if s.undo == nil {
		return nil, fmt.Errorf("flows: step %q has no undo", stepID)
	}
	return render(s.undo, vars, stepID, "undo.input")
}

// Match evaluates a wait_for_event step's match expression against a
// candidate event in vars.Event. It is true when the step has no match.
func (p *Program) Match(stepID string, vars Vars) (bool, error) {
	s, err := p.step(stepID)
	if err != nil {
		return false, err
	}
	if s.match == nil {
		return true, nil
	}
	v, err := s.match.eval(vars, newBudget())
	if err == nil {
		var ok bool
		if ok, err = asBool(v); err == nil {
			return ok, nil
		}
	}
	return false, &EvalError{Step: stepID, Path: "input.match", Expr: s.match.src, Err: err}
}

func (p *Program) step(id string) (*stepProgram, error) {
	s, ok := p.steps[id]
	if !ok {
		return nil, fmt.Errorf("flows: unknown step %q", id)
	}
	return s, nil
}

func render(compiled map[string]any, vars Vars, stepID, base string) (map[string]any, error) {
	r := newRenderer(vars, stepID)
	out := make(map[string]any, len(compiled))
	for k, v := range compiled {
		rv, err := r.value(v, fieldPath(base, k))
		if err != nil {
			return nil, err
		}
		out[k] = rv
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
