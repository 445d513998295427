package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/editor"
)

// testStepHandler is POST /flows/:id/steps/:step/test: save the step's form,
// then run that one step's action synchronously on the sample data (the
// sample event and the earlier steps' last test outputs). This is a test,
// not a run: nothing is recorded in the run history, but the service is
// really called. The output becomes the step's sample for the data picker.
func (a *app) testStepHandler(c *fiber.Ctx) error {
	st, i, err := a.loadEditorStep(c)
	if err != nil {
		return err
	}
	o, ok := a.applyStepForm(c, st, i)
	if !ok {
		return a.renderEditor(c, st, o)
	}
	ctx := c.UserContext()
	if err := a.saveWorking(ctx, c, st); err != nil {
		return err
	}
	id := st.def.Steps[i].ID
	res, output := a.testStep(ctx, member(c).WorkspaceID, st, id)
	if output != nil {
		st.flow.Sample.Steps[id] = output
	}
	if output != nil || id != stepParamValue(c) {
		if err := saveSample(ctx, a.Pool, member(c).WorkspaceID, st.flow.ID, st.flow.Sample); err != nil {
			return err
		}
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), id))
	return a.renderEditor(c, st, viewOpts{selected: id, saved: true, test: res})
}

// testStep renders the step's input from the sample data and executes its
// action once. The output is nil unless the action succeeded.
func (a *app) testStep(ctx context.Context, ws uuid.UUID, st *editorState, stepID string) (*editor.TestResult, any) {
	s, _ := st.def.Step(stepID)
	res := &editor.TestResult{}
	fail := func(format string, args ...any) (*editor.TestResult, any) {
		res.Error = fmt.Sprintf(format, args...)
		return res, nil
	}
	if a.Catalog == nil {
		return fail("This server has no connector catalog.")
	}
	act, ok := a.Catalog.Action(s.Action)
	if !ok {
		return fail("The catalog has no action %s.", s.Action)
	}
	connector, _, _ := strings.Cut(s.Action, ".")
	res.Service = connector
	if conn, ok := a.Catalog.Connector(connector); ok {
		res.Service = conn.Name()
	}

	// Compile only this step, with the steps it reads as bare stand-ins: a
	// problem elsewhere in the draft does not stop the test.
	ups := stepsUpstream(st.def, stepID)
	needs := flows.ResolvedNeeds(st.def)
	mini := &flows.Definition{Trigger: flows.Trigger{Type: flows.TriggerWebhook}}
	inUps := map[string]bool{}
	for _, u := range ups {
		inUps[u] = true
	}
	for _, u := range ups {
		us, _ := st.def.Step(u)
		mini.Steps = append(mini.Steps, flows.Step{ID: u, Action: us.Action, Needs: testKeepNeeds(needs[u], inUps)})
	}
	self := *s
	self.Needs = testKeepNeeds(needs[stepID], inUps)
	self.Undo = nil
	mini.Steps = append(mini.Steps, self)
	prog, err := flows.Compile(mini)
	if err != nil {
		var ps *flows.Problems
		if errors.As(err, &ps) {
			var msgs []string
			for _, p := range ps.List {
				if strings.HasPrefix(p.Path, fmt.Sprintf("steps[%d]", len(mini.Steps)-1)) {
					msgs = append(msgs, strings.TrimPrefix(p.Path, fmt.Sprintf("steps[%d].", len(mini.Steps)-1))+": "+p.Message)
				}
			}
			if len(msgs) > 0 {
				return fail("Fix the step first: %s.", strings.Join(msgs, "; "))
			}
		}
		return fail("Fix the step first: %v.", err)
	}
	vars := flows.Vars{
		Trigger: st.flow.Sample.Trigger,
		Headers: map[string]any{},
		Steps:   map[string]any{},
		Run:     map[string]any{"id": "test", "flow_id": st.flowID()},
	}
	var missing []string
	for _, u := range ups {
		if out, ok := st.flow.Sample.Steps[u]; ok {
			vars.Steps[u] = out
		} else {
			missing = append(missing, u)
		}
	}
	var notes []string
	if st.flow.Sample.Trigger == nil {
		notes = append(notes, "There is no sample event, so trigger.… is empty.")
	}
	if len(missing) > 0 {
		notes = append(notes, "No test output yet for "+strings.Join(missing, ", ")+", so steps.… of those is empty.")
	}
	if run, err := prog.StepIf(stepID, vars); err != nil {
		notes = append(notes, "Its condition failed on this sample: "+err.Error())
	} else if !run {
		notes = append(notes, "Its condition is false for this sample: in a real run this step would be skipped.")
	}
	res.Note = strings.Join(notes, " ")
	input, err := prog.RenderInput(stepID, vars)
	if err != nil {
		return fail("The input could not be rendered: %v", err)
	}
	res.Input = editorPrettyJSON(input)

	req := connectors.Request{Input: input, HTTP: connectors.Client(a.HTTP), IdempotencyKey: "test-" + editorRandomHex(8)}
	var secrets map[string]string
	if s.Connection != "" {
		cid, err := uuid.Parse(s.Connection)
		if err != nil {
			return fail("Choose a connection first.")
		}
		conn, sec, err := store.OpenConnection(ctx, a.Pool, a.Sealer, ws, cid)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fail("The step's connection no longer exists; choose another.")
		case errors.Is(err, store.ErrUnknownKey):
			return fail("The connection's secrets were encrypted with a key this server does not have.")
		case err != nil:
			return fail("The connection could not be opened.")
		}
		if conn.Connector != connector {
			return fail("The connection is a %s connection; this step needs %s.", conn.Connector, connector)
		}
		secrets = sec
		req.Connection = &connectors.Connection{ID: conn.ID.String(), Config: conn.Config, Secrets: sec}
	} else if !act.Spec().NoConnection {
		return fail("Choose a connection first.")
	}
	tctx, cancel := context.WithTimeout(ctx, s.AttemptTimeout())
	defer cancel()
	out, err := act.Execute(tctx, req)
	if err != nil {
		msg := redactSecrets(err.Error(), secrets)
		var perm *connectors.PermanentError
		var rl *connectors.RateLimitedError
		switch {
		case errors.As(err, &rl):
			msg += " (rate limited: a run would retry after " + rl.RetryAfter.String() + ")"
		case errors.As(err, &perm):
			msg += " (a run would fail the step at once)"
		case errors.Is(err, context.DeadlineExceeded) && tctx.Err() != nil:
			msg = fmt.Sprintf("%s did not answer within %s (a run would retry)", res.Service, s.AttemptTimeout())
		default:
			msg += " (a run would retry)"
		}
		return fail("%s", msg)
	}
	// Keep the output as plain JSON values, as a run would store it.
	raw, err := json.Marshal(out)
	if err != nil {
		return fail("The output could not be encoded: %v", err)
	}
	var plain any
	if err := json.Unmarshal(raw, &plain); err != nil {
		return fail("The output could not be encoded: %v", err)
	}
	res.OK = true
	res.Output = editorPrettyJSON(plain)
	return res, plain
}

func testKeepNeeds(needs []string, keep map[string]bool) *[]string {
	out := []string{}
	for _, n := range needs {
		if keep[n] {
			out = append(out, n)
		}
	}
	return &out
}

func editorRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
