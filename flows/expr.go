package flows

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Vars are the values expressions and templates read. Values should be
// plain JSON values as encoding/json decodes them into an any: nil, bool,
// float64, string, []any and map[string]any.
type Vars struct {
	// Trigger is the event payload.
	Trigger any
	// Headers are the request headers of a webhook event.
	Headers map[string]any
	// Steps maps a step id to that step's output.
	Steps map[string]any
	// Run holds "id" and "flow_id" of the current run.
	Run map[string]any
	// Self is the step's own output, for undo inputs.
	Self any
	// Event is the candidate event of a wait_for_event match.
	Event any
}

// exprEnv is the fixed environment every expression is compiled against, so
// that unknown names are compile-time errors.
type exprEnv struct {
	Trigger any            `expr:"trigger"`
	Headers map[string]any `expr:"headers"`
	Steps   map[string]any `expr:"steps"`
	Run     map[string]any `expr:"run"`
	Self    any            `expr:"self"`
	Event   any            `expr:"event"`
	Budget  *budget        `expr:"__budget"`
}

// scope says which variables an expression may use.
type scope int

const (
	scopeTrigger scope = iota // trigger.if, trigger.idempotency_key
	scopeStep                 // a step's if and input
	scopeUndo                 // an undo input: also self
	scopeMatch                // a wait_for_event match: also event
	scopeAny                  // CompileExpr: everything
)

// allows reports whether a variable may be used in the scope, and if not
// why.
func (s scope) allows(name string) (bool, string) {
	switch name {
	case "steps", "run":
		if s == scopeTrigger {
			return false, name + " is not available in trigger expressions (use trigger or headers)"
		}
	case "self":
		if s != scopeUndo && s != scopeAny {
			return false, "self is only available in undo input"
		}
	case "event":
		if s != scopeMatch && s != scopeAny {
			return false, "event is only available in a wait_for_event match"
		}
	}
	return true, ""
}

var exprOptions = sandboxOptions()

// Expr is a compiled expression. It is immutable and safe for concurrent
// use.
type Expr struct {
	src  string
	prog *vm.Program
	// steps lists the step ids the expression reads as steps.<id>.
	steps []string
}

// CompileExpr compiles one expression that may use every variable (trigger,
// headers, steps, run, self, event), for example a wait_for_event match.
// The error is one line naming the problem and its position.
func CompileExpr(src string) (*Expr, error) {
	return compileExpr(src, scopeAny)
}

// EvalBool compiles and evaluates a condition. It is a shorthand for
// [CompileExpr] followed by [Expr.EvalBool]; callers that evaluate the same
// source often should keep the compiled Expr.
func EvalBool(src string, vars Vars) (bool, error) {
	e, err := CompileExpr(src)
	if err != nil {
		return false, err
	}
	return e.EvalBool(vars)
}

// Source returns the expression's text.
func (e *Expr) Source() string { return e.src }

// Eval evaluates the expression. The result is a JSON value (nil, bool,
// number, string, []any, map[string]any) that shares nothing with vars.
func (e *Expr) Eval(vars Vars) (any, error) {
	v, err := e.eval(vars, newBudget())
	if err != nil {
		return nil, err
	}
	return normalize(v, &outputBudget{})
}

// EvalBool evaluates the expression as a condition: the result must be true
// or false.
func (e *Expr) EvalBool(vars Vars) (bool, error) {
	v, err := e.eval(vars, newBudget())
	if err != nil {
		return false, err
	}
	return asBool(v)
}

func asBool(v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("a condition must be true or false, but this one is %s", describeValue(v))
	}
	return b, nil
}

func (e *Expr) eval(vars Vars, b *budget) (out any, err error) {
	env := exprEnv{
		Trigger: vars.Trigger,
		Headers: vars.Headers,
		Steps:   vars.Steps,
		Run:     vars.Run,
		Self:    vars.Self,
		Event:   vars.Event,
		Budget:  b,
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v", r)
		}
	}()
	m := vm.VM{MemoryBudget: vmMemoryBudget}
	out, err = m.Run(e.prog, env)
	if err != nil {
		return nil, cleanExprError(err)
	}
	return out, nil
}

// cleanExprError keeps the first line of expr's error (the message and its
// position) and drops the source snippet; the caller names the expression.
func cleanExprError(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	// "memory budget exceeded" is expr's own limit on ranges and literals.
	if errors.Is(err, ErrLimit) || strings.HasPrefix(msg, "memory budget exceeded") {
		return &limitError{msg: msg}
	}
	return errors.New(msg)
}

// limitError is an evaluation error caused by the sandbox's limits.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrLimit }

// compileExpr parses, checks and compiles src in a scope.
func compileExpr(src string, sc scope) (e *Expr, err error) {
	if len(src) > maxExprLength {
		return nil, fmt.Errorf("expression is too long (at most %d characters)", maxExprLength)
	}
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("expression is empty")
	}
	p := &patcher{scope: sc}
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("invalid expression: %v", r)
		}
	}()
	prog, err := expr.Compile(src, append(exprOptions[:len(exprOptions):len(exprOptions)], expr.Patch(p))...)
	if p.err != nil {
		return nil, p.err
	}
	if err != nil {
		return nil, cleanExprError(err)
	}
	return &Expr{src: src, prog: prog, steps: p.steps}, nil
}

// compileCondition compiles an expression that must produce a bool, and
// refuses at compile time one whose type is known not to be bool.
func compileCondition(src string, sc scope) (*Expr, error) {
	e, err := compileExpr(src, sc)
	if err != nil {
		return nil, err
	}
	if n := e.prog.Node(); n != nil {
		if t := n.Type(); t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
			return nil, fmt.Errorf("a condition must be true or false, but this one is a %s", kindName(t.Kind()))
		}
	}
	return e, nil
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "number"
	}
	return k.String()
}

// patcher rewrites a parsed expression into its sandboxed form, before
// expr's type check:
//
//   - member access (a.b, a[i]) becomes a call to a nil-safe fetch;
//   - "+" becomes a call that charges the budget for the strings it joins;
//   - every predicate body (map, filter, ...) pays one step per iteration;
//   - calls to budgeted library functions get the budget as first argument.
//
// It also records the steps.<id> references and refuses names a user may
// not write: variables outside their scope, $env, and anything starting
// with "__", which is reserved for the helpers above.
type patcher struct {
	scope scope
	steps []string
	err   error
}

func (p *patcher) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

// Visit is called by expr for every node, children first.
func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		switch {
		case strings.HasPrefix(n.Value, "__"), strings.HasPrefix(n.Value, "$"):
			p.fail("unknown name %s", n.Value)
		default:
			if ok, why := p.scope.allows(n.Value); !ok {
				p.fail("%s", why)
			}
		}
	case *ast.VariableDeclaratorNode:
		if strings.HasPrefix(n.Name, "__") || strings.HasPrefix(n.Name, "$") {
			p.fail("invalid variable name %s", n.Name)
		}
	case *ast.MemberNode:
		if n.Method {
			return
		}
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "steps" {
			if s, ok := n.Property.(*ast.StringNode); ok {
				p.steps = append(p.steps, s.Value)
			}
		}
		ast.Patch(node, call(fnGet, n.Node, n.Property))
	case *ast.BinaryNode:
		if n.Operator == "+" {
			ast.Patch(node, call(fnAdd, &ast.IdentifierNode{Value: budgetVar}, n.Left, n.Right))
		}
	case *ast.PredicateNode:
		body := call(fnTick, &ast.IdentifierNode{Value: budgetVar}, n.Node)
		body.SetLocation(n.Node.Location())
		n.Node = body
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if _, budgeted := budgetedFuncs[id.Value]; budgeted && id.Value != fnTick && id.Value != fnAdd {
				n.Arguments = append([]ast.Node{&ast.IdentifierNode{Value: budgetVar}}, n.Arguments...)
			}
		}
	}
}

func call(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
}

// describeValue names a value's JSON type for error messages.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null (missing)"
	case string:
		return fmt.Sprintf("the string %q", abbreviate(x))
	case float64, int, int64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
