package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A template is a string with {{ expr }} segments. A template that is
// exactly one segment (surrounding whitespace allowed) produces the value of
// its expression with its type; any other template produces text. A string
// without "{{" is not a template and stays as it is.
type template struct {
	src   string
	parts []templatePart
	// typed is set when the template is one expression and nothing else.
	typed bool
}

type templatePart struct {
	text string // literal text, when expr is nil
	expr *Expr
}

// isTemplate reports whether a string holds template syntax at all.
func isTemplate(s string) bool { return strings.Contains(s, "{{") }

// parseTemplate splits s into literal text and expression sources. The end
// of an expression is the first "}}" outside string literals and braces, so
// map literals such as {{ {"a": {"b": 1}} }} work.
func parseTemplate(s string) (parts []string, exprs []bool, err error) {
	for len(s) > 0 {
		i := strings.Index(s, "{{")
		if i < 0 {
			parts, exprs = append(parts, s), append(exprs, false)
			break
		}
		if i > 0 {
			parts, exprs = append(parts, s[:i]), append(exprs, false)
		}
		body := s[i+2:]
		end := expressionEnd(body)
		if end < 0 {
			return nil, nil, fmt.Errorf("unclosed {{ in %q", abbreviate(s[i:]))
		}
		src := body[:end]
		if strings.TrimSpace(src) == "" {
			return nil, nil, errors.New("empty {{ }}")
		}
		parts, exprs = append(parts, src), append(exprs, true)
		s = body[end+2:]
	}
	return parts, exprs, nil
}

// expressionEnd returns the index of the "}}" that closes an expression, or
// -1.
func expressionEnd(s string) int {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"', '`':
			quote = c
		case '{', '[', '(':
			depth++
		case ']', ')':
			if depth > 0 {
				depth--
			}
		case '}':
			if depth > 0 {
				depth--
			} else if i+1 < len(s) && s[i+1] == '}' {
				return i
			}
		}
	}
	return -1
}

// abbreviate shortens s to about 40 characters for an error message.
func abbreviate(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// compileTemplate compiles every segment of a template string.
func compileTemplate(s string, sc scope) (*template, error) {
	srcs, isExpr, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	t := &template{src: s}
	for i, src := range srcs {
		if !isExpr[i] {
			t.parts = append(t.parts, templatePart{text: src})
			continue
		}
		e, err := compileExpr(src, sc)
		if err != nil {
			return nil, fmt.Errorf("{{%s}}: %w", src, err)
		}
		t.parts = append(t.parts, templatePart{expr: e})
	}
	exprCount, onlySpace := 0, true
	for _, p := range t.parts {
		if p.expr != nil {
			exprCount++
		} else if strings.TrimSpace(p.text) != "" {
			onlySpace = false
		}
	}
	t.typed = exprCount == 1 && onlySpace
	return t, nil
}

// steps lists the step ids the template reads.
func (t *template) steps() []string {
	var out []string
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr.steps...)
		}
	}
	return out
}

// compileValue compiles the templates inside an input value: it returns a
// copy of v in which every template string is a *template. Problems are
// reported with their path; refs receives each template's step references
// with its path.
func compileValue(v any, path string, sc scope, ps *Problems, refs func(path string, steps []string)) any {
	switch x := v.(type) {
	case string:
		if !isTemplate(x) {
			return x
		}
		t, err := compileTemplate(x, sc)
		if err != nil {
			ps.add(path, "%s", err.Error())
			return x
		}
		refs(path, t.steps())
		return t
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			out[k] = compileValue(x[k], fieldPath(path, k), sc, ps, refs)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = compileValue(e, fmt.Sprintf("%s[%d]", path, i), sc, ps, refs)
		}
		return out
	}
	return v
}

// renderer renders compiled values for one call of a Program method.
type renderer struct {
	vars   Vars
	budget *budget
	out    outputBudget
	// step names the step in errors.
	step string
}

func newRenderer(vars Vars, step string) *renderer {
	return &renderer{vars: vars, budget: newBudget(), step: step}
}

// value renders a compiled value; path names it in errors.
func (r *renderer) value(v any, path string) (any, error) {
	switch x := v.(type) {
	case *template:
		return r.template(x, path)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.value(e, fieldPath(path, k))
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.value(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	}
	return normalize(v, &r.out)
}

func (r *renderer) template(t *template, path string) (any, error) {
	fail := func(src string, err error) error {
		return &EvalError{Step: r.step, Path: path, Expr: "{{" + src + "}}", Err: err}
	}
	if t.typed {
		for _, p := range t.parts {
			if p.expr == nil {
				continue
			}
			v, err := p.expr.eval(r.vars, r.budget)
			if err != nil {
				return nil, fail(p.expr.src, err)
			}
			v, err = normalize(v, &r.out)
			if err != nil {
				return nil, fail(p.expr.src, err)
			}
			return v, nil
		}
	}
	var sb strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			if err := r.out.charge(len(p.text)); err != nil {
				return nil, &EvalError{Step: r.step, Path: path, Expr: abbreviate(t.src), Err: err}
			}
			sb.WriteString(p.text)
			continue
		}
		v, err := p.expr.eval(r.vars, r.budget)
		if err != nil {
			return nil, fail(p.expr.src, err)
		}
		s, err := textOf(v, &r.out)
		if err != nil {
			return nil, fail(p.expr.src, err)
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

// outputBudget bounds the size of what one render produces.
type outputBudget struct{ n int }

func (o *outputBudget) charge(n int) error {
	if n > maxOutputBytes-o.n {
		return fmt.Errorf("%w: the result would be larger than %d MiB", ErrLimit, maxOutputBytes>>20)
	}
	o.n += n
	return nil
}

// normalize copies an expression result into plain JSON values: numbers
// stay numbers, times become RFC 3339 strings, other lists and maps become
// []any and map[string]any. It fails on values JSON cannot hold (NaN,
// functions) and on results larger than the output limit.
func normalize(v any, o *outputBudget) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, o.charge(4)
	case bool:
		return x, o.charge(5)
	case string:
		return x, o.charge(len(x) + 2)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("the result %v is not a number JSON can hold", x)
		}
		return x, o.charge(8)
	case float32:
		return normalize(float64(x), o)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return x, o.charge(8)
	case time.Time:
		return normalize(x.Format(time.RFC3339Nano), o)
	case time.Duration:
		return normalize(Duration(x).String(), o)
	case []any:
		if err := o.charge(2); err != nil {
			return nil, err
		}
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, o)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		if err := o.charge(2); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if err := o.charge(len(k) + 3); err != nil {
				return nil, err
			}
			n, err := normalize(e, o)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, o.charge(4)
		}
		items := make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
		return normalize(items, o)
	case reflect.Map:
		if rv.IsNil() {
			return nil, o.charge(4)
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[keyString(it.Key().Interface())] = it.Value().Interface()
		}
		return normalize(m, o)
	case reflect.String:
		return normalize(rv.String(), o)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, o.charge(4)
		}
	}
	return nil, fmt.Errorf("the result is a %T, which is not a JSON value", v)
}

func keyString(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	if s, err := textOf(k, &outputBudget{}); err == nil {
		return s
	}
	return fmt.Sprint(k)
}

// textOf renders a value as text inside a larger string: nil is empty,
// strings are themselves, whole numbers have no decimal point, and lists
// and objects are JSON.
func textOf(v any, o *outputBudget) (string, error) {
	v, err := normalize(v, o)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return formatNumber(x), nil
	case json.Number:
		return string(x), nil
	case []any, map[string]any:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return "", err
		}
		return strings.TrimSuffix(buf.String(), "\n"), nil
	}
	return fmt.Sprint(v), nil
}

// formatNumber prints a float64 the way JSON does: 3 rather than 3.0 or
// 3e+00, and 0.1 rather than 0.1000000000000000055.
func formatNumber(f float64) string {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
