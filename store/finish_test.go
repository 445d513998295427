package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// FinishLastStep writes all or nothing: it settles the run only when the
// other steps are as the caller saw them and the run was not cancelled.
func TestFinishLastStepGuard(t *testing.T) {
	ctx := context.Background()
	db := storetest.Pool(t)
	m, err := store.CreateOwner(ctx, db, "finish@example.com", "x", "Acme")
	require.NoError(t, err)
	f, err := store.CreateFlow(ctx, db, m.WorkspaceID, "f", []byte(`{"trigger":{"type":"webhook"},"steps":[]}`), true, nil)
	require.NoError(t, err)
	newRun := func() store.Run {
		ev := store.Event{WorkspaceID: m.WorkspaceID, FlowID: f.ID, Source: "webhook", Payload: []byte(`{}`)}
		_, err := store.InsertEvent(ctx, db, &ev)
		require.NoError(t, err)
		r := store.Run{WorkspaceID: m.WorkspaceID, FlowID: f.ID, FlowVersion: 1, EventID: ev.ID, Status: "queued"}
		require.NoError(t, store.InsertRun(ctx, db, &r, []store.RunStep{
			{StepID: "a", Action: "http.request", Status: "succeeded", Output: []byte(`{"x":1}`)},
			{StepID: "b", Action: "http.request", Status: "queued", Position: 1}}))
		sts, errs, err := store.ReadSteps(ctx, db, []store.StepRef{{RunID: r.ID, StepID: "b"}})
		require.NoError(t, err)
		require.NoError(t, errs[0])
		st := sts[0]
		require.Equal(t, 1, st.Attempt)
		return r
	}
	now := time.Now()
	at := func(r store.Run) store.StepAttempt {
		return store.StepAttempt{RunID: r.ID, StepID: "b", Attempt: 1, Status: "succeeded", StartedAt: now, FinishedAt: now, DurationMS: 3}
	}

	r := newRun()
	done, err := finishLast(t, ctx, db, at(r), "succeeded", []byte(`{"in":1}`), []byte(`{"out":2}`), map[string]string{"a": "failed"}, "succeeded")
	require.NoError(t, err)
	require.False(t, done, "a is not what the caller saw")
	b, err := store.GetRunStep(ctx, db, r.ID, "b")
	require.NoError(t, err)
	require.Equal(t, "queued", b.Status, "nothing written")

	done, err = finishLast(t, ctx, db, at(r), "succeeded", []byte(`{"in":1}`), []byte(`{"out":2}`), map[string]string{"a": "succeeded"}, "succeeded")
	require.NoError(t, err)
	require.True(t, done)
	b, err = store.GetRunStep(ctx, db, r.ID, "b")
	require.NoError(t, err)
	require.Equal(t, "succeeded", b.Status)
	require.Equal(t, 1, b.Attempts, "the attempt is counted as it ends")
	require.NotNil(t, b.StartedAt)
	require.JSONEq(t, `{"out":2}`, string(b.Output))
	got, err := store.GetRun(ctx, db, m.WorkspaceID, r.ID)
	require.NoError(t, err)
	require.Equal(t, "succeeded", got.Status)
	require.NotNil(t, got.StartedAt)
	require.NotNil(t, got.FinishedAt)
	atts, err := store.RunAttempts(ctx, db, r.ID)
	require.NoError(t, err)
	require.Len(t, atts, 1, "a first attempt that succeeded is read from its step")
	require.Equal(t, "b", atts[0].StepID)

	r = newRun()
	require.NoError(t, store.SetRunStatus(ctx, db, r.ID, "cancelled"))
	done, err = finishLast(t, ctx, db, at(r), "succeeded", nil, []byte(`{}`), map[string]string{"a": "succeeded"}, "succeeded")
	require.NoError(t, err)
	require.False(t, done, "a cancelled run is left alone")
	got, err = store.GetRun(ctx, db, m.WorkspaceID, r.ID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", got.Status)

	// Many runs in one round trip: each is written or left alone on its own.
	r1, r2, r3 := newRun(), newRun(), newRun()
	require.NoError(t, store.SetRunStatus(ctx, db, r3.ID, "cancelled"))
	last := func(r store.Run, others map[string]string) store.LastStep {
		return store.LastStep{Attempt: at(r), Status: "succeeded", Output: []byte(`{}`), Others: others, RunStatus: "succeeded"}
	}
	ok := map[string]string{"a": "succeeded"}
	many, err := store.FinishLastSteps(ctx, db, []store.LastStep{last(r1, ok), last(r2, map[string]string{}), last(r3, ok)})
	require.NoError(t, err)
	require.Equal(t, []bool{true, false, false}, many)
	for id, want := range map[uuid.UUID]string{r1.ID: "succeeded", r2.ID: "queued", r3.ID: "cancelled"} {
		got, err := store.GetRun(ctx, db, m.WorkspaceID, id)
		require.NoError(t, err)
		require.Equal(t, want, got.Status)
	}
}

// finishLast is store.FinishLastSteps for one step.
func finishLast(t *testing.T, ctx context.Context, db store.DB, a store.StepAttempt, status string, input, output []byte, others map[string]string, runStatus string) (bool, error) {
	t.Helper()
	done, err := store.FinishLastSteps(ctx, db, []store.LastStep{{Attempt: a, Status: status, Input: input, Output: output, Others: others, RunStatus: runStatus}})
	if err != nil {
		return false, err
	}
	return done[0], nil
}
