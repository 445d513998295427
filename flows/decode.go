package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Decode reads a definition from JSON, strictly: unknown fields, values of
// the wrong type, duplicate fields and data after the definition are all
// refused. The error is a *[Problems] that names the JSON path of every
// problem. Decode checks only the shape; call [Validate] for the meaning.
func Decode(data []byte) (*Definition, error) {
	ps := &Problems{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		ps.add("", "%s", describeJSONError(data, err))
		return nil, ps
	}
	if _, err := dec.Token(); err != io.EOF {
		ps.add("", "unexpected data after the definition")
		return nil, ps
	}
	d := decoder{ps: ps}
	def := &Definition{}
	d.object("", raw, func(key, path string, v json.RawMessage) bool {
		switch key {
		case "trigger":
			d.trigger(path, v, &def.Trigger)
		case "steps":
			d.steps(path, v, &def.Steps)
		default:
			return false
		}
		return true
	}, "trigger", "steps")
	if err := ps.err(); err != nil {
		return nil, err
	}
	return def, nil
}

// describeJSONError turns a syntax error into a sentence with a line and
// column.
func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return "the definition is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: unexpected end of input"
	case errors.As(err, &se):
		line, col := 1, 1
		// Offset counts the offending byte too.
		for _, b := range data[:max(0, min(int(se.Offset)-1, len(data)))] {
			if b == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("invalid JSON at line %d, column %d: %s", line, col, trimJSONPrefix(se.Error()))
	}
	return "invalid JSON: " + trimJSONPrefix(err.Error())
}

func trimJSONPrefix(s string) string {
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}

type decoder struct {
	ps *Problems
}

// object walks a JSON object's members in order, calling field for each.
// field reports whether it knows the key; unknown keys and repeated keys
// are problems. known lists the known keys for spelling suggestions.
func (d decoder) object(path string, raw json.RawMessage, field func(key, path string, v json.RawMessage) bool, known ...string) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		d.ps.add(path, "must be an object")
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			d.ps.add(path, "invalid object")
			return false
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			d.ps.add(path, "invalid object")
			return false
		}
		p := fieldPath(path, key)
		if seen[key] {
			d.ps.add(p, "duplicate field")
			continue
		}
		seen[key] = true
		if !field(key, p, v) {
			if s := suggest(key, known); s != "" {
				d.ps.add(p, "unknown field (did you mean %q?)", s)
			} else {
				d.ps.add(p, "unknown field")
			}
		}
	}
	return true
}

func (d decoder) trigger(path string, raw json.RawMessage, t *Trigger) {
	if isNull(raw) {
		return
	}
	d.object(path, raw, func(key, path string, v json.RawMessage) bool {
		switch key {
		case "type":
			d.str(path, v, &t.Type)
		case "if":
			d.str(path, v, &t.If)
		case "idempotency_key":
			d.str(path, v, &t.IdempotencyKey)
		case "batch":
			if isNull(v) {
				return true
			}
			t.Batch = &Batch{}
			d.object(path, v, func(key, path string, v json.RawMessage) bool {
				switch key {
				case "window":
					d.duration(path, v, &t.Batch.Window)
				case "max":
					d.integer(path, v, &t.Batch.Max)
				default:
					return false
				}
				return true
			}, "window", "max")
		case "config":
			t.Config = d.objectValue(path, v)
		case "sample":
			if err := json.Unmarshal(v, &t.Sample); err != nil {
				d.ps.add(path, "%s", trimJSONPrefix(err.Error()))
			}
		default:
			return false
		}
		return true
	}, "type", "if", "idempotency_key", "batch", "config", "sample")
}

func (d decoder) steps(path string, raw json.RawMessage, steps *[]Step) {
	if isNull(raw) {
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		d.ps.add(path, "must be an array of steps")
		return
	}
	*steps = make([]Step, len(items))
	for i, item := range items {
		d.step(fmt.Sprintf("%s[%d]", path, i), item, &(*steps)[i])
	}
}

var stepFields = []string{"id", "name", "action", "connection", "needs", "if", "retry", "timeout", "input", "undo"}

func (d decoder) step(path string, raw json.RawMessage, s *Step) {
	d.object(path, raw, func(key, path string, v json.RawMessage) bool {
		switch key {
		case "id":
			d.str(path, v, &s.ID)
		case "name":
			d.str(path, v, &s.Name)
		case "action":
			d.str(path, v, &s.Action)
		case "connection":
			d.str(path, v, &s.Connection)
		case "needs":
			s.Needs = d.needs(path, v)
		case "if":
			d.str(path, v, &s.If)
		case "retry":
			if isNull(v) {
				return true
			}
			s.Retry = &RetryPolicy{}
			d.object(path, v, func(key, path string, v json.RawMessage) bool {
				switch key {
				case "max_attempts":
					d.integer(path, v, &s.Retry.MaxAttempts)
				case "initial_interval":
					d.duration(path, v, &s.Retry.InitialInterval)
				case "max_interval":
					d.duration(path, v, &s.Retry.MaxInterval)
				default:
					return false
				}
				return true
			}, "max_attempts", "initial_interval", "max_interval")
		case "timeout":
			d.duration(path, v, &s.Timeout)
		case "input":
			s.Input = d.objectValue(path, v)
		case "undo":
			if isNull(v) {
				return true
			}
			s.Undo = &Undo{}
			d.object(path, v, func(key, path string, v json.RawMessage) bool {
				switch key {
				case "action":
					d.str(path, v, &s.Undo.Action)
				case "connection":
					d.str(path, v, &s.Undo.Connection)
				case "input":
					s.Undo.Input = d.objectValue(path, v)
				default:
					return false
				}
				return true
			}, "action", "connection", "input")
		default:
			return false
		}
		return true
	}, stepFields...)
}

func (d decoder) str(path string, raw json.RawMessage, dst *string) {
	if isNull(raw) {
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.ps.add(path, "must be a string")
	}
}

func (d decoder) integer(path string, raw json.RawMessage, dst *int) {
	if isNull(raw) {
		return
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '"' {
		d.ps.add(path, "must be an integer")
		return
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		d.ps.add(path, "must be an integer")
		return
	}
	f, err := strconv.ParseFloat(string(n), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), f != math.Trunc(f):
		d.ps.add(path, "must be an integer")
	case err != nil, f < math.MinInt32, f > math.MaxInt32:
		d.ps.add(path, "must be an integer between %d and %d", math.MinInt32, math.MaxInt32)
	default:
		*dst = int(f)
	}
}

func (d decoder) duration(path string, raw json.RawMessage, dst *Duration) {
	if isNull(raw) {
		return
	}
	if err := dst.UnmarshalJSON(raw); err != nil {
		d.ps.add(path, "%s", err.Error())
	}
}

func (d decoder) needs(path string, raw json.RawMessage) *[]string {
	if isNull(raw) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		d.ps.add(path, "must be an array of step ids")
		return nil
	}
	out := make([]string, len(items))
	for i, item := range items {
		if err := json.Unmarshal(item, &out[i]); err != nil || isNull(item) {
			d.ps.add(fmt.Sprintf("%s[%d]", path, i), "must be a step id (a string)")
		}
	}
	return &out
}

// objectValue decodes a free-form JSON object (an input or a config). An
// empty object decodes to nil, so that a definition survives a round trip
// unchanged.
func (d decoder) objectValue(path string, raw json.RawMessage) map[string]any {
	if isNull(raw) {
		return nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		d.ps.add(path, "must be an object")
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		d.ps.add(path, "%s", trimJSONPrefix(err.Error()))
		return nil
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// fieldPath appends an object key to a path: "steps[0]" + "id" is
// "steps[0].id"; keys that are not identifiers use brackets:
// input["X-Header"].
func fieldPath(path, key string) string {
	if identRE.MatchString(key) {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	var q bytes.Buffer
	enc := json.NewEncoder(&q)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(key)
	return path + "[" + strings.TrimSuffix(q.String(), "\n") + "]"
}

// suggest returns the known key closest to key when it is a likely typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	for _, k := range sorted {
		if dist := editDistance(key, k, bestDist); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if len(key) < 3 && bestDist > 1 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}
