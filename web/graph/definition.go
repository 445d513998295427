package graph

import (
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/web/components"
)

// TriggerID is the id of the trigger's node in graphs built by
// FromDefinition. Step ids cannot contain '$', so it never collides.
const TriggerID = "$trigger"

// Overlay colours and links the nodes of FromDefinition; every field is
// optional.
type Overlay struct {
	// Status maps a step id to its state in a run; TriggerStatus is the
	// trigger node's (a run's trigger has always "succeeded").
	Status        map[string]string
	TriggerStatus string
	// Href gives a step's node a link; TriggerHref the trigger's.
	Href        func(stepID string) string
	TriggerHref string
	// Selected highlights one step (the editor's open step).
	Selected string
}

// FromDefinition returns the nodes of a flow definition: the trigger as the
// root, then its steps with their resolved needs (see flows.ResolvedNeeds),
// titled by name (or id) and subtitled by action, with the connector's icon.
func FromDefinition(def *flows.Definition, ov Overlay) []Node {
	needs := flows.ResolvedNeeds(def)
	nodes := make([]Node, 0, len(def.Steps)+1)
	trigger := def.Trigger.Type
	if trigger == "" {
		trigger = "webhook"
	}
	nodes = append(nodes, Node{ID: TriggerID, Title: "Trigger", Subtitle: trigger, Icon: components.IconPath(trigger),
		Status: ov.TriggerStatus, Href: ov.TriggerHref, Root: true})
	for _, s := range def.Steps {
		title := s.Name
		if title == "" {
			title = s.ID
		}
		n := Node{ID: s.ID, Title: title, Subtitle: s.Action, Icon: components.IconPath(s.Action),
			Status: ov.Status[s.ID], Needs: needs[s.ID], Selected: ov.Selected != "" && ov.Selected == s.ID}
		if ov.Href != nil {
			n.Href = ov.Href(s.ID)
		}
		nodes = append(nodes, n)
	}
	return nodes
}
