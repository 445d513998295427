package handlers

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/components"
	"github.com/switchboard/switchboard/web/editor"
	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/layout"
)

// editorState is one request's view of a flow being edited: the flow, its
// working definition (the draft, or the published version when there is no
// draft) and the workspace's connections.
type editorState struct {
	flow  editorFlow
	def   *flows.Definition
	conns []store.Connection
}

func (st *editorState) flowID() string { return st.flow.ID.String() }

// loadEditor reads the flow of the :id parameter.
func (a *app) loadEditor(c *fiber.Ctx) (*editorState, error) {
	id, err := flowID(c)
	if err != nil {
		return nil, err
	}
	ctx := c.UserContext()
	ws := member(c).WorkspaceID
	f, err := loadEditorFlow(ctx, a.Pool, ws, id)
	if err != nil {
		return nil, flowErr(err)
	}
	raw := []byte(f.Definition)
	if f.Draft != nil {
		raw = f.Draft
	}
	def, err := decodeWorking(raw)
	if err != nil {
		// A stored definition that does not decode at all: start over from an
		// empty one rather than locking the flow out of the editor.
		def = &flows.Definition{Trigger: flows.Trigger{Type: flows.TriggerWebhook}}
	}
	conns, err := store.ListConnections(ctx, a.Pool, ws)
	if err != nil {
		return nil, err
	}
	return &editorState{flow: f, def: def, conns: conns}, nil
}

// save stores the working definition as the draft.
func (a *app) saveWorking(ctx context.Context, c *fiber.Ctx, st *editorState) error {
	raw, err := marshalDefinition(st.def)
	if err != nil {
		return err
	}
	if err := saveDraft(ctx, a.Pool, member(c).WorkspaceID, st.flow.ID, raw); err != nil {
		return flowErr(err)
	}
	st.flow.Draft = raw
	return nil
}

// viewOpts say what the editor shows besides the graph.
type viewOpts struct {
	// selected is the open node: triggerNode, a step id, or "".
	selected string
	// catalog opens the catalog picker for a step after/before these nodes.
	catalog        bool
	after, before  string
	query          string
	saved          bool
	notice         *editor.Notice
	showProblems   bool
	test           *editor.TestResult
	fieldErrors    map[string]string // parse errors of a refused form
	stepOverride   *flows.Step       // the refused form's step, shown as typed
	rawOverride    map[string]string // the refused form's raw values
	triggerRaw     map[string]string
	lastEventLabel string
}

// renderEditor answers the editor: the swappable root for htmx, the whole
// page otherwise.
func (a *app) renderEditor(c *fiber.Ctx, st *editorState, o viewOpts) error {
	v, err := a.editorView(c, st, o)
	if err != nil {
		return err
	}
	if c.Get("HX-Request") == "true" {
		return render(c, editor.Root(v))
	}
	return render(c, editor.Editor(v))
}

// editorView builds the editor's view model.
func (a *app) editorView(c *fiber.Ctx, st *editorState, o viewOpts) (editor.EditorView, error) {
	ctx := c.UserContext()
	m := member(c)
	dp, err := a.draftProblems(ctx, m.WorkspaceID, st.def)
	if err != nil {
		return editor.EditorView{}, err
	}
	never, err := a.neverRunnable(ctx, m.WorkspaceID, st)
	if err != nil {
		return editor.EditorView{}, err
	}
	p := a.editorPageModel(c, st.flow.Name, layout.NavFlows)
	v := editor.EditorView{
		Page: p,
		Flow: editor.FlowInfo{
			ID: st.flowID(), Name: st.flow.Name, Enabled: st.flow.Enabled, Version: st.flow.CurrentVersion,
			HasDraft: st.flow.Draft != nil, ProblemCount: len(dp.list), CanEdit: m.CanEdit(), NeverPublished: never,
		},
		Notice:       o.notice,
		ShowProblems: o.showProblems,
		Problems:     dp.views(st),
	}
	if p.Flash != "" && v.Notice == nil {
		v.Notice = &editor.Notice{Kind: p.FlashKind, Text: p.Flash}
		v.Page.Flash = ""
	}
	selected := o.selected
	if o.catalog {
		selected = ""
	}
	v.Graph = a.editorGraph(st, selected, dp, m.CanEdit())
	switch {
	case o.catalog:
		v.Panel.Catalog = a.catalogPanel(st, o.after, o.before, o.query, m.CanEdit())
	case o.selected == triggerNode:
		v.Panel.Trigger = a.triggerPanel(ctx, c, st, dp, o)
	case o.selected != "":
		i := stepIndex(st.def, o.selected)
		if i < 0 {
			break
		}
		s := st.def.Steps[i]
		if o.stepOverride != nil {
			s = *o.stepOverride
		}
		sp := a.stepPanel(st, i, s, dp, o)
		sp.CanEdit = m.CanEdit()
		v.Panel.Step = sp
	}
	return v, nil
}

// editorGraph lays out the working definition with web/graph.
func (a *app) editorGraph(st *editorState, selected string, dp draftProblems, canEdit bool) editor.GraphView {
	def := st.def
	needs := flows.ResolvedNeeds(def)
	trig := def.Trigger.Type
	if trig == "" {
		trig = flows.TriggerWebhook
	}
	nodes := []graph.Node{{ID: graph.TriggerID, Title: "Trigger", Subtitle: editorTriggerLabel(trig), Icon: components.IconPath(trig), Root: true,
		Selected: selected == triggerNode}}
	seen := map[string]bool{}
	for _, s := range def.Steps {
		if seen[s.ID] {
			continue // a repeated id is a problem the panel shows; draw it once
		}
		seen[s.ID] = true
		nodes = append(nodes, graph.Node{ID: s.ID, Title: s.ID, Subtitle: s.Action, Icon: components.IconPath(s.Action),
			Needs: needs[s.ID], Selected: selected == s.ID})
	}
	tested := map[string]bool{}
	for id := range st.flow.Sample.Steps {
		tested[id] = true
	}
	return editor.GraphView{
		FlowID:   st.flowID(),
		Layout:   graph.New(nodes, editor.GraphOptions),
		Selected: selected,
		Problems: dp.perNode,
		Tested:   tested,
		CanEdit:  canEdit,
	}
}

// editorTriggerLabel names a trigger type for people.
func editorTriggerLabel(t string) string {
	switch t {
	case flows.TriggerWebhook:
		return "Incoming webhook"
	case flows.TriggerManual:
		return "Manual run"
	case flows.TriggerSchedule:
		return "Schedule"
	case flows.TriggerEvent:
		return "App event"
	}
	return t
}

// webhookURL is where the flow's events are posted.
func (a *app) webhookURL(f store.Flow) string {
	return strings.TrimRight(a.BaseURL, "/") + "/hooks/" + f.WebhookToken
}

// editorPage is GET /flows/:id: the editor with the panel the query asks for
// (?step=, ?panel=trigger, ?add_after=&add_before=&q=).
func (a *app) editorPage(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	o := viewOpts{selected: c.Query("step")}
	if c.Query("panel") == "trigger" {
		o.selected = triggerNode
	}
	if after := c.Query("add_after"); after != "" {
		o.catalog, o.after, o.before, o.query = true, after, c.Query("add_before"), c.Query("q")
	}
	if o.selected != "" && o.selected != triggerNode && stepIndex(st.def, o.selected) < 0 {
		o.selected = ""
	}
	if o.selected == "" && !o.catalog && len(st.def.Steps) == 0 {
		o.selected = triggerNode // a new flow starts at its trigger
	}
	// Back from "Add a connection": put the new connection on the step that
	// asked for it, unless the step has one by now.
	if cid := c.Query("connection"); cid != "" && o.selected != "" && o.selected != triggerNode && member(c).CanEdit() {
		if err := a.adoptConnection(c, st, o.selected, cid); err != nil {
			return err
		}
	}
	return a.renderEditor(c, st, o)
}

// adoptConnection sets a step's connection to a new one of the right
// connector when the step has none.
func (a *app) adoptConnection(c *fiber.Ctx, st *editorState, stepID, cid string) error {
	i := stepIndex(st.def, stepID)
	if i < 0 || st.def.Steps[i].Connection != "" {
		return nil
	}
	connector, _, _ := strings.Cut(st.def.Steps[i].Action, ".")
	for _, conn := range st.conns {
		if conn.ID.String() == cid && conn.Connector == connector {
			st.def.Steps[i].Connection = cid
			return a.saveWorking(c.UserContext(), c, st)
		}
	}
	return nil
}

// panelPartial answers a side-panel request: the editor root for htmx, or a
// redirect to the editor page with the same panel open.
func (a *app) panelPartial(c *fiber.Ctx, o viewOpts, pageURL string) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	if o.selected != "" && o.selected != triggerNode && stepIndex(st.def, o.selected) < 0 {
		return notFound("Step")
	}
	if c.Get("HX-Request") != "true" {
		return c.Redirect(pageURL, fiber.StatusSeeOther)
	}
	return a.renderEditor(c, st, o)
}

func (a *app) editorOverview(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	c.Set("HX-Push-Url", editor.FlowURL(id.String(), ""))
	return a.panelPartial(c, viewOpts{}, editor.FlowURL(id.String(), ""))
}

func (a *app) editorTriggerPanel(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	return a.panelPartial(c, viewOpts{selected: triggerNode}, editor.FlowURL(id.String(), triggerNode))
}

func (a *app) editorStepPanel(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	step := stepParamValue(c)
	return a.panelPartial(c, viewOpts{selected: step}, editor.FlowURL(id.String(), step))
}

func (a *app) editorCatalog(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	after, before := c.Query("after"), c.Query("before")
	page := "/flows/" + id.String() + "?add_after=" + url.QueryEscape(after)
	if before != "" {
		page += "&add_before=" + url.QueryEscape(before)
	}
	return a.panelPartial(c, viewOpts{catalog: true, after: after, before: before, query: c.Query("q")}, page)
}

// editorCatalogResults answers the catalog search box.
func (a *app) editorCatalogResults(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	p := a.catalogPanel(st, c.Query("after"), c.Query("before"), c.Query("q"), member(c).CanEdit())
	return render(c, editor.CatalogResults(p, csrfToken(c)))
}

// catalogPanel lists the catalog's actions matching q: every word of the
// query must appear in the connector's or the action's name, key or
// description.
func (a *app) catalogPanel(st *editorState, after, before, q string, canEdit bool) *editor.CatalogPanel {
	p := &editor.CatalogPanel{FlowID: st.flowID(), After: after, Before: before, Query: q, CanEdit: canEdit}
	switch {
	case before != "" && after == triggerNode:
		p.Where = "Between the trigger and " + before
	case before != "":
		p.Where = "Between " + after + " and " + before
	case after == triggerNode:
		p.Where = "Right after the trigger"
	case after != "":
		p.Where = "After " + after
	}
	if a.Catalog == nil {
		return p
	}
	words := strings.Fields(strings.ToLower(q))
	for _, conn := range a.Catalog.Connectors() {
		g := editor.CatalogGroup{Key: conn.Key(), Name: conn.Name()}
		for _, act := range conn.Actions() {
			spec := act.Spec()
			hay := strings.ToLower(conn.Key() + " " + conn.Name() + " " + spec.Key + " " + spec.Name + " " + spec.Description)
			if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(hay, w) }) {
				g.Actions = append(g.Actions, editor.CatalogAction{Key: spec.Key, Name: spec.Name, Description: spec.Description})
			}
		}
		if len(g.Actions) > 0 {
			p.Groups = append(p.Groups, g)
		}
	}
	return p
}

// triggerPanel builds the trigger's form.
func (a *app) triggerPanel(ctx context.Context, c *fiber.Ctx, st *editorState, dp draftProblems, o viewOpts) *editor.TriggerPanel {
	t := st.def.Trigger
	p := &editor.TriggerPanel{
		FlowID: st.flowID(), Type: t.Type, If: t.If, IdempotencyKey: t.IdempotencyKey,
		Errors: map[string]string{}, Steps: len(st.def.Steps), Saved: o.saved, CanEdit: member(c).CanEdit(),
	}
	if p.Type == "" {
		p.Type = flows.TriggerWebhook
	}
	p.Types = []editor.Option{{Value: flows.TriggerWebhook, Label: "Incoming webhook"}, {Value: flows.TriggerManual, Label: "Manual run"}}
	if !slices.ContainsFunc(p.Types, func(o editor.Option) bool { return o.Value == p.Type }) {
		p.Types = append(p.Types, editor.Option{Value: p.Type, Label: editorTriggerLabel(p.Type)})
	}
	if p.Type == flows.TriggerWebhook {
		p.WebhookURL = a.webhookURL(st.flow.Flow)
		p.Listen = a.listenView(st, p.CanEdit)
	}
	if st.flow.Sample.Trigger != nil {
		p.Sample = editorPrettyJSON(st.flow.Sample.Trigger)
	}
	for k, msg := range dp.trigger {
		p.Errors[k] = msg
	}
	for k, v := range o.triggerRaw {
		switch k {
		case "if":
			p.If = v
		case "idempotency_key":
			p.IdempotencyKey = v
		case "sample":
			p.Sample = v
		case "type":
			p.Type = v
		}
	}
	for k, msg := range o.fieldErrors {
		p.Errors[k] = msg
	}
	if _, at, err := lastEventPayload(ctx, a.Pool, member(c).WorkspaceID, st.flow.ID); err == nil {
		p.LastEvent = components.Ago(at, editorNow())
	}
	p.Data = editor.DataPaths{Groups: []editor.PathGroup{triggerPaths(st.flow.Sample.Trigger)}}
	return p
}

func triggerPaths(sample any) editor.PathGroup {
	g := editor.PathGroup{Title: "Sample event", Paths: flows.Paths(sample, "trigger")}
	if sample == nil {
		g.Note = "Paste a sample event on the trigger to list its fields here."
	}
	return g
}

// stepPanel builds step i's form showing s (the stored step, or a refused
// form's values).
func (a *app) stepPanel(st *editorState, i int, s flows.Step, dp draftProblems, o viewOpts) *editor.StepPanel {
	orig := st.def.Steps[i].ID
	p := &editor.StepPanel{
		FlowID: st.flowID(), Orig: orig, ID: s.ID, Name: s.Name, Action: s.Action, If: s.If,
		Errors: map[string]string{}, Saved: o.saved, Test: o.test,
	}
	connector, _, _ := strings.Cut(s.Action, ".")
	p.ConnectorName = connector
	var spec connectors.ActionSpec
	if a.Catalog != nil {
		if conn, ok := a.Catalog.Connector(connector); ok {
			p.ConnectorName = conn.Name()
		}
		if act, ok := a.Catalog.Action(s.Action); ok {
			spec = act.Spec()
			p.ActionName, p.Description = spec.Name, spec.Description
		} else {
			p.UnknownAction = true
		}
	}
	if r := s.Retry; r != nil {
		if r.MaxAttempts > 0 {
			p.MaxAttempts = fmt.Sprint(r.MaxAttempts)
		}
		if r.InitialInterval > 0 {
			p.Initial = r.InitialInterval.String()
		}
		if r.MaxInterval > 0 {
			p.MaxInterval = r.MaxInterval.String()
		}
	}
	if s.Timeout > 0 {
		p.Timeout = s.Timeout.String()
	}
	// Needs: any step that does not (transitively) wait for this one.
	after := stepsDownstream(st.def, orig)
	resolved := flows.ResolvedNeeds(st.def)[orig]
	if s.Needs != nil {
		resolved = *s.Needs
	}
	for _, other := range st.def.Steps {
		if other.ID == orig || after[other.ID] {
			continue
		}
		label := other.ID
		if other.Name != "" {
			label += " — " + other.Name
		}
		p.Needs = append(p.Needs, editor.NeedOption{ID: other.ID, Label: label, Checked: slices.Contains(resolved, other.ID)})
	}
	if p.UnknownAction || !spec.NoConnection {
		picker := &editor.ConnectionPicker{Connector: connector, ConnectorName: p.ConnectorName, Selected: s.Connection}
		for _, conn := range st.conns {
			if conn.Connector == connector {
				picker.Options = append(picker.Options, editor.Option{Value: conn.ID.String(), Label: conn.Name})
			}
		}
		if s.Connection != "" && !slices.ContainsFunc(picker.Options, func(o editor.Option) bool { return o.Value == s.Connection }) {
			picker.Options = append(picker.Options, editor.Option{Value: s.Connection, Label: "Unknown connection " + s.Connection})
		}
		p.Connection = picker
	}
	p.Fields = inputFields(spec, s.Input, o.rawOverride)
	for k, msg := range dp.steps[i] {
		p.Errors[k] = msg
	}
	p.Other = append(p.Other, dp.other[i]...)
	for k, v := range o.rawOverride {
		switch k {
		case "retry.max_attempts":
			p.MaxAttempts = v
		case "retry.initial_interval":
			p.Initial = v
		case "retry.max_interval":
			p.MaxInterval = v
		case "timeout":
			p.Timeout = v
		case "id":
			p.ID = v
		}
	}
	for k, msg := range o.fieldErrors {
		p.Errors[k] = msg
	}
	// Problems on inputs the form does not show (unknown keys) go on top.
	shown := map[string]bool{"id": true, "name": true, "if": true, "needs": true, "connection": true, "timeout": true,
		"retry.max_attempts": true, "retry.initial_interval": true, "retry.max_interval": true}
	for _, f := range p.Fields {
		shown[f.Name()] = true
	}
	for k, msg := range p.Errors {
		if !shown[k] {
			p.Other = append(p.Other, strings.TrimPrefix(k, "in.")+": "+msg)
		}
	}
	slices.Sort(p.Other)
	p.Data = stepPaths(st, orig, a.Catalog)
	return p
}

// stepPaths are the data picker's entries for a step: the sample event and
// the outputs of the steps upstream of it (their last test output, or the
// outputs their action declares).
func stepPaths(st *editorState, stepID string, cat *connectors.Catalog) editor.DataPaths {
	d := editor.DataPaths{Groups: []editor.PathGroup{triggerPaths(st.flow.Sample.Trigger)}}
	for _, u := range flows.Upstream(st.def, stepID) {
		g := editor.PathGroup{Title: "steps." + u}
		if out, ok := st.flow.Sample.Steps[u]; ok {
			g.Paths = flows.Paths(out, "steps."+u)
			g.Note = "From its last test."
		} else {
			s, _ := st.def.Step(u)
			if cat != nil && s != nil {
				if act, ok := cat.Action(s.Action); ok {
					for _, f := range act.Spec().Outputs {
						g.Paths = append(g.Paths, "steps."+u+"."+f.Key)
					}
				}
			}
			g.Note = "Declared outputs; test the step to see its real output."
		}
		d.Groups = append(d.Groups, g)
	}
	return d
}

// editorStepParam finds the :step of the URL in the working definition.
// loadEditorStep loads the editor state and the index of the :step in the path.
func (a *app) loadEditorStep(c *fiber.Ctx) (*editorState, int, error) {
	st, err := a.loadEditor(c)
	if err != nil {
		return nil, 0, err
	}
	i, err := editorStepParam(c, st)
	if err != nil {
		return nil, 0, err
	}
	return st, i, nil
}

func editorStepParam(c *fiber.Ctx, st *editorState) (int, error) {
	i := stepIndex(st.def, stepParamValue(c))
	if i < 0 {
		return -1, notFound("Step")
	}
	return i, nil
}

// connectionByID finds a workspace connection by its id text.
func (st *editorState) connectionByID(id string) (store.Connection, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return store.Connection{}, false
	}
	for _, c := range st.conns {
		if c.ID == u {
			return c, true
		}
	}
	return store.Connection{}, false
}

// stepParamValue is the :step of the URL, unescaped: ids of imported
// definitions may be invalid (spaces, capitals) until they are fixed.
func stepParamValue(c *fiber.Ctx) string {
	s := c.Params("step")
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
