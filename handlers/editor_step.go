package handlers

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/web/editor"
)

// Editing steps of the draft: save a step's form, insert a step from the
// catalog, delete one, and check a field as it is typed.

// applyStepForm reads the posted form of step i into the working
// definition (renaming the step in its followers' needs and in the sample
// outputs). ok is false when the form has fields it cannot read; then
// nothing changed and o holds what to show.
func (a *app) applyStepForm(c *fiber.Ctx, st *editorState, i int) (o viewOpts, ok bool) {
	orig := st.def.Steps[i]
	s, raw, errs := a.parseStepForm(editorFormValues(c), st.def, orig)
	if len(errs) > 0 {
		return viewOpts{selected: orig.ID, stepOverride: &s, rawOverride: raw, fieldErrors: errs,
			notice: &editor.Notice{Kind: "error", Text: "Not saved: correct the fields marked below."}}, false
	}
	if s.ID != orig.ID {
		renameStep(st.def, orig.ID, s.ID)
		if out, ok := st.flow.Sample.Steps[orig.ID]; ok {
			st.flow.Sample.Steps[s.ID] = out
			delete(st.flow.Sample.Steps, orig.ID)
		}
	}
	st.def.Steps[i] = s
	return viewOpts{selected: s.ID, saved: true}, true
}

// saveStep is POST /flows/:id/steps/:step: the step's form into the draft.
func (a *app) saveStep(c *fiber.Ctx) error {
	st, _, o, err := a.saveStepForm(c)
	if err != nil || st == nil {
		return err
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), o.selected))
	return a.renderEditor(c, st, o)
}

// saveStepForm applies the posted step form and saves the draft (and the
// sample, whose output moves with a renamed step). When the form is invalid
// it renders the editor with the field messages and answers a nil state.
func (a *app) saveStepForm(c *fiber.Ctx) (*editorState, int, viewOpts, error) {
	st, i, err := a.loadEditorStep(c)
	if err != nil {
		return nil, 0, viewOpts{}, err
	}
	orig := st.def.Steps[i].ID
	o, ok := a.applyStepForm(c, st, i)
	if !ok {
		return nil, 0, o, a.renderEditor(c, st, o)
	}
	ctx := c.UserContext()
	if err := a.saveWorking(ctx, c, st); err != nil {
		return nil, 0, o, err
	}
	if o.selected != orig {
		if err := saveSample(ctx, a.Pool, member(c).WorkspaceID, st.flow.ID, st.flow.Sample); err != nil {
			return nil, 0, o, err
		}
	}
	return st, i, o, nil
}

// addStep is POST /flows/:id/steps: a new step running the posted action,
// after the node "after" and, on an edge, before the step "before".
func (a *app) addStep(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	action := strings.TrimSpace(c.FormValue("action"))
	if a.Catalog == nil {
		return errorf(fiber.StatusServiceUnavailable, "catalog_unavailable", "This server was started without its connector catalog.")
	}
	if _, ok := a.Catalog.Action(action); !ok {
		return errorf(fiber.StatusBadRequest, "unknown_action", "There is no action %q in the catalog.", action)
	}
	if len(st.def.Steps) >= flows.MaxSteps {
		return a.renderEditor(c, st, viewOpts{notice: &editor.Notice{Kind: "error", Text: "A flow has at most 100 steps."}})
	}
	after := c.FormValue("after")
	if after == "" {
		after = triggerNode
	}
	id, err := insertStep(st.def, action, after, c.FormValue("before"))
	if err != nil {
		return errorf(fiber.StatusBadRequest, "bad_position", "The place to add the step no longer exists; reload the editor.")
	}
	if err := a.saveWorking(c.UserContext(), c, st); err != nil {
		return err
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), id))
	return a.renderEditor(c, st, viewOpts{selected: id})
}

// deleteStepHandler is POST /flows/:id/steps/:step/delete.
func (a *app) deleteStepHandler(c *fiber.Ctx) error {
	st, i, err := a.loadEditorStep(c)
	if err != nil {
		return err
	}
	id := st.def.Steps[i].ID
	deleteStep(st.def, id)
	if err := a.saveWorking(c.UserContext(), c, st); err != nil {
		return err
	}
	if _, ok := st.flow.Sample.Steps[id]; ok {
		delete(st.flow.Sample.Steps, id)
		if err := saveSample(c.UserContext(), a.Pool, member(c).WorkspaceID, st.flow.ID, st.flow.Sample); err != nil {
			return err
		}
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), ""))
	return a.renderEditor(c, st, viewOpts{notice: &editor.Notice{Kind: "info", Text: "Deleted step " + id + " from the draft."}})
}

// addConnectionFromStep saves the step's form, then goes to the new
// connection form, which comes back to the step.
func (a *app) addConnectionFromStep(c *fiber.Ctx) error {
	st, i, _, err := a.saveStepForm(c)
	if err != nil || st == nil {
		return err
	}
	s := st.def.Steps[i]
	connector, _, _ := strings.Cut(s.Action, ".")
	to := "/connections/new?connector=" + url.QueryEscape(connector) + "&return=" + url.QueryEscape(editor.FlowURL(st.flowID(), s.ID))
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// validateField is POST /flows/:id/validate?node=…: the form of the node
// (the trigger or a step) as typed so far, checked like a publish, answered
// with the message of the field that triggered the request.
func (a *app) validateField(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	name := c.Get("HX-Trigger-Name")
	if name == "" {
		name = c.FormValue("_field")
	}
	node := c.Query("node")
	vals := editorFormValues(c)
	var msg string
	if node == triggerNode {
		t, _, _, _, errs := parseTriggerForm(vals, st.def.Trigger)
		msg = errs[name]
		if msg == "" {
			st.def.Trigger = t
			dp, err := a.draftProblems(c.UserContext(), member(c).WorkspaceID, st.def)
			if err != nil {
				return err
			}
			msg = dp.trigger[name]
		}
	} else {
		i := stepIndex(st.def, node)
		if i < 0 {
			// The step was renamed or deleted since the form was drawn (a
			// check still in flight when the form was saved): nothing to say.
			return c.SendStatus(fiber.StatusNoContent)
		}
		orig := st.def.Steps[i]
		s, _, errs := a.parseStepForm(vals, st.def, orig)
		msg = errs[name]
		if msg == "" {
			if s.ID != orig.ID {
				renameStep(st.def, orig.ID, s.ID)
			}
			st.def.Steps[i] = s
			dp, err := a.draftProblems(c.UserContext(), member(c).WorkspaceID, st.def)
			if err != nil {
				return err
			}
			msg = dp.steps[i][name]
		}
	}
	return render(c, editor.FieldMessage(name, msg))
}
