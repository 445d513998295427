// Package segment is the Segment connector: track and identify calls to the
// Segment HTTP Tracking API (https://api.segment.io/v1), authenticated with a
// source write key. Each call carries the step's idempotency key as its
// messageId, which Segment uses to deduplicate retried events.
package segment

import (
	"github.com/switchboard/switchboard/connectors"
)

// DefaultBaseURL is the root of the Segment HTTP Tracking API; a connection's
// config.base_url replaces it (EU workspaces, Segment-compatible gateways, tests).
const DefaultBaseURL = "https://api.segment.io/v1"

// Segment is the Segment connector.
type Segment struct{}

var _ connectors.Connector = (*Segment)(nil)

// New returns the Segment connector.
func New() *Segment { return &Segment{} }

// Key returns "segment".
func (*Segment) Key() string { return "segment" }

// Name returns the display name.
func (*Segment) Name() string { return "Segment" }

// AuthFields returns the connection fields: the source write key (secret) and
// an optional base URL.
func (*Segment) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key:      "write_key",
			Label:    "Write key",
			Type:     connectors.FieldSecret,
			Required: true,
			Secret:   true,
			Help:     "The write key of an HTTP API source (Segment → Connections → Sources → your source → Settings → API Keys).",
		},
		{
			Key:     "base_url",
			Label:   "API base URL",
			Type:    connectors.FieldString,
			Help:    "Leave empty for " + DefaultBaseURL + ". EU workspaces use https://events.eu1.segmentapis.com/v1.",
			Example: "https://events.eu1.segmentapis.com/v1",
		},
	}
}

// Actions returns segment.track and segment.identify.
func (*Segment) Actions() []connectors.Action {
	return []connectors.Action{trackAction{}, identifyAction{}}
}

// Triggers returns nothing: Segment is an outbound-only connector.
func (*Segment) Triggers() []connectors.TriggerSpec { return nil }

// identityFields are the user_id and anonymous_id inputs shared by both actions.
func identityFields() []connectors.Field {
	return []connectors.Field{
		{
			Key:     "user_id",
			Label:   "User ID",
			Type:    connectors.FieldString,
			Help:    "Your database ID for the user. One of user_id or anonymous_id is required.",
			Example: "{{ trigger.user.id }}",
		},
		{
			Key:     "anonymous_id",
			Label:   "Anonymous ID",
			Type:    connectors.FieldString,
			Help:    "An ID for a visitor you do not know yet. One of user_id or anonymous_id is required.",
			Example: "{{ trigger.anonymous_id }}",
		},
	}
}

// outputs are the outputs of both actions.
var outputs = []connectors.Field{
	{Key: "message_id", Label: "Message ID", Type: connectors.FieldString, Help: "The messageId sent to Segment (the step's idempotency key), which Segment deduplicates on."},
}
