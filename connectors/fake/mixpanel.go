package fake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// MixpanelEvent is one event the Mixpanel fake accepted, as Mixpanel would
// keep it: events with the same event, distinct_id, time and $insert_id are
// deduplicated away.
type MixpanelEvent struct {
	Endpoint   string // "import" or "track"
	Event      string
	DistinctID string
	InsertID   string
	Time       time.Time
	Token      string // properties.token
	Properties map[string]any
}

// Mixpanel is a fake of Mixpanel's ingestion API (CONNECTORS.md §3.2):
//
//   - POST /import[?strict=1]: Basic auth with the project token as user name
//     and an empty password; a JSON array (application/json) or NDJSON
//     (application/x-ndjson), optionally gzip; at most 2000 events and 10MB.
//     200 {"code":200,"num_records_imported":N,"status":"OK"}; with strict=1
//     invalid events make a 400 partial success listing failed_records (without
//     it they are silently dropped); 401 and 413 {"code","error","status"}.
//     Each event needs an event name and properties time (seconds or ms, not
//     before 1971 nor over an hour ahead), distinct_id and $insert_id (at
//     most 36 letters, digits or '-').
//   - POST /track[?verbose=1]: no auth header, the token in properties.token;
//     a JSON array or form field data= (JSON or base64 JSON); events of the
//     last 5 days only. With verbose=1 the answer is {"status":1,"error":null}
//     or {"status":0,"error":"…"}, without it the text 1 or 0.
//   - 429 {"code":429,"error":…,"status":"Too Many Requests"} when rate limited.
type Mixpanel struct {
	// URL is the server's root when started by NewMixpanel; use it as the
	// connection's base_url.
	URL string
	// Token is the only project token the fake accepts.
	Token string

	srv   *httptest.Server
	knobs analyticsKnobs

	mu     sync.Mutex
	events []MixpanelEvent
	seen   map[string]bool
	now    func() time.Time
}

// Mixpanel /import limits.
const (
	mixpanelMaxEvents = 2000
	mixpanelMaxBytes  = 10 << 20
)

// NewMixpanel starts a fake Mixpanel API on a loopback httptest server that
// accepts token. Close it when done.
func NewMixpanel(token string) *Mixpanel {
	m := NewMixpanelHandler(token)
	m.srv = httptest.NewServer(m)
	m.URL = m.srv.URL
	return m
}

// NewMixpanelHandler returns the fake as an http.Handler without starting a
// server, for a dev command to serve on loopback; URL stays empty.
func NewMixpanelHandler(token string) *Mixpanel {
	return &Mixpanel{Token: token, seen: map[string]bool{}, now: time.Now}
}

// BaseURL returns the value for a connection's config.base_url (URL).
func (m *Mixpanel) BaseURL() string { return m.URL }

// Close stops the server started by NewMixpanel.
func (m *Mixpanel) Close() {
	if m.srv != nil {
		m.srv.Close()
	}
}

// RateLimitNext makes the next n requests fail with 429; a positive
// retryAfter adds a Retry-After header (the real API sends none).
func (m *Mixpanel) RateLimitNext(n int, retryAfter time.Duration) {
	m.knobs.rateLimitNext(n, retryAfter)
}

// FailNext makes the next n requests (after any rate limiting) fail with status.
func (m *Mixpanel) FailNext(n int, status int) { m.knobs.failNext(n, status) }

// Requests returns every request received, in order.
func (m *Mixpanel) Requests() []CapturedRequest { return m.knobs.requests() }

// Events returns the accepted events, deduplicated, in order.
func (m *Mixpanel) Events() []MixpanelEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MixpanelEvent(nil), m.events...)
}

// ServeHTTP implements http.Handler.
func (m *Mixpanel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := m.knobs.record(w, r, mixpanelMaxBytes)
	endpoint := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if endpoint != "import" && endpoint != "track" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		mixpanelError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if m.knobs.fault(w, func(w http.ResponseWriter, status int, retryAfter time.Duration) {
		msg := http.StatusText(status)
		if status == http.StatusTooManyRequests {
			msg = "Project exceeded rate limits. Please retry the request with exponential backoff."
			if retryAfter > 0 {
				w.Header().Set("Retry-After", analyticsSeconds(retryAfter))
			}
		}
		mixpanelError(w, status, msg)
	}) {
		return
	}
	if !ok {
		mixpanelError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	if endpoint == "import" {
		m.serveImport(w, r, body)
		return
	}
	m.serveTrack(w, r, body)
}

func (m *Mixpanel) serveImport(w http.ResponseWriter, r *http.Request, body []byte) {
	user, _, hasAuth := r.BasicAuth()
	switch {
	case !hasAuth || user == "":
		mixpanelError(w, http.StatusUnauthorized, "missing credentials: use the project token or a service account with Basic auth")
		return
	case user != m.Token:
		mixpanelError(w, http.StatusUnauthorized, "Invalid credentials: the project token is not valid")
		return
	}
	events, err := mixpanelDecode(r, body)
	if err != nil {
		mixpanelError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(events) == 0 {
		mixpanelError(w, http.StatusBadRequest, "no events in the request")
		return
	}
	if len(events) > mixpanelMaxEvents {
		mixpanelError(w, http.StatusBadRequest, fmt.Sprintf("too many events: at most %d per request", mixpanelMaxEvents))
		return
	}
	strict := r.URL.Query().Get("strict") == "1"
	type failed struct {
		Index    int    `json:"index"`
		InsertID string `json:"insert_id"`
		Field    string `json:"field"`
		Message  string `json:"message"`
	}
	var failures []failed
	imported := 0
	m.mu.Lock()
	for i, raw := range events {
		ev, field, msg := m.validate(raw, "import", true)
		if field != "" {
			failures = append(failures, failed{Index: i, InsertID: ev.InsertID, Field: field, Message: msg})
			continue
		}
		m.keep(ev)
		imported++
	}
	m.mu.Unlock()
	if strict && len(failures) > 0 {
		analyticsWriteJSON(w, http.StatusBadRequest, map[string]any{
			"code":                 400,
			"error":                "some data points in the request failed validation",
			"status":               "Bad Request",
			"num_records_imported": imported,
			"failed_records":       failures,
		})
		return
	}
	analyticsWriteJSON(w, http.StatusOK, map[string]any{"code": 200, "num_records_imported": imported, "status": "OK"})
}

func (m *Mixpanel) serveTrack(w http.ResponseWriter, r *http.Request, body []byte) {
	verbose := r.URL.Query().Get("verbose") == "1"
	answer := func(err string) {
		if verbose {
			var e any
			if err != "" {
				e = err
			}
			status := 1
			if err != "" {
				status = 0
			}
			analyticsWriteJSON(w, http.StatusOK, map[string]any{"status": status, "error": e})
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		if err != "" {
			_, _ = io.WriteString(w, "0")
			return
		}
		_, _ = io.WriteString(w, "1")
	}
	events, err := mixpanelDecode(r, body)
	if err != nil || len(events) == 0 {
		answer("data, missing or empty")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var accepted []MixpanelEvent
	for _, raw := range events {
		ev, field, msg := m.validate(raw, "track", false)
		if field != "" {
			answer(msg)
			return
		}
		if ev.Token != m.Token {
			answer("token, missing or empty")
			return
		}
		accepted = append(accepted, ev)
	}
	for _, ev := range accepted {
		m.keep(ev)
	}
	answer("")
}

// validate checks one event; field and msg name the first problem, as in
// /import's failed_records. The caller holds m.mu.
func (m *Mixpanel) validate(raw map[string]any, endpoint string, needInsertID bool) (ev MixpanelEvent, field, msg string) {
	ev.Endpoint = endpoint
	ev.Event, _ = raw["event"].(string)
	props, _ := raw["properties"].(map[string]any)
	ev.Properties = props
	ev.InsertID, _ = props["$insert_id"].(string)
	ev.Token, _ = props["token"].(string)
	if ev.Event == "" {
		return ev, "event", "'event' is invalid: must not be empty"
	}
	if props == nil {
		return ev, "properties", "'properties' is invalid: must be an object"
	}
	switch id := props["distinct_id"].(type) {
	case string:
		ev.DistinctID = id
	case float64:
		ev.DistinctID = fmt.Sprint(id)
	default:
		return ev, "properties.distinct_id", "'properties.distinct_id' is invalid: must be a string"
	}
	t, ok := props["time"].(float64)
	if !ok || t <= 0 || math.IsInf(t, 0) {
		return ev, "properties.time", "'properties.time' is invalid: must be specified as seconds since epoch"
	}
	if t >= 1e11 {
		ev.Time = time.UnixMilli(int64(t))
	} else {
		ev.Time = time.UnixMilli(int64(t * 1000))
	}
	now := m.now()
	switch {
	case ev.Time.Before(time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)):
		return ev, "properties.time", "'properties.time' is invalid: must be after 1971-01-01"
	case ev.Time.After(now.Add(time.Hour)):
		return ev, "properties.time", "'properties.time' is invalid: must not be more than 1 hour in the future"
	case endpoint == "track" && ev.Time.Before(now.Add(-5*24*time.Hour)):
		return ev, "properties.time", "'properties.time' is invalid: /track accepts only the last 5 days; use /import"
	}
	if _, present := props["$insert_id"]; present || needInsertID {
		if !mixpanelValidInsertID(ev.InsertID) {
			return ev, "properties.$insert_id", "'properties.$insert_id' is invalid: must be at most 36 characters of letters, digits and '-'"
		}
	}
	return ev, "", ""
}

// keep stores ev unless an identical event is already kept. The caller holds m.mu.
func (m *Mixpanel) keep(ev MixpanelEvent) {
	if ev.InsertID != "" {
		key := strings.Join([]string{ev.Event, ev.DistinctID, fmt.Sprint(ev.Time.UnixMilli()), ev.InsertID}, "\x00")
		if m.seen[key] {
			return
		}
		m.seen[key] = true
	}
	m.events = append(m.events, ev)
}

func mixpanelValidInsertID(s string) bool {
	if s == "" || len(s) > 36 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// mixpanelDecode reads the events of a body: a JSON array (or one object),
// NDJSON, or a form field data= holding JSON or base64 JSON; gzip allowed.
func mixpanelDecode(r *http.Request, body []byte) ([]map[string]any, error) {
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("invalid gzip body")
		}
		if body, err = io.ReadAll(io.LimitReader(zr, mixpanelMaxBytes+1)); err != nil {
			return nil, fmt.Errorf("invalid gzip body")
		}
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("invalid form body")
		}
		data := form.Get("data")
		if dec, err := base64.StdEncoding.DecodeString(data); err == nil {
			data = string(dec)
		}
		return mixpanelDecodeJSON([]byte(data))
	case "application/x-ndjson":
		var out []map[string]any
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), mixpanelMaxBytes)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			var ev map[string]any
			if err := json.Unmarshal(line, &ev); err != nil {
				return nil, fmt.Errorf("invalid NDJSON line")
			}
			out = append(out, ev)
		}
		return out, nil
	case "application/json", "":
		return mixpanelDecodeJSON(body)
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q", mt)
	}
}

func mixpanelDecodeJSON(b []byte) ([]map[string]any, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one map[string]any
		if err := json.Unmarshal(b, &one); err != nil {
			return nil, fmt.Errorf("invalid JSON body")
		}
		return []map[string]any{one}, nil
	}
	var many []map[string]any
	if err := json.Unmarshal(b, &many); err != nil {
		return nil, fmt.Errorf("invalid JSON body")
	}
	return many, nil
}

// mixpanelError writes {"code","error","status"}, the shape of /import errors.
func mixpanelError(w http.ResponseWriter, status int, msg string) {
	analyticsWriteJSON(w, status, map[string]any{"code": status, "error": msg, "status": http.StatusText(status)})
}
