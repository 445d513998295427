package handlers

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/editor"
	webruns "github.com/switchboard/switchboard/web/runs"
)

// "Test step" runs one step of the draft on the sample data (the sample
// event and the earlier steps' last test outputs) through the real job path:
// the engine queues it as a test run (runs.is_test, one attempt), a worker
// executes it like any step, and the panel polls until it has finished.

// testStallAfter is how long a queued test waits before the panel asks
// whether a worker is running.
const testStallAfter = 15 * time.Second

// testStepHandler is POST /flows/:id/steps/:step/test: save the step's form,
// then start its test run and show it as pending.
func (a *app) testStepHandler(c *fiber.Ctx) error {
	st, i, _, err := a.saveStepForm(c)
	if err != nil || st == nil {
		return err
	}
	ctx := c.UserContext()
	id := st.def.Steps[i].ID
	res := &editor.TestResult{Service: a.serviceName(st.def.Steps[i].Action)}
	if a.Engine == nil {
		res.Error = "This server runs no job engine, so steps cannot be tested here."
	} else {
		runID, err := a.Engine.StartTestStep(ctx, jobs.TestStep{
			Flow: st.flow.Flow, Definition: st.def, StepID: id,
			Trigger: st.flow.Sample.Trigger, Headers: st.flow.Sample.Headers, Outputs: st.flow.Sample.Steps,
		})
		var te *jobs.TestStepError
		switch {
		case errors.As(err, &te):
			res.Error = te.Error()
		case err != nil:
			return err
		default:
			res.Pending = true
			res.PollURL = editor.TestResultURL(st.flowID(), id, runID.String())
			res.RunURL = webruns.RunURL(runID.String())
		}
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), id))
	return a.renderEditor(c, st, viewOpts{selected: id, saved: true, test: res})
}

// testStepResult is GET /flows/:id/steps/:step/test/:run, what a pending
// test result polls: 204 while the step has not finished, then the result
// with the rendered input and the output or error the run recorded. A
// successful output becomes the step's sample output.
func (a *app) testStepResult(c *fiber.Ctx) error {
	fid, err := flowID(c)
	if err != nil {
		return err
	}
	runID, err := pathUUID(c, "run", "Test run")
	if err != nil {
		return err
	}
	if c.Get("HX-Request") != "true" {
		return c.Redirect(webruns.RunURL(runID.String()), fiber.StatusSeeOther)
	}
	ctx := c.UserContext()
	m := member(c)
	stepID := stepParamValue(c)
	run, err := store.GetRun(ctx, a.Pool, m.WorkspaceID, runID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (run.FlowID != fid || !run.IsTest)) {
		return notFound("Test run")
	}
	if err != nil {
		return err
	}
	rs, err := store.GetRunStep(ctx, a.Pool, runID, stepID)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Test run")
	}
	if err != nil {
		return err
	}
	res := &editor.TestResult{Service: a.serviceName(rs.Action), RunURL: webruns.RunURL(runID.String())}
	if !flows.Status(rs.Status).IsFinished() {
		if rs.Status == string(flows.StatusQueued) && time.Since(run.CreatedAt) > testStallAfter && c.Query("stalled") == "" {
			res.Pending, res.Stalled = true, true
			res.PollURL = editor.TestResultURL(fid.String(), stepID, runID.String()) + "?stalled=1"
			return render(c, editor.TestOutcome(res))
		}
		return c.SendStatus(fiber.StatusNoContent)
	}

	res.OK = rs.Status == string(flows.StatusSucceeded)
	res.Input = webruns.PrettyJSON(rs.Input)
	if res.OK {
		res.Output = webruns.PrettyJSON(rs.Output)
	} else if rs.Error != nil {
		res.Error = *rs.Error
	} else {
		res.Error = "The step was " + rs.Status + "."
	}
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	s, inDraft := st.def.Step(stepID)
	notes, err := a.testNotes(c, run, s)
	if err != nil {
		return err
	}
	res.Note = notes
	if res.OK && inDraft && m.CanEdit() && len(rs.Output) > 0 && string(rs.Output) != "null" {
		if err := store.SetSampleOutput(ctx, a.Pool, m.WorkspaceID, fid, stepID, rs.Output); err != nil {
			return err
		}
	}
	return render(c, editor.TestOutcome(res))
}

// testNotes say what a test run could not honour: a missing sample event,
// earlier steps without a test output (the run skipped their stand-ins, so
// their steps.… is empty), and the step's condition (the test ignores it;
// a real run would skip the step when it is false). s is the step as the
// draft has it now, nil when it is gone.
func (a *app) testNotes(c *fiber.Ctx, run store.Run, s *flows.Step) (string, error) {
	ctx := c.UserContext()
	ev, err := store.GetEvent(ctx, a.Pool, run.EventID)
	if err != nil {
		return "", err
	}
	steps, err := store.RunSteps(ctx, a.Pool, run.ID)
	if err != nil {
		return "", err
	}
	vars := flows.Vars{Headers: map[string]any{}, Steps: map[string]any{},
		Run: map[string]any{"id": run.ID.String(), "flow_id": run.FlowID.String()}}
	_ = json.Unmarshal(ev.Payload, &vars.Trigger)
	_ = json.Unmarshal(ev.Headers, &vars.Headers)
	var notes, missing []string
	if vars.Trigger == nil {
		notes = append(notes, "There is no sample event, so trigger.… is empty.")
	}
	for _, rs := range steps {
		switch {
		case s != nil && rs.StepID == s.ID:
		case rs.Status == string(flows.StatusSkipped):
			missing = append(missing, rs.StepID)
		case rs.Status == string(flows.StatusSucceeded):
			var out any
			_ = json.Unmarshal(rs.Output, &out)
			vars.Steps[rs.StepID] = out
		}
	}
	if len(missing) > 0 {
		notes = append(notes, "No test output yet for "+strings.Join(missing, ", ")+", so steps.… of those is empty.")
	}
	if s != nil && strings.TrimSpace(s.If) != "" {
		if ok, err := flows.EvalBool(s.If, vars); err != nil {
			notes = append(notes, "Its condition failed on this sample: "+err.Error())
		} else if !ok {
			notes = append(notes, "Its condition is false for this sample: in a real run this step would be skipped.")
		}
	}
	return strings.Join(notes, " "), nil
}

// serviceName names an action's connector for people ("Slack").
func (a *app) serviceName(action string) string {
	connector, _, _ := strings.Cut(action, ".")
	if a.Catalog != nil {
		if conn, ok := a.Catalog.Connector(connector); ok {
			return conn.Name()
		}
	}
	return connector
}
