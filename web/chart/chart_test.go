package chart

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/web/internal/htmltest"
)

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want float64 }{
		{0, 4}, {1, 4}, {4, 4}, {5, 8}, {9, 12}, {37, 40}, {41, 80}, {99, 100}, {1000, 1000}, {1001, 1200}, {2300, 4000}, {123456, 200000},
	} {
		require.Equal(t, tc.want, niceCeil(tc.in), "niceCeil(%v)", tc.in)
	}
}

func TestBarsStackInSeriesOrder(t *testing.T) {
	t.Parallel()
	b := Bars{ID: "c", Title: "Runs", Labels: []string{"a", "b"}, Unit: "runs",
		Series: []Series{{Name: "ok", Color: "#0f0", Values: []float64{3, 0}}, {Name: "bad", Color: "#f00", Values: []float64{1, 2}}}}
	l := b.layout()
	require.Len(t, l.Rects, 3, "zero values draw nothing")
	ok, bad := l.Rects[0], l.Rects[1]
	require.Equal(t, "#0f0", ok.Fill)
	require.Equal(t, l.Bottom, ok.Y+ok.H, "the first series sits on the axis")
	require.InDelta(t, ok.Y, bad.Y+bad.H, 0.11, "the next stacks on top")
	require.InDelta(t, l.Top, bad.Y, 0.11, "4 is the axis top, reached by the tallest bar")
	require.Equal(t, "a · bad: 1 run", bad.Title)
	require.Equal(t, "b · bad: 2 runs", l.Rects[2].Title)
	require.Less(t, ok.X+ok.W, l.Rects[2].X, "bars do not overlap")
	require.Equal(t, []string{"0", "1", "2", "3", "4"}, []string{l.Grid[0].Label, l.Grid[1].Label, l.Grid[2].Label, l.Grid[3].Label, l.Grid[4].Label})
	require.False(t, b.Empty())
	require.True(t, Bars{Series: []Series{{Values: []float64{0, 0}}}}.Empty())
}

func TestChartsNeedNothingTheCSPRefuses(t *testing.T) {
	t.Parallel()
	bars := Bars{ID: "runs", Title: "Runs <per> minute", Labels: []string{"10:00", "10:01"}, Ticks: map[int]string{0: "10:00"},
		Series: []Series{{Name: "Succeeded", Color: ColorSucceeded, Values: []float64{2, 5}}, {Name: "Failed", Color: ColorFailed, Values: []float64{1, 0}}}}
	raw, doc := htmltest.Render(t, BarChart(bars))
	require.Empty(t, htmltest.CSPViolations(raw, doc))
	require.NotNil(t, htmltest.ByTestID(doc, "runs-legend"))
	require.Equal(t, 3, strings.Count(raw, `data-testid="bar"`))
	require.Contains(t, raw, "Runs &lt;per&gt; minute", "text is escaped")

	ranges := RangeBars{ID: "steps", Title: "Steps", LowName: "p50", HighName: "p95", Rows: []Range{
		{Label: "http.request", Low: 120, High: 900, LowText: "120 ms", HighText: "900 ms", Note: "12 attempts"},
		{Label: "slack.post_message", Low: 30, High: 40, LowText: "30 ms", HighText: "40 ms"},
	}}
	raw, doc = htmltest.Render(t, RangeChart(ranges))
	require.Empty(t, htmltest.CSPViolations(raw, doc))
	require.Equal(t, 2, strings.Count(raw, `data-testid="range-row"`))
	require.Contains(t, raw, "http.request: p50 120 ms, p95 900 ms (12 attempts)")
	l := ranges.layout()
	require.Equal(t, l.BarMax, l.Rows[0].HighW, "the largest value spans the bar area")
}
