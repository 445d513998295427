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
	CreatedAt   time.Time  `db:"created_at"`
	StartedAt   *time.Time `db:"started_at"`
	FinishedAt  *time.Time `db:"finished_at"`
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
	JobID      *int64          `db:"job_id"`
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
	if e.ID == uuid.Nil {
		e.ID = NewID()
	}
	if len(e.Headers) == 0 {
		e.Headers = json.RawMessage("{}")
	}
	err = db.QueryRow(ctx, `INSERT INTO events (id, workspace_id, flow_id, idempotency_key, source, content_type, headers, payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (flow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
		RETURNING received_at`,
		e.ID, e.WorkspaceID, e.FlowID, e.IdempotencyKey, e.Source, e.ContentType, e.Headers, e.Payload).Scan(&e.ReceivedAt)
	if err == nil {
		return false, nil
	}
	if err != pgx.ErrNoRows {
		return false, fmt.Errorf("store: insert event: %w", err)
	}
	err = db.QueryRow(ctx, `SELECT id FROM events WHERE flow_id = $1 AND idempotency_key = $2`, e.FlowID, e.IdempotencyKey).Scan(&e.ID)
	if err != nil {
		return false, fmt.Errorf("store: find duplicate event: %w", err)
	}
	return true, nil
}

// RunIDForEvent returns the run an event started, if any.
func RunIDForEvent(ctx context.Context, db DB, eventID uuid.UUID) (*uuid.UUID, error) {
	var id uuid.UUID
	err := db.QueryRow(ctx, `SELECT id FROM runs WHERE event_id = $1`, eventID).Scan(&id)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: run for event: %w", err)
	}
	return &id, nil
}

// GetEvent returns an event (unscoped: reached from a scoped run).
func GetEvent(ctx context.Context, db DB, id uuid.UUID) (Event, error) {
	rows, _ := db.Query(ctx, `SELECT id, workspace_id, flow_id, idempotency_key, source, content_type, headers, payload, received_at
		FROM events WHERE id = $1`, id)
	e, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Event])
	if err != nil {
		return Event{}, fmt.Errorf("store: event %s: %w", id, notFound(err))
	}
	return e, nil
}

// InsertRun stores a run and all of its steps.
func InsertRun(ctx context.Context, db DB, r *Run, steps []RunStep) error {
	if r.ID == uuid.Nil {
		r.ID = NewID()
	}
	err := db.QueryRow(ctx, `INSERT INTO runs (id, workspace_id, flow_id, flow_version, event_id, status, is_test, replay_of, started_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING created_at`,
		r.ID, r.WorkspaceID, r.FlowID, r.FlowVersion, r.EventID, r.Status, r.IsTest, r.ReplayOf, r.StartedAt, r.FinishedAt).Scan(&r.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: insert run: %w", err)
	}
	rows := make([][]any, len(steps))
	for i, s := range steps {
		finished := s.FinishedAt
		if finished == nil && (s.Status == "skipped" || s.Status == "failed") {
			finished = &r.CreatedAt
		}
		rows[i] = []any{r.ID, s.StepID, r.WorkspaceID, s.Action, s.Status, s.Position, finished, s.JobID, s.Error}
	}
	_, err = db.CopyFrom(ctx, pgx.Identifier{"run_steps"},
		[]string{"run_id", "step_id", "workspace_id", "action", "status", "position", "finished_at", "job_id", "error"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("store: insert run steps: %w", err)
	}
	return nil
}

const runColumns = `id, workspace_id, flow_id, flow_version, event_id, status, is_test, replay_of, created_at, started_at, finished_at`

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
	_, err := db.Exec(ctx, `UPDATE runs SET status = $2,
		started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
		finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled') THEN now() ELSE NULL END
		WHERE id = $1`, id, status)
	if err != nil {
		return fmt.Errorf("store: set run status: %w", err)
	}
	return nil
}

const stepColumns = `run_id, step_id, action, status, attempts, input, output, error, job_id, position, started_at, finished_at, duration_ms`

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

// QueueStep marks a step queued for a job, clearing a previous error.
func QueueStep(ctx context.Context, db DB, runID uuid.UUID, stepID string, jobID int64) error {
	_, err := db.Exec(ctx, `UPDATE run_steps SET status = 'queued', job_id = $3, error = NULL, finished_at = NULL
		WHERE run_id = $1 AND step_id = $2`, runID, stepID, jobID)
	if err != nil {
		return fmt.Errorf("store: queue step: %w", err)
	}
	return nil
}

// SkipSteps marks steps skipped.
func SkipSteps(ctx context.Context, db DB, runID uuid.UUID, stepIDs []string) error {
	if len(stepIDs) == 0 {
		return nil
	}
	_, err := db.Exec(ctx, `UPDATE run_steps SET status = 'skipped', finished_at = now() WHERE run_id = $1 AND step_id = ANY($2)`, runID, stepIDs)
	if err != nil {
		return fmt.Errorf("store: skip steps: %w", err)
	}
	return nil
}

// StartStep marks a step running for a new attempt (and its run running, if
// it was queued) in one statement, and returns the attempt number.
func StartStep(ctx context.Context, db DB, runID uuid.UUID, stepID string, input json.RawMessage) (int, error) {
	var attempt int
	err := db.QueryRow(ctx, `WITH s AS (
			UPDATE run_steps SET status = 'running', attempts = attempts + 1,
				started_at = coalesce(started_at, now()), input = coalesce($3, input)
			WHERE run_id = $1 AND step_id = $2 RETURNING attempts
		), r AS (
			UPDATE runs SET status = 'running', started_at = coalesce(started_at, now())
			WHERE id = $1 AND status = 'queued'
		)
		SELECT attempts FROM s`, runID, stepID, input).Scan(&attempt)
	if err != nil {
		return 0, fmt.Errorf("store: start step: %w", notFound(err))
	}
	return attempt, nil
}

// FinishStep records a step's final or interim state after an attempt.
func FinishStep(ctx context.Context, db DB, runID uuid.UUID, stepID, status string, input, output json.RawMessage, errMsg *string, durationMS int) error {
	_, err := db.Exec(ctx, `UPDATE run_steps SET status = $3, input = coalesce($4, input), output = $5, error = $6,
		duration_ms = $7, finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'skipped', 'cancelled') THEN now() ELSE NULL END
		WHERE run_id = $1 AND step_id = $2`, runID, stepID, status, input, output, errMsg, durationMS)
	if err != nil {
		return fmt.Errorf("store: finish step: %w", err)
	}
	return nil
}

// InsertAttempt appends one attempt to a step's history.
func InsertAttempt(ctx context.Context, db DB, workspaceID uuid.UUID, a StepAttempt) error {
	_, err := db.Exec(ctx, `INSERT INTO step_attempts (run_id, step_id, workspace_id, attempt, status, error, started_at, finished_at, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.RunID, a.StepID, workspaceID, a.Attempt, a.Status, a.Error, a.StartedAt, a.FinishedAt, a.DurationMS)
	if err != nil {
		return fmt.Errorf("store: insert attempt: %w", err)
	}
	return nil
}

// RunAttempts lists every attempt of a run's steps.
func RunAttempts(ctx context.Context, db DB, runID uuid.UUID) ([]StepAttempt, error) {
	rows, _ := db.Query(ctx, `SELECT run_id, step_id, attempt, status, error, started_at, finished_at, duration_ms
		FROM step_attempts WHERE run_id = $1 ORDER BY step_id, id`, runID)
	as, err := pgx.CollectRows(rows, pgx.RowToStructByName[StepAttempt])
	if err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	return as, nil
}

// CancelRunSteps marks every unfinished step cancelled and returns the job ids
// of those that were queued or running.
func CancelRunSteps(ctx context.Context, db DB, runID uuid.UUID) ([]int64, error) {
	rows, _ := db.Query(ctx, `UPDATE run_steps SET status = 'cancelled', finished_at = now()
		WHERE run_id = $1 AND status IN ('pending', 'queued', 'running', 'waiting')
		RETURNING coalesce(job_id, 0)`, runID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: cancel steps: %w", err)
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

// FailedRunIDs lists a flow's failed runs (oldest first), for bulk redrive.
func FailedRunIDs(ctx context.Context, db DB, workspaceID, flowID uuid.UUID, limit int) ([]uuid.UUID, error) {
	rows, _ := db.Query(ctx, `SELECT id FROM runs WHERE workspace_id = $1 AND flow_id = $2 AND status = 'failed'
		ORDER BY created_at LIMIT $3`, workspaceID, flowID, limit)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("store: failed runs: %w", err)
	}
	return ids, nil
}

// GetRunByID returns a run by id alone: for jobs, which carry only ids.
func GetRunByID(ctx context.Context, db DB, id uuid.UUID) (Run, error) {
	rows, _ := db.Query(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id)
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Run])
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s: %w", id, notFound(err))
	}
	return r, nil
}
