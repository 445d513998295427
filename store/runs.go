package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Event is one accepted trigger event (a webhook body, a manual run's payload).
type Event struct {
	ID             uuid.UUID       `db:"id"`
	WorkspaceID    uuid.UUID       `db:"workspace_id"`
	FlowID         uuid.UUID       `db:"flow_id"`
	IdempotencyKey *string         `db:"idempotency_key"`
	Source         string          `db:"source"`
	ContentType    string          `db:"content_type"`
	Headers        json.RawMessage `db:"headers"`
	Payload        json.RawMessage `db:"payload"`
	ReceivedAt     time.Time       `db:"received_at"`
}

// Run is one execution of a flow version for one event.
type Run struct {
	ID          uuid.UUID  `db:"id"`
	WorkspaceID uuid.UUID  `db:"workspace_id"`
	FlowID      uuid.UUID  `db:"flow_id"`
	FlowVersion int        `db:"flow_version"`
	EventID     uuid.UUID  `db:"event_id"`
	Status      string     `db:"status"`
	IsTest      bool       `db:"is_test"`
	ReplayOf    *uuid.UUID `db:"replay_of"`
	// Definition is a test run's own definition (nil: the run executes its
	// flow version).
	Definition json.RawMessage `db:"definition"`
	CreatedAt  time.Time       `db:"created_at"`
	StartedAt  *time.Time      `db:"started_at"`
	FinishedAt *time.Time      `db:"finished_at"`
}

// RunStep is one step of a run.
type RunStep struct {
	RunID      uuid.UUID       `db:"run_id"`
	StepID     string          `db:"step_id"`
	Action     string          `db:"action"`
	Status     string          `db:"status"`
	Attempts   int             `db:"attempts"`
	Input      json.RawMessage `db:"input"`
	Output     json.RawMessage `db:"output"`
	Error      *string         `db:"error"`
	Position   int             `db:"position"`
	StartedAt  *time.Time      `db:"started_at"`
	FinishedAt *time.Time      `db:"finished_at"`
	DurationMS *int            `db:"duration_ms"`
}

// StepAttempt is one call of a step's action.
type StepAttempt struct {
	RunID      uuid.UUID `db:"run_id"`
	StepID     string    `db:"step_id"`
	Attempt    int       `db:"attempt"`
	Status     string    `db:"status"`
	Error      *string   `db:"error"`
	StartedAt  time.Time `db:"started_at"`
	FinishedAt time.Time `db:"finished_at"`
	DurationMS int       `db:"duration_ms"`
}

// InsertEvent stores an event. When its idempotency key was seen before for the
// flow, nothing is written and the first event's id is returned with dup=true.
// The unique index decides, so concurrent duplicates resolve to one event.
func InsertEvent(ctx context.Context, db DB, e *Event) (dup bool, err error) {
	dups, err := InsertEvents(ctx, db, []*Event{e})
	if err != nil {
		return false, err
	}
	if dups[0] {
		if _, err := ResolveDuplicates(ctx, db, []*Event{e}); err != nil {
			return false, err
		}
	}
	return dups[0], nil
}

// InsertEvents stores events with one statement and reports which were not
// written because their flow already has an event with the same idempotency
// key (an earlier one in evs included). Their ids are not yet those of the
// first events: see ResolveDuplicates.
func InsertEvents(ctx context.Context, db DB, evs []*Event) (dup []bool, err error) {
	b := &pgx.Batch{}
	QueueInsertEvents(b, evs)
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if dup, err = ReadInsertedEvents(br, evs); err != nil {
		return nil, err
	}
	return dup, br.Close()
}

// QueueInsertEvents adds InsertEvents's statement to a batch; read its answer
// with ReadInsertedEvents.
func QueueInsertEvents(b *pgx.Batch, evs []*Event) {
	n := len(evs)
	ids, wss, flows := make([][16]byte, n), make([][16]byte, n), make([][16]byte, n) // binary, not driver.Valuer text
	keys := make([]*string, n)
	sources, cts, headers, payloads := make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	for i, e := range evs {
		if e.ID == uuid.Nil {
			e.ID = NewID()
		}
		if len(e.Headers) == 0 {
			e.Headers = json.RawMessage("{}")
		}
		ids[i], wss[i], flows[i], keys[i] = e.ID, e.WorkspaceID, e.FlowID, e.IdempotencyKey
		sources[i], cts[i], headers[i] = e.Source, e.ContentType, string(e.Headers)
		payloads[i] = jsonText(e.Payload)
	}
	b.Queue(`INSERT INTO events (id, workspace_id, flow_id, idempotency_key, source, content_type, headers, payload)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::json[], $8::json[])
		ON CONFLICT (flow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING id, received_at`, ids, wss, flows, keys, sources, cts, headers, payloads)
}

// ReadInsertedEvents reads QueueInsertEvents's answer: see InsertEvents.
func ReadInsertedEvents(br pgx.BatchResults, evs []*Event) (dup []bool, err error) {
	rows, _ := br.Query()
	written := make(map[uuid.UUID]time.Time, len(evs))
	var id uuid.UUID
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		written[id] = at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	dup = make([]bool, len(evs))
	for i, e := range evs {
		at, ok := written[e.ID]
		dup[i] = !ok
		e.ReceivedAt = at
	}
	return dup, nil
}

// ResolveDuplicates sets each event's id to that of the flow's event with the
// same idempotency key, and returns the runs those events started (nil for a
// filtered event), in order.
func ResolveDuplicates(ctx context.Context, db DB, evs []*Event) ([]*uuid.UUID, error) {
	flows, keys := make([]uuid.UUID, len(evs)), make([]string, len(evs))
	for i, e := range evs {
		if e.IdempotencyKey == nil {
			return nil, fmt.Errorf("store: event %s has no idempotency key", e.ID)
		}
		flows[i], keys[i] = e.FlowID, *e.IdempotencyKey
	}
	rows, _ := db.Query(ctx, `SELECT k.n, e.id, r.id
		FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS k(flow, key, n)
		JOIN events e ON e.flow_id = k.flow AND e.idempotency_key = k.key
		LEFT JOIN runs r ON r.event_id = e.id`, flows, keys)
	runs := make([]*uuid.UUID, len(evs))
	found := 0
	var n int
	var ev uuid.UUID
	var run *uuid.UUID
	_, err := pgx.ForEachRow(rows, []any{&n, &ev, &run}, func() error {
		evs[n-1].ID, runs[n-1] = ev, run
		found++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: find duplicate events: %w", err)
	}
	if found != len(evs) {
		return nil, fmt.Errorf("store: find duplicate events: %d of %d found", found, len(evs))
	}
	return runs, nil
}

// GetEvent returns an event (unscoped: reached from a scoped run).
func GetEvent(ctx context.Context, db DB, id uuid.UUID) (Event, error) {
	rows, _ := db.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id)
	e, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Event])
	if err != nil {
		return Event{}, fmt.Errorf("store: event %s: %w", id, notFound(err))
	}
	return e, nil
}

const eventColumns = `id, workspace_id, flow_id, idempotency_key, source, content_type, headers, payload, received_at`

// InsertRun stores a run and all of its steps in one round trip.
func InsertRun(ctx context.Context, db DB, r *Run, steps []RunStep) error {
	b := &pgx.Batch{}
	runs := []*Run{r}
	QueueInsertRuns(b, runs, [][]RunStep{steps})
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if err := ReadInsertedRuns(br, runs); err != nil {
		return err
	}
	return br.Close()
}

// QueueInsertRuns adds to a batch the statements that store runs and their
// steps (steps[i] are runs[i]'s); read their answers with ReadInsertedRuns.
// A run's created_at is the transaction's start.
func QueueInsertRuns(b *pgx.Batch, runs []*Run, steps [][]RunStep) {
	n := len(runs)
	// uuids as [16]byte go binary; as uuid.UUID they would go through driver.Valuer as text
	ids, wss, flows, events := make([][16]byte, n), make([][16]byte, n), make([][16]byte, n), make([][16]byte, n)
	versions, statuses, tests, replays := make([]int32, n), make([]string, n), make([]bool, n), make([]*[16]byte, n)
	defs := make([]*string, n)
	var sRun, sWS [][16]byte
	var sStep, sAction, sStatus []string
	var sPos []int32
	var sErr, sOut []*string
	for i, r := range runs {
		if r.ID == uuid.Nil {
			r.ID = NewID()
		}
		ids[i], wss[i], flows[i], events[i] = r.ID, r.WorkspaceID, r.FlowID, r.EventID
		versions[i], statuses[i], tests[i] = int32(r.FlowVersion), r.Status, r.IsTest
		if r.ReplayOf != nil {
			b := [16]byte(*r.ReplayOf)
			replays[i] = &b
		}
		defs[i] = jsonText(r.Definition)
		for _, s := range steps[i] {
			sRun, sWS = append(sRun, r.ID), append(sWS, r.WorkspaceID)
			sStep, sAction, sStatus = append(sStep, s.StepID), append(sAction, s.Action), append(sStatus, s.Status)
			sPos, sErr = append(sPos, int32(s.Position)), append(sErr, s.Error)
			sOut = append(sOut, jsonText(s.Output))
		}
	}
	b.Queue(`INSERT INTO runs (id, workspace_id, flow_id, flow_version, event_id, status, is_test, replay_of, definition, finished_at)
		SELECT u.id, u.ws, u.flow, u.version, u.event, u.status, u.test, u.replay, u.def,
			CASE WHEN u.status IN ('succeeded', 'failed') THEN now() END
		FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::uuid[], $6::text[], $7::bool[], $8::uuid[], $9::jsonb[])
			AS u(id, ws, flow, version, event, status, test, replay, def)
		RETURNING id, created_at, finished_at`,
		ids, wss, flows, versions, events, statuses, tests, replays, defs)
	b.Queue(`INSERT INTO run_steps (run_id, workspace_id, step_id, action, status, position, error, output, finished_at)
		SELECT u.run, u.ws, u.step, u.action, u.status, u.pos, u.err, u.out,
			CASE WHEN u.status IN ('skipped', 'failed', 'succeeded') THEN now() END
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::json[])
			AS u(run, ws, step, action, status, pos, err, out)`,
		sRun, sWS, sStep, sAction, sStatus, sPos, sErr, sOut)
}

// ReadInsertedRuns reads QueueInsertRuns's answers, setting each run's
// created_at and finished_at.
func ReadInsertedRuns(br pgx.BatchResults, runs []*Run) error {
	byID := make(map[uuid.UUID]*Run, len(runs))
	for _, r := range runs {
		byID[r.ID] = r
	}
	rows, _ := br.Query()
	var id uuid.UUID
	var created time.Time
	var finished *time.Time
	_, err := pgx.ForEachRow(rows, []any{&id, &created, &finished}, func() error {
		byID[id].CreatedAt, byID[id].FinishedAt = created, finished
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: insert runs: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("store: insert run steps: %w", err)
	}
	return nil
}

const runColumns = `id, workspace_id, flow_id, flow_version, event_id, status, is_test, replay_of, definition, created_at, started_at, finished_at`

// GetRun returns a workspace's run.
func GetRun(ctx context.Context, db DB, workspaceID, id uuid.UUID) (Run, error) {
	rows, _ := db.Query(ctx, `SELECT `+runColumns+` FROM runs WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Run])
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s: %w", id, notFound(err))
	}
	return r, nil
}

// LockRun returns a run and locks it until the transaction ends: every change
// to a run's steps takes this lock, so parallel steps finishing at once advance
// the DAG one after the other. Jobs reach runs by id (unscoped).
func LockRun(ctx context.Context, tx DB, id uuid.UUID) (Run, error) {
	rows, _ := tx.Query(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1 FOR UPDATE`, id)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Run])
	if err != nil {
		return Run{}, fmt.Errorf("store: lock run %s: %w", id, notFound(err))
	}
	return r, nil
}

// SetRunStatus sets a run's status; started_at is set on the first start and
// finished_at when the status is final (cleared otherwise).
func SetRunStatus(ctx context.Context, db DB, id uuid.UUID, status string) error {
	b := &pgx.Batch{}
	QueueSetRunStatus(b, id, status)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("store: set run status: %w", err)
	}
	return nil
}

// QueueSetRunStatus adds SetRunStatus's update to a batch.
func QueueSetRunStatus(b *pgx.Batch, id uuid.UUID, status string) {
	b.Queue(`UPDATE runs SET status = $2,
		started_at = coalesce(started_at, (SELECT min(started_at) FROM run_steps WHERE run_id = $1),
			CASE WHEN $2 = 'running' THEN now() END),
		finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE NULL END
		WHERE id = $1`, id, status)
}

const stepColumns = `run_id, step_id, action, status, attempts, input, output, error, position, started_at, finished_at, duration_ms`

// RunSteps lists a run's steps in definition order.
func RunSteps(ctx context.Context, db DB, runID uuid.UUID) ([]RunStep, error) {
	rows, _ := db.Query(ctx, `SELECT `+stepColumns+` FROM run_steps WHERE run_id = $1 ORDER BY position`, runID)
	ss, err := pgx.CollectRows(rows, pgx.RowToStructByName[RunStep])
	if err != nil {
		return nil, fmt.Errorf("store: run steps: %w", err)
	}
	return ss, nil
}

// GetRunStep returns one step of a run.
func GetRunStep(ctx context.Context, db DB, runID uuid.UUID, stepID string) (RunStep, error) {
	rows, _ := db.Query(ctx, `SELECT `+stepColumns+` FROM run_steps WHERE run_id = $1 AND step_id = $2`, runID, stepID)
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[RunStep])
	if err != nil {
		return RunStep{}, fmt.Errorf("store: step %s: %w", stepID, notFound(err))
	}
	return s, nil
}

// StepStart is what a step job reads as it starts an attempt.
type StepStart struct {
	Run   Run
	Steps []RunStep
	Event Event
	// Attempt is the attempt now starting; 0 when the step is not runnable
	// (not queued or running, or its run cancelled).
	Attempt int
}

// StepRef names a step of a run.
type StepRef struct {
	RunID  uuid.UUID
	StepID string
}

// ReadSteps reads what step jobs need (each run, its steps' states and
// outputs, its event's payload and headers) for many steps of many runs in
// one round trip, and writes nothing: a step's attempt is recorded when it
// ends (RecordAttempts, FinishLastSteps), and it shows as running only if it
// takes a while (QueueMarkStepRunning). errs[i] is ErrNotFound when refs[i]'s
// run no longer exists.
func ReadSteps(ctx context.Context, db DB, refs []StepRef) (sts []StepStart, errs []error, err error) {
	ids := make([][16]byte, 0, len(refs))
	seen := make(map[uuid.UUID]bool, len(refs))
	for _, r := range refs {
		if !seen[r.RunID] {
			seen[r.RunID] = true
			ids = append(ids, r.RunID)
		}
	}
	// The hottest read of all (once per step attempt): only the columns a
	// step needs, scanned by position.
	b := &pgx.Batch{}
	b.Queue(`SELECT id, workspace_id, flow_id, flow_version, event_id, status, definition FROM runs WHERE id = ANY($1::uuid[])`, ids)
	b.Queue(`SELECT run_id, step_id, status, attempts, output FROM run_steps WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, position`, ids)
	b.Queue(`SELECT id, payload, headers FROM events WHERE id IN (SELECT event_id FROM runs WHERE id = ANY($1::uuid[]))`, ids)
	br := db.SendBatch(ctx, b)
	defer br.Close()
	runs := make(map[uuid.UUID]*StepStart, len(ids))
	rows, _ := br.Query()
	var r Run
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.WorkspaceID, &r.FlowID, &r.FlowVersion, &r.EventID, &r.Status, &r.Definition}, func() error {
		runs[r.ID] = &StepStart{Run: r}
		r.Definition = nil // a fresh buffer for the next row
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: read runs: %w", err)
	}
	rows, _ = br.Query()
	var s RunStep
	_, err = pgx.ForEachRow(rows, []any{&s.RunID, &s.StepID, &s.Status, &s.Attempts, &s.Output}, func() error {
		if st := runs[s.RunID]; st != nil {
			st.Steps = append(st.Steps, s)
		}
		s.Output = nil
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: read run steps: %w", err)
	}
	events := make(map[uuid.UUID]Event, len(ids))
	rows, _ = br.Query()
	var ev Event
	_, err = pgx.ForEachRow(rows, []any{&ev.ID, &ev.Payload, &ev.Headers}, func() error {
		events[ev.ID] = ev
		ev.Payload, ev.Headers = nil, nil
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: read events: %w", err)
	}
	sts, errs = make([]StepStart, len(refs)), make([]error, len(refs))
	for i, ref := range refs {
		st := runs[ref.RunID]
		if st == nil {
			errs[i] = fmt.Errorf("store: run %s: %w", ref.RunID, ErrNotFound)
			continue
		}
		ev, ok := events[st.Run.EventID]
		if !ok {
			errs[i] = fmt.Errorf("store: event of run %s: %w", ref.RunID, ErrNotFound)
			continue
		}
		sts[i] = StepStart{Run: st.Run, Steps: st.Steps, Event: ev}
		if st.Run.Status != "cancelled" {
			for _, s := range st.Steps {
				if s.StepID == ref.StepID && (s.Status == "queued" || s.Status == "running") {
					sts[i].Attempt = s.Attempts + 1
				}
			}
		}
	}
	return sts, errs, br.Close()
}

// QueueMarkStepRunning adds to a batch: a step whose attempt is taking a
// while shows as running, with the attempt's number, start and rendered
// input, and so does its run if it was queued.
func QueueMarkStepRunning(b *pgx.Batch, runID uuid.UUID, stepID string, attempt int, started time.Time, input json.RawMessage) {
	// The run first: whoever changes both takes the run's row, then its steps'
	// (LockRun), so that no two transactions wait for each other.
	b.Queue(`UPDATE runs SET status = 'running', started_at = coalesce(started_at, $2) WHERE id = $1 AND status = 'queued'`, runID, started)
	b.Queue(`UPDATE run_steps SET status = 'running', attempts = greatest(attempts, $3), started_at = coalesce(started_at, $4),
			input = coalesce($5, input)
		WHERE run_id = $1 AND step_id = $2 AND status = 'queued'`, runID, stepID, attempt, started, input)
}

// StepOutcome is an attempt's result to record: the attempt, and the step's
// new status (queued again for a retry, or final) with its input and output.
type StepOutcome struct {
	Attempt       StepAttempt
	Status        string
	Input, Output json.RawMessage
}

// RecordAttempts locks the outcomes' runs and, for each run not cancelled,
// appends the attempts and sets the steps' states; it returns the runs and
// their steps' states (id, status, attempts, output) as they now are, by run id: one round
// trip, inside tx. Every change to a run's steps holds its run's lock (see
// LockRun); runs are locked in id order, so concurrent callers cannot
// deadlock.
func RecordAttempts(ctx context.Context, tx pgx.Tx, outs []StepOutcome) (map[uuid.UUID]Run, map[uuid.UUID][]RunStep, error) {
	n := len(outs)
	runIDs, steps, statuses := make([][16]byte, n), make([]string, n), make([]string, n)
	inputs, outputs, errs := make([]*string, n), make([]*string, n), make([]*string, n)
	durations, attempts, astatuses := make([]int32, n), make([]int32, n), make([]string, n)
	started, finished, logs := make([]time.Time, n), make([]time.Time, n), make([]bool, n)
	for i, o := range outs {
		a := o.Attempt
		runIDs[i], steps[i], statuses[i] = a.RunID, a.StepID, o.Status
		inputs[i], outputs[i], errs[i] = jsonText(o.Input), jsonText(o.Output), a.Error
		durations[i], attempts[i], astatuses[i] = int32(a.DurationMS), int32(a.Attempt), a.Status
		started[i], finished[i] = a.StartedAt, a.FinishedAt
		// A first attempt that succeeded is the step's row itself (RunAttempts
		// reads it from there): no attempt row, one insert less per step.
		logs[i] = !(a.Status == "succeeded" && a.Attempt == 1)
	}
	const outcomes = `unnest($1::uuid[], $2::text[], $3::text[], $4::json[], $5::json[], $6::text[], $7::int[], $8::int[],
		$9::text[], $10::timestamptz[], $11::timestamptz[], $12::bool[])
		AS u(run_id, step_id, status, input, output, error, duration_ms, attempt, attempt_status, started, finished, log)`
	args := []any{runIDs, steps, statuses, inputs, outputs, errs, durations, attempts, astatuses, started, finished, logs}
	b := &pgx.Batch{}
	b.Queue(`SELECT FROM runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, runIDs)
	b.Queue(`INSERT INTO step_attempts (run_id, step_id, workspace_id, attempt, status, error, started_at, finished_at, duration_ms)
		SELECT u.run_id, u.step_id, r.workspace_id, u.attempt, u.attempt_status, u.error, u.started, u.finished, u.duration_ms
		FROM `+outcomes+` JOIN runs r ON r.id = u.run_id AND r.status <> 'cancelled'
		WHERE u.log`, args...)
	b.Queue(`UPDATE run_steps rs SET status = u.status, input = coalesce(u.input, rs.input), output = u.output, error = u.error,
			duration_ms = u.duration_ms, attempts = greatest(rs.attempts, u.attempt), started_at = coalesce(rs.started_at, u.started),
			finished_at = CASE WHEN u.status IN ('succeeded', 'failed', 'skipped', 'cancelled') THEN now() ELSE NULL END
		FROM `+outcomes+`, runs r
		WHERE rs.run_id = u.run_id AND rs.step_id = u.step_id AND r.id = u.run_id AND r.status <> 'cancelled'`, args...)
	b.Queue(`SELECT `+runColumns+` FROM runs WHERE id = ANY($1::uuid[])`, runIDs)
	b.Queue(`SELECT run_id, step_id, status, attempts, output FROM run_steps WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, position`, runIDs)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	for _, what := range []string{"lock runs", "insert attempts", "record steps"} {
		if _, err := br.Exec(); err != nil {
			return nil, nil, fmt.Errorf("store: %s: %w", what, err)
		}
	}
	rows, _ := br.Query()
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Run])
	if err != nil {
		return nil, nil, fmt.Errorf("store: runs: %w", err)
	}
	runs := make(map[uuid.UUID]Run, len(rs))
	for _, r := range rs {
		runs[r.ID] = r
	}
	states := make(map[uuid.UUID][]RunStep, len(rs))
	rows, _ = br.Query()
	var st RunStep
	_, err = pgx.ForEachRow(rows, []any{&st.RunID, &st.StepID, &st.Status, &st.Attempts, &st.Output}, func() error {
		states[st.RunID] = append(states[st.RunID], st)
		st.Output = nil // a fresh buffer for the next row
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: run steps: %w", err)
	}
	return runs, states, br.Close()
}

// jsonText passes JSON to Postgres as text (nil: NULL), for json[] and jsonb[] arrays.
func jsonText(b json.RawMessage) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// LastStep is the outcome of a run's last step, for FinishLastSteps.
type LastStep struct {
	Attempt       StepAttempt
	Status        string // the step's: succeeded or failed
	Input, Output json.RawMessage
	Others        map[string]string // the run's other steps: id → status, as the caller saw them
	RunStatus     string            // the run's: succeeded or failed
}

// FinishLastSteps records the outcomes of runs' last steps and the runs' own,
// for many runs in one round trip (one implicit transaction). Each is written
// only if its run is as the caller saw it: not cancelled, and its other steps
// unchanged; otherwise nothing of it is written and done[i] is false, for the
// caller to take the general path (RecordAttempt and what follows).
func FinishLastSteps(ctx context.Context, db DB, ls []LastStep) (done []bool, err error) {
	n := len(ls)
	runs, steps, others, statuses := make([][16]byte, n), make([]string, n), make([]string, n), make([]string, n)
	inputs, outputs, errs := make([]*string, n), make([]*string, n), make([]*string, n)
	durations, attempts, astatuses := make([]int32, n), make([]int32, n), make([]string, n)
	started, finished, logs, runStatuses := make([]time.Time, n), make([]time.Time, n), make([]bool, n), make([]string, n)
	for i, l := range ls {
		o, err := json.Marshal(l.Others)
		if err != nil {
			return nil, fmt.Errorf("store: finish last steps: %w", err)
		}
		a := l.Attempt
		runs[i], steps[i], others[i], statuses[i] = a.RunID, a.StepID, string(o), l.Status
		inputs[i], outputs[i], errs[i] = jsonText(l.Input), jsonText(l.Output), a.Error
		durations[i], attempts[i], astatuses[i] = int32(a.DurationMS), int32(a.Attempt), a.Status
		started[i], finished[i], runStatuses[i] = a.StartedAt, a.FinishedAt, l.RunStatus
		logs[i] = !(a.Status == "succeeded" && a.Attempt == 1) // see RecordAttempt
	}
	b := &pgx.Batch{}
	// Lock the runs (in id order, so that concurrent batches cannot deadlock);
	// the next statement's snapshot then sees every change made under those locks.
	b.Queue(`SELECT FROM runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, runs)
	b.Queue(`WITH u AS (
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::json[], $6::json[], $7::text[], $8::int[],
				$9::int[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::bool[], $14::text[])
				WITH ORDINALITY AS u(run_id, step_id, others, status, input, output, error, duration_ms,
					attempt, attempt_status, started, finished, log, run_status, n)
		), ok AS (
			SELECT u.*, r.workspace_id FROM u JOIN runs r ON r.id = u.run_id
			WHERE r.status IN ('queued', 'running')
				AND (SELECT coalesce(jsonb_object_agg(s.step_id, s.status), '{}') FROM run_steps s
					WHERE s.run_id = u.run_id AND s.step_id <> u.step_id) = u.others
		), s AS (
			UPDATE run_steps rs SET status = ok.status, input = coalesce(ok.input, rs.input), output = ok.output, error = ok.error,
				duration_ms = ok.duration_ms, finished_at = now(), attempts = greatest(rs.attempts, ok.attempt),
				started_at = coalesce(rs.started_at, ok.started)
			FROM ok WHERE rs.run_id = ok.run_id AND rs.step_id = ok.step_id
		), a AS (
			INSERT INTO step_attempts (run_id, step_id, workspace_id, attempt, status, error, started_at, finished_at, duration_ms)
			SELECT ok.run_id, ok.step_id, ok.workspace_id, ok.attempt, ok.attempt_status, ok.error, ok.started, ok.finished, ok.duration_ms
			FROM ok WHERE ok.log
		), r AS (
			UPDATE runs SET status = ok.run_status, finished_at = now(),
				started_at = coalesce(runs.started_at, (SELECT min(started_at) FROM run_steps WHERE run_id = runs.id), ok.started)
			FROM ok WHERE runs.id = ok.run_id
		)
		SELECT n FROM ok`,
		runs, steps, others, statuses, inputs, outputs, errs, durations, attempts, astatuses, started, finished, logs, runStatuses)
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("store: lock runs: %w", err)
	}
	rows, _ := br.Query()
	done = make([]bool, n)
	var k int64
	_, err = pgx.ForEachRow(rows, []any{&k}, func() error {
		done[k-1] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: finish last steps: %w", err)
	}
	return done, br.Close()
}

// RunAttempts lists every attempt of a run's steps: the attempt rows, and a
// first attempt that succeeded read from its step (RecordAttempt writes none).
func RunAttempts(ctx context.Context, db DB, runID uuid.UUID) ([]StepAttempt, error) {
	rows, _ := db.Query(ctx, `SELECT run_id, step_id, attempt, status, error, started_at, finished_at, duration_ms
		FROM step_attempts WHERE run_id = $1
		UNION ALL
		SELECT run_id, step_id, attempts, status, error, started_at, finished_at, coalesce(duration_ms, 0)
		FROM run_steps s WHERE run_id = $1 AND status = 'succeeded' AND attempts = 1
			AND NOT EXISTS (SELECT FROM step_attempts a WHERE a.run_id = s.run_id AND a.step_id = s.step_id)
		ORDER BY step_id, attempt`, runID)
	as, err := pgx.CollectRows(rows, pgx.RowToStructByName[StepAttempt])
	if err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	return as, nil
}

// CancelRunSteps marks every unfinished step of a run cancelled.
func CancelRunSteps(ctx context.Context, db DB, runID uuid.UUID) error {
	_, err := db.Exec(ctx, `UPDATE run_steps SET status = 'cancelled', finished_at = now()
		WHERE run_id = $1 AND status IN ('pending', 'queued', 'running', 'waiting')`, runID)
	if err != nil {
		return fmt.Errorf("store: cancel steps: %w", err)
	}
	return nil
}

// UnfinishedStepJobs returns the ids of a run's step jobs that River has not
// finished with (found by their args, through River's GIN index on them).
func UnfinishedStepJobs(ctx context.Context, db DB, runID uuid.UUID) ([]int64, error) {
	rows, _ := db.Query(ctx, `SELECT id FROM river_job
		WHERE args @> jsonb_build_object('run_id', $1::text) AND kind = 'run_step'
			AND state NOT IN ('completed', 'cancelled', 'discarded')`, runID.String())
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: step jobs of run %s: %w", runID, err)
	}
	return ids, nil
}

// RunFilter selects runs for listing.
type RunFilter struct {
	FlowID *uuid.UUID
	Status string
	Limit  int
	// Before is the keyset cursor: runs strictly older than (CreatedAt, ID).
	BeforeTime *time.Time
	BeforeID   *uuid.UUID
}

// ListRuns lists a workspace's runs newest first with keyset pagination.
func ListRuns(ctx context.Context, db DB, workspaceID uuid.UUID, f RunFilter) ([]Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs WHERE workspace_id = $1`
	args := []any{workspaceID}
	if f.FlowID != nil {
		args = append(args, *f.FlowID)
		q += fmt.Sprintf(` AND flow_id = $%d`, len(args))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		q += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.BeforeTime != nil && f.BeforeID != nil {
		args = append(args, *f.BeforeTime, *f.BeforeID)
		q += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))
	rows, _ := db.Query(ctx, q, args...)
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Run])
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	return rs, nil
}

// FailedRunIDs lists a flow's failed runs (oldest first; test runs aside), for bulk redrive.
func FailedRunIDs(ctx context.Context, db DB, workspaceID, flowID uuid.UUID, limit int) ([]uuid.UUID, error) {
	rows, _ := db.Query(ctx, `SELECT id FROM runs WHERE workspace_id = $1 AND flow_id = $2 AND status = 'failed' AND NOT is_test
		ORDER BY created_at LIMIT $3`, workspaceID, flowID, limit)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("store: failed runs: %w", err)
	}
	return ids, nil
}
