package connectors

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FieldProblem is one invalid field: Path is "config.base_url",
// "secrets.token" or "input.channel"; Message is a sentence for a person.
type FieldProblem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Catalog is the fixed list of connectors a server offers, with lookups by
// connector, action and trigger key, and validation of connections and
// action inputs against their field specs. It is read-only after NewCatalog
// and safe for concurrent use.
type Catalog struct {
	connectors []Connector
	byKey      map[string]Connector
	actions    map[string]Action
	actionList []ActionSpec
	triggers   map[string]TriggerSpec
}

// NewCatalog builds a catalog of cs, in that order. The list is fixed at
// compile time (see package catalog), so a duplicate connector, action or
// trigger key, or an action key that does not start with "<connector>.", is a
// programming error and panics.
func NewCatalog(cs ...Connector) *Catalog {
	c := &Catalog{
		byKey:    make(map[string]Connector, len(cs)),
		actions:  make(map[string]Action),
		triggers: make(map[string]TriggerSpec),
	}
	for _, conn := range cs {
		key := conn.Key()
		if _, dup := c.byKey[key]; dup {
			panic(fmt.Sprintf("connectors: duplicate connector key %q", key))
		}
		c.byKey[key] = conn
		c.connectors = append(c.connectors, conn)
		for _, a := range conn.Actions() {
			spec := a.Spec()
			if !strings.HasPrefix(spec.Key, key+".") {
				panic(fmt.Sprintf("connectors: action %q of connector %q must start with %q", spec.Key, key, key+"."))
			}
			if _, dup := c.actions[spec.Key]; dup {
				panic(fmt.Sprintf("connectors: duplicate action key %q", spec.Key))
			}
			c.actions[spec.Key] = a
			c.actionList = append(c.actionList, spec)
		}
		for _, t := range conn.Triggers() {
			if _, dup := c.triggers[t.Key]; dup {
				panic(fmt.Sprintf("connectors: duplicate trigger key %q", t.Key))
			}
			c.triggers[t.Key] = t
		}
	}
	return c
}

// Connectors returns every connector in catalog order.
func (c *Catalog) Connectors() []Connector {
	return append([]Connector(nil), c.connectors...)
}

// Connector returns the connector with key.
func (c *Catalog) Connector(key string) (Connector, bool) {
	conn, ok := c.byKey[key]
	return conn, ok
}

// Action returns the action with key ("slack.post_message").
func (c *Catalog) Action(key string) (Action, bool) {
	a, ok := c.actions[key]
	return a, ok
}

// ActionSpecs returns the specs of every action in catalog order.
func (c *Catalog) ActionSpecs() []ActionSpec {
	return append([]ActionSpec(nil), c.actionList...)
}

// Trigger returns the trigger spec with key ("slack.events").
func (c *Catalog) Trigger(key string) (TriggerSpec, bool) {
	t, ok := c.triggers[key]
	return t, ok
}

// Tester returns the connector's connection tester, when it has one.
func (c *Catalog) Tester(connectorKey string) (Tester, bool) {
	t, ok := c.byKey[connectorKey].(Tester)
	return t, ok
}

// IsTemplate reports whether s holds a {{ … }} template, whose type is only
// known once rendered; validation lets such values pass type checks.
func IsTemplate(s string) bool {
	return strings.Contains(s, "{{")
}

// IsSecretField reports whether f is stored encrypted among a connection's
// secrets (type secret, or any type marked Secret).
func IsSecretField(f Field) bool {
	return f.Secret || f.Type == FieldSecret
}

// ValidateConnection checks a connection's config and secrets against the
// connector's auth fields: required fields present, values of the right type,
// secret fields only in secrets, no unknown keys. Every HTTP connector
// accepts config.base_url (an http(s) URL) even if it does not list it.
// Secret fields of type json or kv hold a JSON document as text. Messages
// never repeat a secret's value. The result is nil when all is well.
func (c *Catalog) ValidateConnection(connector string, config map[string]any, secrets map[string]string) []FieldProblem {
	conn, ok := c.byKey[connector]
	if !ok {
		return []FieldProblem{{Path: "connector", Message: fmt.Sprintf("unknown connector %q", connector)}}
	}
	var problems []FieldProblem
	add := func(path, msg string) { problems = append(problems, FieldProblem{Path: path, Message: msg}) }
	known := map[string]bool{}
	knownSecret := map[string]bool{}
	for _, f := range conn.AuthFields() {
		if IsSecretField(f) {
			knownSecret[f.Key] = true
			path := "secrets." + f.Key
			if _, inConfig := config[f.Key]; inConfig {
				add("config."+f.Key, "is a secret; send it in secrets."+f.Key)
			}
			v, present := secrets[f.Key]
			if !present || strings.TrimSpace(v) == "" {
				if f.Required {
					add(path, "is required")
				}
				continue
			}
			switch f.Type {
			case FieldJSON:
				if !json.Valid([]byte(v)) {
					add(path, "must be valid JSON")
				}
			case FieldKeyValue:
				var m map[string]string
				if err := json.Unmarshal([]byte(v), &m); err != nil {
					add(path, `must be a JSON object of text values, e.g. {"X-Api-Key":"…"}`)
				}
			case FieldNumber:
				if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
					add(path, "must be a number")
				}
			case FieldSelect:
				if !contains(f.Enum, v) {
					add(path, "must be one of "+strings.Join(f.Enum, ", "))
				}
			}
			continue
		}
		known[f.Key] = true
		path := "config." + f.Key
		if _, inSecrets := secrets[f.Key]; inSecrets {
			add("secrets."+f.Key, "is not a secret; send it in config."+f.Key)
		}
		v, present := config[f.Key]
		if !present || isEmpty(v) {
			if f.Required {
				add(path, "is required")
			}
			continue
		}
		if msg := checkValue(f, v, false); msg != "" {
			add(path, msg)
		} else if f.Key == "base_url" {
			if msg := validBaseURL(fmt.Sprint(v)); msg != "" {
				add(path, msg)
			}
		}
	}
	for _, k := range sortedKeys(config) {
		if known[k] || knownSecret[k] {
			continue
		}
		if k == "base_url" {
			if s, ok := config[k].(string); !ok {
				add("config.base_url", "must be text")
			} else if msg := validBaseURL(s); msg != "" && strings.TrimSpace(s) != "" {
				add("config.base_url", msg)
			}
			continue
		}
		add("config."+k, fmt.Sprintf("is not a setting of %s connections", conn.Key()))
	}
	for _, k := range sortedKeys(secrets) {
		if !knownSecret[k] && !known[k] {
			add("secrets."+k, fmt.Sprintf("is not a secret of %s connections", conn.Key()))
		}
	}
	return problems
}

// ValidateInput checks a step's input against the action's fields before it
// is rendered: required fields present, literal values of the right type, no
// unknown keys. Strings holding {{ … }} templates pass type checks (their
// type is known only at run time), also inside objects and lists. Paths are
// "input.<key>". The result is nil when all is well.
func (c *Catalog) ValidateInput(actionKey string, input map[string]any) []FieldProblem {
	a, ok := c.actions[actionKey]
	if !ok {
		return []FieldProblem{{Path: "action", Message: fmt.Sprintf("unknown action %q", actionKey)}}
	}
	spec := a.Spec()
	var problems []FieldProblem
	known := make(map[string]bool, len(spec.Fields))
	for _, f := range spec.Fields {
		known[f.Key] = true
		path := "input." + f.Key
		v, present := input[f.Key]
		if !present || isEmpty(v) {
			if f.Required {
				problems = append(problems, FieldProblem{Path: path, Message: "is required"})
			}
			continue
		}
		if msg := checkValue(f, v, true); msg != "" {
			problems = append(problems, FieldProblem{Path: path, Message: msg})
		}
	}
	for _, k := range sortedKeys(input) {
		if !known[k] {
			problems = append(problems, FieldProblem{Path: "input." + k, Message: fmt.Sprintf("is not an input of %s", actionKey)})
		}
	}
	return problems
}

// isEmpty is true for nil, blank strings and empty lists or objects.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// checkValue returns what is wrong with v for field f, or "".
func checkValue(f Field, v any, templates bool) string {
	if s, ok := v.(string); ok && templates && IsTemplate(s) {
		return ""
	}
	switch f.Type {
	case FieldString, FieldText, FieldSecret:
		if _, ok := scalarString(v); !ok {
			return "must be text"
		}
	case FieldNumber:
		switch x := v.(type) {
		case float64, float32, int, int64, json.Number:
			return ""
		case string:
			if g, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsNaN(g) && !math.IsInf(g, 0) {
				return ""
			}
		}
		return "must be a number"
	case FieldBool:
		switch x := v.(type) {
		case bool:
			return ""
		case string:
			if s := strings.ToLower(strings.TrimSpace(x)); s == "true" || s == "false" {
				return ""
			}
		}
		return "must be true or false"
	case FieldSelect:
		s, ok := scalarString(v)
		if !ok || !contains(f.Enum, s) {
			return "must be one of " + strings.Join(f.Enum, ", ")
		}
	case FieldJSON:
		if s, ok := v.(string); ok {
			t := strings.TrimSpace(s)
			if (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && !json.Valid([]byte(t)) {
				return "is not valid JSON"
			}
		}
	case FieldKeyValue:
		m, ok := v.(map[string]any)
		if !ok {
			if s, isStr := v.(string); isStr {
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					return "must be an object of text values"
				}
			} else if _, isSM := v.(map[string]string); isSM {
				return ""
			} else {
				return "must be an object of text values"
			}
		}
		for _, k := range sortedKeys(m) {
			if m[k] == nil {
				continue
			}
			if _, ok := scalarString(m[k]); !ok {
				return fmt.Sprintf("must be an object of text values (%q is not text)", k)
			}
		}
	case FieldList:
		switch x := v.(type) {
		case string, []string:
			return ""
		case []any:
			for i, item := range x {
				if item == nil {
					continue
				}
				if _, ok := scalarString(item); !ok {
					return fmt.Sprintf("must be a list of text (item %d is not text)", i)
				}
			}
		default:
			return "must be a list of text"
		}
	default:
		return fmt.Sprintf("has unknown field type %q", f.Type)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CatalogView is the JSON answer of GET /api/v1/connectors.
type CatalogView struct {
	Connectors []ConnectorView `json:"connectors"`
}

// ConnectorView is one connector in CatalogView.
type ConnectorView struct {
	Key      string        `json:"key"`
	Name     string        `json:"name"`
	Auth     AuthView      `json:"auth"`
	Actions  []ActionSpec  `json:"actions"`
	Triggers []TriggerSpec `json:"triggers"`
}

// AuthView lists a connector's connection fields. TestConnection is true
// when the connector can test a connection (it implements Tester).
type AuthView struct {
	Fields         []Field `json:"fields"`
	TestConnection bool    `json:"test_connection"`
}

// View returns the catalog as served by GET /api/v1/connectors. Lists are
// never nil, so they encode as [] rather than null.
func (c *Catalog) View() CatalogView {
	v := CatalogView{Connectors: make([]ConnectorView, 0, len(c.connectors))}
	for _, conn := range c.connectors {
		_, testable := conn.(Tester)
		cv := ConnectorView{
			Key:      conn.Key(),
			Name:     conn.Name(),
			Auth:     AuthView{Fields: nonNil(conn.AuthFields()), TestConnection: testable},
			Actions:  []ActionSpec{},
			Triggers: []TriggerSpec{},
		}
		for _, a := range conn.Actions() {
			spec := a.Spec()
			spec.Fields = nonNil(spec.Fields)
			cv.Actions = append(cv.Actions, spec)
		}
		for _, t := range conn.Triggers() {
			t.Fields = nonNil(t.Fields)
			cv.Triggers = append(cv.Triggers, t)
		}
		v.Connectors = append(v.Connectors, cv)
	}
	return v
}

// MarshalJSON encodes View().
func (c *Catalog) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.View())
}

func nonNil(fs []Field) []Field {
	if fs == nil {
		return []Field{}
	}
	return fs
}
