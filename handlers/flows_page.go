package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/store"
	webflows "github.com/switchboard/switchboard/web/flows"
	"github.com/switchboard/switchboard/web/layout"
)

// flowsPage lists the workspace's flows with their trigger, enabled switch,
// last run and the last 24 hours' runs and failure rate.
func (a *app) flowsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m := member(c)
	fs, err := store.ListFlows(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return err
	}
	stats, err := listFlowStats(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return err
	}
	v := webflows.ListView{Page: a.editorPageModel(c, "Flows", layout.NavFlows), CanEdit: m.CanEdit(), Now: editorNow()}
	// Newest first: the flow just created is on top.
	for i := len(fs) - 1; i >= 0; i-- {
		f := fs[i]
		s := stats[f.ID]
		r := webflows.Row{ID: f.ID.String(), Name: f.Name, Enabled: f.Enabled, LastStatus: s.LastStatus, LastRunAt: s.LastRunAt,
			Runs24h: s.Runs24h, Failed24h: s.Failed24h, HasDraft: s.HasDraft}
		if def, err := decodeWorking(f.Definition); err == nil {
			r.Trigger = def.Trigger.Type
		}
		v.Flows = append(v.Flows, r)
	}
	return render(c, webflows.List(v))
}
