package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/web/chart"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
)

func TestPagesNeedNothingTheCSPRefuses(t *testing.T) {
	t.Parallel()
	user := layout.Page{CSRF: "tok", User: &layout.User{Email: "ada@example.com"}}
	full := View{Page: user, Range: "hour", RangeText: "the last hour", BucketText: "minute", RefreshSeconds: 30,
		Ranges:    []RangeOption{{Key: "hour", Label: "Hour", Active: true}, {Key: "day", Label: "Day"}},
		TotalRuns: 3, Succeeded: 2, Failed: 1, TotalEvents: 1, StepAttempts: 2,
		Runs:   chart.Bars{ID: "runs-chart", Series: []chart.Series{{Name: "Succeeded", Color: chart.ColorSucceeded, Values: []float64{2, 1}}}},
		Events: chart.Bars{ID: "events-chart", Series: []chart.Series{{Name: "Events", Color: chart.ColorAccent, Values: []float64{1, 0}}}},
		Steps:  chart.RangeBars{ID: "steps-chart", Rows: []chart.Range{{Label: "http.request", Low: 1, High: 2}}},
		Queue:  Queue{Available: 1, OldestWait: 90 * time.Second}}
	for name, v := range map[string]View{"data": full, "empty": {Page: user, Range: "day", RangeText: "the last 24 hours"}} {
		raw, doc := htmltest.Render(t, Page(v))
		require.Empty(t, htmltest.CSPViolations(raw, doc), name)
		require.NotNil(t, htmltest.ByTestID(doc, "dashboard"), name)
	}
	raw, doc := htmltest.Render(t, Page(full))
	require.NotNil(t, htmltest.ByTestID(doc, "runs-chart"))
	require.Equal(t, "33%", full.FailureRate())
	require.Contains(t, raw, `hx-trigger="every 30s"`)

	settings := SettingsView{Page: user, NewToken: "sb_secret", NewTokenName: "ci",
		Members: []Member{{Email: "ada@example.com", Role: "owner", You: true}},
		Tokens:  []Token{{ID: "1", Name: "ci", Prefix: "sb_abcdef", Owner: "ada@example.com", CreatedAt: time.Now(), CanRevoke: true}}}
	raw, doc = htmltest.Render(t, Settings(settings))
	require.Empty(t, htmltest.CSPViolations(raw, doc))
	require.NotNil(t, htmltest.ByTestID(doc, "revoke-token"))
	require.Equal(t, 3, strings.Count(raw, `name="_csrf" value="tok"`), "logout, revoke and create forms")
}

func TestFormats(t *testing.T) {
	t.Parallel()
	require.Equal(t, "—", Wait(0))
	require.Equal(t, "42 s", Wait(42*time.Second))
	require.Equal(t, "3 h 5 min", Wait(3*time.Hour+5*time.Minute))
	require.Equal(t, "3 d", Wait(80*time.Hour))
	require.Equal(t, "4.5 ms", Millis(4.5))
	require.Equal(t, "120 ms", Millis(120))
	require.Equal(t, "2.5 s", Millis(2500))
	require.Equal(t, "1,234,567", count(1234567))
	require.Equal(t, "0.5%", View{Succeeded: 199, Failed: 1}.FailureRate())
	require.Equal(t, "0%", View{Succeeded: 3}.FailureRate())
}
