package graph_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/internal/htmltest"
)

func def(t *testing.T, js string) *flows.Definition {
	t.Helper()
	d, err := flows.Decode([]byte(js))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return d
}

func layers(l graph.Layout) map[string]int {
	out := map[string]int{}
	for _, n := range l.Nodes {
		out[n.ID] = n.Layer
	}
	return out
}

// checkGeometry fails when two boxes overlap or an edge's path starts or ends
// away from its nodes, and when a node leaves the drawing.
func checkGeometry(t *testing.T, l graph.Layout) {
	t.Helper()
	for i, a := range l.Nodes {
		if a.X < 0 || a.Y < 0 || a.X+a.W > l.Width+0.01 || a.Y+a.H > l.Height+0.01 {
			t.Errorf("node %s (%v,%v) is outside %vx%v", a.ID, a.X, a.Y, l.Width, l.Height)
		}
		for _, b := range l.Nodes[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("nodes %s and %s overlap", a.ID, b.ID)
			}
		}
	}
	for _, e := range l.Edges {
		if !strings.HasPrefix(e.D, "M") || !strings.Contains(e.D, "C") {
			t.Errorf("edge %s→%s path %q is not a cubic curve", e.From, e.To, e.D)
		}
	}
}

func TestLayers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		def    string
		layers map[string]int
		edges  int
	}{
		{
			name:   "chain",
			def:    `{"trigger":{"type":"webhook"},"steps":[{"id":"a","action":"http.request"},{"id":"b","action":"slack.post_message"},{"id":"c","action":"email.send"}]}`,
			layers: map[string]int{graph.TriggerID: 0, "a": 1, "b": 2, "c": 3},
			edges:  3,
		},
		{
			name: "fan out and join",
			def: `{"trigger":{"type":"webhook"},"steps":[
				{"id":"a","action":"http.request","needs":[]},{"id":"b","action":"http.request","needs":[]},
				{"id":"c","action":"http.request","needs":[]},{"id":"join","action":"http.request","needs":["a","b","c"]}]}`,
			layers: map[string]int{graph.TriggerID: 0, "a": 1, "b": 1, "c": 1, "join": 2},
			edges:  6,
		},
		{
			name: "long edge",
			def: `{"trigger":{"type":"webhook"},"steps":[
				{"id":"a","action":"http.request"},{"id":"b","action":"http.request"},
				{"id":"c","action":"http.request"},{"id":"d","action":"http.request","needs":["a","c"]}]}`,
			layers: map[string]int{graph.TriggerID: 0, "a": 1, "b": 2, "c": 3, "d": 4},
			edges:  5,
		},
		{
			name: "unknown needs and a cycle still draw",
			def: `{"trigger":{"type":"webhook"},"steps":[
				{"id":"a","action":"http.request","needs":["b"]},{"id":"b","action":"http.request","needs":["a","ghost"]}]}`,
			edges: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := graph.New(graph.FromDefinition(def(t, tt.def), graph.Overlay{}), graph.Options{})
			if tt.layers != nil {
				got := layers(l)
				for id, want := range tt.layers {
					if got[id] != want {
						t.Errorf("layer of %s = %d, want %d (all: %v)", id, got[id], want, got)
					}
				}
			}
			if len(l.Edges) != tt.edges {
				t.Errorf("%d edges, want %d: %+v", len(l.Edges), tt.edges, l.Edges)
			}
			checkGeometry(t, l)
		})
	}
}

func TestLongEdgeGoesAroundNodes(t *testing.T) {
	t.Parallel()
	l := graph.New(graph.FromDefinition(def(t, `{"trigger":{"type":"webhook"},"steps":[
		{"id":"a","action":"http.request"},{"id":"b","action":"http.request"},
		{"id":"c","action":"http.request","needs":["a","b"]}]}`), graph.Overlay{}), graph.Options{})
	b, _ := l.Node("b")
	for _, e := range l.Edges {
		if e.From != "a" || e.To != "c" {
			continue
		}
		// The edge crosses b's layer beside b, not through it.
		if !strings.Contains(e.D, " L") {
			t.Fatalf("a→c has no waypoint: %q", e.D)
		}
		if e.MidX > b.X && e.MidX < b.X+b.W {
			t.Errorf("a→c passes through b: mid x %v, b spans %v..%v", e.MidX, b.X, b.X+b.W)
		}
	}
}

func TestFanOutIsCentred(t *testing.T) {
	t.Parallel()
	l := graph.New(graph.FromDefinition(def(t, `{"trigger":{"type":"webhook"},"steps":[
		{"id":"a","action":"http.request","needs":[]},{"id":"b","action":"http.request","needs":[]},
		{"id":"c","action":"http.request","needs":[]}]}`), graph.Overlay{}), graph.Options{})
	tr, _ := l.Node(graph.TriggerID)
	b, _ := l.Node("b")
	a, _ := l.Node("a")
	c, _ := l.Node("c")
	if tr.X != b.X {
		t.Errorf("trigger at x %v, want above the middle child at %v", tr.X, b.X)
	}
	if !(a.X < b.X && b.X < c.X) {
		t.Errorf("children not in definition order: a %v, b %v, c %v", a.X, b.X, c.X)
	}
}

func TestSVGRunOverlay(t *testing.T) {
	t.Parallel()
	d := def(t, `{"trigger":{"type":"webhook"},"steps":[
		{"id":"ok","action":"http.request","needs":[]},{"id":"bad","name":"<b>Bad step</b>","action":"slack.post_message","needs":[]},
		{"id":"after","action":"http.request","needs":["bad"]},{"id":"skip","action":"http.request","needs":["ok"]}]}`)
	l := graph.New(graph.FromDefinition(d, graph.Overlay{
		Status:        map[string]string{"ok": "succeeded", "bad": "failed", "after": "pending", "skip": "skipped"},
		TriggerStatus: "succeeded",
		Href:          func(id string) string { return "#step-" + id },
	}), graph.Options{IDPrefix: "run"})
	out, doc := htmltest.Render(t, graph.SVG(l))
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
	for _, s := range []string{
		`class="node state-failed"`, `class="node state-succeeded"`, `class="node state-skipped"`, `class="node node--trigger state-succeeded"`,
		`href="#step-bad"`, `/static/icons/slack.svg`, `&lt;b&gt;Bad step&lt;/b&gt;`,
		`class="edge taken"`, `class="edge not-taken"`, `marker-end="url(#run-arrow-taken)"`, `id="run-arrow"`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("SVG lacks %s", s)
		}
	}
	if strings.Contains(out, "<b>Bad") {
		t.Error("a step name is not escaped")
	}
	n := htmltest.ByAttr(doc, "data-node", "bad")
	if v, _ := htmltest.Attr(n, "data-status"); v != "failed" {
		t.Errorf("bad node status %q", v)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"short": "short", "exactly ten": "exactly t…", "ünïcødé-long-name": "ünïcødé-l…"} {
		if got := graph.Truncate(in, 10); got != want {
			t.Errorf("Truncate(%q) = %q, want %q", in, got, want)
		}
	}
}
