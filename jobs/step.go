package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// StepArgs executes one step of one run. Besides the ids it carries the step's
// retry policy so that NextRetry needs no database read (no secrets here:
// River stores args as plain JSON).
type StepArgs struct {
	RunID  uuid.UUID `json:"run_id"`
	StepID string    `json:"step_id"`
	// AttemptBase is the step's attempt count when this job was queued: a
	// manual retry gets a fresh budget of MaxAttempts.
	AttemptBase int   `json:"attempt_base,omitempty"`
	MaxAttempts int   `json:"max_attempts"`
	InitialMS   int64 `json:"initial_ms"`
	MaxMS       int64 `json:"max_ms"`
	TimeoutMS   int64 `json:"timeout_ms"`
}

// Kind is the job kind (never renamed).
func (StepArgs) Kind() string { return "run_step" }

func newStepArgs(runID uuid.UUID, s *flows.Step, attemptBase int) StepArgs {
	p := s.RetryPolicy()
	return StepArgs{RunID: runID, StepID: s.ID, AttemptBase: attemptBase, MaxAttempts: p.MaxAttempts,
		InitialMS: time.Duration(p.InitialInterval).Milliseconds(), MaxMS: time.Duration(p.MaxInterval).Milliseconds(),
		TimeoutMS: s.AttemptTimeout().Milliseconds()}
}

// insertOpts: the engine decides when a step has failed for good (it cancels the
// job then); River's own limit only backs that up, leaving room for snoozes and
// crashed attempts.
func (a StepArgs) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: a.MaxAttempts + 10}
}

func (a StepArgs) policy() flows.RetryPolicy {
	return flows.RetryPolicy{MaxAttempts: a.MaxAttempts,
		InitialInterval: flows.Duration(time.Duration(a.InitialMS) * time.Millisecond),
		MaxInterval:     flows.Duration(time.Duration(a.MaxMS) * time.Millisecond)}
}

// maxSnooze caps how long a Retry-After may delay a step.
const maxSnooze = time.Hour

// StepWorker runs StepArgs.
type StepWorker struct {
	river.WorkerDefaults[StepArgs]
	e *Engine
}

// NextRetry follows the step's retry policy (exponential with jitter, capped).
func (w *StepWorker) NextRetry(job *river.Job[StepArgs]) time.Time {
	return time.Now().Add(flows.Backoff(job.Args.policy(), job.Attempt, rand.Float64))
}

// stepTimeoutMargin is how much longer than the step's own timeout River lets a
// step job run: the action's timeout fires first and is recorded as a failed
// attempt; River's is the backstop, and after it (a worker that died) the job
// rescuer may run the step again.
const stepTimeoutMargin = 5 * time.Second

// Timeout is the step's per-attempt timeout plus a margin.
func (w *StepWorker) Timeout(job *river.Job[StepArgs]) time.Duration {
	if job.Args.TimeoutMS <= 0 {
		return flows.DefaultTimeout + stepTimeoutMargin
	}
	return time.Duration(job.Args.TimeoutMS)*time.Millisecond + stepTimeoutMargin
}

// Work executes the step.
func (w *StepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	return w.e.runStep(ctx, job)
}

type stepRun struct {
	run   store.Run
	steps []store.RunStep // as ReadStep read them
	c     *compiled
	step  *flows.Step
	vars  flows.Vars
	input json.RawMessage
}

// runStep executes one attempt. Its database work is a read before the call
// and a write after it, each shared with the other jobs of the moment (group
// commits, see Engine). River completes the job afterwards in its own
// batches; the step's status, not the job's, is what makes a repeated job a
// no-op (loadStep finds the step finished and skips it).
func (e *Engine) runStep(ctx context.Context, job *river.Job[StepArgs]) error {
	a := job.Args
	sr, attempt, err := e.loadStep(ctx, a)
	if err != nil || sr == nil {
		return err // nil, nil: nothing to do
	}
	input, renderErr := sr.c.prog.RenderInput(a.StepID, sr.vars)
	if renderErr == nil {
		if sr.input, err = json.Marshal(input); err != nil {
			renderErr = err
		}
	}
	started := time.Now()
	var output map[string]any
	execErr := renderErr
	if execErr != nil {
		execErr = connectors.Permanent(0, "could not build the input: "+execErr.Error())
	} else {
		stop := e.markRunningLater(sr, attempt, started)
		output, execErr = e.execute(ctx, sr, input)
		stop()
	}
	finished := time.Now()
	at := store.StepAttempt{RunID: sr.run.ID, StepID: a.StepID, Attempt: attempt, StartedAt: started, FinishedAt: finished,
		DurationMS: int(finished.Sub(started).Milliseconds())}
	defer func() {
		e.Metrics.ObserveStep(sr.step.Action, at.Status, finished.Sub(started))
		if at.Status == "retrying" || at.Status == "snoozed" {
			e.Metrics.IncRetry()
		}
	}()
	n := attempt - a.AttemptBase // this job's attempt number
	if execErr == nil {
		at.Status = "succeeded"
		return e.finish(sr, at, "succeeded", output)
	}
	msg := execErr.Error()
	at.Error = &msg
	var perm *connectors.PermanentError
	var rl *connectors.RateLimitedError
	switch {
	case errors.As(execErr, &perm) || n >= a.MaxAttempts:
		at.Status = "failed"
		if err := e.finish(sr, at, "failed", nil); err != nil {
			return err
		}
		return river.JobCancel(execErr)
	case errors.As(execErr, &rl):
		at.Status = "snoozed"
		if err := e.interim(sr, at); err != nil {
			return err
		}
		return river.JobSnooze(min(max(rl.RetryAfter, time.Second), maxSnooze))
	default:
		at.Status = "retrying"
		if err := e.interim(sr, at); err != nil {
			return err
		}
		return execErr
	}
}

// loadStep starts an attempt: it reads what the step needs (store.ReadStep)
// and numbers the attempt. It answers nil when the step is no longer
// runnable: the run was cancelled or pruned, or a repeated job found the step
// finished.
func (e *Engine) loadStep(ctx context.Context, a StepArgs) (*stepRun, int, error) {
	st, err := e.readStep(a.RunID, a.StepID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil // pruned or deleted with its flow
	}
	if err != nil || st.Attempt == 0 {
		return nil, 0, err
	}
	run := st.Run
	outputs := make(map[string]any, len(st.Steps))
	for _, s := range st.Steps {
		if s.Status == string(flows.StatusSucceeded) && s.Output != nil {
			var out any
			if err := json.Unmarshal(s.Output, &out); err != nil {
				return nil, 0, fmt.Errorf("engine: output of %s: %w", s.StepID, err)
			}
			outputs[s.StepID] = out
		}
	}
	c, err := e.runProgram(ctx, e.Pool, run)
	if err != nil {
		return nil, 0, err
	}
	step, ok := c.def.Step(a.StepID)
	if !ok {
		return nil, 0, nil
	}
	var payload any
	if err := json.Unmarshal(st.Event.Payload, &payload); err != nil {
		return nil, 0, fmt.Errorf("engine: event payload: %w", err)
	}
	var headers map[string]any
	_ = json.Unmarshal(st.Event.Headers, &headers)
	vars := flows.Vars{Trigger: payload, Headers: headers, Steps: outputs,
		Run: map[string]any{"id": run.ID.String(), "flow_id": run.FlowID.String()}}
	return &stepRun{run: run, steps: st.Steps, c: c, step: step, vars: vars}, st.Attempt, nil
}

// runningAfter is how long a step's call may take before the step, and its
// run if queued, are marked running. A fast step goes from queued to its
// outcome in one write; a run whose one fast step succeeds, likewise (runs
// rows are indexed by status, so each status change costs every index an
// entry).
const runningAfter = 250 * time.Millisecond

// markRunningLater marks the step running unless stopped within
// runningAfter. stop waits for a mark already under way, so that the
// attempt's own record always comes after it.
func (e *Engine) markRunningLater(sr *stepRun, attempt int, started time.Time) (stop func()) {
	done := make(chan struct{})
	t := time.AfterFunc(runningAfter, func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b := &pgx.Batch{}
		store.QueueMarkStepRunning(b, sr.run.ID, sr.step.ID, attempt, started, sr.input)
		if err := e.Pool.SendBatch(ctx, b).Close(); err != nil {
			e.Logger.Warn("mark step running", "run", sr.run.ID, "step", sr.step.ID, "err", err)
		}
	})
	return func() {
		if !t.Stop() {
			<-done
		}
	}
}

// stepRead waits for its shared read (store.ReadSteps).
type stepRead struct {
	waiter
	ref     store.StepRef
	st      store.StepStart
	missing error // the run is gone
}

const (
	// readers is how many shared reads of steps may be in flight at once.
	readers = 2
	// readBatchMax bounds the steps read in one.
	readBatchMax = 128
)

// readStep reads what a step job needs, sharing the round trip with the
// other jobs starting meanwhile.
func (e *Engine) readStep(runID uuid.UUID, stepID string) (store.StepStart, error) {
	r := &stepRead{ref: store.StepRef{RunID: runID, StepID: stepID}}
	if err := e.reads.do(r); err != nil {
		return store.StepStart{}, err
	}
	return r.st, r.missing
}

// readSteps reads a batch; each read gets its own step, or finds its run gone.
func (e *Engine) readSteps(ctx context.Context, batch []*stepRead) error {
	refs := make([]store.StepRef, len(batch))
	for i, r := range batch {
		refs[i] = r.ref
	}
	sts, errs, err := store.ReadSteps(ctx, e.Pool, refs)
	if err != nil {
		return err
	}
	for i, r := range batch {
		r.st, r.missing = sts[i], errs[i]
	}
	return nil
}

// lastStep waits for its group commit (store.FinishLastSteps).
type lastStep struct {
	waiter
	store.LastStep
	ok bool // written; false: the run changed, take the general path
}

const (
	// finishCommitters is how many group commits of last steps may be in flight at once.
	finishCommitters = 2
	// finishBatchMax bounds the steps in one.
	finishBatchMax = 128
)

// commitLastSteps writes a batch of last steps in one round trip.
func (e *Engine) commitLastSteps(ctx context.Context, batch []*lastStep) error {
	ls := make([]store.LastStep, len(batch))
	for i, l := range batch {
		ls[i] = l.LastStep
	}
	done, err := store.FinishLastSteps(ctx, e.Pool, ls)
	if err != nil {
		return err
	}
	for i, l := range batch {
		l.ok = done[i]
	}
	return nil
}

// execute calls the action with the step's connection, under the step's timeout.
func (e *Engine) execute(ctx context.Context, sr *stepRun, input map[string]any) (map[string]any, error) {
	action, ok := e.Catalog.Action(sr.step.Action)
	if !ok {
		return nil, connectors.Permanent(0, fmt.Sprintf("unknown action %q", sr.step.Action))
	}
	req := connectors.Request{Input: input, IdempotencyKey: sr.run.ID.String() + ":" + sr.step.ID, HTTP: e.HTTP}
	if sr.step.Connection != "" {
		id, err := uuid.Parse(sr.step.Connection)
		if err != nil || e.OpenConnection == nil {
			return nil, connectors.Permanent(0, fmt.Sprintf("connection %q does not exist", sr.step.Connection))
		}
		conn, _, err := e.OpenConnection(ctx, sr.run.WorkspaceID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, connectors.Permanent(0, fmt.Sprintf("connection %s was deleted; pick another one and retry", id))
		}
		if err != nil {
			return nil, fmt.Errorf("open connection: %w", err)
		}
		req.Connection = conn
	}
	actx, cancel := context.WithTimeout(ctx, sr.step.AttemptTimeout())
	defer cancel()
	out, err := action.Execute(actx, req)
	if err != nil && actx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return nil, fmt.Errorf("timed out after %s", sr.step.AttemptTimeout())
	}
	return out, err
}

// interim records an attempt that will be retried: the step stays queued with
// the attempt's error shown (and its run is running).
func (e *Engine) interim(sr *stepRun, at store.StepAttempt) error {
	return e.record(sr, store.StepOutcome{Attempt: at, Status: "queued", Input: sr.input})
}

// finish records a step's final outcome and, in the same transaction, queues
// the steps it made ready and settles the run when it is done.
func (e *Engine) finish(sr *stepRun, at store.StepAttempt, status string, output map[string]any) error {
	var outJSON json.RawMessage
	if output != nil {
		var err error
		if outJSON, err = json.Marshal(output); err != nil {
			return fmt.Errorf("engine: encode output: %w", err)
		}
	}
	// The last step of a run: one round trip shared with other runs' last
	// steps, when nothing changed meanwhile.
	if others, runStatus, ok := e.finishesRun(sr, at.StepID, status, outJSON); ok {
		l := &lastStep{LastStep: store.LastStep{Attempt: at, Status: status, Input: sr.input, Output: outJSON,
			Others: others, RunStatus: runStatus}}
		if err := e.finishes.do(l); err != nil || l.ok {
			return err
		}
	}
	return e.record(sr, store.StepOutcome{Attempt: at, Status: status, Input: sr.input, Output: outJSON})
}

// record records an attempt's outcome and what follows from it, in a
// transaction shared with other steps' outcomes (commitOutcomes).
func (e *Engine) record(sr *stepRun, out store.StepOutcome) error {
	return e.outcomes.do(&outcome{sr: sr, out: out})
}

// outcome is an attempt's outcome waiting for its group commit.
type outcome struct {
	waiter
	sr  *stepRun
	out store.StepOutcome
}

const (
	// outcomeCommitters is how many group commits of outcomes may be in flight at once.
	outcomeCommitters = 2
	// outcomeBatchMax bounds the outcomes in one.
	outcomeBatchMax = 64
)

// commitOutcomes records a batch of outcomes and what follows from them in one
// transaction.
func (e *Engine) commitOutcomes(ctx context.Context, batch []*outcome) error {
	return pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error { return e.outcomesTx(ctx, tx, batch) })
}

// outcomesTx records outcomes under their runs' locks, then, once per run,
// queues the steps they made ready, skips those whose `if` is false, and
// settles the run when nothing more can happen. Outcomes of runs that are
// gone or cancelled change nothing.
func (e *Engine) outcomesTx(ctx context.Context, tx pgx.Tx, batch []*outcome) error {
	outs := make([]store.StepOutcome, len(batch))
	for i, o := range batch {
		outs[i] = o.out
	}
	runs, states, err := store.RecordAttempts(ctx, tx, outs)
	if err != nil {
		return err
	}
	type work struct {
		run store.Run
		sr  *stepRun
		n   nextSteps
	}
	var order []*work
	seen := map[uuid.UUID]bool{}
	for _, o := range batch {
		run, ok := runs[o.sr.run.ID]
		if !ok || run.Status == "cancelled" || seen[run.ID] {
			continue
		}
		seen[run.ID] = true
		order = append(order, &work{run: run, sr: o.sr})
	}
	var params []river.InsertManyParams
	for _, w := range order {
		// Every outcome of the run is among its steps now: one decision for all.
		if w.n, err = e.next(w.sr, w.run.Status, states[w.run.ID]); err != nil {
			return err
		}
		for _, id := range w.n.queue {
			s, _ := w.sr.c.def.Step(id)
			args := newStepArgs(w.run.ID, s, 0)
			params = append(params, river.InsertManyParams{Args: args, InsertOpts: args.insertOpts()})
		}
	}
	if len(params) > 0 {
		if err := e.insertJobs(ctx, tx, params); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	for _, w := range order {
		queueRecordQueued(b, w.run.ID, w.n.skip, w.n.queue, w.n.condErrs, w.n.runStatus)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("engine: record queued steps: %w", err)
	}
	return nil
}

// nextSteps is what follows a step's outcome.
type nextSteps struct {
	queue, skip []string
	condErrs    map[string]error // steps whose `if` failed: they fail
	runStatus   string           // the run's new status, if it changes
}

// next decides what follows from the run's steps as they are now (states
// and outputs of those that succeeded).
func (e *Engine) next(sr *stepRun, runStatus string, steps []store.RunStep) (nextSteps, error) {
	status := make(map[string]flows.Status, len(steps))
	vars := sr.vars
	vars.Steps = make(map[string]any, len(steps))
	for k, v := range sr.vars.Steps {
		vars.Steps[k] = v
	}
	for _, s := range steps {
		status[s.StepID] = flows.Status(s.Status)
		if _, seen := vars.Steps[s.StepID]; !seen && s.Status == string(flows.StatusSucceeded) && s.Output != nil {
			var out any
			_ = json.Unmarshal(s.Output, &out)
			vars.Steps[s.StepID] = out
		}
	}
	n := nextSteps{condErrs: map[string]error{}}
	toRun, toSkip, err := flows.Advance(sr.c.def, status, e.cond(sr.c, vars, n.condErrs))
	if err != nil {
		return n, err
	}
	for _, id := range toRun {
		if n.condErrs[id] == nil {
			n.queue = append(n.queue, id)
			status[id] = flows.StatusQueued
		} else {
			status[id] = flows.StatusFailed
		}
	}
	for _, id := range toSkip {
		status[id] = flows.StatusSkipped
	}
	n.skip = toSkip
	if done, ok := flows.RunFinished(sr.c.def, status); done {
		n.runStatus = map[bool]string{true: "succeeded", false: "failed"}[ok]
	} else if runStatus == "queued" {
		n.runStatus = "running"
	}
	return n, nil
}

// finishesRun tells whether the step's outcome ends the run with nothing else
// to do, judged from the steps as ReadStep read them: the others were all
// finished then, and a finished step changes only under the run lock (retry,
// cancel), which store.FinishLastStep checks.
func (e *Engine) finishesRun(sr *stepRun, stepID, status string, output json.RawMessage) (others map[string]string, runStatus string, ok bool) {
	steps := make([]store.RunStep, len(sr.steps))
	others = make(map[string]string, len(sr.steps))
	for i, s := range sr.steps {
		steps[i] = s
		if s.StepID == stepID {
			steps[i].Status, steps[i].Output = status, output
			continue
		}
		switch flows.Status(s.Status) {
		case flows.StatusSucceeded, flows.StatusFailed, flows.StatusSkipped, flows.StatusCancelled:
		default:
			return nil, "", false
		}
		others[s.StepID] = s.Status
	}
	n, err := e.next(sr, sr.run.Status, steps)
	if err != nil || len(n.queue) > 0 || len(n.skip) > 0 || len(n.condErrs) > 0 {
		return nil, "", false
	}
	if n.runStatus != "succeeded" && n.runStatus != "failed" {
		return nil, "", false
	}
	return others, n.runStatus, true
}
