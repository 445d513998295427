package editor

import (
	"math"
	"strconv"

	"github.com/switchboard/switchboard/web/graph"
)

// GraphOptions are the editor's node sizes for graph.New: cards with an
// icon and two lines, and room between layers for the "+" on each edge.
var GraphOptions = graph.Options{
	NodeWidth:  236,
	NodeHeight: 64,
	LayerGap:   72,
	NodeGap:    44,
	Padding:    40,
	IDPrefix:   "editor",
	Label:      "Flow graph",
}

// Geometry of the editor's additions to the graph.
const (
	// cardInset is the room around a card inside its foreignObject, so the
	// focus ring and the selection halo are not clipped.
	cardInset = 6
	// addSize is the foreignObject of a "+" button (the button is smaller).
	addSize = 32
	// stubLength is the dashed line from a leaf down to its "+".
	stubLength = 22
	// extraHeight makes room below the last layer for the leaves' "+".
	extraHeight = stubLength + addSize
	// minWidth keeps a lone trigger from drawing a tiny canvas.
	minWidth = 320
)

func px(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func (g GraphView) width() float64 { return math.Max(g.Layout.Width, minWidth) }

// offset centres a narrow graph in the minimum width.
func (g GraphView) offset() float64 { return (g.width() - g.Layout.Width) / 2 }

func (g GraphView) height() float64 {
	if g.CanEdit {
		return g.Layout.Height + extraHeight - g.Layout.Options.Padding/2
	}
	return g.Layout.Height
}

func (g GraphView) viewBox() string {
	return "0 0 " + px(g.width()) + " " + px(g.height())
}

func (g GraphView) translate() string {
	return "translate(" + px(g.offset()) + " 0)"
}

// isLeaf reports whether no edge leaves the node.
func (g GraphView) isLeaf(id string) bool {
	for _, e := range g.Layout.Edges {
		if e.From == id {
			return false
		}
	}
	return true
}

// addAfter is where a node's "+" goes: centred below a leaf; to the right
// of a node that already has steps after it (a new parallel branch), where
// it shows on hover and keyboard focus only.
func (g GraphView) addAfter(n graph.Placed) (x, y float64) {
	if g.isLeaf(n.ID) {
		return n.X + n.W/2, n.Y + n.H + stubLength + addSize/2 - 4
	}
	return n.X + n.W + g.Layout.Options.NodeGap/2, n.Y + n.H/2
}

func (g GraphView) addClass(n graph.Placed) string {
	if g.isLeaf(n.ID) {
		return "add-slot"
	}
	return "add-slot add-slot--branch"
}

func (g GraphView) stub(n graph.Placed) string {
	x := n.X + n.W/2
	return "M" + px(x) + " " + px(n.Y+n.H) + " L" + px(x) + " " + px(n.Y+n.H+stubLength)
}

func (g GraphView) problems(id string) int { return g.Problems[id] }

func (g GraphView) title(id string) string {
	if n, ok := g.Layout.Node(id); ok {
		return n.Title
	}
	return id
}

func nodeClass(n graph.Placed, g GraphView) string {
	c := "node"
	if n.Root {
		c += " node--trigger"
	}
	if n.ID == g.Selected {
		c += " selected"
	}
	if g.Problems[n.ID] > 0 {
		c += " node--invalid"
	}
	return c
}

func nodeLabel(n graph.Placed, g GraphView) string {
	s := n.Title
	if n.Root {
		s = "Trigger: " + n.Subtitle
	} else if n.Subtitle != "" {
		s += " (" + n.Subtitle + ")"
	}
	if p := g.Problems[n.ID]; p > 0 {
		s += ", " + strconv.Itoa(p) + " " + plural(p, "problem", "problems")
	}
	return s
}

func addAfterLabel(n graph.Placed, g GraphView) string {
	if !g.isLeaf(n.ID) {
		if n.Root {
			return "Add a step in parallel, right after the trigger"
		}
		return "Add a step in parallel after " + n.Title
	}
	if n.Root {
		return "Add the first step"
	}
	return "Add a step after " + n.Title
}

func addX(g GraphView, n graph.Placed) float64 { x, _ := g.addAfter(n); return x }
func addY(g GraphView, n graph.Placed) float64 { _, y := g.addAfter(n); return y }
