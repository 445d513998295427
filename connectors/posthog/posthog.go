// Package posthog is the PostHog connector: it captures events through
// PostHog's public capture endpoint (/i/v0/e/), authenticated by the project
// API key in the body. Each event carries a UUID derived from the step's
// idempotency key, so retries send the same event uuid.
package posthog

import (
	"github.com/switchboard/switchboard/connectors"
)

// DefaultBaseURL is the root of PostHog Cloud US ingestion; a connection's
// config.base_url replaces it (https://eu.i.posthog.com, a self-hosted
// instance, tests).
const DefaultBaseURL = "https://us.i.posthog.com"

// PostHog is the PostHog connector.
type PostHog struct{}

var _ connectors.Connector = (*PostHog)(nil)

// New returns the PostHog connector.
func New() *PostHog { return &PostHog{} }

// Key returns "posthog".
func (*PostHog) Key() string { return "posthog" }

// Name returns the display name.
func (*PostHog) Name() string { return "PostHog" }

// AuthFields returns the connection fields: the project API key (secret) and
// an optional base URL.
func (*PostHog) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key:      "api_key",
			Label:    "Project API key",
			Type:     connectors.FieldSecret,
			Required: true,
			Secret:   true,
			Help:     "The project API key, starting phc_ (PostHog → Project settings). Not a personal API key.",
		},
		{
			Key:     "base_url",
			Label:   "Ingestion base URL",
			Type:    connectors.FieldString,
			Help:    "Leave empty for " + DefaultBaseURL + ". EU Cloud uses https://eu.i.posthog.com; self-hosted, your instance's URL.",
			Example: "https://eu.i.posthog.com",
		},
	}
}

// Actions returns posthog.capture.
func (*PostHog) Actions() []connectors.Action { return []connectors.Action{captureAction{}} }

// Triggers returns nothing: PostHog is an outbound-only connector.
func (*PostHog) Triggers() []connectors.TriggerSpec { return nil }
