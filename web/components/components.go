// Package components holds the shared pieces of the web UI: form fields, the
// CSRF input, status badges, empty states, page headers and the error page.
// Components take plain values or view-model structs and never touch the
// database. This package may import web/layout; layout must not import it.
package components

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// FieldView is one labelled form input with optional help text and an inline
// error. Name is the form field name; the element id is derived from it.
type FieldView struct {
	Name         string
	Label        string
	Type         string // "text" when empty; "password" never echoes Value
	Value        string
	Error        string
	Help         string
	Placeholder  string
	Required     bool
	Autocomplete string
}

// ID is the element id of the field's control ("field-" + Name).
func (f FieldView) ID() string { return "field-" + f.Name }

func (f FieldView) inputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

// value is what the control shows: passwords are never sent back to the browser.
func (f FieldView) value() string {
	if f.inputType() == "password" {
		return ""
	}
	return f.Value
}

func (f FieldView) errorID() string { return f.ID() + "-error" }
func (f FieldView) helpID() string  { return f.ID() + "-help" }

// describedBy links the control to its error and help text for screen readers.
func (f FieldView) describedBy() string {
	var ids []string
	if f.Error != "" {
		ids = append(ids, f.errorID())
	}
	if f.Help != "" {
		ids = append(ids, f.helpID())
	}
	return strings.Join(ids, " ")
}

// Statuses StatusBadge knows, in the words runs and steps use. Any other
// string renders as a neutral badge.
var statusLabels = map[string]string{
	"queued":    "Queued",
	"pending":   "Pending",
	"running":   "Running",
	"waiting":   "Waiting",
	"succeeded": "Succeeded",
	"failed":    "Failed",
	"skipped":   "Skipped",
	"cancelled": "Cancelled",
	"enabled":   "Enabled",
	"disabled":  "Disabled",
}

// badgeClass is the badge's class list; unknown statuses get no modifier so
// arbitrary strings never become class names.
func badgeClass(status string) string {
	if status == "" {
		return "badge badge--none"
	}
	if _, ok := statusLabels[status]; ok {
		return "badge badge--" + status
	}
	return "badge"
}

func badgeLabel(status string) string {
	if status == "" {
		return "—"
	}
	if l, ok := statusLabels[status]; ok {
		return l
	}
	return status
}

// connectorIcons are the connector keys with an icon in static/icons.
var connectorIcons = map[string]bool{
	"webhook": true, "http": true, "slack": true, "mailchimp": true, "segment": true,
	"mixpanel": true, "posthog": true, "jira": true, "email": true, "core": true,
}

// IconPath returns the static path of a connector's icon. key may be a
// connector key ("slack") or an action/trigger key ("slack.post_message");
// unknown connectors get the core icon.
func IconPath(key string) string {
	connector, _, _ := strings.Cut(key, ".")
	if !connectorIcons[connector] {
		connector = "core"
	}
	return "/static/icons/" + connector + ".svg"
}

// Ago formats t relative to now for humans: "just now", "5 min ago",
// "3 h ago", "2 d ago", then a date ("Jan 2" this year, else "Jan 2, 2006").
// Times in the future read as "just now".
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return fmt.Sprintf("%d d ago", int(d/(24*time.Hour)))
	case t.Year() == now.Year():
		return t.Format("Jan 2")
	default:
		return t.Format("Jan 2, 2006")
	}
}

// timestampTitle is the absolute time shown on hover.
func timestampTitle(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func errorTitle(status int) string {
	if s := http.StatusText(status); s != "" {
		return s
	}
	return "Error"
}
