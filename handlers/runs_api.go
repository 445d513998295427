package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

// runJSON is the public run shape of DESIGN.md.
type runJSON struct {
	ID          uuid.UUID       `json:"id"`
	FlowID      uuid.UUID       `json:"flow_id"`
	FlowVersion int             `json:"flow_version"`
	Status      string          `json:"status"`
	Trigger     json.RawMessage `json:"trigger,omitempty"`
	EventID     uuid.UUID       `json:"event_id"`
	IsTest      bool            `json:"is_test,omitempty"`
	ReplayOf    *uuid.UUID      `json:"replay_of,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	StartedAt   *time.Time      `json:"started_at"`
	FinishedAt  *time.Time      `json:"finished_at"`
	Steps       []stepJSON      `json:"steps,omitempty"`
}

type stepJSON struct {
	ID         string          `json:"id"`
	Action     string          `json:"action"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output"`
	Error      *string         `json:"error"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	DurationMS *int            `json:"duration_ms"`
	History    []attemptJSON   `json:"history"`
}

type attemptJSON struct {
	Attempt    int       `json:"attempt"`
	Status     string    `json:"status"`
	Error      *string   `json:"error"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int       `json:"duration_ms"`
}

func newRunJSON(r store.Run) runJSON {
	return runJSON{ID: r.ID, FlowID: r.FlowID, FlowVersion: r.FlowVersion, Status: r.Status, EventID: r.EventID,
		IsTest: r.IsTest, ReplayOf: r.ReplayOf, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
}

// loadRunJSON reads a workspace's run with its trigger payload, steps and attempts.
func (a *app) loadRunJSON(c *fiber.Ctx, id uuid.UUID) (runJSON, error) {
	ctx := c.UserContext()
	r, err := store.GetRun(ctx, a.Pool, member(c).WorkspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return runJSON{}, notFound("Run")
	}
	if err != nil {
		return runJSON{}, err
	}
	out := newRunJSON(r)
	ev, err := store.GetEvent(ctx, a.Pool, r.EventID)
	if err != nil {
		return runJSON{}, err
	}
	out.Trigger = ev.Payload
	steps, err := store.RunSteps(ctx, a.Pool, r.ID)
	if err != nil {
		return runJSON{}, err
	}
	attempts, err := store.RunAttempts(ctx, a.Pool, r.ID)
	if err != nil {
		return runJSON{}, err
	}
	byStep := map[string][]attemptJSON{}
	for _, at := range attempts {
		byStep[at.StepID] = append(byStep[at.StepID], attemptJSON{Attempt: at.Attempt, Status: at.Status, Error: at.Error,
			StartedAt: at.StartedAt, DurationMS: at.DurationMS})
	}
	out.Steps = make([]stepJSON, len(steps))
	for i, s := range steps {
		h := byStep[s.StepID]
		if h == nil {
			h = []attemptJSON{}
		}
		out.Steps[i] = stepJSON{ID: s.StepID, Action: s.Action, Status: s.Status, Attempts: s.Attempts, Input: s.Input,
			Output: s.Output, Error: s.Error, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, DurationMS: s.DurationMS, History: h}
	}
	return out, nil
}

func pathUUID(c *fiber.Ctx, name, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, notFound(what)
	}
	return id, nil
}

func (a *app) apiGetRun(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	out, err := a.loadRunJSON(c, id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

var runStatuses = map[string]bool{"queued": true, "running": true, "waiting": true, "succeeded": true, "failed": true, "cancelled": true}

func (a *app) apiListRuns(c *fiber.Ctx) error {
	f := store.RunFilter{Limit: 50}
	var details []Detail
	if v := c.Query("flow_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			details = append(details, Detail{Path: "flow_id", Message: "must be a flow id"})
		}
		f.FlowID = &id
	}
	if v := c.Query("status"); v != "" {
		if !runStatuses[v] {
			details = append(details, Detail{Path: "status", Message: "must be one of queued, running, waiting, succeeded, failed, cancelled"})
		}
		f.Status = v
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			details = append(details, Detail{Path: "limit", Message: "must be a whole number from 1 to 200"})
		}
		f.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		t, id, ok := decodeCursor(v)
		if !ok {
			details = append(details, Detail{Path: "cursor", Message: "is not a cursor this API returned"})
		}
		f.BeforeTime, f.BeforeID = &t, &id
	}
	if len(details) > 0 {
		return &Error{Status: fiber.StatusBadRequest, Code: "invalid_query", Message: "Some query parameters are invalid.", Details: details}
	}
	if f.FlowID != nil {
		// Another workspace's flow is not found (and its history not scanned).
		if _, err := store.GetFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, *f.FlowID); err != nil {
			return recoveryError(err, "Flow")
		}
	}
	runs, err := store.ListRuns(c.UserContext(), a.Pool, member(c).WorkspaceID, f)
	if err != nil {
		return err
	}
	out := make([]runJSON, len(runs))
	for i, r := range runs {
		out[i] = newRunJSON(r)
	}
	var next *string
	if len(runs) == f.Limit {
		last := runs[len(runs)-1]
		s := encodeCursor(last.CreatedAt, last.ID)
		next = &s
	}
	return c.JSON(fiber.Map{"runs": out, "next_cursor": next})
}

func encodeCursor(t time.Time, id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id.String()))
}

func decodeCursor(s string) (time.Time, uuid.UUID, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, uuid.Nil, false
	}
	ts, ids, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, uuid.Nil, false
	}
	t, err1 := time.Parse(time.RFC3339Nano, ts)
	id, err2 := uuid.Parse(ids)
	return t, id, err1 == nil && err2 == nil
}

// recoveryError maps the engine's refusals to API errors.
func recoveryError(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return notFound(what)
	case errors.Is(err, jobs.ErrConflict):
		msg := strings.TrimPrefix(err.Error(), jobs.ErrConflict.Error()+": ")
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:] + "."
		}
		return errorf(fiber.StatusConflict, "conflict", "%s", msg)
	}
	return err
}

func (a *app) apiRetryStep(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	if err := a.Engine.RetryStep(c.UserContext(), member(c).WorkspaceID, id, c.Params("step")); err != nil {
		return recoveryError(err, "Run or step")
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"run_id": id, "step_id": c.Params("step"), "status": "queued"})
}

func (a *app) apiCancelRun(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	if err := a.Engine.Cancel(c.UserContext(), member(c).WorkspaceID, id); err != nil {
		return recoveryError(err, "Run")
	}
	out, err := a.loadRunJSON(c, id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *app) apiReplayRun(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id", "Run")
	if err != nil {
		return err
	}
	var body struct {
		Payload *json.RawMessage `json:"payload"`
	}
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &body); err != nil {
			return err
		}
	}
	var payload *any
	if body.Payload != nil {
		var v any
		if err := json.Unmarshal(*body.Payload, &v); err != nil {
			return errorf(fiber.StatusBadRequest, "invalid_json", "payload is not valid JSON.")
		}
		payload = &v
	}
	newID, err := a.Engine.Replay(c.UserContext(), member(c).WorkspaceID, id, payload)
	if err != nil {
		return recoveryError(err, "Run")
	}
	out, err := a.loadRunJSON(c, newID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (a *app) apiRetryFailed(c *fiber.Ctx) error {
	var body struct {
		FlowID string `json:"flow_id"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	flowID, err := uuid.Parse(body.FlowID)
	if err != nil {
		return &Error{Status: fiber.StatusUnprocessableEntity, Code: "invalid_request", Message: "flow_id is required.",
			Details: []Detail{{Path: "flow_id", Message: "must be a flow id"}}}
	}
	if _, err := store.GetFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, flowID); err != nil {
		return recoveryError(err, "Flow")
	}
	n, err := a.Engine.RetryFailed(c.UserContext(), member(c).WorkspaceID, flowID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"retried": n})
}

func (a *app) apiCreateRun(c *fiber.Ctx) error {
	var body struct {
		FlowID  string          `json:"flow_id"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	flowID, err := uuid.Parse(body.FlowID)
	if err != nil {
		return &Error{Status: fiber.StatusUnprocessableEntity, Code: "invalid_request", Message: "flow_id is required.",
			Details: []Detail{{Path: "flow_id", Message: "must be a flow id"}}}
	}
	flow, err := store.GetFlow(c.UserContext(), a.Pool, member(c).WorkspaceID, flowID)
	if err != nil {
		return recoveryError(err, "Flow")
	}
	var payload any = map[string]any{}
	if len(body.Payload) > 0 {
		if err := json.Unmarshal(body.Payload, &payload); err != nil {
			return errorf(fiber.StatusBadRequest, "invalid_json", "payload is not valid JSON.")
		}
	}
	acc, err := a.Engine.Accept(c.UserContext(), jobs.Incoming{Flow: flow, Source: "manual", ContentType: "application/json",
		Headers: map[string]any{}, Payload: payload, SkipFilter: true})
	if err != nil {
		return err
	}
	out, err := a.loadRunJSON(c, *acc.RunID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}
