package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// ConnectionOpener decrypts a workspace's connection for one step execution.
// It answers store.ErrNotFound when the connection no longer exists.
type ConnectionOpener func(ctx context.Context, workspaceID, id uuid.UUID) (*connectors.Connection, string, error)

// StoreConnections opens connections from the database, decrypting secrets with sealer.
func StoreConnections(pool *pgxpool.Pool, sealer *store.Sealer) ConnectionOpener {
	return func(ctx context.Context, workspaceID, id uuid.UUID) (*connectors.Connection, string, error) {
		c, secrets, err := store.OpenConnection(ctx, pool, sealer, workspaceID, id)
		if err != nil {
			return nil, "", err
		}
		return &connectors.Connection{ID: c.ID.String(), Config: c.Config, Secrets: secrets}, c.Connector, nil
	}
}

// EngineDeps are what the engine needs.
type EngineDeps struct {
	Pool    *pgxpool.Pool
	Catalog *connectors.Catalog
	// HTTP is the shared egress-guarded client handed to connectors.
	HTTP *http.Client
	// OpenConnection decrypts connections; nil means flows cannot use any.
	OpenConnection ConnectionOpener
	Logger         *slog.Logger
	// Metrics counts events, step attempts and retries; nil counts nothing.
	Metrics *Metrics
}

// Engine starts runs (ingest, manual, replay) and advances them step by step as
// River jobs; it also recovers them (retry, cancel).
//
// Its database work goes through group commits (jobs/group.go): accepted
// events, step reads, step outcomes and runs' last steps are each gathered
// into shared round trips, at most two of a kind in flight. So a hundred
// workers waiting on slow APIs hold no connections, and under load the
// database does one statement for many steps instead of one per step.
type Engine struct {
	EngineDeps
	client   *river.Client[pgx.Tx]
	programs programCache
	accepts  *group[*pending]
	finishes *group[*lastStep]
	reads    *group[*stepRead]
	outcomes *group[*outcome]
}

// NewEngine returns an engine; NewClient attaches its River client.
func NewEngine(d EngineDeps) *Engine {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.HTTP == nil {
		d.HTTP = connectors.Client(nil)
	}
	e := &Engine{EngineDeps: d, programs: programCache{m: map[programKey]*compiled{}}}
	e.accepts = newGroup("accept", acceptCommitters, acceptBatchMax, d.Logger, e.commitAccepts)
	e.finishes = newGroup("last steps", finishCommitters, finishBatchMax, d.Logger, e.commitLastSteps)
	e.reads = newGroup("step reads", readers, readBatchMax, d.Logger, e.readSteps)
	e.outcomes = newGroup("step outcomes", outcomeCommitters, outcomeBatchMax, d.Logger, e.commitOutcomes)
	return e
}

// Instrumentation returns the engine's counters for GET /metrics.
func (e *Engine) Instrumentation() *Metrics { return e.Metrics }

// River returns the engine's River client.
func (e *Engine) River() *river.Client[pgx.Tx] { return e.client }

type programKey struct {
	flow    uuid.UUID
	version int
}

type compiled struct {
	def  *flows.Definition
	prog *flows.Program
}

// programCache keeps each flow version's decoded definition and compiled
// expressions: versions are immutable, so entries never go stale.
type programCache struct {
	mu sync.RWMutex
	m  map[programKey]*compiled
}

const programCacheSize = 2000

func (e *Engine) program(ctx context.Context, db store.DB, flowID uuid.UUID, version int, definition json.RawMessage) (*compiled, error) {
	k := programKey{flowID, version}
	e.programs.mu.RLock()
	c, ok := e.programs.m[k]
	e.programs.mu.RUnlock()
	if ok {
		return c, nil
	}
	if definition == nil {
		v, err := store.GetFlowVersion(ctx, db, flowID, version)
		if err != nil {
			return nil, err
		}
		definition = v.Definition
	}
	def, err := flows.Decode(definition)
	if err != nil {
		return nil, fmt.Errorf("engine: flow %s v%d: %w", flowID, version, err)
	}
	prog, err := flows.Compile(def)
	if err != nil {
		return nil, fmt.Errorf("engine: flow %s v%d: %w", flowID, version, err)
	}
	c = &compiled{def: def, prog: prog}
	e.programs.mu.Lock()
	if len(e.programs.m) >= programCacheSize {
		for k := range e.programs.m { // drop an arbitrary entry
			delete(e.programs.m, k)
			break
		}
	}
	e.programs.m[k] = c
	e.programs.mu.Unlock()
	return c, nil
}

// cond evaluates a step's `if` for flows.Advance. An expression that fails
// marks the step to run and records the error: the caller fails that step with
// the message instead of queueing it, so the problem shows on the run page.
func (e *Engine) cond(c *compiled, vars flows.Vars, errs map[string]error) func(string) (bool, error) {
	return func(stepID string) (bool, error) {
		ok, err := c.prog.StepIf(stepID, vars)
		if err != nil {
			errs[stepID] = err
			return true, nil
		}
		return ok, nil
	}
}

// insertStepJobs inserts one River job per step to run, with River's COPY
// path: nothing reads the jobs back (a cancel finds a run's jobs by their args).
func (e *Engine) insertStepJobs(ctx context.Context, tx pgx.Tx, runID uuid.UUID, def *flows.Definition, stepIDs []string, attemptBase map[string]int) error {
	if len(stepIDs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(stepIDs))
	for _, id := range stepIDs {
		s, _ := def.Step(id)
		args := newStepArgs(runID, s, attemptBase[id])
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: args.insertOpts()})
	}
	return e.insertJobs(ctx, tx, params)
}

// insertJobs inserts step jobs (River's COPY path).
func (e *Engine) insertJobs(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if _, err := e.client.InsertManyFastTx(ctx, tx, params); err != nil {
		return fmt.Errorf("engine: insert step jobs: %w", err)
	}
	return nil
}

// recordQueued marks steps queued, skips steps, fails the steps whose `if`
// failed, and sets the run's status when it changes: one round trip.
func (e *Engine) recordQueued(ctx context.Context, tx pgx.Tx, runID uuid.UUID, skip, queued []string, condErrs map[string]error, final string) error {
	b := &pgx.Batch{}
	queueRecordQueued(b, runID, skip, queued, condErrs, final)
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("engine: record queued steps: %w", err)
	}
	return nil
}

// queueRecordQueued adds recordQueued's statements to a batch.
func queueRecordQueued(b *pgx.Batch, runID uuid.UUID, skip, queued []string, condErrs map[string]error, final string) {
	if len(queued) > 0 {
		b.Queue(`UPDATE run_steps SET status = 'queued', error = NULL, finished_at = NULL WHERE run_id = $1 AND step_id = ANY($2)`, runID, queued)
	}
	if len(skip) > 0 {
		b.Queue(`UPDATE run_steps SET status = 'skipped', finished_at = now() WHERE run_id = $1 AND step_id = ANY($2)`, runID, skip)
	}
	for id, err := range condErrs {
		b.Queue(`UPDATE run_steps SET status = 'failed', error = $3, finished_at = now() WHERE run_id = $1 AND step_id = $2`, runID, id, err.Error())
	}
	if final != "" {
		store.QueueSetRunStatus(b, runID, final)
	}
}

// ErrNULPayload refuses payloads with a NUL character, which Postgres's jsonb
// cannot hold (a payload becomes a flow's jsonb sample in the editor, and
// steps' outputs are read back as text): refused at intake, alike everywhere.
var ErrNULPayload = errors.New("the body contains a NUL character (\\u0000), which cannot be stored")

// hasNUL reports whether encoded JSON holds the escape \u0000 (not preceded by
// an escaping backslash).
func hasNUL(b []byte) bool {
	for i := 0; i+6 <= len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' && string(b[i+2:i+6]) == "0000" {
			return true
		}
		i++ // skip the escaped character
	}
	return false
}

// ErrConflict is returned when a recovery action does not fit the run's state.
var ErrConflict = errors.New("conflict")

// RetryStep queues a failed step again with a fresh retry budget; the run goes
// on from there.
func (e *Engine) RetryStep(ctx context.Context, workspaceID, runID uuid.UUID, stepID string) error {
	return pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		return e.retryStepTx(ctx, tx, workspaceID, runID, []string{stepID})
	})
}

func (e *Engine) retryStepTx(ctx context.Context, tx pgx.Tx, workspaceID, runID uuid.UUID, stepIDs []string) error {
	run, err := store.LockRun(ctx, tx, runID)
	if err != nil || run.WorkspaceID != workspaceID {
		return store.ErrNotFound
	}
	if run.Status == "cancelled" {
		return fmt.Errorf("%w: the run was cancelled; replay it instead", ErrConflict)
	}
	c, err := e.runProgram(ctx, tx, run)
	if err != nil {
		return err
	}
	base := map[string]int{}
	for _, id := range stepIDs {
		st, err := store.GetRunStep(ctx, tx, runID, id)
		if err != nil {
			return err
		}
		if st.Status != string(flows.StatusFailed) {
			return fmt.Errorf("%w: step %q is %s, only a failed step can be retried", ErrConflict, id, st.Status)
		}
		base[id] = st.Attempts
	}
	if err := e.insertStepJobs(ctx, tx, runID, c.def, stepIDs, base); err != nil {
		return err
	}
	return e.recordQueued(ctx, tx, runID, nil, stepIDs, nil, "running")
}

// RetryFailed retries every failed step of up to 1,000 failed runs of a flow
// and returns how many runs were redriven.
func (e *Engine) RetryFailed(ctx context.Context, workspaceID, flowID uuid.UUID) (int, error) {
	ids, err := store.FailedRunIDs(ctx, e.Pool, workspaceID, flowID, 1000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
			steps, err := store.RunSteps(ctx, tx, id)
			if err != nil {
				return err
			}
			var failed []string
			for _, s := range steps {
				if s.Status == string(flows.StatusFailed) {
					failed = append(failed, s.StepID)
				}
			}
			if len(failed) == 0 {
				return nil
			}
			return e.retryStepTx(ctx, tx, workspaceID, id, failed)
		})
		if errors.Is(err, ErrConflict) {
			continue // changed meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Replay starts a new run of the flow's current version with the original
// event's payload, or with payload when given.
func (e *Engine) Replay(ctx context.Context, workspaceID, runID uuid.UUID, payload *any) (uuid.UUID, error) {
	run, err := store.GetRun(ctx, e.Pool, workspaceID, runID)
	if err != nil {
		return uuid.Nil, err
	}
	flow, err := store.GetFlow(ctx, e.Pool, workspaceID, run.FlowID)
	if err != nil {
		return uuid.Nil, err
	}
	ev, err := store.GetEvent(ctx, e.Pool, run.EventID)
	if err != nil {
		return uuid.Nil, err
	}
	var body any
	if payload != nil {
		body = *payload
	} else if err := json.Unmarshal(ev.Payload, &body); err != nil {
		return uuid.Nil, fmt.Errorf("engine: replay payload: %w", err)
	}
	var headers map[string]any
	_ = json.Unmarshal(ev.Headers, &headers)
	acc, err := e.Accept(ctx, Incoming{Flow: flow, Source: "replay", ContentType: ev.ContentType, Headers: headers,
		Payload: body, SkipFilter: true, ReplayOf: &run.ID})
	if err != nil {
		return uuid.Nil, err
	}
	return *acc.RunID, nil
}

// Cancel cancels a run: unfinished steps are cancelled, and a running step's
// job is told to stop.
func (e *Engine) Cancel(ctx context.Context, workspaceID, runID uuid.UUID) error {
	return pgx.BeginFunc(ctx, e.Pool, func(tx pgx.Tx) error {
		run, err := store.LockRun(ctx, tx, runID)
		if err != nil || run.WorkspaceID != workspaceID {
			return store.ErrNotFound
		}
		switch run.Status {
		case "succeeded", "failed", "cancelled":
			return fmt.Errorf("%w: the run already %s", ErrConflict, run.Status)
		}
		if err := store.CancelRunSteps(ctx, tx, runID); err != nil {
			return err
		}
		jobIDs, err := store.UnfinishedStepJobs(ctx, tx, runID)
		if err != nil {
			return err
		}
		for _, id := range jobIDs {
			if _, err := e.client.JobCancelTx(ctx, tx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("engine: cancel job %d: %w", id, err)
			}
		}
		return store.SetRunStatus(ctx, tx, runID, "cancelled")
	})
}
