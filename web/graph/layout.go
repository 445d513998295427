// Package graph lays out a flow's DAG server-side and draws it as SVG: the
// trigger on top, each step one layer below the lowest step it needs, the
// steps of a layer side by side, edges as cubic curves. The run page draws a
// run on it (nodes coloured by step state) and the flow editor draws the flow
// being edited. Nodes are placed with SVG attributes only (the CSP allows no
// style=""); looks live in static/css/app.css (.graph, .node, .edge).
package graph

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Node is one box of the graph: the trigger or a step.
type Node struct {
	// ID is unique in the graph; for steps, the step id.
	ID string
	// Title is the first line (a step's name or id); Subtitle the second (its
	// action key, or the trigger type).
	Title    string
	Subtitle string
	// Icon is an image URL drawn at the node's left, optional.
	Icon string
	// Status colours the node: a step state (pending, queued, running,
	// waiting, succeeded, failed, skipped, cancelled) adds the class
	// state-<status>; empty draws a neutral node (the editor).
	Status string
	// Href makes the node a link (an anchor on the run page, the step's form
	// in the editor), optional.
	Href string
	// Needs are the ids of the nodes this one follows. A non-root node with no
	// known needs follows the root.
	Needs []string
	// Root marks the trigger: layer 0. At most one node should be the root.
	Root bool
	// Selected highlights the node (the editor's open step).
	Selected bool
}

// Options size the drawing; zero fields take the defaults.
type Options struct {
	NodeWidth  float64 // default 200
	NodeHeight float64 // default 56
	LayerGap   float64 // vertical space between layers, default 48
	NodeGap    float64 // horizontal space between neighbours, default 32
	Padding    float64 // around the drawing, default 16
	// IDPrefix keeps element ids (arrow markers) unique when a page holds
	// more than one graph; default "graph".
	IDPrefix string
	// Label is the SVG's accessible name; default "Flow graph".
	Label string
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.NodeWidth, 200)
	def(&o.NodeHeight, 56)
	def(&o.LayerGap, 48)
	def(&o.NodeGap, 32)
	def(&o.Padding, 16)
	if o.IDPrefix == "" {
		o.IDPrefix = "graph"
	}
	if o.Label == "" {
		o.Label = "Flow graph"
	}
	return o
}

// Placed is a node with its box: X, Y are the top-left corner.
type Placed struct {
	Node
	Layer int
	X, Y  float64
	W, H  float64
}

// Edge is a drawn dependency from a node to one that needs it.
type Edge struct {
	From, To string
	// D is the SVG path data: cubic curves from the bottom of From to the
	// top of To, bending around the layers in between.
	D string
	// State is "taken" (the run went along it), "not-taken" (the target was
	// skipped or cancelled) or "" (pending, or no run drawn).
	State string
	// MidX, MidY is a point on the edge halfway down, for an "insert a step
	// here" button.
	MidX, MidY float64
}

// Layout is a placed graph, ready to draw with SVG.
type Layout struct {
	Nodes         []Placed
	Edges         []Edge
	Width, Height float64
	Options       Options
}

// Node returns the placed node with the given id.
func (l Layout) Node(id string) (Placed, bool) {
	for _, n := range l.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Placed{}, false
}

// slot is one position in a layer: a node, or a waypoint of an edge that
// spans several layers (so long edges go around nodes, not through them).
type slot struct {
	node   int // index into nodes, or -1 for a waypoint
	width  float64
	x      float64 // centre
	order  int     // first-seen order, the tie-break
	up     []*slot // neighbours one layer up
	down   []*slot // neighbours one layer down
	layer  int
	pos    int // index within its layer after ordering
	edgeID int // for waypoints: the edge they belong to
}

// New lays out nodes: layers from the dependencies, an order within each
// layer that avoids crossings, and x positions that put nodes under the
// nodes they follow. Unknown needs are ignored and a cycle is broken rather
// than refused, so an invalid draft still draws.
func New(nodes []Node, opts Options) Layout {
	o := opts.withDefaults()
	l := Layout{Options: o}
	if len(nodes) == 0 {
		l.Width, l.Height = 2*o.Padding, 2*o.Padding
		return l
	}
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := index[n.ID]; !dup {
			index[n.ID] = i
		}
	}
	root := -1
	for i, n := range nodes {
		if n.Root {
			root = i
			break
		}
	}
	parents := make([][]int, len(nodes))
	for i, n := range nodes {
		if i == root || index[n.ID] != i {
			continue
		}
		seen := map[int]bool{}
		for _, need := range n.Needs {
			p, ok := index[need]
			if !ok || p == i || seen[p] {
				continue
			}
			seen[p] = true
			parents[i] = append(parents[i], p)
		}
		if len(parents[i]) == 0 && root >= 0 {
			parents[i] = []int{root}
		}
	}

	// Layers: the root on 0; a node one below its lowest need. A need that
	// closes a cycle is dropped.
	layer := make([]int, len(nodes))
	state := make([]int8, len(nodes)) // 0 new, 1 visiting, 2 done
	var visit func(i int) int
	visit = func(i int) int {
		switch state[i] {
		case 1:
			return -1
		case 2:
			return layer[i]
		}
		state[i] = 1
		l := 0
		if i != root && root >= 0 {
			l = 1
		}
		kept := parents[i][:0]
		for _, p := range parents[i] {
			pl := visit(p)
			if pl < 0 {
				continue // cycle
			}
			kept = append(kept, p)
			l = max(l, pl+1)
		}
		if len(kept) == 0 && i != root && root >= 0 {
			kept = append(kept, root) // all its needs closed cycles
		}
		parents[i] = kept
		layer[i], state[i] = l, 2
		return l
	}
	depth := 0
	for i := range nodes {
		if index[nodes[i].ID] != i {
			continue // a repeated id is drawn once
		}
		depth = max(depth, visit(i))
	}

	// Slots per layer, with waypoints for long edges.
	layers := make([][]*slot, depth+1)
	nodeSlot := make([]*slot, len(nodes))
	order := 0
	for i := range nodes {
		if index[nodes[i].ID] != i {
			continue
		}
		s := &slot{node: i, width: o.NodeWidth, layer: layer[i], order: order}
		order++
		nodeSlot[i] = s
		layers[layer[i]] = append(layers[layer[i]], s)
	}
	type chain struct {
		from, to int
		slots    []*slot // from, waypoints…, to
	}
	var chains []chain
	for i := range nodes {
		if nodeSlot[i] == nil {
			continue
		}
		for _, p := range parents[i] {
			c := chain{from: p, to: i, slots: []*slot{nodeSlot[p]}}
			for ly := layer[p] + 1; ly < layer[i]; ly++ {
				w := &slot{node: -1, width: 0, layer: ly, order: order, edgeID: len(chains)}
				order++
				layers[ly] = append(layers[ly], w)
				c.slots = append(c.slots, w)
			}
			c.slots = append(c.slots, nodeSlot[i])
			for k := 0; k+1 < len(c.slots); k++ {
				c.slots[k].down = append(c.slots[k].down, c.slots[k+1])
				c.slots[k+1].up = append(c.slots[k+1].up, c.slots[k])
			}
			chains = append(chains, c)
		}
	}

	orderLayers(layers)
	placeX(layers, o)

	// Shift so the leftmost box starts at the padding.
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, ly := range layers {
		for _, s := range ly {
			minX = min(minX, s.x-s.width/2)
			maxX = max(maxX, s.x+s.width/2)
		}
	}
	shift := o.Padding - minX
	for _, ly := range layers {
		for _, s := range ly {
			s.x += shift
		}
	}
	l.Width = maxX - minX + 2*o.Padding
	l.Height = float64(depth+1)*o.NodeHeight + float64(depth)*o.LayerGap + 2*o.Padding
	top := func(ly int) float64 { return o.Padding + float64(ly)*(o.NodeHeight+o.LayerGap) }

	for _, ly := range layers {
		for _, s := range ly {
			if s.node < 0 {
				continue
			}
			l.Nodes = append(l.Nodes, Placed{Node: nodes[s.node], Layer: s.layer,
				X: s.x - o.NodeWidth/2, Y: top(s.layer), W: o.NodeWidth, H: o.NodeHeight})
		}
	}
	// Draw nodes in the caller's order (stable DOM for tests and htmx).
	slices.SortStableFunc(l.Nodes, func(a, b Placed) int { return index[a.ID] - index[b.ID] })

	// Ports: edges leave and enter a node spread along its bottom and top
	// edge, ordered by where their other end is, so they do not overlap.
	outPort := map[[2]int]float64{}
	inPort := map[[2]int]float64{}
	for i := range nodes {
		s := nodeSlot[i]
		if s == nil {
			continue
		}
		spread := func(ends []chain, other func(chain) *slot, key func(chain) [2]int, into map[[2]int]float64) {
			slices.SortStableFunc(ends, func(a, b chain) int { return cmpFloat(other(a).x, other(b).x) })
			step := min(16, o.NodeWidth/float64(len(ends)+1))
			for k, c := range ends {
				into[key(c)] = s.x + (float64(k)-float64(len(ends)-1)/2)*step
			}
		}
		var outs, ins []chain
		for _, c := range chains {
			if c.from == i {
				outs = append(outs, c)
			}
			if c.to == i {
				ins = append(ins, c)
			}
		}
		spread(outs, func(c chain) *slot { return c.slots[1] }, func(c chain) [2]int { return [2]int{c.from, c.to} }, outPort)
		spread(ins, func(c chain) *slot { return c.slots[len(c.slots)-2] }, func(c chain) [2]int { return [2]int{c.from, c.to} }, inPort)
	}

	for _, c := range chains {
		key := [2]int{c.from, c.to}
		// Points down the edge: (x, y) pairs, entering and leaving each layer.
		type pt struct{ x, y float64 }
		pts := []pt{{outPort[key], top(layer[c.from]) + o.NodeHeight}}
		for _, w := range c.slots[1 : len(c.slots)-1] {
			pts = append(pts, pt{w.x, top(w.layer)}, pt{w.x, top(w.layer) + o.NodeHeight})
		}
		pts = append(pts, pt{inPort[key], top(layer[c.to])})
		var d strings.Builder
		fmt.Fprintf(&d, "M%s %s", num(pts[0].x), num(pts[0].y))
		for k := 1; k < len(pts); k++ {
			a, b := pts[k-1], pts[k]
			if k%2 == 0 { // through a layer, beside the nodes
				fmt.Fprintf(&d, " L%s %s", num(b.x), num(b.y))
				continue
			}
			bend := (b.y - a.y) / 2
			fmt.Fprintf(&d, " C%s %s %s %s %s %s", num(a.x), num(a.y+bend), num(b.x), num(b.y-bend), num(b.x), num(b.y))
		}
		mid := pts[len(pts)/2-1]
		next := pts[len(pts)/2]
		from, to := nodes[c.from], nodes[c.to]
		l.Edges = append(l.Edges, Edge{From: from.ID, To: to.ID, D: d.String(), State: edgeState(from, to),
			MidX: (mid.x + next.x) / 2, MidY: (mid.y + next.y) / 2})
	}
	return l
}

// edgeState says whether a run went along an edge.
func edgeState(from, to Node) string {
	if from.Status == "" && to.Status == "" {
		return ""
	}
	switch to.Status {
	case "skipped", "cancelled":
		return "not-taken"
	case "queued", "running", "waiting", "succeeded", "failed":
		if from.Root || from.Status == "succeeded" {
			return "taken"
		}
	}
	return ""
}

// orderLayers orders each layer to reduce crossings: a few sweeps down and
// up, sorting by the mean position of the neighbours (barycenter), keeping
// the definition order among equals.
func orderLayers(layers [][]*slot) {
	renumber := func(ly []*slot) {
		for i, s := range ly {
			s.pos = i
		}
	}
	for _, ly := range layers {
		slices.SortStableFunc(ly, func(a, b *slot) int { return a.order - b.order })
		renumber(ly)
	}
	bary := func(s *slot, nb []*slot) float64 {
		if len(nb) == 0 {
			return float64(s.pos)
		}
		sum := 0.0
		for _, n := range nb {
			sum += float64(n.pos)
		}
		return sum / float64(len(nb))
	}
	sortBy := func(ly []*slot, nb func(*slot) []*slot) {
		keys := make(map[*slot]float64, len(ly))
		for _, s := range ly {
			keys[s] = bary(s, nb(s))
		}
		slices.SortStableFunc(ly, func(a, b *slot) int {
			if c := cmpFloat(keys[a], keys[b]); c != 0 {
				return c
			}
			return a.order - b.order
		})
		renumber(ly)
	}
	for range 4 {
		for i := 1; i < len(layers); i++ {
			sortBy(layers[i], func(s *slot) []*slot { return s.up })
		}
		for i := len(layers) - 2; i >= 0; i-- {
			sortBy(layers[i], func(s *slot) []*slot { return s.down })
		}
	}
}

// placeX gives every slot an x (its centre): each layer starts centred, then
// sweeps pull nodes toward the mean x of their neighbours while keeping the
// layer's order and spacing.
func placeX(layers [][]*slot, o Options) {
	gapOf := func(a, b *slot) float64 {
		g := o.NodeGap
		if a.node < 0 || b.node < 0 {
			g = o.NodeGap / 2 // waypoints need less room
		}
		return (a.width+b.width)/2 + g
	}
	widest := 0.0
	for _, ly := range layers {
		w := 0.0
		for i, s := range ly {
			if i > 0 {
				w += gapOf(ly[i-1], s) - (ly[i-1].width+s.width)/2
			}
			w += s.width
		}
		widest = max(widest, w)
	}
	for _, ly := range layers {
		w := 0.0
		for i, s := range ly {
			if i > 0 {
				w += gapOf(ly[i-1], s) - (ly[i-1].width+s.width)/2
			}
			w += s.width
		}
		x := (widest - w) / 2
		for i, s := range ly {
			if i > 0 {
				x += gapOf(ly[i-1], s) - (ly[i-1].width+s.width)/2
			}
			s.x = x + s.width/2
			x += s.width
		}
	}
	pull := func(ly []*slot, nb func(*slot) []*slot) {
		want := make([]float64, len(ly))
		for i, s := range ly {
			want[i] = s.x
			if n := nb(s); len(n) > 0 {
				sum := 0.0
				for _, m := range n {
					sum += m.x
				}
				want[i] = sum / float64(len(n))
			}
		}
		fit(ly, want, gapOf)
	}
	for range 3 {
		for i := 1; i < len(layers); i++ {
			pull(layers[i], func(s *slot) []*slot { return s.up })
		}
		for i := len(layers) - 2; i >= 0; i-- {
			pull(layers[i], func(s *slot) []*slot { return s.down })
		}
	}
	// A last downward pass: children settle under their parents.
	for i := 1; i < len(layers); i++ {
		pull(layers[i], func(s *slot) []*slot { return s.up })
	}
}

// fit places the slots of a layer, in order, as close as possible (least
// squares) to their wanted centres without overlapping: blocks of slots that
// would collide are merged and centred on their members' wishes.
func fit(ly []*slot, want []float64, gapOf func(a, b *slot) float64) {
	type block struct {
		first, last int
		sum         float64 // Σ (want_i − offset_i)
		n           float64
	}
	// offset[i] is slot i's distance from its block's first slot.
	offset := make([]float64, len(ly))
	var blocks []block
	for i := range ly {
		b := block{first: i, last: i, sum: want[i], n: 1}
		offset[i] = 0
		for len(blocks) > 0 {
			prev := blocks[len(blocks)-1]
			prevPos := prev.sum / prev.n
			lastX := prevPos + offset[prev.last]
			pos := b.sum / b.n
			if pos-lastX >= gapOf(ly[prev.last], ly[b.first]) {
				break
			}
			// Merge b into prev.
			base := offset[prev.last] + gapOf(ly[prev.last], ly[b.first])
			for k := b.first; k <= b.last; k++ {
				offset[k] += base
			}
			prev.sum += b.sum - base*b.n
			prev.n += b.n
			prev.last = b.last
			blocks = blocks[:len(blocks)-1]
			b = prev
		}
		blocks = append(blocks, b)
	}
	for _, b := range blocks {
		pos := b.sum / b.n
		for k := b.first; k <= b.last; k++ {
			ly[k].x = pos + offset[k]
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// num formats a coordinate compactly: "12", "12.5".
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// Truncate shortens s to at most n characters, ending with "…" when cut:
// SVG text does not wrap or ellipsize by itself.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max(n-1, 1)])) + "…"
}
