// Package mixpanel is the Mixpanel connector: it records events through
// Mixpanel's /import ingestion endpoint, authenticated with the project token
// and validated strictly (strict=1) so that a rejected event fails the step
// with Mixpanel's reason instead of vanishing. Each event carries an
// $insert_id derived from the step's idempotency key, which Mixpanel uses to
// deduplicate retries.
package mixpanel

import (
	"github.com/switchboard/switchboard/connectors"
)

// DefaultBaseURL is the root of Mixpanel's ingestion API; a connection's
// config.base_url replaces it (https://api-eu.mixpanel.com for EU residency,
// tests).
const DefaultBaseURL = "https://api.mixpanel.com"

// Mixpanel is the Mixpanel connector.
type Mixpanel struct{}

var _ connectors.Connector = (*Mixpanel)(nil)

// New returns the Mixpanel connector.
func New() *Mixpanel { return &Mixpanel{} }

// Key returns "mixpanel".
func (*Mixpanel) Key() string { return "mixpanel" }

// Name returns the display name.
func (*Mixpanel) Name() string { return "Mixpanel" }

// AuthFields returns the connection fields: the project token (secret) and an
// optional base URL.
func (*Mixpanel) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key:      "project_token",
			Label:    "Project token",
			Type:     connectors.FieldSecret,
			Required: true,
			Secret:   true,
			Help:     "The project token (Mixpanel → Project Settings → Access Keys).",
		},
		{
			Key:     "base_url",
			Label:   "API base URL",
			Type:    connectors.FieldString,
			Help:    "Leave empty for " + DefaultBaseURL + ". Projects with EU data residency use https://api-eu.mixpanel.com.",
			Example: "https://api-eu.mixpanel.com",
		},
	}
}

// Actions returns mixpanel.track.
func (*Mixpanel) Actions() []connectors.Action { return []connectors.Action{trackAction{}} }

// Triggers returns nothing: Mixpanel is an outbound-only connector.
func (*Mixpanel) Triggers() []connectors.TriggerSpec { return nil }
