// Package flows renders the flow pages: the list of flows (and later the
// editor). Import it as webflows where the domain package flows is also used.
package flows

import (
	"fmt"
	"net/url"
	"time"

	"github.com/switchboard/switchboard/web/layout"
)

// Row is one flow in the list with its last run and 24-hour counts.
type Row struct {
	ID         string
	Name       string
	Trigger    string // trigger key, e.g. "webhook.incoming" or "core.schedule"
	Enabled    bool
	LastStatus string     // status of the last run; "" when it never ran
	LastRunAt  *time.Time // nil when it never ran
	Runs24h    int
	Failed24h  int
	// HasDraft is true when the editor holds unpublished changes.
	HasDraft bool
}

// ListView is the flows list page.
type ListView struct {
	Page  layout.Page
	Flows []Row
	// CanEdit shows the enable switches and the new/import buttons.
	CanEdit bool
	// Now is the reference for relative times ("5 min ago"); zero means
	// time.Now() at render.
	Now time.Time
}

func (v ListView) now() time.Time {
	if v.Now.IsZero() {
		return time.Now()
	}
	return v.Now
}

func page(p layout.Page) layout.Page {
	if p.Title == "" {
		p.Title = "Flows"
	}
	if p.Active == "" {
		p.Active = layout.NavFlows
	}
	return p
}

func flowURL(id string) string {
	return "/flows/" + url.PathEscape(id)
}

func flowPath(id, action string) string {
	return flowURL(id) + "/" + action
}

// enabledLabel is the accessible name of a flow's enable switch.
func (r Row) enabledLabel() string {
	if r.Enabled {
		return "Disable " + r.Name
	}
	return "Enable " + r.Name
}

func (r Row) next() string {
	if r.Enabled {
		return "false"
	}
	return "true"
}

func (r Row) checked() string {
	if r.Enabled {
		return "true"
	}
	return "false"
}

// failureRate formats Failed24h/Runs24h as a percentage; "—" without runs.
func (r Row) failureRate() string {
	if r.Runs24h <= 0 {
		return "—"
	}
	pct := float64(r.Failed24h) * 100 / float64(r.Runs24h)
	switch {
	case r.Failed24h == 0:
		return "0%"
	case pct < 1:
		return "<1%"
	default:
		return fmt.Sprintf("%.0f%%", pct)
	}
}

func (r Row) failureTitle() string {
	return fmt.Sprintf("%d of %d runs failed in the last 24 hours", r.Failed24h, r.Runs24h)
}

// NewView is the "New flow" page: a name and where to start from.
type NewView struct {
	Page      layout.Page
	Name      string
	Template  string // "blank" or a template key
	Templates []TemplateOption
	// Errors maps a form field (name, template) to its problem.
	Errors map[string]string
}

// TemplateOption is one starting point offered for a new flow.
type TemplateOption struct {
	Key         string
	Name        string
	Description string
	// Actions are its steps' actions, shown as icons.
	Actions []string
}

// ImportView is the import page: a name and a pasted definition.
type ImportView struct {
	Page   layout.Page
	Name   string
	JSON   string
	Errors map[string]string
}
