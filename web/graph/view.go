package graph

import (
	"strings"
)

// statusWords are the states a node may be coloured with; anything else is
// drawn neutral so arbitrary strings never become class names.
var statusWords = map[string]string{
	"pending": "pending", "queued": "queued", "running": "running", "waiting": "waiting",
	"succeeded": "succeeded", "failed": "failed", "skipped": "skipped", "cancelled": "cancelled",
}

func (l Layout) viewBox() string {
	return "0 0 " + num(l.Width) + " " + num(l.Height)
}

func (l Layout) marker(e Edge) string {
	if e.State == "taken" {
		return "url(#" + l.Options.IDPrefix + "-arrow-taken)"
	}
	return "url(#" + l.Options.IDPrefix + "-arrow)"
}

func (n Placed) classes() string {
	c := []string{"node"}
	if n.Root {
		c = append(c, "node--trigger")
	}
	if s, ok := statusWords[n.Status]; ok {
		c = append(c, "state-"+s)
	}
	if n.Selected {
		c = append(c, "selected")
	}
	return strings.Join(c, " ")
}

func (n Placed) transform() string {
	return "translate(" + num(n.X) + " " + num(n.Y) + ")"
}

// textX leaves room for the icon.
func (n Placed) textX() float64 {
	if n.Icon != "" {
		return 46
	}
	return 14
}

// titleY centres a lone title; with a subtitle the two lines share the box.
func (n Placed) titleY() float64 {
	if n.Subtitle == "" {
		return n.H/2 + 5
	}
	return n.H/2 - 3
}

// maxChars is about how many characters of 13px text fit beside the icon
// and the status dot.
func (n Placed) maxChars() int {
	room := n.W - n.textX() - 14
	if n.Status != "" {
		room -= 18
	}
	return max(int(room/7.6), 4)
}

func (n Placed) ariaLabel() string {
	s := n.Title
	if n.Subtitle != "" {
		s += " (" + n.Subtitle + ")"
	}
	if n.Status != "" {
		s += ": " + n.Status
	}
	return s
}
