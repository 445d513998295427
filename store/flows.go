package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Flow is a flow with its current version's definition.
type Flow struct {
	ID             uuid.UUID       `db:"id"`
	WorkspaceID    uuid.UUID       `db:"workspace_id"`
	Name           string          `db:"name"`
	Enabled        bool            `db:"enabled"`
	CurrentVersion int             `db:"current_version"`
	WebhookToken   string          `db:"webhook_token"`
	Definition     json.RawMessage `db:"definition"`
	// ListenUntil is set while the editor listens for a test event: until
	// then, the next webhook request becomes the flow's sample event.
	ListenUntil *time.Time `db:"listen_until"`
	CreatedAt   time.Time  `db:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at"`
}

// FlowVersion is one immutable version of a flow's definition.
type FlowVersion struct {
	FlowID     uuid.UUID       `db:"flow_id"`
	Version    int             `db:"version"`
	Definition json.RawMessage `db:"definition"`
	CreatedBy  *uuid.UUID      `db:"created_by"`
	CreatedAt  time.Time       `db:"created_at"`
}

const flowSelect = `SELECT f.id, f.workspace_id, f.name, f.enabled, f.current_version, f.webhook_token,
	v.definition, f.listen_until, f.created_at, f.updated_at
	FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.current_version`

// newWebhookToken is unguessable: 192 random bits.
func newWebhookToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateFlow inserts a flow and its version 1.
func CreateFlow(ctx context.Context, db DB, workspaceID uuid.UUID, name string, definition []byte, enabled bool, createdBy *uuid.UUID) (Flow, error) {
	id := NewID()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO flows (id, workspace_id, name, enabled, current_version, webhook_token) VALUES ($1, $2, $3, $4, 1, $5)`,
		id, workspaceID, name, enabled, newWebhookToken())
	b.Queue(`INSERT INTO flow_versions (flow_id, version, workspace_id, definition, created_by) VALUES ($1, 1, $2, $3, $4)`,
		id, workspaceID, definition, createdBy)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		return Flow{}, fmt.Errorf("store: create flow: %w", err)
	}
	return GetFlow(ctx, db, workspaceID, id)
}

// GetFlow returns a workspace's flow with its current definition.
func GetFlow(ctx context.Context, db DB, workspaceID, id uuid.UUID) (Flow, error) {
	rows, _ := db.Query(ctx, flowSelect+` WHERE f.workspace_id = $1 AND f.id = $2`, workspaceID, id)
	f, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Flow])
	if err != nil {
		return Flow{}, fmt.Errorf("store: flow %s: %w", id, notFound(err))
	}
	return f, nil
}

// FlowByWebhookToken finds the flow a webhook posts to; the unguessable token
// is the scope here.
func FlowByWebhookToken(ctx context.Context, db DB, token string) (Flow, error) {
	rows, _ := db.Query(ctx, flowSelect+` WHERE f.webhook_token = $1`, token)
	f, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Flow])
	if err != nil {
		return Flow{}, fmt.Errorf("store: flow by token: %w", notFound(err))
	}
	return f, nil
}

// ListFlows lists a workspace's flows, oldest first.
func ListFlows(ctx context.Context, db DB, workspaceID uuid.UUID) ([]Flow, error) {
	rows, _ := db.Query(ctx, flowSelect+` WHERE f.workspace_id = $1 ORDER BY f.created_at, f.id`, workspaceID)
	fs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Flow])
	if err != nil {
		return nil, fmt.Errorf("store: list flows: %w", err)
	}
	return fs, nil
}

// UpdateFlow stores a new immutable version (and optionally a new name); runs
// already started keep the version they began with.
func UpdateFlow(ctx context.Context, db DB, workspaceID, id uuid.UUID, name *string, definition []byte, createdBy *uuid.UUID) (Flow, error) {
	defer flowsChanged()
	var version int
	err := db.QueryRow(ctx, `UPDATE flows SET current_version = current_version + 1, name = coalesce($3, name), updated_at = now()
		WHERE workspace_id = $1 AND id = $2 RETURNING current_version`, workspaceID, id, name).Scan(&version)
	if err != nil {
		return Flow{}, fmt.Errorf("store: update flow %s: %w", id, notFound(err))
	}
	if _, err := db.Exec(ctx, `INSERT INTO flow_versions (flow_id, version, workspace_id, definition, created_by) VALUES ($1, $2, $3, $4, $5)`,
		id, version, workspaceID, definition, createdBy); err != nil {
		return Flow{}, fmt.Errorf("store: insert flow version: %w", err)
	}
	return GetFlow(ctx, db, workspaceID, id)
}

// RenameFlow changes only the name.
func RenameFlow(ctx context.Context, db DB, workspaceID, id uuid.UUID, name string) error {
	defer flowsChanged()
	tag, err := db.Exec(ctx, `UPDATE flows SET name = $3, updated_at = now() WHERE workspace_id = $1 AND id = $2`, workspaceID, id, name)
	if err != nil {
		return fmt.Errorf("store: rename flow: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetFlowEnabled enables or disables a flow.
func SetFlowEnabled(ctx context.Context, db DB, workspaceID, id uuid.UUID, enabled bool) error {
	defer flowsChanged()
	tag, err := db.Exec(ctx, `UPDATE flows SET enabled = $3, updated_at = now() WHERE workspace_id = $1 AND id = $2`, workspaceID, id, enabled)
	if err != nil {
		return fmt.Errorf("store: enable flow: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteFlow deletes a flow with its versions and run history.
func DeleteFlow(ctx context.Context, db DB, workspaceID, id uuid.UUID) error {
	defer flowsChanged()
	tag, err := db.Exec(ctx, `DELETE FROM flows WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("store: delete flow: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// GetFlowVersion returns one version of a flow (not workspace-scoped: callers
// reach it from a run or flow already scoped).
func GetFlowVersion(ctx context.Context, db DB, flowID uuid.UUID, version int) (FlowVersion, error) {
	rows, _ := db.Query(ctx, `SELECT flow_id, version, definition, created_by, created_at FROM flow_versions WHERE flow_id = $1 AND version = $2`, flowID, version)
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[FlowVersion])
	if err != nil {
		return FlowVersion{}, fmt.Errorf("store: flow %s version %d: %w", flowID, version, notFound(err))
	}
	return v, nil
}

// ListFlowVersions lists a flow's versions, newest first.
func ListFlowVersions(ctx context.Context, db DB, workspaceID, flowID uuid.UUID) ([]FlowVersion, error) {
	rows, _ := db.Query(ctx, `SELECT flow_id, version, definition, created_by, created_at FROM flow_versions
		WHERE workspace_id = $1 AND flow_id = $2 ORDER BY version DESC`, workspaceID, flowID)
	vs, err := pgx.CollectRows(rows, pgx.RowToStructByName[FlowVersion])
	if err != nil {
		return nil, fmt.Errorf("store: flow versions: %w", err)
	}
	return vs, nil
}

// The editor keeps two things beside a flow's versions: the draft (the
// definition being edited, NULL when there is none) and the sample data,
// a JSON object {"trigger": <sample event>, "headers": {…}, "steps": {"<id>":
// <last test output>}} that feeds the data picker and "Test step".

// FlowDraftAndSample returns a flow's draft and sample as stored (nil when
// unset).
func FlowDraftAndSample(ctx context.Context, db DB, workspaceID, id uuid.UUID) (draft, sample json.RawMessage, err error) {
	err = db.QueryRow(ctx, `SELECT draft, sample FROM flows WHERE workspace_id = $1 AND id = $2`, workspaceID, id).Scan(&draft, &sample)
	if err != nil {
		return nil, nil, fmt.Errorf("store: draft of flow %s: %w", id, notFound(err))
	}
	return draft, sample, nil
}

// SetFlowSample replaces a flow's sample data.
func SetFlowSample(ctx context.Context, db DB, workspaceID, id uuid.UUID, sample json.RawMessage) error {
	if _, err := db.Exec(ctx, `UPDATE flows SET sample = $3 WHERE workspace_id = $1 AND id = $2`, workspaceID, id, sample); err != nil {
		return fmt.Errorf("store: save sample of flow %s: %w", id, err)
	}
	return nil
}

// ListenForSample makes the flow's webhook URL keep the next request as the
// sample event for d from now (the database's clock), and returns the
// deadline.
func ListenForSample(ctx context.Context, db DB, workspaceID, id uuid.UUID, d time.Duration) (time.Time, error) {
	defer flowsChanged()
	var until time.Time
	err := db.QueryRow(ctx, `UPDATE flows SET listen_until = now() + make_interval(secs => $3)
		WHERE workspace_id = $1 AND id = $2 RETURNING listen_until`, workspaceID, id, d.Seconds()).Scan(&until)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: listen on flow %s: %w", id, notFound(err))
	}
	return until, nil
}

// StopListening ends listening before its deadline: listen_until becomes
// now, so that a page still waiting can tell a stop (a deadline in the
// past) from a capture (no deadline). It does nothing when not listening.
func StopListening(ctx context.Context, db DB, workspaceID, id uuid.UUID) error {
	defer flowsChanged()
	_, err := db.Exec(ctx, `UPDATE flows SET listen_until = now()
		WHERE workspace_id = $1 AND id = $2 AND listen_until > now()`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("store: stop listening on flow %s: %w", id, err)
	}
	return nil
}

// CaptureSample stores a webhook request's payload and headers as the
// flow's sample event and stops listening, if the flow is still listening;
// the sample's step outputs are kept. It reports whether it captured: of
// concurrent requests, only the first one is kept.
func CaptureSample(ctx context.Context, db DB, workspaceID, id uuid.UUID, payload, headers json.RawMessage) (bool, error) {
	defer flowsChanged()
	tag, err := db.Exec(ctx, `UPDATE flows SET listen_until = NULL,
		sample = (CASE WHEN jsonb_typeof(sample) = 'object' THEN sample ELSE '{}'::jsonb END)
			|| jsonb_build_object('trigger', $3::jsonb, 'headers', $4::jsonb)
		WHERE workspace_id = $1 AND id = $2 AND listen_until > now()`, workspaceID, id, payload, headers)
	if err != nil {
		return false, fmt.Errorf("store: capture sample of flow %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetSampleOutput keeps a step's last test output in the flow's sample, where
// the data picker offers it as steps.<id>.…; the rest of the sample stays.
func SetSampleOutput(ctx context.Context, db DB, workspaceID, id uuid.UUID, stepID string, output json.RawMessage) error {
	_, err := db.Exec(ctx, `UPDATE flows SET sample = jsonb_set(
			CASE WHEN jsonb_typeof(sample) = 'object' THEN sample ELSE '{}'::jsonb END,
			'{steps}',
			(CASE WHEN jsonb_typeof(sample->'steps') = 'object' THEN sample->'steps' ELSE '{}'::jsonb END)
				|| jsonb_build_object($3::text, $4::jsonb))
		WHERE workspace_id = $1 AND id = $2`, workspaceID, id, stepID, output)
	if err != nil {
		return fmt.Errorf("store: save test output of flow %s: %w", id, err)
	}
	return nil
}
