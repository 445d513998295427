package handlers

// The queries of the runs pages. They belong in store/ (store/runs.go) with
// the rest of the SQL; they live here, unexported, until that package takes
// them: TODO move to store/ as ListRunSummaries, FailedRunCounts, FlowNames.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/store"
)

// runSummary is a run as the runs list shows it: with its flow's name, its
// trigger's source and a digest of its steps.
type runSummary struct {
	ID          uuid.UUID  `db:"id"`
	FlowID      uuid.UUID  `db:"flow_id"`
	FlowName    string     `db:"flow_name"`
	FlowVersion int        `db:"flow_version"`
	Status      string     `db:"status"`
	IsTest      bool       `db:"is_test"`
	Source      string     `db:"source"`
	CreatedAt   time.Time  `db:"created_at"`
	StartedAt   *time.Time `db:"started_at"`
	FinishedAt  *time.Time `db:"finished_at"`
	StepsTotal  int        `db:"steps_total"`
	StepsDone   int        `db:"steps_done"`
	FailedSteps []string   `db:"failed_steps"`
}

// runListFilter narrows the runs list; zero fields do not filter.
type runListFilter struct {
	FlowID *uuid.UUID
	Status string
	From   *time.Time // created at or after
	To     *time.Time // created before
	// Text is searched in the trigger payload (as JSON text, case-insensitive);
	// a run id matches too.
	Text  string
	Limit int
	// The keyset cursor: runs strictly older than (BeforeTime, BeforeID).
	BeforeTime *time.Time
	BeforeID   *uuid.UUID
}

// listRunSummaries lists a workspace's runs newest first.
func listRunSummaries(ctx context.Context, db store.DB, workspaceID uuid.UUID, f runListFilter) ([]runSummary, error) {
	var q strings.Builder
	q.WriteString(`SELECT r.id, r.flow_id, f.name AS flow_name, r.flow_version, r.status, r.is_test, e.source,
		r.created_at, r.started_at, r.finished_at,
		st.total AS steps_total, st.done AS steps_done, st.failed AS failed_steps
		FROM runs r
		JOIN flows f ON f.id = r.flow_id
		JOIN events e ON e.id = r.event_id
		CROSS JOIN LATERAL (
			SELECT count(*)::int AS total,
				(count(*) FILTER (WHERE s.status IN ('succeeded', 'skipped')))::int AS done,
				coalesce(array_agg(s.step_id ORDER BY s.position) FILTER (WHERE s.status = 'failed'), '{}') AS failed
			FROM run_steps s WHERE s.run_id = r.id
		) st
		WHERE r.workspace_id = $1`)
	args := []any{workspaceID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.FlowID != nil {
		q.WriteString(` AND r.flow_id = ` + arg(*f.FlowID))
	}
	if f.Status != "" {
		q.WriteString(` AND r.status = ` + arg(f.Status))
	}
	if f.From != nil {
		q.WriteString(` AND r.created_at >= ` + arg(*f.From))
	}
	if f.To != nil {
		q.WriteString(` AND r.created_at < ` + arg(*f.To))
	}
	if f.Text != "" {
		p := arg(escapeLike(f.Text))
		q.WriteString(` AND (e.payload::text ILIKE '%' || ` + p + ` || '%' OR r.id::text = lower(` + arg(f.Text) + `))`)
	}
	if f.BeforeTime != nil && f.BeforeID != nil {
		q.WriteString(` AND (r.created_at, r.id) < (` + arg(*f.BeforeTime) + `, ` + arg(*f.BeforeID) + `)`)
	}
	q.WriteString(` ORDER BY r.created_at DESC, r.id DESC LIMIT ` + arg(f.Limit))
	rows, _ := db.Query(ctx, q.String(), args...)
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByName[runSummary])
	if err != nil {
		return nil, fmt.Errorf("store: list run summaries: %w", err)
	}
	return rs, nil
}

// escapeLike makes s match literally inside a LIKE pattern (backslash is
// Postgres's default LIKE escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// failedCount is a flow with how many of its runs are failed.
type failedCount struct {
	FlowID   uuid.UUID `db:"flow_id"`
	FlowName string    `db:"flow_name"`
	Failed   int       `db:"failed"`
}

// failedRunCounts counts each flow's failed runs, most first.
func failedRunCounts(ctx context.Context, db store.DB, workspaceID uuid.UUID) ([]failedCount, error) {
	rows, _ := db.Query(ctx, `SELECT r.flow_id, f.name AS flow_name, count(*)::int AS failed
		FROM runs r JOIN flows f ON f.id = r.flow_id
		WHERE r.workspace_id = $1 AND r.status = 'failed' AND NOT r.is_test
		GROUP BY r.flow_id, f.name
		ORDER BY count(*) DESC, f.name, r.flow_id
		LIMIT 20`, workspaceID)
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[failedCount])
	if err != nil {
		return nil, fmt.Errorf("store: failed run counts: %w", err)
	}
	return cs, nil
}

// flowName is a flow's id and name, for selects.
type flowName struct {
	ID   uuid.UUID `db:"id"`
	Name string    `db:"name"`
}

// flowNames lists a workspace's flows by name.
func flowNames(ctx context.Context, db store.DB, workspaceID uuid.UUID) ([]flowName, error) {
	rows, _ := db.Query(ctx, `SELECT id, name FROM flows WHERE workspace_id = $1 ORDER BY lower(name), id`, workspaceID)
	fs, err := pgx.CollectRows(rows, pgx.RowToStructByName[flowName])
	if err != nil {
		return nil, fmt.Errorf("store: flow names: %w", err)
	}
	return fs, nil
}
