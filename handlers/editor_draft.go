package handlers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/flows"
)

// Editing a draft definition: the graph operations behind the editor's "+"
// buttons, delete and rename. They work on a decoded definition and keep
// every step's needs explicit, so that moving steps in the list never
// changes the graph.

// triggerNode names the trigger where the editor means "a node"; step ids
// match [a-z][a-z0-9_]*, so it can never be a step's.
const triggerNode = "$trigger"

// decodeWorking reads a stored draft or version. Drafts may be invalid
// (that is what drafts are for) but they are always written by the editor
// from a flows.Definition, so the strict decoder only fails on definitions
// stored by older code; those are read leniently.
func decodeWorking(raw []byte) (*flows.Definition, error) {
	def, err := flows.Decode(raw)
	if err == nil {
		return def, nil
	}
	var lenient flows.Definition
	if jerr := json.Unmarshal(raw, &lenient); jerr != nil {
		return nil, err
	}
	return &lenient, nil
}

// explicitNeeds replaces every omitted needs with what it resolves to.
func explicitNeeds(def *flows.Definition) {
	resolved := flows.ResolvedNeeds(def)
	for i := range def.Steps {
		s := &def.Steps[i]
		if s.Needs == nil {
			n := append([]string{}, resolved[s.ID]...)
			s.Needs = &n
		}
	}
}

func stepIndex(def *flows.Definition, id string) int {
	for i, s := range def.Steps {
		if s.ID == id {
			return i
		}
	}
	return -1
}

func needsOf(s *flows.Step) []string {
	if s.Needs == nil {
		return nil
	}
	return *s.Needs
}

func setNeeds(s *flows.Step, needs []string) {
	n := append([]string{}, needs...)
	s.Needs = &n
}

// insertStep adds a step running action after the node after (triggerNode
// for right after the trigger) and, when before is a step, in front of it:
// before then waits for the new step instead of after. It returns the new
// step's id.
func insertStep(def *flows.Definition, action, after, before string) (string, error) {
	explicitNeeds(def)
	if after != triggerNode && stepIndex(def, after) < 0 {
		return "", fmt.Errorf("no step %q to add after", after)
	}
	bi := -1
	if before != "" {
		if bi = stepIndex(def, before); bi < 0 {
			return "", fmt.Errorf("no step %q to add before", before)
		}
	}
	connector, _, _ := strings.Cut(action, ".")
	id := uniqueStepID(def, connector)
	s := flows.Step{ID: id, Action: action, Needs: &[]string{}}
	if after != triggerNode {
		s.Needs = &[]string{after}
	}
	if bi >= 0 {
		b := &def.Steps[bi]
		needs := needsOf(b)
		if after == triggerNode {
			needs = append(needs, id)
		} else if j := slices.Index(needs, after); j >= 0 {
			needs[j] = id
		} else {
			needs = append(needs, id)
		}
		setNeeds(b, needs)
		def.Steps = slices.Insert(def.Steps, bi, s)
	} else {
		def.Steps = append(def.Steps, s)
	}
	return id, nil
}

// deleteStep removes a step; the steps that waited for it wait for what it
// waited for instead, so the graph stays connected.
func deleteStep(def *flows.Definition, id string) bool {
	explicitNeeds(def)
	i := stepIndex(def, id)
	if i < 0 {
		return false
	}
	inherited := needsOf(&def.Steps[i])
	def.Steps = slices.Delete(def.Steps, i, i+1)
	for j := range def.Steps {
		s := &def.Steps[j]
		needs := needsOf(s)
		k := slices.Index(needs, id)
		if k < 0 {
			continue
		}
		var out []string
		for _, n := range needs {
			if n != id && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		for _, n := range inherited {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		setNeeds(s, out)
	}
	return true
}

// renameStep changes a step's id in the needs of the steps after it.
// Templates that read steps.<old> are left for validation to point out.
func renameStep(def *flows.Definition, old, id string) {
	for j := range def.Steps {
		s := &def.Steps[j]
		if s.ID == old {
			s.ID = id
		}
		if s.Needs == nil {
			continue
		}
		for k, n := range *s.Needs {
			if n == old {
				(*s.Needs)[k] = id
			}
		}
	}
}

// uniqueStepID makes a valid step id from base that no step has yet:
// "slack", then "slack_2", "slack_3", ….
func uniqueStepID(def *flows.Definition, base string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	id := strings.Trim(b.String(), "_")
	if id == "" {
		id = "step"
	}
	if len(id) > 50 {
		id = id[:50]
	}
	if stepIndex(def, id) < 0 {
		return id
	}
	for n := 2; ; n++ {
		c := fmt.Sprintf("%s_%d", id, n)
		if stepIndex(def, c) < 0 {
			return c
		}
	}
}

// downstream returns the ids of the steps that transitively wait for id.
func stepsDownstream(def *flows.Definition, id string) map[string]bool {
	needs := flows.ResolvedNeeds(def)
	out := map[string]bool{}
	changed := true
	for changed {
		changed = false
		for s, ns := range needs {
			if out[s] || s == id {
				continue
			}
			for _, n := range ns {
				if n == id || out[n] {
					out[s] = true
					changed = true
					break
				}
			}
		}
	}
	return out
}

// marshalDefinition is the JSON the editor stores for a definition.
func marshalDefinition(def *flows.Definition) ([]byte, error) {
	if def.Steps == nil {
		def.Steps = []flows.Step{}
	}
	raw, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("editor: encode definition: %w", err)
	}
	return raw, nil
}

// editorPrettyJSON indents a JSON value for people, in a stable key order.
func editorPrettyJSON(v any) string {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// editorPrettyDefinition indents a stored definition in its fields' order.
func editorPrettyDefinition(raw []byte) string {
	if def, err := decodeWorking(raw); err == nil {
		return editorPrettyJSON(def)
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		return editorPrettyJSON(v)
	}
	return string(raw)
}
