package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/editor"
	webflows "github.com/switchboard/switchboard/web/flows"
	"github.com/switchboard/switchboard/web/layout"
)

// editorNow is the clock of relative times on pages.
var editorNow = time.Now

// New flows (blank, from a template, imported), and the flow's settings that
// are not part of its definition: name and enabled.

func (a *app) newFlowView(c *fiber.Ctx) webflows.NewView {
	v := webflows.NewView{Page: a.editorPageModel(c, "New flow", layout.NavFlows), Template: "blank", Errors: map[string]string{}}
	for _, t := range flowTemplates {
		tv := webflows.TemplateOption{Key: t.Key, Name: t.Name, Description: t.Description}
		if def, err := flows.Decode([]byte(t.Definition)); err == nil {
			for _, s := range def.Steps {
				tv.Actions = append(tv.Actions, s.Action)
			}
		}
		v.Templates = append(v.Templates, tv)
	}
	return v
}

// newFlowForm is GET /flows/new.
func (a *app) newFlowForm(c *fiber.Ctx) error {
	v := a.newFlowView(c)
	if t := c.Query("template"); t != "" {
		if _, ok := templateByKey(t); ok {
			v.Template = t
		}
	}
	return render(c, webflows.New(v))
}

// createFlowFromForm is POST /flows/new: the flow is created disabled, with
// the chosen start as its draft (and version 1), and opens in the editor.
// Its first valid publish enables it.
func (a *app) createFlowFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m := member(c)
	v := a.newFlowView(c)
	name := c.FormValue("name")
	v.Name, v.Template = name, c.FormValue("template")
	var ps problems
	name = ps.name(&name)
	if len(ps.list) > 0 {
		v.Errors["name"] = problemSentence(ps.list[0].Message)
	}
	def := blankDefinition()
	var sample any
	if v.Template != "blank" && v.Template != "" {
		t, ok := templateByKey(v.Template)
		if !ok {
			v.Errors["template"] = "Choose one of the starting points."
		} else {
			conns, err := store.ListConnections(ctx, a.Pool, m.WorkspaceID)
			if err != nil {
				return err
			}
			if def, sample, err = t.instantiate(conns); err != nil {
				return err
			}
		}
	}
	if len(v.Errors) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, webflows.New(v))
	}
	raw, err := marshalDefinition(def)
	if err != nil {
		return err
	}
	var f store.Flow
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		f, err = createEditorFlow(ctx, tx, m, name, raw, raw, false, flowSample{Trigger: sample})
		return err
	})
	if err != nil {
		return err
	}
	return c.Redirect(editor.FlowURL(f.ID.String(), ""), fiber.StatusSeeOther)
}

// importFlowForm is GET /flows/import.
func (a *app) importFlowForm(c *fiber.Ctx) error {
	return render(c, webflows.Import(webflows.ImportView{Page: a.editorPageModel(c, "Import a flow", layout.NavFlows), Errors: map[string]string{}}))
}

// importFlow is POST /flows/import: a pasted definition (or an export, or
// {"name", "definition"}) becomes a new flow. A valid definition is
// published and enabled at once; one with problems (connections of another
// workspace, say) opens in the editor as a disabled draft.
func (a *app) importFlow(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m := member(c)
	v := webflows.ImportView{Page: a.editorPageModel(c, "Import a flow", layout.NavFlows), Name: c.FormValue("name"), JSON: c.FormValue("definition"),
		Errors: map[string]string{}}
	refuse := func() error {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, webflows.Import(v))
	}
	raw := bytes.TrimSpace([]byte(v.JSON))
	// An {"name", "definition"} wrapper (the API's shape) is unwrapped.
	var wrapper struct {
		Name       string          `json:"name"`
		Definition json.RawMessage `json:"definition"`
	}
	if json.Unmarshal(raw, &wrapper) == nil && len(wrapper.Definition) > 0 {
		raw = wrapper.Definition
		if strings.TrimSpace(v.Name) == "" {
			v.Name = wrapper.Name
		}
	}
	var ps problems
	name := ps.name(&v.Name)
	if len(ps.list) > 0 {
		v.Errors["name"] = problemSentence(ps.list[0].Message)
	}
	var def *flows.Definition
	if len(raw) == 0 {
		v.Errors["definition"] = "Paste a flow definition (JSON)."
	} else if d, err := decodeWorking(raw); err != nil {
		v.Errors["definition"] = "This is not a flow definition: " + err.Error()
	} else {
		def = d
	}
	if len(v.Errors) > 0 {
		return refuse()
	}
	canonical, err := marshalDefinition(def)
	if err != nil {
		return err
	}
	var checks problems
	valid, err := a.checkDefinition(ctx, &checks, m.WorkspaceID, canonical)
	if err != nil {
		return err
	}
	var f store.Flow
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if valid != nil {
			f, err = createEditorFlow(ctx, tx, m, name, valid, nil, true, flowSample{Trigger: def.Trigger.Sample})
		} else {
			f, err = createEditorFlow(ctx, tx, m, name, canonical, canonical, false, flowSample{Trigger: def.Trigger.Sample})
		}
		return err
	})
	if err != nil {
		return err
	}
	if valid != nil {
		a.editorFlash(c, "Imported and published as version 1; the flow is enabled.")
	} else {
		a.editorFlashKind(c, "warning", fmt.Sprintf("Imported as a draft with %d %s to fix before publishing.", len(checks.list), editorPlural(len(checks.list), "problem", "problems")))
	}
	return c.Redirect(editor.FlowURL(f.ID.String(), ""), fiber.StatusSeeOther)
}

func editorPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// setFlowEnabledForm is POST /flows/:id/enabled with enabled=true|false.
// A flow whose published version is not valid cannot be enabled.
func (a *app) setFlowEnabledForm(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ws := member(c).WorkspaceID
	enabled := c.FormValue("enabled") == "true"
	back := safeNext(c.FormValue("return"))
	if enabled {
		var ps problems
		if _, err := a.checkDefinition(ctx, &ps, ws, st.flow.Definition); err != nil {
			return err
		}
		if len(ps.list) > 0 {
			a.editorFlashKind(c, "error", "“"+st.flow.Name+"” stays disabled: its published version has problems. Fix them in the editor and publish.")
			return c.Redirect(back, fiber.StatusSeeOther)
		}
	}
	if err := store.SetFlowEnabled(ctx, a.Pool, ws, st.flow.ID, enabled); err != nil {
		return flowErr(err)
	}
	if enabled {
		a.editorFlash(c, "Enabled “"+st.flow.Name+"”: events posted to its webhook start runs.")
	} else {
		a.editorFlash(c, "Disabled “"+st.flow.Name+"”: its webhook now answers 404.")
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// renameFlowForm is POST /flows/:id/rename.
func (a *app) renameFlowForm(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	raw := c.FormValue("name")
	var ps problems
	name := ps.name(&raw)
	if len(ps.list) > 0 {
		a.editorFlashKind(c, "error", "Not renamed: the name "+ps.list[0].Message+".")
		return c.Redirect(editor.FlowURL(id.String(), ""), fiber.StatusSeeOther)
	}
	if err := store.RenameFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, id, name); err != nil {
		return flowErr(err)
	}
	a.editorFlash(c, "Renamed the flow.")
	return c.Redirect(editor.FlowURL(id.String(), ""), fiber.StatusSeeOther)
}
