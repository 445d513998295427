package handlers

import (
	"encoding/json"
	"errors"
	"reflect"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/editor"
)

// saveTrigger is POST /flows/:id/trigger: the trigger's form into the
// draft, and the sample event into flows.sample.
func (a *app) saveTrigger(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	t, sample, sampleSet, raw, errs := parseTriggerForm(editorFormValues(c), st.def.Trigger)
	if len(errs) > 0 {
		return a.renderEditor(c, st, viewOpts{selected: triggerNode, triggerRaw: raw, fieldErrors: errs,
			notice: &editor.Notice{Kind: "error", Text: "Not saved: correct the fields marked below."}})
	}
	st.def.Trigger = t
	ctx := c.UserContext()
	if err := a.saveWorking(ctx, c, st); err != nil {
		return err
	}
	if sampleSet {
		if !reflect.DeepEqual(sample, st.flow.Sample.Trigger) {
			st.flow.Sample.Headers = nil // those of a captured request no longer apply
		}
		st.flow.Sample.Trigger = sample
		if err := saveSample(ctx, a.Pool, member(c).WorkspaceID, st.flow.ID, st.flow.Sample); err != nil {
			return err
		}
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), triggerNode))
	return a.renderEditor(c, st, viewOpts{selected: triggerNode, saved: true})
}

// useLastEvent is POST /flows/:id/sample/last-event: the payload of the
// flow's last received event becomes the sample.
func (a *app) useLastEvent(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ws := member(c).WorkspaceID
	payload, _, err := lastEventPayload(ctx, a.Pool, ws, st.flow.ID)
	if errors.Is(err, store.ErrNotFound) {
		return a.renderEditor(c, st, viewOpts{selected: triggerNode,
			notice: &editor.Notice{Kind: "warning", Text: "No event has arrived yet: post one to the webhook URL, then try again."}})
	}
	if err != nil {
		return err
	}
	var sample any
	if err := json.Unmarshal(payload, &sample); err != nil {
		return err
	}
	st.flow.Sample.Trigger, st.flow.Sample.Headers = sample, nil
	if err := saveSample(ctx, a.Pool, ws, st.flow.ID, st.flow.Sample); err != nil {
		return err
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), triggerNode))
	return a.renderEditor(c, st, viewOpts{selected: triggerNode,
		notice: &editor.Notice{Kind: "success", Text: "The last received event is now the sample."}})
}
