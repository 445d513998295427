package segment

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// maxMessageIDLen is Segment's limit: messageId values must be shorter than
// 100 characters for deduplication to work.
const maxMessageIDLen = 99

// message is the body of a single track or identify call.
type message struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Event       string         `json:"event,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
	Traits      map[string]any `json:"traits,omitempty"`
	Context     map[string]any `json:"context"`
	Timestamp   string         `json:"timestamp"`
}

// send posts msg to {root}/{call} and maps Segment's answer.
func send(ctx context.Context, req connectors.Request, call string, msg *message) (map[string]any, error) {
	writeKey, err := connectors.RequireSecret(req.Connection, "segment", "write_key")
	if err != nil {
		return nil, err
	}
	root := connectors.BaseURL(req.Connection, DefaultBaseURL)

	msg.Type = call
	msg.MessageID = MessageID(req.IdempotencyKey)
	msg.Timestamp = time.Now().UTC().Format(time.RFC3339Nano)
	msg.Context = map[string]any{
		"library": map[string]any{"name": "switchboard", "version": "1"},
	}

	hreq, err := connectors.NewJSONRequest(ctx, http.MethodPost, root+"/"+call, msg)
	if err != nil {
		return nil, err
	}
	// Basic auth with the write key as user name and an empty password
	// ("abc123:" → "YWJjMTIzOg==").
	hreq.SetBasicAuth(writeKey, "")

	resp, err := connectors.DoHTTP(req.HTTP, "segment", hreq)
	if err != nil {
		return nil, err
	}
	if err := responseError(resp); err != nil {
		return nil, err
	}
	return map[string]any{"message_id": msg.MessageID}, nil
}

// MessageID returns the messageId sent for an idempotency key: the key itself
// when it fits Segment's limit (under 100 characters), otherwise a stable
// digest of it, so every retry of a step sends the same messageId. An empty key
// (a one-off test run) gets a random ID.
func MessageID(idempotencyKey string) string {
	switch {
	case idempotencyKey == "":
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return "sb-" + hex.EncodeToString(b)
	case len(idempotencyKey) <= maxMessageIDLen:
		return idempotencyKey
	default:
		sum := sha256.Sum256([]byte(idempotencyKey))
		return "sb-" + hex.EncodeToString(sum[:])
	}
}

// responseError maps a Segment answer to the engine's error types. Segment
// answers 200 for everything it accepts (even events it later drops), 400 for
// bodies that are too large or not JSON, and 429 with Retry-After (and
// X-RateLimit-Reset) when the workspace sends too fast. 401/403 come from
// Segment-compatible gateways and proxies.
func responseError(resp *connectors.HTTPResponse) error {
	if resp.Status < 300 {
		return nil
	}
	status := fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status))
	detail := errorDetail(resp.Body)
	var msg string
	switch resp.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg = "segment: write key rejected (" + status + ")"
	case http.StatusTooManyRequests:
		msg = "segment: rate limited (" + status + ")"
	case http.StatusBadRequest:
		msg = "segment: request rejected (" + status + ")"
	case http.StatusRequestEntityTooLarge:
		msg = "segment: event too large (" + status + "); Segment accepts up to 32KB per call"
	default:
		msg = "segment: " + status
	}
	if detail != "" {
		msg += ": " + detail
	}
	return connectors.ClassifyHTTP(resp.Status, retryAfter(resp.Header), msg)
}

// retryAfter reads Retry-After, or X-RateLimit-Reset (seconds) when Segment
// sent only that; zero means "use the default".
func retryAfter(h http.Header) time.Duration {
	if d := connectors.RetryAfter(h, 0); d > 0 {
		return d
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Reset"))); err == nil && secs > 0 && secs <= 3600 {
		return time.Duration(secs) * time.Second
	}
	return 0
}

// errorDetail pulls a readable message out of an error body: a JSON
// "message"/"error"/"error_description"/"detail" field, or the start of the text.
func errorDetail(body []byte) string {
	var v map[string]any
	if json.Unmarshal(body, &v) == nil {
		for _, k := range []string{"message", "error_description", "error", "detail"} {
			if s, ok := v[k].(string); ok && s != "" {
				return connectors.BodySnippet([]byte(s), 300)
			}
		}
	}
	return connectors.BodySnippet(body, 300)
}
