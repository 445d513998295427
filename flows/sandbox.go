package flows

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm/runtime"
)

// The sandbox bounds what one evaluation may cost. Expressions are written
// by flow authors, not by the senders of events, but a careless or hostile
// author must not be able to take a worker down: the parse is bounded in
// size, every loop iteration and library call is counted, every string or
// list a library call builds is charged against a memory allowance before it
// is built, and a wall-clock limit backs both up.
const (
	maxExprLength  = 4096            // characters of one expression
	maxExprNodes   = 500             // AST nodes of one expression
	maxEvalSteps   = 1_000_000       // loop iterations and calls per evaluation
	maxEvalBytes   = 32 << 20        // bytes (or list slots) built per evaluation
	maxEvalTime    = 2 * time.Second // wall-clock time per evaluation
	maxOutputBytes = 16 << 20        // size of one rendered input or value
	vmMemoryBudget = 1_000_000       // expr's own budget: ranges and literals
)

// ErrLimit is wrapped by every error of an evaluation that exceeded the
// sandbox's limits on steps, memory or time.
var ErrLimit = errors.New("expression exceeded its limits")

// budget is the allowance of one top-level evaluation (one condition, one
// rendered input). It is shared by every expression evaluated for it and is
// reached from inside the VM through a hidden variable that user
// expressions cannot name.
type budget struct {
	steps    int
	bytes    int
	deadline time.Time
}

func newBudget() *budget {
	return &budget{deadline: time.Now().Add(maxEvalTime)}
}

func (b *budget) tick() error {
	b.steps++
	if b.steps > maxEvalSteps {
		return fmt.Errorf("%w: more than %d steps", ErrLimit, maxEvalSteps)
	}
	if b.steps%64 == 0 && time.Now().After(b.deadline) {
		return fmt.Errorf("%w: took longer than %s", ErrLimit, maxEvalTime)
	}
	return nil
}

func (b *budget) charge(n int) error {
	if err := b.tick(); err != nil {
		return err
	}
	if n < 0 || n > maxEvalBytes-b.bytes {
		return fmt.Errorf("%w: would use more than %d MiB", ErrLimit, maxEvalBytes>>20)
	}
	b.bytes += n
	return nil
}

// Names of the hidden helpers the patcher inserts. They start with "__",
// which user expressions may not use.
const (
	budgetVar = "__budget"
	fnGet     = "__get"
	fnAdd     = "__add"
	fnTick    = "__tick"
)

// safeBuiltins are expr builtins that are pure and whose cost is bounded by
// their arguments without building anything large. Predicates (map, filter,
// ...) are here too: the patcher makes each iteration pay a step.
var safeBuiltins = []string{
	"all", "none", "any", "one", "filter", "map", "find", "findIndex", "findLast",
	"findLastIndex", "count", "sum", "groupBy", "sortBy", "reduce",
	"len", "type", "abs", "ceil", "floor", "round", "int", "float",
	"trim", "trimPrefix", "trimSuffix", "indexOf", "lastIndexOf", "hasPrefix", "hasSuffix",
	"max", "min", "mean", "median", "first", "last", "get", "take",
	"now", "duration",
	"bitand", "bitor", "bitxor", "bitnand", "bitnot", "bitshl", "bitshr", "bitushr",
}

// budgetedFuncs replace the builtins that build strings or lists: each
// charges the budget before doing the work. The builtin "timezone" is left
// out (it reads the time zone database from disk), and "date" refuses a
// time zone argument for the same reason.
var budgetedFuncs = map[string]func(b *budget, args []any) (any, error){
	fnTick: func(b *budget, args []any) (any, error) {
		if err := b.tick(); err != nil {
			return nil, err
		}
		return args[0], nil
	},
	fnAdd: func(b *budget, args []any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("invalid operation")
		}
		if x, ok := args[0].(string); ok {
			if y, ok := args[1].(string); ok {
				if err := b.charge(len(x) + len(y)); err != nil {
					return nil, err
				}
				return x + y, nil
			}
		}
		if err := b.tick(); err != nil {
			return nil, err
		}
		return callRuntime(func() any { return runtime.Add(args[0], args[1]) })
	},
	"repeat": func(b *budget, args []any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("repeat takes a string and a count")
		}
		s, ok := args[0].(string)
		n, nok := toInt(args[1])
		if !ok || !nok || n < 0 {
			return nil, fmt.Errorf("repeat takes a string and a count")
		}
		if n > 0 && len(s) > maxEvalBytes/n {
			return nil, fmt.Errorf("%w: repeat would build more than %d MiB", ErrLimit, maxEvalBytes>>20)
		}
		if err := b.charge(len(s) * n); err != nil {
			return nil, err
		}
		return strings.Repeat(s, n), nil
	},
	"join": func(b *budget, args []any) (any, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("join takes a list and an optional separator")
		}
		sep := ""
		if len(args) == 2 {
			s, ok := args[1].(string)
			if !ok {
				return nil, fmt.Errorf("join: the separator must be a string")
			}
			sep = s
		}
		v := reflect.ValueOf(args[0])
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return nil, fmt.Errorf("join takes a list of strings")
		}
		parts := make([]string, v.Len())
		total := 0
		for i := range parts {
			s, ok := v.Index(i).Interface().(string)
			if !ok {
				return nil, fmt.Errorf("join takes a list of strings")
			}
			parts[i] = s
			total += len(s) + len(sep)
			if total > maxEvalBytes {
				return nil, fmt.Errorf("%w: join would build more than %d MiB", ErrLimit, maxEvalBytes>>20)
			}
		}
		if err := b.charge(total); err != nil {
			return nil, err
		}
		return strings.Join(parts, sep), nil
	},
	"replace": func(b *budget, args []any) (any, error) {
		if len(args) != 3 {
			return nil, fmt.Errorf("replace takes a string, the text to find and its replacement")
		}
		s, ok1 := args[0].(string)
		old, ok2 := args[1].(string)
		repl, ok3 := args[2].(string)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("replace takes three strings")
		}
		n := strings.Count(s, old)
		if n > 0 && len(repl) > 0 && n > maxEvalBytes/len(repl) {
			return nil, fmt.Errorf("%w: replace would build more than %d MiB", ErrLimit, maxEvalBytes>>20)
		}
		if err := b.charge(len(s) + n*len(repl)); err != nil {
			return nil, err
		}
		return strings.ReplaceAll(s, old, repl), nil
	},
	"split":      splitFunc("split"),
	"splitAfter": splitFunc("splitAfter"),
	"upper":      chargedBuiltin("upper"),
	"lower":      chargedBuiltin("lower"),
	"string":     chargedBuiltin("string"),
	"toJSON":     chargedBuiltin("toJSON"),
	"fromJSON":   chargedBuiltin("fromJSON"),
	"toBase64":   chargedBuiltin("toBase64"),
	"fromBase64": chargedBuiltin("fromBase64"),
	"keys":       chargedBuiltin("keys"),
	"values":     chargedBuiltin("values"),
	"toPairs":    chargedBuiltin("toPairs"),
	"fromPairs":  chargedBuiltin("fromPairs"),
	"uniq":       chargedBuiltin("uniq"),
	"sort":       chargedBuiltin("sort"),
	"reverse":    chargedBuiltin("reverse"),
	"concat":     chargedBuiltin("concat"),
	"flatten":    chargedBuiltin("flatten"),
	"date": func(b *budget, args []any) (any, error) {
		if len(args) > 2 {
			return nil, fmt.Errorf("date takes a string and an optional layout; time zones are not supported")
		}
		for _, a := range args {
			if _, ok := a.(string); !ok {
				return nil, fmt.Errorf("date takes a string and an optional layout")
			}
		}
		return chargedBuiltin("date")(b, args)
	},
}

// splitFunc charges for the slice a split builds before building it.
func splitFunc(name string) func(b *budget, args []any) (any, error) {
	return func(b *budget, args []any) (any, error) {
		if len(args) < 2 || len(args) > 3 {
			return nil, fmt.Errorf("%s takes a string, a separator and an optional count", name)
		}
		s, ok1 := args[0].(string)
		sep, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s takes a string and a separator", name)
		}
		n := strings.Count(s, sep) + 1
		if sep == "" {
			n = utf8.RuneCountInString(s)
		}
		if err := b.charge(len(s) + 16*n); err != nil {
			return nil, err
		}
		return callBuiltin(name, args)
	}
}

// chargedBuiltin wraps a builtin whose work and result are proportional to
// the size of its arguments (counting repeated references each time, and
// nesting depth for the indentation toJSON adds).
func chargedBuiltin(name string) func(b *budget, args []any) (any, error) {
	return func(b *budget, args []any) (any, error) {
		remaining := maxEvalBytes - b.bytes
		n := 0
		for _, a := range args {
			n += sizeOf(a, 0, remaining-n)
		}
		if err := b.charge(n); err != nil {
			return nil, err
		}
		return callBuiltin(name, args)
	}
}

// callBuiltin calls expr's own implementation of a builtin. Builtins trust
// the checker for argument types; since ours are checked at run time, a
// wrong type is turned from a panic into an error.
func callBuiltin(name string, args []any) (out any, err error) {
	f := builtin.Builtins[builtin.Index[name]]
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s: invalid arguments", name)
		}
	}()
	switch {
	case f.Fast != nil:
		if len(args) != 1 {
			return nil, fmt.Errorf("%s takes one argument", name)
		}
		return f.Fast(args[0]), nil
	case f.Safe != nil:
		out, _, err := f.Safe(args...)
		return out, err
	default:
		return f.Func(args...)
	}
}

func callRuntime(f func() any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return f(), nil
}

// sizeOf estimates the bytes a value takes when built or printed, counting
// shared references each time. It stops counting past limit.
func sizeOf(v any, depth, limit int) int {
	if limit <= 0 {
		return 1
	}
	switch x := v.(type) {
	case nil, bool:
		return 4 + depth
	case string:
		return len(x) + 2 + depth
	case float64, int, int64:
		return 8 + depth
	case []any:
		n := 2 + depth
		for _, e := range x {
			if n > limit {
				break
			}
			n += sizeOf(e, depth+1, limit-n)
		}
		return n
	case map[string]any:
		n := 2 + depth
		for k, e := range x {
			if n > limit {
				break
			}
			n += len(k) + 2 + sizeOf(e, depth+1, limit-n)
		}
		return n
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		n := 2 + depth
		for i := 0; i < rv.Len() && n <= limit; i++ {
			n += sizeOf(rv.Index(i).Interface(), depth+1, limit-n)
		}
		return n
	case reflect.Map:
		n := 2 + depth
		it := rv.MapRange()
		for it.Next() && n <= limit {
			n += sizeOf(it.Key().Interface(), depth+1, limit-n) + sizeOf(it.Value().Interface(), depth+1, limit-n)
		}
		return n
	case reflect.String:
		return rv.Len() + 2 + depth
	}
	return 8 + depth
}

// fetch is member access: obj.key and list[i]. A missing key, an index out
// of range, or a member of something that has none (nil, a number) is nil,
// so that templates over optional data need no guards.
func fetch(from, key any) any {
	switch v := from.(type) {
	case nil:
		return nil
	case map[string]any:
		if k, ok := key.(string); ok {
			return v[k]
		}
		return nil
	case []any:
		if i, ok := listIndex(key, len(v)); ok {
			return v[i]
		}
		return nil
	}
	rv := reflect.ValueOf(from)
	switch rv.Kind() {
	case reflect.Map:
		kv := reflect.ValueOf(key)
		if !kv.IsValid() || !kv.Type().Comparable() {
			return nil
		}
		switch kt := rv.Type().Key(); {
		case kv.Type().AssignableTo(kt):
		case kv.Kind() == reflect.String && kt.Kind() == reflect.String:
			kv = kv.Convert(kt)
		default:
			return nil
		}
		if e := rv.MapIndex(kv); e.IsValid() {
			return e.Interface()
		}
	case reflect.Slice, reflect.Array:
		if i, ok := listIndex(key, rv.Len()); ok {
			return rv.Index(i).Interface()
		}
	}
	return nil
}

func listIndex(key any, n int) (int, bool) {
	i, ok := toInt(key)
	if !ok {
		return 0, false
	}
	if i < 0 {
		i += n
	}
	return i, i >= 0 && i < n
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return 0, false
		}
		return int(x), true
	case float64:
		if x != math.Trunc(x) || x < math.MinInt32 || x > math.MaxInt32 {
			return 0, false
		}
		return int(x), true
	}
	return 0, false
}

// sandboxOptions are the expr options shared by every compilation.
func sandboxOptions() []expr.Option {
	opts := []expr.Option{
		expr.Env(exprEnv{}),
		expr.Optimize(false), // the optimizer may fold large constant ranges at compile time
		expr.MaxNodes(maxExprNodes),
		expr.DisableAllBuiltins(),
	}
	for _, name := range safeBuiltins {
		opts = append(opts, expr.EnableBuiltin(name))
	}
	for name, f := range budgetedFuncs {
		opts = append(opts, expr.Function(name, func(args ...any) (any, error) {
			if len(args) == 0 {
				return nil, fmt.Errorf("%s: missing arguments", name)
			}
			b, ok := args[0].(*budget)
			if !ok {
				return nil, fmt.Errorf("%s: internal error: no budget", name)
			}
			return f(b, args[1:])
		}))
	}
	opts = append(opts, expr.Function(fnGet, func(args ...any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("invalid member access")
		}
		return fetch(args[0], args[1]), nil
	}))
	return opts
}
