package connectors

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The Input* helpers read typed values from Request.Input. The rendered input
// keeps the types of whole-value templates ("{{ trigger.tags }}" may be a
// list), so they accept every reasonable encoding of a value: numbers for
// text, numeric strings for numbers, a JSON string for an object. A missing or
// invalid value is a *PermanentError whose message names the field
// ("input.channel is required"); values are never quoted, as they may be secret.

// MissingInput returns the *PermanentError for a required input that is absent.
func MissingInput(key string) error {
	return Permanent(0, "input."+key+" is required")
}

// InvalidInput returns the *PermanentError for an input with a wrong value;
// problem completes the sentence "input.<key> …", e.g. "must be a number".
func InvalidInput(key, problem string) error {
	return Permanent(0, "input."+key+" "+problem)
}

// InputString returns the required text input key, trimmed of surrounding space.
func InputString(in map[string]any, key string) (string, error) {
	s, err := InputOptionalString(in, key)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", MissingInput(key)
	}
	return s, nil
}

// InputOptionalString returns the text input key trimmed of surrounding
// space, or "" when it is absent or null. Numbers and booleans are formatted.
func InputOptionalString(in map[string]any, key string) (string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := scalarString(v)
	if !ok {
		return "", InvalidInput(key, "must be text")
	}
	return strings.TrimSpace(s), nil
}

// InputText is like InputOptionalString but keeps surrounding white space,
// for message bodies where it matters.
func InputText(in map[string]any, key string) (string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := scalarString(v)
	if !ok {
		return "", InvalidInput(key, "must be text")
	}
	return s, nil
}

// scalarString formats strings, numbers and booleans; ok is false otherwise.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), true
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// InputMap returns the object input key, or nil when it is absent, null or "".
// A string holding a JSON object is decoded.
func InputMap(in map[string]any, key string) (map[string]any, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, s := range x {
			out[k] = s
		}
		return out, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err != nil || m == nil {
			return nil, InvalidInput(key, "must be an object")
		}
		return m, nil
	}
	return nil, InvalidInput(key, "must be an object")
}

// InputStringMap returns the key/value input key (headers, merge fields) with
// every value formatted as text, or nil when absent.
func InputStringMap(in map[string]any, key string) (map[string]string, error) {
	m, err := InputMap(in, key)
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			return nil, InvalidInput(key+"."+k, "must be text")
		}
		out[k] = s
	}
	return out, nil
}

// InputStringList returns the list input key, or nil when absent. A list of
// strings or numbers is accepted, as is one string of comma-separated items.
// Items are trimmed and empty items dropped.
func InputStringList(in map[string]any, key string) ([]string, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return nil, nil
	}
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			add(s)
		}
	case []any:
		for i, item := range x {
			if item == nil {
				continue
			}
			s, ok := scalarString(item)
			if !ok {
				return nil, InvalidInput(fmt.Sprintf("%s[%d]", key, i), "must be text")
			}
			add(s)
		}
	case string:
		trimmed := strings.TrimSpace(x)
		if strings.HasPrefix(trimmed, "[") {
			var list []any
			if err := json.Unmarshal([]byte(trimmed), &list); err == nil {
				return InputStringList(map[string]any{key: list}, key)
			}
		}
		for part := range strings.SplitSeq(x, ",") {
			add(part)
		}
	default:
		return nil, InvalidInput(key, "must be a list of text")
	}
	return out, nil
}

// InputBool returns the boolean input key, or def when absent, null or "".
// The strings "true"/"false" (and 1/0, yes/no, on/off) are accepted.
func InputBool(in map[string]any, key string, def bool) (bool, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "":
			return def, nil
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	}
	return false, InvalidInput(key, "must be true or false")
}

// InputNumber returns the numeric input key, or def when absent, null or "".
// Numeric strings are accepted.
func InputNumber(in map[string]any, key string, def float64) (float64, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f, nil
		}
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return def, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, nil
		}
	}
	return 0, InvalidInput(key, "must be a number")
}

// InputDuration returns the duration input key, or def when absent. It takes
// a Go duration ("30s", "1m30s") or a number of seconds; negative is invalid.
func InputDuration(in map[string]any, key string, def time.Duration) (time.Duration, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return def, nil
	}
	if s, isStr := v.(string); isStr {
		s = strings.TrimSpace(s)
		if s == "" {
			return def, nil
		}
		if d, err := time.ParseDuration(s); err == nil {
			if d < 0 {
				return 0, InvalidInput(key, "must not be negative")
			}
			return d, nil
		}
	}
	secs, err := InputNumber(in, key, 0)
	if err != nil {
		return 0, InvalidInput(key, `must be a duration like "30s" or a number of seconds`)
	}
	if secs < 0 || secs > (100*365*24*time.Hour).Seconds() {
		return 0, InvalidInput(key, "is out of range")
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// InputJSON returns input key as a JSON value: objects and arrays as they
// are, a string that holds a JSON object or array decoded, nil when absent.
func InputJSON(in map[string]any, key string) (any, error) {
	v, ok := in[key]
	if !ok || v == nil {
		return nil, nil
	}
	if s, isStr := v.(string); isStr {
		t := strings.TrimSpace(s)
		if t == "" {
			return nil, nil
		}
		if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			var out any
			if err := json.Unmarshal([]byte(t), &out); err != nil {
				return nil, InvalidInput(key, "is not valid JSON")
			}
			return out, nil
		}
	}
	return v, nil
}

// BaseURL returns the connection's config.base_url without a trailing slash,
// or def when the connection has none.
func BaseURL(conn *Connection, def string) string {
	if conn != nil {
		if s, ok := conn.Config["base_url"].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimRight(strings.TrimSpace(s), "/")
		}
	}
	return strings.TrimRight(def, "/")
}

// Secret returns the connection's secret key, or "" (nil connections included).
func Secret(conn *Connection, key string) string {
	if conn == nil {
		return ""
	}
	return conn.Secrets[key]
}

// RequireSecret returns the secret key or a *PermanentError naming it (never
// its value) when it is empty.
func RequireSecret(conn *Connection, service, key string) (string, error) {
	if conn == nil {
		return "", Permanent(0, service+": this action needs a connection")
	}
	s := strings.TrimSpace(conn.Secrets[key])
	if s == "" {
		return "", Permanent(0, service+": the connection has no secrets."+key)
	}
	return s, nil
}

// ConfigString returns the connection's config key as trimmed text, or "".
func ConfigString(conn *Connection, key string) string {
	if conn == nil {
		return ""
	}
	s, _ := scalarString(conn.Config[key])
	return strings.TrimSpace(s)
}

// validBaseURL reports what is wrong with a base_url value, or "".
func validBaseURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http(s) URL such as https://example.com"
	}
	if u.User != nil {
		return "must not contain credentials"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "must not have a query or fragment"
	}
	return ""
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
