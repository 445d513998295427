package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/layout"
	webruns "github.com/switchboard/switchboard/web/runs"
)

// sessFlashError is a one-shot error message for the runs pages (the shared
// flash is always shown as a success).
const sessFlashError = "runs_flash_error"

// runsShell is a.page for the runs pages, with a pending error flash.
func (a *app) runsShell(c *fiber.Ctx, title string) layout.Page {
	p := a.page(c, title, layout.NavRuns)
	if sess, err := a.sessions.Get(c); err == nil {
		if f := asString(sess.Get(sessFlashError)); f != "" {
			p.Flash, p.FlashKind = f, "error"
			sess.Delete(sessFlashError)
			_ = sess.Save()
		}
	}
	return p
}

func (a *app) setFlash(c *fiber.Ctx, key, msg string) error {
	sess, err := a.sessions.Get(c)
	if err != nil {
		return err
	}
	sess.Set(key, msg)
	return sess.Save()
}

// ---- the runs list -------------------------------------------------------

// dateLayouts are what <input type="datetime-local"> sends (and a bare date).
var dateLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

func parseFilterTime(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// runsListView reads the filters from the query and loads one page of runs.
// Invalid filters are reported beside the form and not applied.
func (a *app) runsListView(c *fiber.Ctx, full bool) (webruns.ListView, error) {
	ctx := c.UserContext()
	m := member(c)
	v := webruns.ListView{
		Filter: webruns.Filter{
			Flow:   strings.TrimSpace(c.Query("flow")),
			Status: strings.TrimSpace(c.Query("status")),
			From:   strings.TrimSpace(c.Query("from")),
			To:     strings.TrimSpace(c.Query("to")),
			Q:      strings.TrimSpace(c.Query("q")),
		},
		Errors:  map[string]string{},
		CanEdit: m.CanEdit(),
		CSRF:    csrfToken(c),
		Now:     time.Now(),
	}
	f := runListFilter{Limit: webruns.PageSize + 1}
	if v.Filter.Flow != "" {
		if id, err := uuid.Parse(v.Filter.Flow); err == nil {
			f.FlowID = &id
		} else {
			v.Errors["flow"] = "Choose a flow from the list."
		}
	}
	if v.Filter.Status != "" {
		if runStatuses[v.Filter.Status] {
			f.Status = v.Filter.Status
		} else {
			v.Errors["status"] = "Choose a status from the list."
		}
	}
	if v.Filter.From != "" {
		if t, ok := parseFilterTime(v.Filter.From); ok {
			f.From = &t
		} else {
			v.Errors["from"] = "“From” is not a date and time."
		}
	}
	if v.Filter.To != "" {
		if t, ok := parseFilterTime(v.Filter.To); ok {
			f.To = &t
		} else {
			v.Errors["to"] = "“To” is not a date and time."
		}
	}
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		v.Errors["to"] = "“To” must be after “From”."
		f.To = nil
	}
	if len(v.Filter.Q) > 200 {
		v.Filter.Q = v.Filter.Q[:200]
	}
	f.Text = v.Filter.Q
	if cur := c.Query("cursor"); cur != "" {
		if t, id, ok := decodeCursor(cur); ok {
			f.BeforeTime, f.BeforeID = &t, &id
			v.Cursor = cur
		}
	}

	rows, err := listRunSummaries(ctx, a.Pool, m.WorkspaceID, f)
	if err != nil {
		return v, err
	}
	if len(rows) > webruns.PageSize {
		rows = rows[:webruns.PageSize]
		last := rows[len(rows)-1]
		v.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	v.Rows = make([]webruns.Row, len(rows))
	for i, r := range rows {
		v.Rows[i] = webruns.Row{ID: r.ID.String(), FlowID: r.FlowID.String(), FlowName: r.FlowName, FlowVersion: r.FlowVersion,
			Status: r.Status, Source: r.Source, IsTest: r.IsTest, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt,
			FinishedAt: r.FinishedAt, StepsTotal: r.StepsTotal, StepsDone: r.StepsDone, FailedSteps: r.FailedSteps}
	}
	if !full {
		return v, nil
	}

	names, err := flowNames(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return v, err
	}
	for _, n := range names {
		v.Flows = append(v.Flows, webruns.FlowOption{ID: n.ID.String(), Name: n.Name})
	}
	failed, err := failedRunCounts(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return v, err
	}
	for _, fc := range failed {
		v.Failed = append(v.Failed, webruns.FailedFlow{FlowID: fc.FlowID.String(), FlowName: fc.FlowName, Count: fc.Failed})
	}
	v.Page = a.runsShell(c, "Runs")
	return v, nil
}

// runsPage lists runs newest first with filters and keyset pagination.
func (a *app) runsPage(c *fiber.Ctx) error {
	v, err := a.runsListView(c, true)
	if err != nil {
		return err
	}
	return render(c, webruns.List(v))
}

// runsRows is the table body the runs page polls while runs are going.
func (a *app) runsRows(c *fiber.Ctx) error {
	v, err := a.runsListView(c, false)
	if err != nil {
		return err
	}
	return render(c, webruns.Rows(v))
}

// runsRetryFailed redrives every failed run of a flow.
func (a *app) runsRetryFailed(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ws := member(c).WorkspaceID
	flowID, err := uuid.Parse(c.FormValue("flow_id"))
	if err != nil {
		return notFound("Flow")
	}
	if _, err := store.GetFlow(ctx, a.Pool, ws, flowID); err != nil {
		return recoveryError(err, "Flow")
	}
	n, err := a.Engine.RetryFailed(ctx, ws, flowID)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Retried %d runs.", n)
	switch n {
	case 0:
		msg = "No failed runs to retry: they were retried or replayed meanwhile."
	case 1:
		msg = "Retried 1 run."
	}
	if err := a.setFlash(c, sessFlash, msg); err != nil {
		return err
	}
	return c.Redirect("/runs", fiber.StatusSeeOther)
}

// ---- one run ---------------------------------------------------------------

// runDetailView loads a workspace's run with its flow version, trigger
// payload, steps and attempts. Inputs are the rendered values the engine
// stored; connections are never opened here, so no secret can show.
func (a *app) runDetailView(c *fiber.Ctx, id uuid.UUID) (webruns.DetailView, error) {
	ctx := c.UserContext()
	m := member(c)
	r, err := store.GetRun(ctx, a.Pool, m.WorkspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return webruns.DetailView{}, notFound("Run")
	}
	if err != nil {
		return webruns.DetailView{}, err
	}
	flow, err := store.GetFlow(ctx, a.Pool, m.WorkspaceID, r.FlowID)
	if err != nil {
		return webruns.DetailView{}, err
	}
	ev, err := store.GetEvent(ctx, a.Pool, r.EventID)
	if err != nil {
		return webruns.DetailView{}, err
	}
	steps, err := store.RunSteps(ctx, a.Pool, r.ID)
	if err != nil {
		return webruns.DetailView{}, err
	}
	attempts, err := store.RunAttempts(ctx, a.Pool, r.ID)
	if err != nil {
		return webruns.DetailView{}, err
	}

	v := webruns.DetailView{
		Run: webruns.Run{ID: r.ID.String(), FlowID: r.FlowID.String(), FlowName: flow.Name, FlowVersion: r.FlowVersion,
			CurrentVersion: flow.CurrentVersion, Status: r.Status, Source: ev.Source, IsTest: r.IsTest,
			CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt},
		Payload: webruns.PrettyJSON(ev.Payload),
		CanEdit: m.CanEdit(),
		CSRF:    csrfToken(c),
		Now:     time.Now(),
	}
	if r.ReplayOf != nil {
		v.Run.ReplayOf = r.ReplayOf.String()
	}
	if v.Payload == "" {
		v.Payload = "null"
	}
	history := map[string][]webruns.Attempt{}
	for _, at := range attempts {
		h := webruns.Attempt{N: at.Attempt, Status: at.Status, StartedAt: at.StartedAt, DurationMS: at.DurationMS}
		if at.Error != nil {
			h.Error = *at.Error
		}
		history[at.StepID] = append(history[at.StepID], h)
	}
	status := make(map[string]string, len(steps))
	for _, s := range steps {
		st := webruns.Step{ID: s.StepID, Action: s.Action, Status: s.Status, Attempts: s.Attempts,
			Input: webruns.PrettyJSON(s.Input), Output: webruns.PrettyJSON(s.Output),
			StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, DurationMS: s.DurationMS, History: history[s.StepID]}
		if s.Error != nil {
			st.Error = *s.Error
		}
		v.Steps = append(v.Steps, st)
		status[s.StepID] = s.Status
	}

	// The graph of the version the run used (a test run's own definition),
	// coloured by step state.
	if raw, err := a.runDefinition(c, r); err == nil {
		if def, err := flows.Decode(raw); err == nil {
			for i := range v.Steps {
				if s, ok := def.Step(v.Steps[i].ID); ok {
					v.Steps[i].Name = s.Name
				}
			}
			l := graph.New(graph.FromDefinition(def, graph.Overlay{
				Status:        status,
				TriggerStatus: "succeeded",
				TriggerHref:   "#replay",
				Href:          func(id string) string { return "#step-" + id },
			}), graph.Options{IDPrefix: "run-graph", Label: "Flow graph of this run, coloured by step state"})
			v.Graph = &l
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return webruns.DetailView{}, err
	}
	return v, nil
}

// runDefinition is the definition a run executes: a test run's own (the
// step tested and stand-ins for the steps it reads), else its flow version's.
func (a *app) runDefinition(c *fiber.Ctx, r store.Run) (json.RawMessage, error) {
	if r.Definition != nil {
		return r.Definition, nil
	}
	ver, err := store.GetFlowVersion(c.UserContext(), a.Pool, r.FlowID, r.FlowVersion)
	if err != nil {
		return nil, err
	}
	return ver.Definition, nil
}

// runPage shows one run.
func (a *app) runPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	v, err := a.runDetailView(c, id)
	if err != nil {
		return err
	}
	v.Page = a.runsShell(c, "Run of "+v.Run.FlowName)
	return render(c, webruns.Detail(v))
}

// runLive is the part of the run page that polls while the run goes on.
func (a *app) runLive(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	return a.renderLive(c, id)
}

func (a *app) renderLive(c *fiber.Ctx, id uuid.UUID) error {
	v, err := a.runDetailView(c, id)
	if err != nil {
		return err
	}
	return render(c, webruns.Live(v))
}

// afterRecovery answers a retry or cancel: htmx gets the new live region;
// a plain form post goes back to the run page. A refusal (the step was
// retried meanwhile, the run already finished) is shown there as an error.
func (a *app) afterRecovery(c *fiber.Ctx, id uuid.UUID, err error, okFlash string) error {
	htmx := c.Get("HX-Request") == "true"
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Status != fiber.StatusConflict {
			return err
		}
		if ferr := a.setFlash(c, sessFlashError, e.Message); ferr != nil {
			return ferr
		}
		if htmx {
			c.Set("HX-Redirect", webruns.RunURL(id.String()))
			return c.SendStatus(fiber.StatusOK)
		}
		return c.Redirect(webruns.RunURL(id.String()), fiber.StatusSeeOther)
	}
	if htmx {
		return a.renderLive(c, id)
	}
	if ferr := a.setFlash(c, sessFlash, okFlash); ferr != nil {
		return ferr
	}
	return c.Redirect(webruns.RunURL(id.String()), fiber.StatusSeeOther)
}

// runRetryStep retries a failed step; the run continues from there.
func (a *app) runRetryStep(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	stepID := c.Params("step")
	err = a.Engine.RetryStep(c.UserContext(), member(c).WorkspaceID, id, stepID)
	return a.afterRecovery(c, id, recoveryError(err, "Run or step"), fmt.Sprintf("Retrying step “%s”.", stepID))
}

// runCancel cancels a queued, running or waiting run.
func (a *app) runCancel(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	err = a.Engine.Cancel(c.UserContext(), member(c).WorkspaceID, id)
	return a.afterRecovery(c, id, recoveryError(err, "Run"), "Run cancelled.")
}

// runReplay starts a new run of the flow with the (edited) payload and goes
// to it. An empty payload replays the original one.
func (a *app) runReplay(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("payload"))
	var payload *any
	problem := ""
	if raw != "" {
		var p any
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			problem = "This is not valid JSON: " + jsonProblem(err) + "."
		} else {
			payload = &p
		}
	}
	var newID uuid.UUID
	if problem == "" {
		newID, err = a.Engine.Replay(c.UserContext(), member(c).WorkspaceID, id, payload)
		var te *jobs.TriggerError
		switch {
		case errors.As(err, &te):
			problem = "The trigger cannot take this payload: " + te.Error()
		case err != nil:
			return recoveryError(err, "Run")
		}
	}
	if problem != "" {
		v, err := a.runDetailView(c, id)
		if err != nil {
			return err
		}
		v.Page = a.runsShell(c, "Run of "+v.Run.FlowName)
		v.Payload, v.PayloadError = c.FormValue("payload"), problem
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, webruns.Detail(v))
	}
	if err := a.setFlash(c, sessFlash, "Replayed: this is the new run."); err != nil {
		return err
	}
	return c.Redirect(webruns.RunURL(newID.String()), fiber.StatusSeeOther)
}

// jsonProblem words a JSON syntax error for people.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at character %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
