package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

// Concurrent accepts share group commits; each caller still gets its own
// answer: a run, a duplicate of the first event with its key, or the error of
// its own event, which must not fail the others in its batch.
func TestAcceptGroupCommit(t *testing.T) {
	eng := startEngine(t)
	ctx := context.Background()
	h := newHistory(t, eng.Pool)
	_, target := newRecorder(t)
	def := fmt.Sprintf(`{"trigger": {"type": "webhook", "if": "trigger.n != 7"}, "steps": [
	  {"id": "a", "action": "http.request", "input": {"method": "POST", "url": "%s/a", "body": {}}}]}`, target)
	live, err := store.CreateFlow(ctx, eng.Pool, h.ws, "live", []byte(def), true, nil)
	require.NoError(t, err)
	gone, err := store.CreateFlow(ctx, eng.Pool, h.ws, "gone", []byte(def), true, nil)
	require.NoError(t, err)
	_, err = eng.Pool.Exec(ctx, `DELETE FROM flows WHERE id = $1`, gone.ID)
	require.NoError(t, err)

	const n = 300
	type result struct {
		acc jobs.Accepted
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := jobs.Incoming{Flow: live, Source: "webhook", Payload: map[string]any{"n": i}}
			switch {
			case i%10 == 3:
				in.Flow = gone
			case i%10 == 5:
				in.IdempotencyKey = "same"
			}
			results[i].acc, results[i].err = eng.Accept(ctx, in)
		}()
	}
	wg.Wait()

	var firstKeyed *uuid.UUID
	runs := map[uuid.UUID]bool{}
	for i, r := range results {
		switch {
		case i%10 == 3:
			require.Error(t, r.err, "event %d's flow was deleted", i)
			continue
		case i == 7:
			require.NoError(t, r.err)
			require.True(t, r.acc.Filtered)
			require.Nil(t, r.acc.RunID)
			continue
		}
		require.NoError(t, r.err, "event %d", i)
		require.NotNil(t, r.acc.RunID, "event %d", i)
		if i%10 == 5 {
			if firstKeyed == nil {
				firstKeyed = r.acc.RunID
			}
			require.Equal(t, *firstKeyed, *r.acc.RunID, "every delivery with one key answers one run")
			continue
		}
		require.False(t, r.acc.Duplicate)
		require.False(t, runs[*r.acc.RunID], "run ids are unique")
		runs[*r.acc.RunID] = true
	}
	var events, dbRuns, jobsQueued int
	require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE flow_id = $1`, live.ID).Scan(&events))
	require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM runs WHERE flow_id = $1`, live.ID).Scan(&dbRuns))
	require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'run_step'
		AND (args->>'run_id')::uuid IN (SELECT id FROM runs WHERE flow_id = $1)`, live.ID).Scan(&jobsQueued))
	wantRuns := len(runs) + 1 // plus the keyed one
	require.Equal(t, wantRuns+1, events, "one event per accepted delivery (the filtered one too), one for the key")
	require.Equal(t, wantRuns, dbRuns)
	require.Equal(t, wantRuns, jobsQueued, "one job per run, none for duplicates or failed events")
}

// Parallel branches of many runs finish together and their outcomes share
// group commits: each run's join must still be queued exactly once, and every
// run must end.
func TestFanOutJoinUnderLoad(t *testing.T) {
	eng := startEngine(t)
	ctx := context.Background()
	h := newHistory(t, eng.Pool)
	rec, target := newRecorder(t)
	def := fmt.Sprintf(`{"trigger": {"type": "webhook"}, "steps": [
	  {"id": "a", "action": "http.request", "needs": [], "input": {"method": "POST", "url": "%[1]s/a", "body": {}}},
	  {"id": "b", "action": "http.request", "needs": [], "input": {"method": "POST", "url": "%[1]s/b", "body": {}}},
	  {"id": "c", "action": "http.request", "needs": [], "input": {"method": "POST", "url": "%[1]s/c", "body": {}}},
	  {"id": "join", "action": "http.request", "needs": ["a", "b", "c"],
	   "input": {"method": "POST", "url": "%[1]s/join", "body": {"a": "{{ steps.a.status }}", "c": "{{ steps.c.status }}"}}}]}`, target)
	f, err := store.CreateFlow(ctx, eng.Pool, h.ws, "fan-out", []byte(def), true, nil)
	require.NoError(t, err)
	const n = 150
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := eng.Accept(ctx, jobs.Incoming{Flow: f, Source: "webhook", Payload: map[string]any{"i": i}})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var unfinished int
		require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM runs WHERE flow_id = $1 AND status <> 'succeeded'`, f.ID).Scan(&unfinished))
		if unfinished == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d runs not succeeded", unfinished)
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, n, rec.n("/join"), "one join call per run")
	var joins, attempts int
	require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(attempts), 0) FROM run_steps s JOIN runs r ON r.id = s.run_id
		WHERE r.flow_id = $1 AND s.step_id = 'join' AND s.status = 'succeeded'`, f.ID).Scan(&joins, &attempts))
	require.Equal(t, n, joins)
	require.Equal(t, n, attempts)
	var jobsPerJoin int
	require.NoError(t, eng.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'run_step' AND args->>'step_id' = 'join'`).Scan(&jobsPerJoin))
	require.Equal(t, n, jobsPerJoin, "one job per join")
}
