package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// TestStep is one step of a working draft to run on sample data.
type TestStep struct {
	Flow       store.Flow        // the flow (workspace, id, current version)
	Definition *flows.Definition // the working draft
	StepID     string
	Trigger    any // sample event payload
	Headers    map[string]any
	Outputs    map[string]any // sample outputs of earlier steps, by step id
}

// TestStepError is a step that cannot be tested as configured; Error is
// written for the person who configured it.
type TestStepError struct{ Msg string }

func (e *TestStepError) Error() string { return e.Msg }

// StartTestStep queues one step of a draft as a test run: runs.is_test, event
// source "test", one attempt and no retries, the step's `if` ignored. The run
// executes a definition of its own, kept with the run: the step, and stand-ins
// for the steps it reads, recorded as succeeded with their sample outputs (or
// skipped when there is none), so that the real worker renders the step's
// input exactly as a run would. It returns the run id.
func (e *Engine) StartTestStep(ctx context.Context, t TestStep) (uuid.UUID, error) {
	mini, err := testDefinition(t.Definition, t.StepID)
	if err != nil {
		return uuid.Nil, err
	}
	raw, err := json.Marshal(mini)
	if err != nil {
		return uuid.Nil, fmt.Errorf("engine: encode test definition: %w", err)
	}
	payload, err := json.Marshal(t.Trigger)
	if err != nil {
		return uuid.Nil, fmt.Errorf("engine: encode sample: %w", err)
	}
	if hasNUL(payload) {
		return uuid.Nil, &TestStepError{Msg: "The sample event holds a NUL character (\\u0000), which cannot be stored."}
	}
	if t.Headers == nil {
		t.Headers = map[string]any{}
	}
	headers, err := json.Marshal(t.Headers)
	if err != nil {
		return uuid.Nil, fmt.Errorf("engine: encode sample headers: %w", err)
	}
	steps := make([]store.RunStep, len(mini.Steps))
	for i, s := range mini.Steps {
		steps[i] = store.RunStep{StepID: s.ID, Action: s.Action, Status: string(flows.StatusSkipped), Position: i}
		if s.ID == t.StepID {
			steps[i].Status = string(flows.StatusQueued)
			continue
		}
		if out, ok := t.Outputs[s.ID]; ok && out != nil {
			b, err := json.Marshal(out)
			if err != nil {
				return uuid.Nil, fmt.Errorf("engine: encode sample output of %s: %w", s.ID, err)
			}
			steps[i].Status, steps[i].Output = string(flows.StatusSucceeded), b
		}
	}
	run := store.Run{ID: store.NewID(), WorkspaceID: t.Flow.WorkspaceID, FlowID: t.Flow.ID, FlowVersion: t.Flow.CurrentVersion,
		Status: "queued", IsTest: true, Definition: raw}
	err = pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		ev := store.Event{WorkspaceID: t.Flow.WorkspaceID, FlowID: t.Flow.ID, Source: "test", ContentType: "application/json",
			Headers: headers, Payload: payload}
		if _, err := store.InsertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		run.EventID = ev.ID
		if err := e.insertStepJobs(ctx, tx, run.ID, mini, []string{t.StepID}, nil); err != nil {
			return err
		}
		return store.InsertRun(ctx, tx, &run, steps)
	})
	if err != nil {
		return uuid.Nil, err
	}
	return run.ID, nil
}

// testDefinition is the definition a test run of stepID executes: stand-ins
// for the steps it reads (id, action and needs: never executed), then the step
// itself with one attempt and no condition. It compiles, or the error tells
// what to fix in the step.
func testDefinition(def *flows.Definition, stepID string) (*flows.Definition, error) {
	if def == nil {
		return nil, &TestStepError{Msg: "The flow has no definition to test."}
	}
	s, ok := def.Step(stepID)
	if !ok {
		return nil, &TestStepError{Msg: fmt.Sprintf("The flow has no step %q.", stepID)}
	}
	ups := flows.Upstream(def, stepID)
	keep := map[string]bool{}
	for _, u := range ups {
		keep[u] = true
	}
	needs := flows.ResolvedNeeds(def)
	kept := func(ids []string) *[]string {
		out := []string{}
		for _, n := range ids {
			if keep[n] {
				out = append(out, n)
			}
		}
		return &out
	}
	mini := &flows.Definition{Trigger: flows.Trigger{Type: flows.TriggerWebhook}}
	for _, u := range ups {
		us, _ := def.Step(u)
		mini.Steps = append(mini.Steps, flows.Step{ID: u, Action: us.Action, Needs: kept(needs[u])})
	}
	self := *s
	self.Needs = kept(needs[stepID])
	self.If = ""
	self.Undo = nil
	self.Retry = &flows.RetryPolicy{MaxAttempts: 1}
	mini.Steps = append(mini.Steps, self)
	if _, err := flows.Compile(mini); err != nil {
		var ps *flows.Problems
		if !errors.As(err, &ps) {
			return nil, &TestStepError{Msg: "Fix the step first: " + err.Error() + "."}
		}
		prefix := fmt.Sprintf("steps[%d]", len(mini.Steps)-1)
		var msgs []string
		for _, p := range ps.List {
			if strings.HasPrefix(p.Path, prefix) {
				msgs = append(msgs, strings.TrimPrefix(strings.TrimPrefix(p.Path, prefix), ".")+": "+p.Message)
			} else {
				msgs = append(msgs, p.String())
			}
		}
		return nil, &TestStepError{Msg: "Fix the step first: " + strings.Join(msgs, "; ") + "."}
	}
	return mini, nil
}

// runProgram is the compiled definition a run executes: its own (a test run)
// or its flow version's.
func (e *Engine) runProgram(ctx context.Context, db store.DB, run store.Run) (*compiled, error) {
	if run.Definition == nil {
		return e.program(ctx, db, run.FlowID, run.FlowVersion, nil)
	}
	def, err := flows.Decode(run.Definition)
	if err != nil {
		return nil, fmt.Errorf("engine: test run %s: %w", run.ID, err)
	}
	prog, err := flows.Compile(def)
	if err != nil {
		return nil, fmt.Errorf("engine: test run %s: %w", run.ID, err)
	}
	return &compiled{def: def, prog: prog}, nil
}
