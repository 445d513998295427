package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// Incoming is an event to accept for a flow.
type Incoming struct {
	Flow        store.Flow
	Source      string // webhook, manual, replay, test
	ContentType string
	Headers     map[string]any
	Payload     any
	// IdempotencyKey from the request (Idempotency-Key header); empty: the
	// trigger's idempotency_key expression decides, if any.
	IdempotencyKey string
	// RawPayload, when set, is the JSON text Payload was parsed from: stored as
	// it is when Postgres takes it unchanged (no \u escapes, valid UTF-8),
	// which saves encoding it again and keeps numbers exactly as sent.
	RawPayload []byte
	// SkipFilter runs the flow whatever the trigger's `if` says (manual runs, replays).
	SkipFilter bool
	IsTest     bool
	ReplayOf   *uuid.UUID
}

// Accepted tells what became of an incoming event.
type Accepted struct {
	EventID   uuid.UUID
	RunID     *uuid.UUID
	Filtered  bool
	Duplicate bool
}

// TriggerError is a trigger expression that failed on an incoming event (a
// filter that is not a bool, say): the event is refused with this message.
type TriggerError struct{ Err error }

func (e *TriggerError) Error() string { return e.Err.Error() }
func (e *TriggerError) Unwrap() error { return e.Err }

// pending is an event waiting for its group commit.
type pending struct {
	waiter
	id       uuid.UUID // the event's own id (a duplicate's ev.ID becomes the first event's)
	ev       store.Event
	filtered bool
	plan     runPlan // unless filtered
	acc      Accepted
}

// runPlan is a run about to be inserted: its steps with their initial states,
// and the steps whose jobs go in with it.
type runPlan struct {
	run   store.Run
	steps []store.RunStep
	queue []string
	def   *flows.Definition
}

// Accept stores an event and starts its run: the event, the run, its steps and
// the jobs of the first steps are committed in one transaction before Accept
// returns. A repeated idempotency key answers the first event and its run.
//
// Concurrent calls share transactions (group commit): while a few commits are
// in flight, newly accepted events wait and go in together with the next one,
// each answered only after the commit that holds it. An idle server commits an
// event at once, alone.
func (e *Engine) Accept(ctx context.Context, in Incoming) (Accepted, error) {
	c, err := e.program(ctx, e.Pool, in.Flow.ID, in.Flow.CurrentVersion, in.Flow.Definition)
	if err != nil {
		return Accepted{}, err
	}
	vars := flows.Vars{Trigger: in.Payload, Headers: in.Headers}
	p := &pending{}
	if !in.SkipFilter {
		ok, err := c.prog.TriggerIf(vars)
		if err != nil {
			return Accepted{}, &TriggerError{err}
		}
		p.filtered = !ok
	}
	var key *string
	if in.IdempotencyKey != "" {
		key = &in.IdempotencyKey
	} else if k, ok, err := c.prog.IdempotencyKey(vars); err != nil {
		return Accepted{}, &TriggerError{err}
	} else if ok {
		key = &k
	}
	payload := in.RawPayload
	if !storableJSON(payload) {
		if payload, err = json.Marshal(in.Payload); err != nil {
			return Accepted{}, fmt.Errorf("engine: encode payload: %w", err)
		}
	}
	if hasNUL(payload) {
		return Accepted{}, ErrNULPayload
	}
	headers, err := json.Marshal(in.Headers)
	if err != nil {
		return Accepted{}, fmt.Errorf("engine: encode headers: %w", err)
	}
	p.ev = store.Event{ID: store.NewID(), WorkspaceID: in.Flow.WorkspaceID, FlowID: in.Flow.ID, IdempotencyKey: key,
		Source: in.Source, ContentType: in.ContentType, Headers: headers, Payload: payload}
	p.id = p.ev.ID
	if !p.filtered {
		run := store.Run{ID: store.NewID(), WorkspaceID: in.Flow.WorkspaceID, FlowID: in.Flow.ID, FlowVersion: in.Flow.CurrentVersion,
			EventID: p.ev.ID, IsTest: in.IsTest, ReplayOf: in.ReplayOf}
		if p.plan, err = e.planRun(run, c, vars); err != nil {
			return Accepted{}, err
		}
	}
	if err := e.accepts.do(p); err != nil {
		return Accepted{}, err
	}
	if !p.acc.Duplicate {
		e.Metrics.IncEvents()
	}
	return p.acc, nil
}

// planRun decides a new run's steps: those ready right after the trigger are
// queued, those whose `if` is false skipped, those whose `if` failed failed
// (with the error shown on the run page).
func (e *Engine) planRun(run store.Run, c *compiled, vars flows.Vars) (runPlan, error) {
	vars.Steps = map[string]any{}
	vars.Run = map[string]any{"id": run.ID.String(), "flow_id": run.FlowID.String()}
	status := make(map[string]flows.Status, len(c.def.Steps))
	condErrs := map[string]error{}
	toRun, toSkip, err := flows.Advance(c.def, status, e.cond(c, vars, condErrs))
	if err != nil {
		return runPlan{}, err
	}
	p := runPlan{run: run, def: c.def}
	for _, s := range c.def.Steps {
		status[s.ID] = flows.StatusPending
	}
	for _, id := range toSkip {
		status[id] = flows.StatusSkipped
	}
	for _, id := range toRun {
		if condErrs[id] != nil {
			status[id] = flows.StatusFailed
			continue
		}
		status[id] = flows.StatusQueued
		p.queue = append(p.queue, id)
	}
	p.steps = make([]store.RunStep, len(c.def.Steps))
	for i, s := range c.def.Steps {
		p.steps[i] = store.RunStep{StepID: s.ID, Action: s.Action, Status: string(status[s.ID]), Position: i}
		if err := condErrs[s.ID]; err != nil {
			msg := err.Error()
			p.steps[i].Error = &msg
		}
	}
	p.run.Status = "queued"
	if done, ok := flows.RunFinished(c.def, status); done {
		p.run.Status = map[bool]string{true: "succeeded", false: "failed"}[ok]
	}
	return p, nil
}

const (
	// acceptCommitters is how many group commits of events may be in flight at
	// once. One: while it commits, the next batch gathers everything that
	// arrives (Postgres flushes WAL one commit at a time anyway). make bench
	// measured 1 against 2, 3, 4 and 8: the most webhooks/s, and the least CPU
	// per webhook.
	acceptCommitters = 1
	// acceptBatchMax bounds the events in one transaction.
	acceptBatchMax = 128
)

// commitAccepts commits a batch of events in one transaction.
func (e *Engine) commitAccepts(ctx context.Context, batch []*pending) error {
	return pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error { return e.acceptTx(ctx, tx, batch) })
}

// acceptTx inserts a batch's events, their runs with their steps, and the
// first steps' jobs; events whose idempotency key was seen before answer the
// first event and its run instead.
func (e *Engine) acceptTx(ctx context.Context, tx pgx.Tx, batch []*pending) error {
	evs := make([]*store.Event, len(batch))
	for i, p := range batch { // from scratch: a failed batch is retried event by event
		p.ev.ID = p.id
		p.acc = Accepted{EventID: p.id}
		evs[i] = &p.ev
	}
	// Events with an idempotency key go in first: the unique index decides
	// which of them start runs. Without any key in the batch there is no
	// conflict to wait for, and the events go in with the runs, after the jobs:
	// one round trip less.
	keyed := false
	for _, p := range batch {
		keyed = keyed || p.ev.IdempotencyKey != nil
	}
	b := &pgx.Batch{}
	dup := make([]bool, len(batch))
	if keyed {
		var err error
		if dup, err = store.InsertEvents(ctx, tx, evs); err != nil {
			return err
		}
	} else {
		store.QueueInsertEvents(b, evs)
	}
	var params []river.InsertManyParams
	var runs []*store.Run
	var steps [][]store.RunStep
	var dups []*pending
	for i, p := range batch {
		switch {
		case dup[i]:
			dups = append(dups, p)
			continue
		case p.filtered:
			p.acc.Filtered = true
			continue
		}
		for _, id := range p.plan.queue {
			s, _ := p.plan.def.Step(id)
			args := newStepArgs(p.plan.run.ID, s, 0)
			params = append(params, river.InsertManyParams{Args: args, InsertOpts: args.insertOpts()})
		}
		runs = append(runs, &p.plan.run)
		steps = append(steps, p.plan.steps)
		p.acc.RunID = &p.plan.run.ID
	}
	if len(params) > 0 {
		if err := e.insertJobs(ctx, tx, params); err != nil {
			return err
		}
	}
	if len(runs) > 0 {
		store.QueueInsertRuns(b, runs, steps)
	}
	if b.Len() > 0 {
		br := tx.SendBatch(ctx, b)
		if err := readAccepted(br, keyed, evs, runs); err != nil {
			br.Close()
			return err
		}
		if err := br.Close(); err != nil {
			return err
		}
	}
	if len(dups) == 0 {
		return nil
	}
	devs := make([]*store.Event, len(dups))
	for i, p := range dups {
		devs[i] = &p.ev
	}
	runIDs, err := store.ResolveDuplicates(ctx, tx, devs)
	if err != nil {
		return err
	}
	for i, p := range dups {
		p.acc = Accepted{EventID: p.ev.ID, RunID: runIDs[i], Filtered: runIDs[i] == nil, Duplicate: true}
	}
	return nil
}

// readAccepted reads the answers of acceptTx's last batch: the events unless
// they went in first (keyed), then the runs.
func readAccepted(br pgx.BatchResults, keyed bool, evs []*store.Event, runs []*store.Run) error {
	if !keyed {
		dup, err := store.ReadInsertedEvents(br, evs)
		if err != nil {
			return err
		}
		for i, d := range dup {
			if d {
				return fmt.Errorf("engine: event %s was not inserted", evs[i].ID)
			}
		}
	}
	if len(runs) == 0 {
		return nil
	}
	return store.ReadInsertedRuns(br, runs)
}

// storableJSON reports whether JSON text (already parsed successfully) can be
// stored as it is: Postgres refuses invalid UTF-8, and it reads some \u
// escapes (\u0000, unpaired surrogates) differently from Go's decoder, so
// text holding any \u escape is encoded again from its parsed value instead.
func storableJSON(b []byte) bool {
	return len(b) > 0 && utf8.Valid(b) && !bytes.Contains(b, []byte(`\u`))
}
