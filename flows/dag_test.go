package flows

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dagDef builds a definition from id/needs pairs; needs "-" means omitted.
func dagDef(steps ...[]string) *Definition {
	def := &Definition{Trigger: Trigger{Type: "webhook"}}
	for _, s := range steps {
		st := Step{ID: s[0], Action: "http.request"}
		if len(s) == 1 || s[1] != "-" {
			needs := append([]string{}, s[1:]...)
			st.Needs = &needs
		}
		def.Steps = append(def.Steps, st)
	}
	return def
}

func omitted(id string) []string { return []string{id, "-"} }

func TestResolvedNeeds(t *testing.T) {
	t.Parallel()
	def := dagDef(omitted("a"), omitted("b"), []string{"c"}, []string{"d", "a", "c"}, omitted("e"))
	require.Equal(t, map[string][]string{
		"a": {},         // first step, needs omitted: the trigger
		"b": {"a"},      // omitted: the previous step
		"c": {},         // empty: right after the trigger
		"d": {"a", "c"}, // as given
		"e": {"d"},
	}, ResolvedNeeds(def))
}

func TestTopologicalOrder(t *testing.T) {
	t.Parallel()
	def := dagDef([]string{"report", "fetch", "score"}, []string{"score", "fetch"}, []string{"fetch"}, []string{"other"})
	order, err := TopologicalOrder(def)
	require.NoError(t, err)
	require.Equal(t, []string{"fetch", "score", "report", "other"}, order)

	_, err = TopologicalOrder(dagDef([]string{"a", "b"}, []string{"b", "a"}))
	require.ErrorIs(t, err, ErrCycle)
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	// fetch → (notify ‖ score[if]) → report needs both.
	fanout := dagDef([]string{"fetch"}, []string{"notify", "fetch"}, []string{"score", "fetch"}, []string{"report", "notify", "score"})
	conds := func(results map[string]bool) func(string) (bool, error) {
		return func(id string) (bool, error) {
			if ok, has := results[id]; has {
				return ok, nil
			}
			return true, nil
		}
	}
	tests := []struct {
		name     string
		def      *Definition
		status   map[string]Status
		cond     map[string]bool
		run      []string
		skip     []string
		finished bool
		success  bool
	}{
		{
			name: "start runs the steps that need only the trigger",
			def:  fanout, status: map[string]Status{},
			run: []string{"fetch"},
		},
		{
			name: "parallel branch runs, false condition skips",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded},
			cond: map[string]bool{"score": false},
			run:  []string{"notify"}, skip: []string{"score"},
		},
		{
			name: "join after a skipped need runs when another need succeeded",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded, "notify": StatusSucceeded, "score": StatusSkipped},
			run: []string{"report"},
		},
		{
			name: "join waits for an unfinished need",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded, "notify": StatusRunning, "score": StatusSkipped},
		},
		{
			name: "failed need leaves the dependent pending",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded, "notify": StatusFailed, "score": StatusSucceeded},
			finished: true, success: false,
		},
		{
			name: "cascade: all needs skipped skips without evaluating the condition",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded},
			cond: map[string]bool{"notify": false, "score": false, "report": true},
			skip: []string{"notify", "score", "report"},
		},
		{
			name: "cascade through a chain of omitted needs",
			def:  dagDef(omitted("a"), omitted("b"), omitted("c"), []string{"d"}),
			cond: map[string]bool{"a": false},
			run:  []string{"d"}, skip: []string{"a", "b", "c"},
		},
		{
			name:   "chain defaults run one step at a time",
			def:    dagDef(omitted("a"), omitted("b"), omitted("c")),
			status: map[string]Status{"a": StatusSucceeded},
			run:    []string{"b"},
		},
		{
			name: "everything finished",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded, "notify": StatusSucceeded, "score": StatusSkipped, "report": StatusSucceeded},
			finished: true, success: true,
		},
		{
			name: "cancelled run",
			def:  fanout, status: map[string]Status{"fetch": StatusSucceeded, "notify": StatusCancelled, "score": StatusCancelled, "report": StatusCancelled},
			finished: true, success: false,
		},
		{
			name:     "blocked transitively behind a failure",
			def:      dagDef(omitted("a"), omitted("b"), omitted("c"), []string{"d"}),
			status:   map[string]Status{"a": StatusFailed, "d": StatusSucceeded},
			finished: true, success: false,
		},
		{
			name:   "a waiting step keeps the run open",
			def:    dagDef(omitted("a"), omitted("b")),
			status: map[string]Status{"a": StatusWaiting},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := maps.Clone(tt.status)
			run, skip, err := Advance(tt.def, tt.status, conds(tt.cond))
			require.NoError(t, err)
			require.Equal(t, tt.run, run, "run")
			require.Equal(t, tt.skip, skip, "skip")
			require.Equal(t, before, tt.status, "Advance must not modify status")

			done, ok := RunFinished(tt.def, tt.status)
			require.Equal(t, tt.finished, done, "done")
			require.Equal(t, tt.success, ok, "succeeded")
		})
	}
}

func TestAdvanceToCompletion(t *testing.T) {
	t.Parallel()
	// Scenario 1's shape: three parallel steps, one of them feeding a fourth.
	def := dagDef([]string{"track"}, []string{"subscribe"}, []string{"announce"}, []string{"onboard", "announce"})
	status := map[string]Status{}
	isLogin := func(id string) (bool, error) { return id == "track", nil }
	for range 5 {
		run, skip, err := Advance(def, status, isLogin)
		require.NoError(t, err)
		for _, id := range run {
			status[id] = StatusSucceeded
		}
		for _, id := range skip {
			status[id] = StatusSkipped
		}
	}
	require.Equal(t, map[string]Status{"track": StatusSucceeded, "subscribe": StatusSkipped, "announce": StatusSkipped, "onboard": StatusSkipped}, status)
	done, ok := RunFinished(def, status)
	require.True(t, done)
	require.True(t, ok)
}

func TestAdvanceConditionError(t *testing.T) {
	t.Parallel()
	def := dagDef([]string{"a"}, []string{"b"})
	boom := errors.New("boom")
	run, skip, err := Advance(def, nil, func(id string) (bool, error) {
		if id == "b" {
			return false, boom
		}
		return true, nil
	})
	require.Nil(t, run)
	require.Nil(t, skip)
	require.ErrorIs(t, err, boom)
	var se *StepError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "b", se.Step)
	require.Equal(t, `step "b": boom`, err.Error())
}

func TestAdvanceNilCondRunsReadySteps(t *testing.T) {
	t.Parallel()
	run, skip, err := Advance(dagDef([]string{"a"}, []string{"b"}, []string{"c", "a"}), nil, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, run)
	require.Empty(t, skip)
}

func TestStatusIsFinished(t *testing.T) {
	t.Parallel()
	for s, want := range map[Status]bool{
		StatusPending: false, StatusQueued: false, StatusRunning: false, StatusWaiting: false,
		StatusSucceeded: true, StatusFailed: true, StatusSkipped: true, StatusCancelled: true,
	} {
		require.Equal(t, want, s.IsFinished(), s)
	}
}

func TestRetryDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, RetryPolicy{MaxAttempts: 6, InitialInterval: Duration(5 * time.Second), MaxInterval: Duration(time.Hour)}, Step{}.RetryPolicy())
	require.Equal(t, RetryPolicy{MaxAttempts: 3, InitialInterval: Duration(5 * time.Second), MaxInterval: Duration(time.Hour)},
		Step{Retry: &RetryPolicy{MaxAttempts: 3}}.RetryPolicy())
	require.Equal(t, 30*time.Second, Step{}.AttemptTimeout())
	require.Equal(t, 5*time.Second, Step{Timeout: Duration(5 * time.Second)}.AttemptTimeout())
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{InitialInterval: Duration(2 * time.Second), MaxInterval: Duration(time.Minute)}
	var got []time.Duration
	for attempt := 1; attempt <= 7; attempt++ {
		got = append(got, Backoff(p, attempt, nil))
	}
	require.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}, got)

	// Jitter spreads ±20% but never past the cap.
	require.Equal(t, 1600*time.Millisecond, Backoff(p, 1, func() float64 { return 0 }))
	require.Equal(t, 2400*time.Millisecond, Backoff(p, 1, func() float64 { return 1 }))
	require.Equal(t, time.Minute, Backoff(p, 10, func() float64 { return 0.99 }))
	require.Equal(t, 48*time.Second, Backoff(p, 10, func() float64 { return 0 }))

	// Defaults apply, and huge attempt numbers do not overflow.
	require.Equal(t, 5*time.Second, Backoff(RetryPolicy{}, 0, nil))
	require.Equal(t, time.Hour, Backoff(RetryPolicy{}, 1000, nil))
	require.Equal(t, time.Duration(1<<62), Backoff(RetryPolicy{InitialInterval: 3, MaxInterval: 1 << 62}, 200, nil))
}
