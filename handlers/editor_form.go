package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/web/editor"
)

// The step form: how an action's inputs are shown in form fields and read
// back. Every field may hold {{ … }} templates; typed fields (number, bool,
// JSON, key-value, list) store typed values when the text is one, and the
// text itself (a template to render at run time) otherwise.

var stepIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// inputFields lists the action's inputs as form fields showing input's
// values (raw holds text typed into a refused form).
func inputFields(spec connectors.ActionSpec, input map[string]any, raw map[string]string) []editor.InputField {
	out := make([]editor.InputField, 0, len(spec.Fields))
	for _, f := range spec.Fields {
		fv := editor.InputField{Key: f.Key, Label: f.Label, Type: string(f.Type), Help: f.Help, Required: f.Required, Options: f.Enum}
		if fv.Label == "" {
			fv.Label = f.Key
		}
		if f.Type == connectors.FieldSecret {
			fv.Type = string(connectors.FieldString)
		}
		if f.Example != nil {
			fv.Placeholder = displayValue(f.Type, f.Example)
			if strings.Contains(fv.Placeholder, "\n") {
				fv.Placeholder = compactJSON(f.Example)
			}
		}
		if f.Type == connectors.FieldSelect && f.Default != nil {
			fv.Placeholder = fmt.Sprint(f.Default)
		}
		if v, ok := input[f.Key]; ok {
			fv.Value = displayValue(f.Type, v)
			// A template where the form offers fixed choices: show it as text.
			if s, isStr := v.(string); isStr && connectors.IsTemplate(s) && (f.Type == connectors.FieldBool || f.Type == connectors.FieldSelect) {
				fv.Type = string(connectors.FieldString)
			}
		}
		if r, ok := raw["in."+f.Key]; ok {
			fv.Value = r
		}
		out = append(out, fv)
	}
	return out
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// displayValue writes a stored input value as the field's text.
func displayValue(t connectors.FieldType, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	switch t {
	case connectors.FieldKeyValue:
		if m, ok := v.(map[string]any); ok {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(m)) {
				val, isStr := m[k].(string)
				if !isStr {
					val = compactJSON(m[k])
				}
				fmt.Fprintf(&b, "%s: %s\n", k, val)
			}
			return strings.TrimSuffix(b.String(), "\n")
		}
	case connectors.FieldList:
		if l, ok := v.([]any); ok {
			lines := make([]string, len(l))
			for i, item := range l {
				if s, isStr := item.(string); isStr {
					lines[i] = s
				} else {
					lines[i] = compactJSON(item)
				}
			}
			return strings.Join(lines, "\n")
		}
		if l, ok := v.([]string); ok {
			return strings.Join(l, "\n")
		}
	case connectors.FieldJSON:
		return editorPrettyJSON(v)
	case connectors.FieldNumber, connectors.FieldBool:
		return compactJSON(v)
	}
	return compactJSON(v)
}

// parseInput reads a field's text as the value to store; ok is false for
// an empty field (the input is left out).
func parseInput(t connectors.FieldType, text string) (any, bool) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return nil, false
	}
	switch t {
	case connectors.FieldString, connectors.FieldSecret, connectors.FieldSelect:
		return trimmed, true
	case connectors.FieldText:
		return strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), " \n\t"), true
	case connectors.FieldNumber:
		if f, err := strconv.ParseFloat(trimmed, 64); err == nil {
			return f, true
		}
		return trimmed, true
	case connectors.FieldBool:
		switch strings.ToLower(trimmed) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return trimmed, true
	case connectors.FieldJSON:
		if v, ok := decodeJSONValue(trimmed); ok {
			return v, true
		}
		return trimmed, true
	case connectors.FieldKeyValue:
		if isWholeTemplate(trimmed) {
			return trimmed, true
		}
		if strings.HasPrefix(trimmed, "{") {
			if v, ok := decodeJSONValue(trimmed); ok {
				return v, true
			}
		}
		m := map[string]any{}
		for _, line := range strings.Split(trimmed, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			k, v, found := strings.Cut(line, ":")
			if !found {
				k, v, _ = strings.Cut(line, "=")
			}
			if k = strings.TrimSpace(k); k != "" {
				m[k] = strings.TrimSpace(v)
			}
		}
		return m, true
	case connectors.FieldList:
		if isWholeTemplate(trimmed) && !strings.Contains(trimmed, "\n") {
			return trimmed, true
		}
		if strings.HasPrefix(trimmed, "[") {
			if v, ok := decodeJSONValue(trimmed); ok {
				return v, true
			}
		}
		var items []any
		for _, line := range strings.Split(trimmed, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				items = append(items, line)
			}
		}
		return items, true
	}
	return trimmed, true
}

// isWholeTemplate is true for text that is exactly one {{ … }}.
func isWholeTemplate(s string) bool {
	return strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1
}

// decodeJSONValue decodes one JSON object or list; numbers stay exact.
func decodeJSONValue(s string) (any, bool) {
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		return nil, false
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// editorFormValues reads the posted form (urlencoded or multipart) as lists.
func editorFormValues(c *fiber.Ctx) map[string][]string {
	out := map[string][]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		out[string(k)] = append(out[string(k)], string(v))
	})
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		for k, vs := range mf.Value {
			out[k] = append(out[k], vs...)
		}
	}
	return out
}

func formFirst(vals map[string][]string, k string) (string, bool) {
	v, ok := vals[k]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// parseStepForm applies a posted step form to a copy of step orig. raw
// keeps the text of the fields it could not read, errs says why; such a
// form must not be saved.
func (a *app) parseStepForm(vals map[string][]string, def *flows.Definition, orig flows.Step) (s flows.Step, raw, errs map[string]string) {
	s = orig
	raw, errs = map[string]string{}, map[string]string{}
	bad := func(k, v, msg string) {
		raw[k], errs[k] = v, msg
	}
	if v, ok := formFirst(vals, "id"); ok {
		id := strings.TrimSpace(v)
		switch {
		case id == "":
			bad("id", v, "Required.")
		case !stepIDPattern.MatchString(id) || len(id) > 64:
			bad("id", v, "Use lowercase letters, digits and _, starting with a letter (at most 64).")
		case id != orig.ID && stepIndex(def, id) >= 0:
			bad("id", v, fmt.Sprintf("Another step is already called %q.", id))
		default:
			s.ID = id
		}
	}
	if v, ok := formFirst(vals, "name"); ok {
		s.Name = strings.TrimSpace(v)
	}
	if v, ok := formFirst(vals, "if"); ok {
		s.If = strings.TrimSpace(v)
	}
	if v, ok := formFirst(vals, "connection"); ok {
		s.Connection = strings.TrimSpace(v)
	}
	// The checkboxes are all in the form; none ticked posts nothing.
	if _, ok := formFirst(vals, "id"); ok {
		needs := []string{}
		for _, n := range vals["needs"] {
			if n != orig.ID && !slices.Contains(needs, n) {
				needs = append(needs, n)
			}
		}
		s.Needs = &needs
	}
	var retry flows.RetryPolicy
	if v, ok := formFirst(vals, "retry.max_attempts"); ok {
		if t := strings.TrimSpace(v); t != "" {
			n, err := strconv.Atoi(t)
			if err != nil || n < 1 || n > flows.MaxAttempts {
				bad("retry.max_attempts", v, fmt.Sprintf("A whole number from 1 to %d.", flows.MaxAttempts))
			} else {
				retry.MaxAttempts = n
			}
		}
	}
	duration := func(k string, dst *flows.Duration) {
		v, ok := formFirst(vals, k)
		if !ok {
			return
		}
		t := strings.TrimSpace(v)
		if t == "" {
			*dst = 0
			return
		}
		d, err := flows.ParseDuration(t)
		if err != nil || d <= 0 {
			bad(k, v, `A duration such as "30s", "10m" or "2h".`)
			return
		}
		*dst = d
	}
	duration("retry.initial_interval", &retry.InitialInterval)
	duration("retry.max_interval", &retry.MaxInterval)
	if _, ok := formFirst(vals, "retry.max_attempts"); ok {
		if retry == (flows.RetryPolicy{}) {
			s.Retry = nil
		} else {
			s.Retry = &retry
		}
	}
	duration("timeout", &s.Timeout)

	// Inputs: the action's fields from the form; keys the form does not show
	// are kept as they were.
	if a.Catalog != nil {
		if act, ok := a.Catalog.Action(s.Action); ok {
			input := map[string]any{}
			for k, v := range orig.Input {
				input[k] = v
			}
			for _, f := range act.Spec().Fields {
				text, posted := formFirst(vals, "in."+f.Key)
				if !posted {
					continue
				}
				if v, ok := parseInput(f.Type, text); ok {
					input[f.Key] = v
				} else {
					delete(input, f.Key)
				}
			}
			s.Input = input
			if len(input) == 0 {
				s.Input = nil
			}
		}
	}
	return s, raw, errs
}

// parseTriggerForm applies a posted trigger form to t and reads the sample
// event; errs says what could not be read (then nothing is saved).
func parseTriggerForm(vals map[string][]string, t flows.Trigger) (out flows.Trigger, sample any, sampleSet bool, raw, errs map[string]string) {
	out = t
	raw, errs = map[string]string{}, map[string]string{}
	if v, ok := formFirst(vals, "type"); ok && strings.TrimSpace(v) != "" {
		out.Type = strings.TrimSpace(v)
	}
	if v, ok := formFirst(vals, "if"); ok {
		out.If = strings.TrimSpace(v)
	}
	if v, ok := formFirst(vals, "idempotency_key"); ok {
		out.IdempotencyKey = strings.TrimSpace(v)
	}
	if v, ok := formFirst(vals, "sample"); ok {
		sampleSet = true
		if strings.TrimSpace(v) != "" {
			dec := json.NewDecoder(bytes.NewReader([]byte(v)))
			if err := dec.Decode(&sample); err != nil || dec.More() {
				raw["sample"] = v
				errs["sample"] = "Not valid JSON: " + sampleJSONProblem(v, err)
			}
		}
	}
	return out, sample, sampleSet, raw, errs
}

// sampleJSONProblem describes a JSON syntax error briefly.
func sampleJSONProblem(text string, err error) string {
	if err == nil {
		return "there is more than one value."
	}
	var se *json.SyntaxError
	if ok := asSyntaxError(err, &se); ok {
		line := 1 + strings.Count(text[:min(int(se.Offset), len(text))], "\n")
		return fmt.Sprintf("%s (line %d).", se.Error(), line)
	}
	return err.Error() + "."
}

func asSyntaxError(err error, target **json.SyntaxError) bool {
	se, ok := err.(*json.SyntaxError)
	if ok {
		*target = se
	}
	return ok
}
