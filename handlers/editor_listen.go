package handlers

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/editor"
)

// "Listen for a test event" in the trigger panel, as Zapier and n8n do it:
// for listenWindow the flow's webhook URL keeps the next request as the
// sample event (ingest does the capturing, see ingestListening), and the
// panel polls until it has arrived.

// listenWindow is how long the editor listens for a test event.
const listenWindow = 5 * time.Minute

// listenForEvent is POST /flows/:id/sample/listen.
func (a *app) listenForEvent(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	until, err := store.ListenForSample(c.UserContext(), a.Pool, member(c).WorkspaceID, st.flow.ID, listenWindow)
	if err != nil {
		return flowErr(err)
	}
	st.flow.ListenUntil = &until
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), triggerNode))
	return a.renderEditor(c, st, viewOpts{selected: triggerNode})
}

// stopListening is POST /flows/:id/sample/listen/stop.
func (a *app) stopListening(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	if err := store.StopListening(c.UserContext(), a.Pool, member(c).WorkspaceID, st.flow.ID); err != nil {
		return err
	}
	st.flow.ListenUntil = nil
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), triggerNode))
	return a.renderEditor(c, st, viewOpts{selected: triggerNode,
		notice: &editor.Notice{Kind: "info", Text: "Stopped listening for a test event."}})
}

// listenStatus is GET /flows/:id/sample/listen?until=<deadline in Unix ms>,
// what the waiting panel polls: 204 while it waits; once the request has
// arrived, the whole editor with the new sample; when the listen has ended
// without one, the idle listen box.
func (a *app) listenStatus(c *fiber.Ctx) error {
	id, err := flowID(c)
	if err != nil {
		return err
	}
	if c.Get("HX-Request") != "true" {
		return c.Redirect(editor.FlowURL(id.String(), triggerNode), fiber.StatusSeeOther)
	}
	f, err := store.GetFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, id)
	if err != nil {
		return flowErr(err)
	}
	now := time.Now()
	switch {
	case listening(f, now):
		return c.SendStatus(fiber.StatusNoContent)
	case f.ListenUntil == nil: // captured: ingest clears the deadline
		st, err := a.loadEditor(c)
		if err != nil {
			return err
		}
		c.Set("HX-Retarget", "#flow-editor")
		c.Set("HX-Reswap", "outerHTML")
		return a.renderEditor(c, st, viewOpts{selected: triggerNode,
			notice: &editor.Notice{Kind: "success", Text: "Captured a test event: it is now the sample."}})
	}
	// Ended: at its deadline, or stopped early (StopListening moves the
	// deadline to the moment of the stop).
	state := editor.ListenExpired
	if ms, err := strconv.ParseInt(c.Query("until"), 10, 64); err == nil && f.ListenUntil.Before(time.UnixMilli(ms).Add(-time.Second)) {
		state = editor.ListenIdle
	}
	return render(c, editor.ListenBox(editor.ListenView{FlowID: id.String(), State: state, Window: listenWindowText, CanEdit: member(c).CanEdit()}))
}

const listenWindowText = "5 minutes"

// listenView builds the panel's listen box for a trigger that takes
// webhooks.
func (a *app) listenView(st *editorState, canEdit bool) *editor.ListenView {
	v := &editor.ListenView{FlowID: st.flowID(), WebhookURL: a.webhookURL(st.flow.Flow), State: editor.ListenIdle,
		Window: listenWindowText, CanEdit: canEdit}
	if !listening(st.flow.Flow, time.Now()) {
		return v
	}
	v.State = editor.ListenWaiting
	v.PollURL = "/flows/" + st.flowID() + "/sample/listen?until=" + strconv.FormatInt(st.flow.ListenUntil.UnixMilli(), 10)
	v.Curl = curlExample(v.WebhookURL, st.flow.Sample.Trigger)
	h, _ := readHookTrigger(st.def.Trigger)
	v.Signed = h.connection != uuid.Nil || h.scheme != "" || h.kind == triggerSlackEvents
	return v
}

// curlExample is a shell command that posts sample (or a small stand-in) to
// url as JSON.
func curlExample(url string, sample any) string {
	body := `{"type": "test"}`
	if sample != nil {
		if raw, err := json.Marshal(sample); err == nil && len(raw) <= 2000 {
			body = string(raw)
		}
	}
	return "curl -X POST " + shellQuote(url) + " -H 'Content-Type: application/json' -d " + shellQuote(body)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
