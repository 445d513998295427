package segment

import (
	"context"

	"github.com/switchboard/switchboard/connectors"
)

// trackAction is segment.track: record that a user did something.
type trackAction struct{}

func (trackAction) Spec() connectors.ActionSpec {
	fields := identityFields()
	fields = append(fields,
		connectors.Field{
			Key:      "event",
			Label:    "Event",
			Type:     connectors.FieldString,
			Required: true,
			Help:     "The name of the action the user performed, in Object Action form.",
			Example:  "Signed Up",
		},
		connectors.Field{
			Key:     "properties",
			Label:   "Properties",
			Type:    connectors.FieldJSON,
			Help:    "A JSON object of extra facts about the event.",
			Example: map[string]any{"plan": "pro"},
		},
	)
	return connectors.ActionSpec{
		Key:         "segment.track",
		Name:        "Track event",
		Description: "Send a track call to Segment. Retries reuse the same messageId, so Segment keeps one event.",
		Fields:      fields,
		Outputs:     outputs,
	}
}

func (trackAction) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	msg, err := identity(req.Input)
	if err != nil {
		return nil, err
	}
	if msg.Event, err = connectors.InputString(req.Input, "event"); err != nil {
		return nil, err
	}
	if msg.Properties, err = connectors.InputMap(req.Input, "properties"); err != nil {
		return nil, err
	}
	return send(ctx, req, "track", msg)
}

// identifyAction is segment.identify: tie a user to their traits.
type identifyAction struct{}

func (identifyAction) Spec() connectors.ActionSpec {
	fields := identityFields()
	fields = append(fields, connectors.Field{
		Key:     "traits",
		Label:   "Traits",
		Type:    connectors.FieldJSON,
		Help:    "A JSON object of facts about the user (email, name, plan…).",
		Example: map[string]any{"email": "ada@example.com", "plan": "pro"},
	})
	return connectors.ActionSpec{
		Key:         "segment.identify",
		Name:        "Identify user",
		Description: "Send an identify call to Segment. Retries reuse the same messageId.",
		Fields:      fields,
		Outputs:     outputs,
	}
}

func (identifyAction) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	msg, err := identity(req.Input)
	if err != nil {
		return nil, err
	}
	if msg.Traits, err = connectors.InputMap(req.Input, "traits"); err != nil {
		return nil, err
	}
	return send(ctx, req, "identify", msg)
}

// identity reads user_id and anonymous_id, one of which Segment requires (it
// would answer 200 and silently drop the event otherwise).
func identity(in map[string]any) (*message, error) {
	userID, err := connectors.InputOptionalString(in, "user_id")
	if err != nil {
		return nil, err
	}
	anonID, err := connectors.InputOptionalString(in, "anonymous_id")
	if err != nil {
		return nil, err
	}
	if userID == "" && anonID == "" {
		return nil, connectors.Permanent(0, "input.user_id or input.anonymous_id is required")
	}
	return &message{UserID: userID, AnonymousID: anonID}, nil
}
