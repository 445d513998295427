package fake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CapturedRequest is one HTTP request received by the Segment, Mixpanel or
// PostHog fake, recorded before any check, so rejected requests appear too.
type CapturedRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// SegmentEvent is one event the Segment fake accepted, as Segment would keep
// it: events with a messageId already seen are deduplicated away.
type SegmentEvent struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	UserID      string         `json:"userId"`
	AnonymousID string         `json:"anonymousId"`
	Event       string         `json:"event"`
	Properties  map[string]any `json:"properties"`
	Traits      map[string]any `json:"traits"`
	Context     map[string]any `json:"context"`
	Timestamp   string         `json:"timestamp"`
}

// Segment is a fake of the Segment HTTP Tracking API (CONNECTORS.md §3.1):
// POST /v1/{identify,track,page,screen,group,alias,batch} with the write key
// as Basic-auth user name (empty password) or as "writeKey" in the body,
// Content-Type application/json, 32KB per call (500KB per batch), 200
// {"success":true} for everything accepted, 400 for bodies that are too large
// or not JSON, 429 with Retry-After and X-RateLimit-Reset when rate limiting.
//
// Like the real API, a call without a write key is a 400 while a wrong write
// key is answered 200 and the events are silently dropped; RejectUnknownWriteKeys
// switches to a 401, as Segment-compatible gateways answer.
type Segment struct {
	// URL is the server's root when started by NewSegment; the connector's
	// base_url is BaseURL() (URL + "/v1").
	URL string
	// WriteKey is the only write key the fake accepts.
	WriteKey string

	srv   *httptest.Server
	knobs analyticsKnobs

	mu            sync.Mutex
	events        []SegmentEvent
	seen          map[string]bool
	dropped       int
	rejectUnknown bool
}

// Segment limits on a request body (CONNECTORS.md §3.1).
const (
	segmentMaxCall  = 32 << 10
	segmentMaxBatch = 500 << 10
)

// NewSegment starts a fake Segment API on a loopback httptest server that
// accepts writeKey. Close it when done.
func NewSegment(writeKey string) *Segment {
	s := NewSegmentHandler(writeKey)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// NewSegmentHandler returns the fake as an http.Handler without starting a
// server, for a dev command to serve on loopback; URL stays empty.
func NewSegmentHandler(writeKey string) *Segment {
	return &Segment{WriteKey: writeKey, seen: map[string]bool{}}
}

// BaseURL returns the value for a connection's config.base_url.
func (s *Segment) BaseURL() string { return s.URL + "/v1" }

// Close stops the server started by NewSegment.
func (s *Segment) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// RateLimitNext makes the next n requests fail with 429 and Retry-After (and
// X-RateLimit-Reset) of retryAfter, rounded up to whole seconds.
func (s *Segment) RateLimitNext(n int, retryAfter time.Duration) {
	s.knobs.rateLimitNext(n, retryAfter)
}

// FailNext makes the next n requests (after any rate limiting) fail with status.
func (s *Segment) FailNext(n int, status int) { s.knobs.failNext(n, status) }

// RejectUnknownWriteKeys makes a wrong write key a 401 instead of the real
// API's silent 200.
func (s *Segment) RejectUnknownWriteKeys(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectUnknown = on
}

// Requests returns every request received, in order.
func (s *Segment) Requests() []CapturedRequest { return s.knobs.requests() }

// Events returns the accepted events, deduplicated on messageId, in order.
func (s *Segment) Events() []SegmentEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SegmentEvent(nil), s.events...)
}

// Dropped returns how many events were answered 200 but not kept (wrong
// write key, no userId/anonymousId, track without event), as Segment does.
func (s *Segment) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// ServeHTTP implements http.Handler.
func (s *Segment) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := s.knobs.record(w, r, segmentMaxBatch)
	if !ok {
		segmentError(w, http.StatusBadRequest, "Payload too large")
		return
	}
	call, found := strings.CutPrefix(r.URL.Path, "/v1/")
	switch call {
	case "identify", "track", "page", "screen", "group", "alias", "batch":
	default:
		found = false
	}
	if !found {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.knobs.fault(w, func(w http.ResponseWriter, status int, retryAfter time.Duration) {
		if status == http.StatusTooManyRequests {
			secs := analyticsSeconds(retryAfter)
			w.Header().Set("Retry-After", secs)
			w.Header().Set("X-RateLimit-Reset", secs)
			segmentError(w, status, "Too Many Requests")
			return
		}
		segmentError(w, status, http.StatusText(status))
	}) {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		segmentError(w, http.StatusBadRequest, "Content-Type must be application/json")
		return
	}
	if call != "batch" && len(body) > segmentMaxCall {
		segmentError(w, http.StatusBadRequest, "Payload too large")
		return
	}

	var items []map[string]any
	var bodyKey string
	if call == "batch" {
		var b struct {
			WriteKey string           `json:"writeKey"`
			Batch    []map[string]any `json:"batch"`
			Context  map[string]any   `json:"context"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			segmentError(w, http.StatusBadRequest, "Invalid JSON")
			return
		}
		for _, it := range b.Batch {
			if raw, _ := json.Marshal(it); len(raw) > segmentMaxCall {
				segmentError(w, http.StatusBadRequest, "Payload too large")
				return
			}
			if _, ok := it["context"]; !ok && b.Context != nil {
				it["context"] = b.Context
			}
		}
		items, bodyKey = b.Batch, b.WriteKey
	} else {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || m == nil {
			segmentError(w, http.StatusBadRequest, "Invalid JSON")
			return
		}
		m["type"] = call
		bodyKey, _ = m["writeKey"].(string)
		items = []map[string]any{m}
	}

	key := segmentWriteKey(r)
	if key == "" {
		key = bodyKey
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case key == "":
		segmentError(w, http.StatusBadRequest, "Missing write key")
		return
	case key != s.WriteKey && s.rejectUnknown:
		segmentError(w, http.StatusUnauthorized, "Invalid write key")
		return
	case key != s.WriteKey:
		s.dropped += len(items)
	default:
		for _, it := range items {
			s.keep(it)
		}
	}
	analyticsWriteJSON(w, http.StatusOK, map[string]any{"success": true})
}

// keep stores one event unless Segment would drop or deduplicate it. The
// caller holds s.mu.
func (s *Segment) keep(item map[string]any) {
	raw, _ := json.Marshal(item)
	var ev SegmentEvent
	if err := json.Unmarshal(raw, &ev); err != nil || (ev.UserID == "" && ev.AnonymousID == "") ||
		(ev.Type == "track" && ev.Event == "") {
		s.dropped++
		return
	}
	if ev.MessageID != "" {
		if s.seen[ev.MessageID] {
			return
		}
		s.seen[ev.MessageID] = true
	}
	s.events = append(s.events, ev)
}

// segmentWriteKey reads the write key from Basic auth: "key:" as Segment
// documents, or the bare key without a colon, which Segment still accepts.
func segmentWriteKey(r *http.Request) string {
	if user, _, ok := r.BasicAuth(); ok {
		return user
	}
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !ok {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return ""
	}
	return string(raw)
}

// segmentError writes an error answer. Segment documents the status codes
// but not the error body; this JSON shape is the fake's own.
func segmentError(w http.ResponseWriter, status int, msg string) {
	analyticsWriteJSON(w, status, map[string]any{"success": false, "message": msg})
}

func analyticsWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// analyticsKnobs holds the request log and the injected faults shared by the
// Segment, Mixpanel and PostHog fakes.
type analyticsKnobs struct {
	mu             sync.Mutex
	log            []CapturedRequest
	rateLimitLeft  int
	rateLimitAfter time.Duration
	failLeft       int
	failStatus     int
}

func (k *analyticsKnobs) rateLimitNext(n int, retryAfter time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rateLimitLeft, k.rateLimitAfter = n, retryAfter
}

func (k *analyticsKnobs) failNext(n, status int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failLeft, k.failStatus = n, status
}

func (k *analyticsKnobs) requests() []CapturedRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]CapturedRequest(nil), k.log...)
}

// record reads the body (at most limit bytes; ok is false beyond that) and
// logs the request.
func (k *analyticsKnobs) record(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log = append(k.log, CapturedRequest{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   bytes.Clone(body),
	})
	return body, err == nil
}

// fault answers with the next injected fault, if any, through write, and
// reports whether it did. Rate limits come before failures.
func (k *analyticsKnobs) fault(w http.ResponseWriter, write func(w http.ResponseWriter, status int, retryAfter time.Duration)) bool {
	k.mu.Lock()
	status, after := 0, time.Duration(0)
	switch {
	case k.rateLimitLeft > 0:
		k.rateLimitLeft--
		status, after = http.StatusTooManyRequests, k.rateLimitAfter
	case k.failLeft > 0:
		k.failLeft--
		status = k.failStatus
	}
	k.mu.Unlock()
	if status == 0 {
		return false
	}
	write(w, status, after)
	return true
}

// analyticsSeconds formats d as whole seconds, rounded up, for Retry-After.
func analyticsSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
