package handlers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/web/editor"
)

// draftProblems are the problems of a working definition, found exactly as
// publishing (and the API) would find them, and sorted to where the editor
// shows them: a trigger field, a step's form field, a step in general, or
// the flow as a whole.
type draftProblems struct {
	list []Detail
	// trigger maps a trigger form field (type, if, idempotency_key) to its
	// first problem.
	trigger map[string]string
	// steps maps a step's index to its form fields' first problems.
	steps map[int]map[string]string
	// other holds a step's problems that belong to no field.
	other map[int][]string
	// general holds the problems of the flow as a whole.
	general []string
	// perNode counts the problems of each node (step id or triggerNode).
	perNode map[string]int
}

// draftProblems validates def like a publish would.
func (a *app) draftProblems(ctx context.Context, workspaceID uuid.UUID, def *flows.Definition) (draftProblems, error) {
	raw, err := marshalDefinition(def)
	if err != nil {
		return draftProblems{}, err
	}
	var ps problems
	if _, err := a.checkDefinition(ctx, &ps, workspaceID, raw); err != nil {
		return draftProblems{}, err
	}
	return mapDraftProblems(def, ps.list), nil
}

// mapDraftProblems sorts problems (paths such as definition.steps[2].input.text)
// to the editor's fields.
func mapDraftProblems(def *flows.Definition, list []Detail) draftProblems {
	dp := draftProblems{list: list, trigger: map[string]string{}, steps: map[int]map[string]string{},
		other: map[int][]string{}, perNode: map[string]int{}}
	for _, d := range list {
		msg := problemSentence(d.Message)
		p := strings.TrimPrefix(strings.TrimPrefix(d.Path, "definition"), ".")
		switch {
		case strings.HasPrefix(p, "trigger"):
			field := strings.TrimPrefix(strings.TrimPrefix(p, "trigger"), ".")
			if k := strings.IndexAny(field, ".["); k >= 0 {
				msg = field[k:] + ": " + msg
				field = field[:k]
			}
			if field == "" {
				field = "type"
			}
			if _, ok := dp.trigger[field]; !ok {
				dp.trigger[field] = msg
			}
			dp.perNode[triggerNode]++
		case strings.HasPrefix(p, "steps["):
			end := strings.IndexByte(p, ']')
			i, err := strconv.Atoi(p[len("steps["):max(end, len("steps["))])
			if end < 0 || err != nil || i < 0 || i >= len(def.Steps) {
				dp.general = append(dp.general, msg)
				continue
			}
			dp.perNode[def.Steps[i].ID]++
			field, sub := stepField(strings.TrimPrefix(p[end+1:], "."))
			if sub != "" {
				msg = sub + ": " + msg
			}
			if field == "" {
				dp.other[i] = append(dp.other[i], msg)
				continue
			}
			if dp.steps[i] == nil {
				dp.steps[i] = map[string]string{}
			}
			if _, ok := dp.steps[i][field]; !ok {
				dp.steps[i][field] = msg
			}
		default:
			dp.general = append(dp.general, msg)
		}
	}
	return dp
}

// stepField maps the rest of a step's problem path (input.text,
// retry.max_attempts, needs[0], …) to the form field that shows it, and the
// part of the path below that field.
func stepField(rest string) (field, sub string) {
	if rest == "" {
		return "", ""
	}
	segs, ok := parseProblemPath(rest)
	if !ok || len(segs) == 0 {
		return "", rest
	}
	head, _ := segs[0].(string)
	switch head {
	case "input":
		if len(segs) < 2 {
			return "", "input"
		}
		key, ok := segs[1].(string)
		if !ok {
			return "", rest
		}
		below := ""
		for _, s := range segs[2:] {
			switch x := s.(type) {
			case string:
				below = jsonFieldPath(below, x)
			case int:
				below += fmt.Sprintf("[%d]", x)
			}
		}
		return "in." + key, below
	case "id", "name", "if", "connection", "timeout":
		return head, ""
	case "needs":
		return "needs", ""
	case "retry":
		if len(segs) >= 2 {
			if k, ok := segs[1].(string); ok {
				return "retry." + k, ""
			}
		}
		return "retry.max_attempts", ""
	}
	return "", rest
}

// sentence turns a validator's message ("is required", "must be a number")
// into one that stands under a field: "Required.", "Must be a number.".
func problemSentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if rest, ok := strings.CutPrefix(msg, "is required"); ok {
		msg = "required" + rest
	}
	if msg == "" {
		return msg
	}
	// Capitalise a word, not a name such as steps.x or input.channel.
	word, _, _ := strings.Cut(msg, " ")
	if !strings.ContainsAny(word, "._[]\"0123456789") {
		r, size := utf8.DecodeRuneInString(msg)
		msg = string(unicode.ToUpper(r)) + msg[size:]
	}
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") && !strings.HasSuffix(msg, ")") {
		msg += "."
	}
	return msg
}

// views lists every problem for the overview and the publish alert, with a
// link to the node it concerns.
func (dp draftProblems) views(st *editorState) []editor.Problem {
	var out []editor.Problem
	for _, m := range dp.general {
		out = append(out, editor.Problem{Message: m})
	}
	fid := st.flowID()
	for _, f := range []string{"type", "if", "idempotency_key", "batch", "config", "sample"} {
		if m, ok := dp.trigger[f]; ok {
			out = append(out, editor.Problem{Where: "Trigger", Message: problemFieldLabel(f) + ": " + m, Href: editor.FlowURL(fid, triggerNode)})
		}
	}
	for i, s := range st.def.Steps {
		href := editor.FlowURL(fid, s.ID)
		where := s.ID
		if where == "" {
			where = fmt.Sprintf("Step %d", i+1)
		}
		for _, f := range sortedFieldNames(dp.steps[i]) {
			out = append(out, editor.Problem{Where: where, Message: problemFieldLabel(f) + ": " + dp.steps[i][f], Href: href})
		}
		for _, m := range dp.other[i] {
			out = append(out, editor.Problem{Where: where, Message: m, Href: href})
		}
	}
	return out
}

// fieldLabel names a form field in a problem list.
func problemFieldLabel(f string) string {
	switch f {
	case "if":
		return "condition"
	case "id":
		return "step id"
	case "idempotency_key":
		return "idempotency key"
	case "needs":
		return "runs after"
	}
	return strings.TrimPrefix(f, "in.")
}

// sortedFieldNames orders a step's fields as its form does.
func sortedFieldNames(m map[string]string) []string {
	order := func(f string) int {
		switch {
		case f == "id":
			return 0
		case f == "name":
			return 1
		case f == "connection":
			return 2
		case strings.HasPrefix(f, "in."):
			return 3
		case f == "needs":
			return 4
		case f == "if":
			return 5
		}
		return 6
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0; j-- {
			a, b := keys[j-1], keys[j]
			if order(a) > order(b) || (order(a) == order(b) && a > b) {
				keys[j-1], keys[j] = b, a
			}
		}
	}
	return keys
}
