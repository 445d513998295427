package posthog

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// captureAction is posthog.capture.
type captureAction struct{}

func (captureAction) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "posthog.capture",
		Name:        "Capture event",
		Description: "Send an event to PostHog. Retries reuse the same event uuid.",
		Fields: []connectors.Field{
			{
				Key:      "distinct_id",
				Label:    "Distinct ID",
				Type:     connectors.FieldString,
				Required: true,
				Help:     "The ID of the person who did the event.",
				Example:  "{{ trigger.user.id }}",
			},
			{
				Key:      "event",
				Label:    "Event",
				Type:     connectors.FieldString,
				Required: true,
				Help:     "The name of the event.",
				Example:  "signed_up",
			},
			{
				Key:     "properties",
				Label:   "Properties",
				Type:    connectors.FieldJSON,
				Help:    "A JSON object of extra facts about the event.",
				Example: map[string]any{"plan": "pro"},
			},
		},
		Outputs: []connectors.Field{
			{Key: "uuid", Label: "Event UUID", Type: connectors.FieldString, Help: "The event uuid sent, derived from the step's idempotency key."},
		},
	}
}

// captureBody is the body of a single-event capture.
type captureBody struct {
	APIKey     string         `json:"api_key"`
	Event      string         `json:"event"`
	DistinctID string         `json:"distinct_id"`
	Properties map[string]any `json:"properties"`
	Timestamp  string         `json:"timestamp"`
	UUID       string         `json:"uuid"`
}

func (captureAction) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	distinctID, err := connectors.InputString(req.Input, "distinct_id")
	if err != nil {
		return nil, err
	}
	name, err := connectors.InputString(req.Input, "event")
	if err != nil {
		return nil, err
	}
	props, err := connectors.InputMap(req.Input, "properties")
	if err != nil {
		return nil, err
	}
	apiKey, err := connectors.RequireSecret(req.Connection, "posthog", "api_key")
	if err != nil {
		return nil, err
	}

	p := make(map[string]any, len(props)+1)
	for k, v := range props {
		p[k] = v
	}
	p["$lib"] = "switchboard"
	body := captureBody{
		APIKey:     apiKey,
		Event:      name,
		DistinctID: distinctID,
		Properties: p,
		Timestamp:  time.Now().UTC().Format(time.RFC3339Nano),
		UUID:       EventUUID(req.IdempotencyKey),
	}
	url := connectors.BaseURL(req.Connection, DefaultBaseURL) + "/i/v0/e/"
	hreq, err := connectors.NewJSONRequest(ctx, http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	resp, err := connectors.DoHTTP(req.HTTP, "posthog", hreq)
	if err != nil {
		return nil, err
	}
	if err := responseError(resp); err != nil {
		return nil, err
	}
	return map[string]any{"uuid": body.UUID}, nil
}

// namespace is the name-space UUID of event UUIDs (RFC 9562 name-based,
// SHA-1): the RFC's URL name space, with names "urn:switchboard:step:<key>".
var namespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// EventUUID returns the event uuid sent for an idempotency key: a version 5
// (SHA-1, name-based) UUID, the same on every retry of a step. An empty key (a
// one-off test run) gets a random version 4 UUID.
func EventUUID(idempotencyKey string) string {
	var u [16]byte
	if idempotencyKey == "" {
		_, _ = rand.Read(u[:])
		u[6] = u[6]&0x0f | 0x40
	} else {
		h := sha1.New()
		h.Write(namespace[:])
		h.Write([]byte("urn:switchboard:step:" + idempotencyKey))
		copy(u[:], h.Sum(nil))
		u[6] = u[6]&0x0f | 0x50
	}
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// responseError maps a capture answer. PostHog answers 200 {"status":1};
// errors carry a plain-text message (newer versions a JSON body with
// "error"/"detail"): 400 for bad events, 401 (or 403) for a missing or invalid
// api_key, 413 for oversized events, 429 for billing or rate limits, 503 for
// transient trouble.
func responseError(resp *connectors.HTTPResponse) error {
	if resp.Status < 300 {
		return nil
	}
	status := fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status))
	var msg string
	switch resp.Status {
	case http.StatusBadRequest:
		msg = "posthog: event rejected (" + status + ")"
	case http.StatusUnauthorized, http.StatusForbidden:
		msg = "posthog: api_key rejected (" + status + ")"
	case http.StatusRequestEntityTooLarge:
		msg = "posthog: event too large (" + status + ")"
	case http.StatusTooManyRequests:
		msg = "posthog: rate limited (" + status + ")"
	default:
		msg = "posthog: " + status
	}
	if detail := ErrorMessage(resp.Body); detail != "" {
		msg += ": " + detail
	}
	return connectors.ClassifyHTTP(resp.Status, connectors.RetryAfter(resp.Header, 0), msg)
}

// ErrorMessage returns the readable message of a PostHog error body: the
// text itself for plain-text bodies ("event submitted without a distinct_id"),
// or the "error_description", "detail", "error" or "message" field of a JSON one.
func ErrorMessage(body []byte) string {
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		var v map[string]any
		if json.Unmarshal([]byte(trimmed), &v) == nil {
			for _, k := range []string{"error_description", "detail", "error", "message"} {
				if s, ok := v[k].(string); ok && s != "" {
					return connectors.BodySnippet([]byte(s), 300)
				}
			}
		}
	}
	return connectors.BodySnippet(body, 300)
}
