package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// maxFlowName is the longest flow name, in characters, after trimming.
const maxFlowName = 200

// maxDefinitionDepth bounds how deeply a definition's values may nest; deeper
// documents are refused as input rather than left for Postgres to choke on.
const maxDefinitionDepth = 64

// flowJSON is a flow as the API answers it.
type flowJSON struct {
	ID         uuid.UUID       `json:"id"`
	Name       string          `json:"name"`
	Version    int             `json:"version"`
	Enabled    bool            `json:"enabled"`
	WebhookURL string          `json:"webhook_url"`
	Definition json.RawMessage `json:"definition"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// flowVersionJSON is one stored version of a flow's definition.
type flowVersionJSON struct {
	Version    int             `json:"version"`
	CreatedAt  time.Time       `json:"created_at"`
	CreatedBy  *uuid.UUID      `json:"created_by"`
	Definition json.RawMessage `json:"definition"`
}

func (a *app) flowJSON(f store.Flow) flowJSON {
	return flowJSON{
		ID:         f.ID,
		Name:       f.Name,
		Version:    f.CurrentVersion,
		Enabled:    f.Enabled,
		WebhookURL: strings.TrimRight(a.BaseURL, "/") + "/hooks/" + f.WebhookToken,
		Definition: presentDefinition(f.Definition),
		CreatedAt:  f.CreatedAt,
		UpdatedAt:  f.UpdatedAt,
	}
}

// presentDefinition answers a stored definition in the order of its Go
// fields (trigger, then steps; id, action, … within a step) rather than in
// jsonb's storage order, which reads badly. A definition that no longer
// decodes is answered as stored.
func presentDefinition(stored json.RawMessage) json.RawMessage {
	def, err := flows.Decode(stored)
	if err != nil {
		return stored
	}
	out, err := json.Marshal(def)
	if err != nil {
		return stored
	}
	return out
}

// createFlowBody is POST /api/v1/flows.
type createFlowBody struct {
	Name       *string         `json:"name"`
	Definition json.RawMessage `json:"definition"`
	Enabled    *bool           `json:"enabled"`
}

// updateFlowBody is PUT /api/v1/flows/:id.
type updateFlowBody struct {
	Name       *string         `json:"name"`
	Definition json.RawMessage `json:"definition"`
}

// apiCreateFlow creates a flow at version 1.
func (a *app) apiCreateFlow(c *fiber.Ctx) error {
	var body createFlowBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	m := member(c)
	ctx := c.UserContext()
	var ps problems
	name := ps.name(body.Name)
	def, err := a.checkDefinition(ctx, &ps, m.WorkspaceID, body.Definition)
	if err != nil {
		return err
	}
	if err := ps.err(); err != nil {
		return err
	}
	enabled := body.Enabled == nil || *body.Enabled
	var f store.Flow
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		f, err = store.CreateFlow(ctx, tx, m.WorkspaceID, name, def, enabled, &m.UserID)
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a.flowJSON(f))
}

// apiListFlows lists the workspace's flows, oldest first.
func (a *app) apiListFlows(c *fiber.Ctx) error {
	fs, err := store.ListFlows(c.UserContext(), a.Pool, member(c).WorkspaceID)
	if err != nil {
		return err
	}
	out := make([]flowJSON, len(fs))
	for i, f := range fs {
		out[i] = a.flowJSON(f)
	}
	return c.JSON(fiber.Map{"flows": out})
}

// apiGetFlow answers one flow with its current definition.
func (a *app) apiGetFlow(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	f, err := store.GetFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, id)
	if err != nil {
		return flowErr(err)
	}
	return c.JSON(a.flowJSON(f))
}

// apiUpdateFlow stores a new version of the definition (and, optionally, a
// new name). Runs already started keep the version they began with.
func (a *app) apiUpdateFlow(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	var body updateFlowBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	m := member(c)
	ctx := c.UserContext()
	// Another workspace's flow is not found, whatever the body says.
	if _, err := store.GetFlow(ctx, a.Pool, m.WorkspaceID, id); err != nil {
		return flowErr(err)
	}
	var ps problems
	var name *string
	if body.Name != nil {
		n := ps.name(body.Name)
		name = &n
	}
	def, err := a.checkDefinition(ctx, &ps, m.WorkspaceID, body.Definition)
	if err != nil {
		return err
	}
	if err := ps.err(); err != nil {
		return err
	}
	var f store.Flow
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		f, err = store.UpdateFlow(ctx, tx, m.WorkspaceID, id, name, def, &m.UserID)
		return err
	})
	if err != nil {
		return flowErr(err)
	}
	return c.JSON(a.flowJSON(f))
}

func (a *app) apiEnableFlow(c *fiber.Ctx) error  { return a.setFlowEnabled(c, true) }
func (a *app) apiDisableFlow(c *fiber.Ctx) error { return a.setFlowEnabled(c, false) }

func (a *app) setFlowEnabled(c *fiber.Ctx, enabled bool) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	wid := member(c).WorkspaceID
	var f store.Flow
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.SetFlowEnabled(ctx, tx, wid, id, enabled); err != nil {
			return err
		}
		f, err = store.GetFlow(ctx, tx, wid, id)
		return err
	})
	if err != nil {
		return flowErr(err)
	}
	return c.JSON(a.flowJSON(f))
}

// apiDeleteFlow deletes a flow with its versions and run history.
func (a *app) apiDeleteFlow(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	if err := store.DeleteFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, id); err != nil {
		return flowErr(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiListFlowVersions lists a flow's versions, newest first.
func (a *app) apiListFlowVersions(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	vs, err := store.ListFlowVersions(c.UserContext(), a.Pool, member(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	// Every flow has at least version 1: no rows means no such flow here.
	if len(vs) == 0 {
		return notFound("Flow")
	}
	out := make([]flowVersionJSON, len(vs))
	for i, v := range vs {
		out[i] = flowVersionJSON{Version: v.Version, CreatedAt: v.CreatedAt, CreatedBy: v.CreatedBy, Definition: presentDefinition(v.Definition)}
	}
	return c.JSON(fiber.Map{"versions": out})
}

// flowID parses the :id parameter; a malformed id is as unknown as any other.
func flowID(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, notFound("Flow")
	}
	return id, nil
}

func flowErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Flow")
	}
	return err
}

// problems collects every problem of a flow request, so that one answer lists
// them all.
type problems struct {
	list []Detail
	// definition counts the problems inside the definition.
	definition int
}

func (ps *problems) add(path, format string, args ...any) {
	ps.list = append(ps.list, Detail{Path: path, Message: fmt.Sprintf(format, args...)})
}

// addDefinition adds a problem found at path inside the definition.
func (ps *problems) addDefinition(path, message string) {
	ps.list = append(ps.list, Detail{Path: definitionPath(path), Message: message})
	ps.definition++
}

// name checks and trims a flow name.
func (ps *problems) name(v *string) string {
	if v == nil {
		ps.add("name", "is required")
		return ""
	}
	n := strings.TrimSpace(*v)
	switch {
	case n == "":
		ps.add("name", "is required")
	case utf8.RuneCountInString(n) > maxFlowName:
		ps.add("name", "must be at most %d characters", maxFlowName)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		ps.add("name", "must not contain control characters")
	}
	return n
}

// err is the 422 listing every problem, or nil.
func (ps *problems) err() error {
	n := len(ps.list)
	if n == 0 {
		return nil
	}
	plural := "s"
	if n == 1 {
		plural = ""
	}
	e := &Error{Status: fiber.StatusUnprocessableEntity, Details: ps.list}
	switch {
	case ps.definition == n:
		e.Code, e.Message = "invalid_definition", fmt.Sprintf("The flow definition has %d problem%s.", n, plural)
	case ps.definition > 0:
		e.Code, e.Message = "invalid_definition", fmt.Sprintf("The request has %d problem%s.", n, plural)
	default:
		e.Code, e.Message = "invalid_input", fmt.Sprintf("The request has %d problem%s.", n, plural)
	}
	return e
}

// definitionPath places a path of the definition under the request's
// "definition" field.
func definitionPath(p string) string {
	switch {
	case p == "":
		return "definition"
	case strings.HasPrefix(p, "["):
		return "definition" + p
	}
	return "definition." + p
}

// checkDefinition decodes and validates a definition against the catalog and
// the workspace's connections. It adds what is wrong to ps and returns the
// canonical JSON to store (nil when there were problems). The error is only
// for failures on our side.
func (a *app) checkDefinition(ctx context.Context, ps *problems, workspaceID uuid.UUID, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		ps.add("definition", "is required")
		return nil, nil
	}
	found, start := ps.definition, len(ps.list)
	// Problems from decoding, validation and the catalog read best in step
	// order.
	defer func() {
		slices.SortStableFunc(ps.list[start:], func(x, y Detail) int { return cmp.Compare(problemOrder(x.Path), problemOrder(y.Path)) })
	}()
	def, err := flows.Decode(raw)
	if err != nil {
		definitionProblems(ps, err)
		// Unknown fields alone do not hide the other problems: decode the
		// definition without them and validate that too, so that one answer
		// lists everything.
		pruned, ok := withoutUnknownFields(raw, err)
		if !ok {
			return nil, nil
		}
		if def, err = flows.Decode(pruned); err != nil {
			return nil, nil
		}
	}
	var conns map[uuid.UUID]string
	if usesConnections(def) {
		if conns, err = store.WorkspaceConnections(ctx, a.Pool, workspaceID); err != nil {
			return nil, err
		}
	}
	if err := flows.Validate(def, a.validateEnv(conns)); err != nil {
		definitionProblems(ps, err)
	}
	a.checkSteps(ps, def, conns)
	for _, d := range triggerProblems(def.Trigger, conns) {
		ps.addDefinition(d.Path, d.Message)
	}
	if ps.definition > found {
		return nil, nil
	}
	canonical, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("marshal definition: %w", err)
	}
	if checkStorable(ps, canonical); ps.definition > found {
		return nil, nil
	}
	return canonical, nil
}

// problemOrder sorts problems of the definition as a whole first, then the
// trigger's, then each step's, then those of the steps as a graph (cycles).
func problemOrder(path string) int {
	rest, ok := strings.CutPrefix(path, "definition.steps[")
	switch {
	case ok:
		if end := strings.IndexByte(rest, ']'); end > 0 {
			if n, err := strconv.Atoi(rest[:end]); err == nil {
				return n
			}
		}
		return math.MaxInt32
	case path == "definition.steps":
		return math.MaxInt32
	case path == "definition":
		return -2
	}
	return -1
}

// withoutUnknownFields returns raw with the fields removed that a failed
// flows.Decode called unknown, when those were its only problems.
func withoutUnknownFields(raw json.RawMessage, decodeErr error) (json.RawMessage, bool) {
	var fps *flows.Problems
	if !errors.As(decodeErr, &fps) || len(fps.List) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers go back out exactly as they came in
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	for _, p := range fps.List {
		if !strings.HasPrefix(p.Message, "unknown field") {
			return nil, false
		}
		segs, ok := parseProblemPath(p.Path)
		if !ok || len(segs) == 0 {
			return nil, false
		}
		parent, ok := lookupPath(doc, segs[:len(segs)-1])
		obj, isObj := parent.(map[string]any)
		last, isKey := segs[len(segs)-1].(string)
		if !ok || !isObj || !isKey {
			return nil, false
		}
		delete(obj, last)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	return out, true
}

// parseProblemPath splits a flows problem path such as
// steps[0].input["X-Key"] into its keys (strings) and indexes (ints).
func parseProblemPath(path string) ([]any, bool) {
	var segs []any
	for i := 0; i < len(path); {
		switch {
		case path[i] == '.':
			i++
		case path[i] == '[' && i+1 < len(path) && path[i+1] == '"':
			// A JSON string up to the first unescaped quote, then ']'.
			j := i + 2
			for j < len(path) && path[j] != '"' {
				if path[j] == '\\' {
					j++
				}
				j++
			}
			if j+1 >= len(path) || path[j+1] != ']' {
				return nil, false
			}
			var key string
			if err := json.Unmarshal([]byte(path[i+1:j+1]), &key); err != nil {
				return nil, false
			}
			segs = append(segs, key)
			i = j + 2
		case path[i] == '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				return nil, false
			}
			n, err := strconv.Atoi(path[i+1 : i+end])
			if err != nil {
				return nil, false
			}
			segs = append(segs, n)
			i += end + 1
		default:
			end := strings.IndexAny(path[i:], ".[")
			if end < 0 {
				end = len(path) - i
			}
			segs = append(segs, path[i:i+end])
			i += end
		}
	}
	return segs, true
}

// lookupPath follows keys and indexes through a decoded JSON document.
func lookupPath(doc any, segs []any) (any, bool) {
	for _, seg := range segs {
		switch s := seg.(type) {
		case string:
			m, ok := doc.(map[string]any)
			if !ok {
				return nil, false
			}
			if doc, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			l, ok := doc.([]any)
			if !ok || s < 0 || s >= len(l) {
				return nil, false
			}
			doc = l[s]
		}
	}
	return doc, true
}

// definitionProblems adds the problems of a flows error to ps.
func definitionProblems(ps *problems, err error) {
	var fps *flows.Problems
	if !errors.As(err, &fps) {
		ps.addDefinition("", err.Error())
		return
	}
	for _, p := range fps.List {
		ps.addDefinition(p.Path, p.Message)
	}
}

// validateEnv tells flows.Validate what the catalog and the workspace hold.
// Without a catalog, actions and triggers are not checked.
func (a *app) validateEnv(conns map[uuid.UUID]string) flows.ValidateEnv {
	env := flows.ValidateEnv{
		ConnectionExists: func(id string) bool {
			u, err := uuid.Parse(id)
			if err != nil {
				return false
			}
			_, ok := conns[u]
			return ok
		},
	}
	if a.Catalog == nil {
		return env
	}
	env.ActionExists = func(key string) bool {
		_, ok := a.Catalog.Action(key)
		return ok
	}
	env.ActionNeedsConnection = func(key string) bool {
		act, ok := a.Catalog.Action(key)
		return ok && !act.Spec().NoConnection
	}
	env.TriggerExists = func(typ string) bool {
		switch typ {
		case flows.TriggerWebhook, flows.TriggerManual, flows.TriggerSchedule, flows.TriggerEvent:
			return true
		}
		_, ok := a.Catalog.Trigger(typ)
		return ok
	}
	return env
}

// checkSteps adds what flows.Validate cannot know: that a step's connection
// belongs to the action's connector, and that its input fits the action's
// fields.
func (a *app) checkSteps(ps *problems, def *flows.Definition, conns map[uuid.UUID]string) {
	for i, s := range def.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		a.checkAction(ps, path, s.Action, s.Connection, s.Input, conns)
		if s.Undo != nil {
			a.checkAction(ps, path+".undo", s.Undo.Action, s.Undo.Connection, s.Undo.Input, conns)
		}
	}
}

func (a *app) checkAction(ps *problems, path, action, connection string, input map[string]any, conns map[uuid.UUID]string) {
	connector, _, ok := strings.Cut(action, ".")
	if !ok || connector == "" {
		return // flows.Validate reports the action
	}
	if a.Catalog != nil {
		if _, ok := a.Catalog.Action(action); !ok {
			return // flows.Validate reports the action
		}
	}
	if connection != "" {
		if u, err := uuid.Parse(connection); err == nil {
			if have, ok := conns[u]; ok && have != connector {
				ps.addDefinition(path+".connection", fmt.Sprintf("connection %s is a %s connection, action needs %s", connection, have, connector))
			}
		}
	}
	if a.Catalog == nil {
		return
	}
	for _, p := range a.Catalog.ValidateInput(action, input) {
		if key, ok := strings.CutPrefix(p.Path, "input."); ok {
			ps.addDefinition(jsonFieldPath(path+".input", key), p.Message)
		} else {
			ps.addDefinition(path+"."+p.Path, p.Message)
		}
	}
}

// usesConnections reports whether any step or undo names a connection.
func usesConnections(def *flows.Definition) bool {
	if s, _ := def.Trigger.Config["connection"].(string); strings.TrimSpace(s) != "" {
		return true
	}
	for _, s := range def.Steps {
		if s.Connection != "" || (s.Undo != nil && s.Undo.Connection != "") {
			return true
		}
	}
	return false
}

// checkStorable refuses what Postgres's jsonb cannot hold: the NUL character
// in a string and documents nested deeper than maxDefinitionDepth.
func checkStorable(ps *problems, canonical []byte) {
	var v any
	if err := json.Unmarshal(canonical, &v); err != nil {
		ps.addDefinition("", "cannot be stored")
		return
	}
	var walk func(path string, v any, depth int) bool
	walk = func(path string, v any, depth int) bool {
		if depth > maxDefinitionDepth {
			ps.addDefinition(path, fmt.Sprintf("nests deeper than %d levels", maxDefinitionDepth))
			return false
		}
		switch x := v.(type) {
		case string:
			if strings.ContainsRune(x, 0) {
				ps.addDefinition(path, `must not contain the NUL character (\u0000)`)
			}
		case []any:
			for i, item := range x {
				if !walk(fmt.Sprintf("%s[%d]", path, i), item, depth+1) {
					return false
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				p := jsonFieldPath(path, k)
				if strings.ContainsRune(k, 0) {
					ps.addDefinition(p, `field names must not contain the NUL character (\u0000)`)
					continue
				}
				if !walk(p, x[k], depth+1) {
					return false
				}
			}
		}
		return true
	}
	walk("", v, 0)
}

// jsonFieldPath appends an object key to a path the way flows writes paths:
// a.b for identifiers, a["X-Key"] otherwise.
func jsonFieldPath(path, key string) string {
	ident := key != ""
	for i, r := range key {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			ident = false
			break
		}
	}
	if ident {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	q, _ := json.Marshal(key)
	return path + "[" + string(q) + "]"
}
