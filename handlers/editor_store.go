package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/store"
)

// The editor's own SQL: the flows table's draft and sample columns, the
// list's run statistics and the version history with authors. Everything is
// scoped by workspace_id.

// editorFlow is a flow with what the editor keeps beside its versions: the
// unpublished draft (nil when there is none) and the sample data.
type editorFlow struct {
	store.Flow
	Draft  json.RawMessage
	Sample flowSample
}

// flowSample is what flows.sample holds: the sample event the data picker
// offers as trigger.… (with the request headers when it was captured from a
// webhook request), and the last test output of each step as steps.<id>.….
type flowSample struct {
	Trigger any            `json:"trigger,omitempty"`
	Headers map[string]any `json:"headers,omitempty"`
	Steps   map[string]any `json:"steps,omitempty"`
}

// loadEditorFlow reads a flow with its draft and sample.
func loadEditorFlow(ctx context.Context, db store.DB, workspaceID, id uuid.UUID) (editorFlow, error) {
	f, err := store.GetFlow(ctx, db, workspaceID, id)
	if err != nil {
		return editorFlow{}, err
	}
	draft, sample, err := store.FlowDraftAndSample(ctx, db, workspaceID, id)
	if err != nil {
		return editorFlow{}, err
	}
	ef := editorFlow{Flow: f, Draft: draft}
	if len(sample) > 0 {
		// A sample that no longer decodes is as good as none.
		_ = json.Unmarshal(sample, &ef.Sample)
	}
	if ef.Sample.Steps == nil {
		ef.Sample.Steps = map[string]any{}
	}
	return ef, nil
}

// saveDraft stores the editor's working definition.
func saveDraft(ctx context.Context, db store.DB, workspaceID, id uuid.UUID, def []byte) error {
	tag, err := db.Exec(ctx, `UPDATE flows SET draft = $3, updated_at = now() WHERE workspace_id = $1 AND id = $2`, workspaceID, id, def)
	if err != nil {
		return fmt.Errorf("editor: save draft of flow %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// clearDraft drops the draft (after a publish, or to discard changes).
func clearDraft(ctx context.Context, db store.DB, workspaceID, id uuid.UUID) error {
	_, err := db.Exec(ctx, `UPDATE flows SET draft = NULL WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("editor: clear draft of flow %s: %w", id, err)
	}
	return nil
}

// saveSample stores the sample event and step outputs.
func saveSample(ctx context.Context, db store.DB, workspaceID, id uuid.UUID, s flowSample) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("editor: encode sample: %w", err)
	}
	return store.SetFlowSample(ctx, db, workspaceID, id, raw)
}

// createEditorFlow creates a flow whose version 1 is def, with the draft set
// (nil for none) and the sample event.
func createEditorFlow(ctx context.Context, tx pgx.Tx, m store.Member, name string, def, draft []byte, enabled bool, sample flowSample) (store.Flow, error) {
	f, err := store.CreateFlow(ctx, tx, m.WorkspaceID, name, def, enabled, &m.UserID)
	if err != nil {
		return store.Flow{}, err
	}
	if draft != nil {
		if err := saveDraft(ctx, tx, m.WorkspaceID, f.ID, draft); err != nil {
			return store.Flow{}, err
		}
	}
	if sample.Trigger != nil {
		if err := saveSample(ctx, tx, m.WorkspaceID, f.ID, sample); err != nil {
			return store.Flow{}, err
		}
	}
	return f, nil
}

// flowStats is a flow's line in the flows list beyond its definition.
type flowStats struct {
	LastStatus string
	LastRunAt  *time.Time
	Runs24h    int
	Failed24h  int
	HasDraft   bool
}

// listFlowStats returns, per flow of the workspace, its last run and its
// run and failure counts over the last 24 hours. Test runs started from the
// editor do not count.
func listFlowStats(ctx context.Context, db store.DB, workspaceID uuid.UUID) (map[uuid.UUID]flowStats, error) {
	rows, err := db.Query(ctx, `SELECT f.id, coalesce(lr.status, ''), lr.created_at, coalesce(s.runs, 0), coalesce(s.failed, 0), f.draft IS NOT NULL
		FROM flows f
		LEFT JOIN LATERAL (SELECT r.status, r.created_at FROM runs r
			WHERE r.workspace_id = f.workspace_id AND r.flow_id = f.id AND NOT r.is_test
			ORDER BY r.created_at DESC, r.id DESC LIMIT 1) lr ON true
		LEFT JOIN LATERAL (SELECT count(*) AS runs, count(*) FILTER (WHERE r.status = 'failed') AS failed FROM runs r
			WHERE r.workspace_id = f.workspace_id AND r.flow_id = f.id AND NOT r.is_test
			AND r.created_at > now() - interval '24 hours') s ON true
		WHERE f.workspace_id = $1`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("editor: flow stats: %w", err)
	}
	out := map[uuid.UUID]flowStats{}
	var id uuid.UUID
	var st flowStats
	_, err = pgx.ForEachRow(rows, []any{&id, &st.LastStatus, &st.LastRunAt, &st.Runs24h, &st.Failed24h, &st.HasDraft}, func() error {
		out[id] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("editor: flow stats: %w", err)
	}
	return out, nil
}

// versionRow is one version of a flow with the email of who made it.
type versionRow struct {
	Version    int             `db:"version"`
	Definition json.RawMessage `db:"definition"`
	CreatedAt  time.Time       `db:"created_at"`
	Author     string          `db:"author"`
}

// listVersions lists a flow's versions, newest first, with their authors.
func listVersions(ctx context.Context, db store.DB, workspaceID, flowID uuid.UUID) ([]versionRow, error) {
	rows, _ := db.Query(ctx, `SELECT v.version, v.definition, v.created_at, coalesce(u.email, '') AS author
		FROM flow_versions v LEFT JOIN users u ON u.id = v.created_by
		WHERE v.workspace_id = $1 AND v.flow_id = $2 ORDER BY v.version DESC`, workspaceID, flowID)
	vs, err := pgx.CollectRows(rows, pgx.RowToStructByName[versionRow])
	if err != nil {
		return nil, fmt.Errorf("editor: flow versions: %w", err)
	}
	return vs, nil
}

// lastEventPayload returns the payload of the flow's most recent event
// (webhook, manual or replay: the events of test runs hold the sample
// itself), or store.ErrNotFound.
func lastEventPayload(ctx context.Context, db store.DB, workspaceID, flowID uuid.UUID) (json.RawMessage, time.Time, error) {
	var payload []byte
	var at time.Time
	err := db.QueryRow(ctx, `SELECT coalesce(payload, 'null'::json), received_at FROM events
		WHERE workspace_id = $1 AND flow_id = $2 AND source <> 'test' ORDER BY received_at DESC, id DESC LIMIT 1`, workspaceID, flowID).Scan(&payload, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, store.ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("editor: last event of flow %s: %w", flowID, err)
	}
	return payload, at, nil
}
