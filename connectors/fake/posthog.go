package fake

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// PostHogEvent is one event the PostHog fake accepted. Events with a uuid
// already seen are deduplicated away (PostHog does not guarantee this, but
// its ClickHouse merges eventually do).
type PostHogEvent struct {
	Event      string
	DistinctID string
	UUID       string // "" when none or an invalid one was sent
	Timestamp  string
	APIKey     string
	Properties map[string]any
}

// PostHog is a fake of PostHog's public capture endpoints (CONNECTORS.md
// §3.3): POST /i/v0/e/ and /capture/ for one event (/capture/ also takes a
// batch), POST /batch/ for {"api_key","batch":[…]}. The project key travels in
// the body as api_key (or token, $token, properties.token); there is no auth
// header. Bodies are JSON, optionally gzip (Content-Encoding: gzip or
// ?compression=gzip), at most 20MB, each event at most 1MB.
//
// Success is 200 {"status":1}. Errors are plain text, as PostHog's capture
// service answers: 400 "event submitted with an empty event name" / "event
// submitted without a distinct_id" / "request holds no event" / "failed to
// parse request: …"; 401 "event submitted without an api_key" or "API key is
// not valid: …"; 413 "maximum event size exceeded"; 429 "rate limited"; 503
// "transient error, please retry".
type PostHog struct {
	// URL is the server's root when started by NewPostHog; use it as the
	// connection's base_url.
	URL string
	// APIKey is the only project API key the fake accepts.
	APIKey string

	srv   *httptest.Server
	knobs analyticsKnobs

	mu     sync.Mutex
	events []PostHogEvent
	seen   map[string]bool
}

// PostHog capture limits.
const (
	posthogMaxBody  = 20 << 20
	posthogMaxEvent = 1 << 20
)

// NewPostHog starts a fake PostHog capture API on a loopback httptest server
// that accepts apiKey. Close it when done.
func NewPostHog(apiKey string) *PostHog {
	p := NewPostHogHandler(apiKey)
	p.srv = httptest.NewServer(p)
	p.URL = p.srv.URL
	return p
}

// NewPostHogHandler returns the fake as an http.Handler without starting a
// server, for a dev command to serve on loopback; URL stays empty.
func NewPostHogHandler(apiKey string) *PostHog {
	return &PostHog{APIKey: apiKey, seen: map[string]bool{}}
}

// BaseURL returns the value for a connection's config.base_url (URL).
func (p *PostHog) BaseURL() string { return p.URL }

// Close stops the server started by NewPostHog.
func (p *PostHog) Close() {
	if p.srv != nil {
		p.srv.Close()
	}
}

// RateLimitNext makes the next n requests fail with 429 "rate limited"; a
// positive retryAfter adds a Retry-After header in whole seconds.
func (p *PostHog) RateLimitNext(n int, retryAfter time.Duration) {
	p.knobs.rateLimitNext(n, retryAfter)
}

// FailNext makes the next n requests (after any rate limiting) fail with status.
func (p *PostHog) FailNext(n int, status int) { p.knobs.failNext(n, status) }

// Requests returns every request received, in order.
func (p *PostHog) Requests() []CapturedRequest { return p.knobs.requests() }

// Events returns the accepted events, deduplicated on uuid, in order.
func (p *PostHog) Events() []PostHogEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PostHogEvent(nil), p.events...)
}

// ServeHTTP implements http.Handler.
func (p *PostHog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := p.knobs.record(w, r, posthogMaxBody)
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path != "/i/v0/e" && path != "/capture" && path != "/e" && path != "/batch" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		posthogText(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if p.knobs.fault(w, func(w http.ResponseWriter, status int, retryAfter time.Duration) {
		msg := strings.ToLower(http.StatusText(status))
		switch status {
		case http.StatusTooManyRequests:
			msg = "rate limited"
			if retryAfter > 0 {
				w.Header().Set("Retry-After", analyticsSeconds(retryAfter))
			}
		case http.StatusServiceUnavailable:
			msg = "transient error, please retry"
		}
		posthogText(w, status, msg)
	}) {
		return
	}
	if !ok {
		posthogText(w, http.StatusRequestEntityTooLarge, "maximum event size exceeded")
		return
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") || r.URL.Query().Get("compression") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(zr, posthogMaxBody+1))
		}
		if err != nil {
			posthogText(w, http.StatusBadRequest, "failed to decode request: invalid gzip data")
			return
		}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "" && mt != "application/json" && mt != "text/plain" {
		posthogText(w, http.StatusBadRequest, "failed to decode request: unsupported content type "+mt)
		return
	}

	var top map[string]any
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		posthogText(w, http.StatusBadRequest, "failed to parse request: invalid JSON")
		return
	}
	var items []map[string]any
	if raw, isBatch := top["batch"]; isBatch || path == "/batch" {
		list, _ := raw.([]any)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				items = append(items, m)
			}
		}
	} else {
		items = []map[string]any{top}
	}
	if len(items) == 0 {
		posthogText(w, http.StatusBadRequest, "request holds no event")
		return
	}

	// One project per request: the body's key, or the events' own keys,
	// which must then agree.
	key := posthogToken(top)
	for _, it := range items {
		if raw, _ := json.Marshal(it); len(raw) > posthogMaxEvent {
			posthogText(w, http.StatusRequestEntityTooLarge, "maximum event size exceeded")
			return
		}
		if k := posthogToken(it); k != "" {
			if key != "" && k != key {
				posthogText(w, http.StatusBadRequest, "batch submitted with inconsistent api_key values")
				return
			}
			key = k
		}
	}
	switch {
	case key == "":
		posthogText(w, http.StatusUnauthorized, "event submitted without an api_key")
		return
	case key != p.APIKey:
		posthogText(w, http.StatusUnauthorized, "API key is not valid: api_key does not resolve to a known project")
		return
	}
	events := make([]PostHogEvent, 0, len(items))
	for _, it := range items {
		ev := PostHogEvent{APIKey: key}
		ev.Event, _ = it["event"].(string)
		ev.Properties, _ = it["properties"].(map[string]any)
		ev.Timestamp, _ = it["timestamp"].(string)
		ev.DistinctID = posthogString(it["distinct_id"])
		if ev.DistinctID == "" {
			ev.DistinctID = posthogString(ev.Properties["distinct_id"])
		}
		if ev.Event == "" {
			posthogText(w, http.StatusBadRequest, "event submitted with an empty event name")
			return
		}
		if ev.DistinctID == "" {
			posthogText(w, http.StatusBadRequest, "event submitted without a distinct_id")
			return
		}
		if u, _ := it["uuid"].(string); posthogValidUUID(u) {
			ev.UUID = strings.ToLower(u)
		}
		events = append(events, ev)
	}

	p.mu.Lock()
	for _, ev := range events {
		if ev.UUID != "" {
			if p.seen[ev.UUID] {
				continue
			}
			p.seen[ev.UUID] = true
		}
		p.events = append(p.events, ev)
	}
	p.mu.Unlock()
	analyticsWriteJSON(w, http.StatusOK, map[string]any{"status": 1})
}

// posthogToken returns the project key of a body or event: api_key, token,
// $token or properties.token.
func posthogToken(m map[string]any) string {
	for _, k := range []string{"api_key", "token", "$token"} {
		if s, _ := m[k].(string); s != "" {
			return s
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		if s, _ := props["token"].(string); s != "" {
			return s
		}
	}
	return ""
}

// posthogString formats a distinct_id, which may be a number.
func posthogString(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return fmt.Sprint(x)
	}
	return ""
}

// posthogValidUUID reports whether s is a canonical 8-4-4-4-12 hex UUID.
func posthogValidUUID(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	_, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	return err == nil
}

// posthogText writes a plain-text error, as PostHog's capture service does.
func posthogText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
