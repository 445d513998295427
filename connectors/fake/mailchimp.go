package fake

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MailchimpMember is an audience member held by the Mailchimp fake.
type MailchimpMember struct {
	ID          string // subscriber hash
	ListID      string
	Email       string
	Status      string
	MergeFields map[string]any
	Tags        []string // sorted
}

// Mailchimp is a fake of the Mailchimp Marketing API v3 (CONNECTORS.md §2)
// under /3.0: GET /ping, GET and PUT /lists/{list_id}/members/{hash} (the
// upsert; hash = MD5 of the lowercase email, or the email itself), POST
// /lists/{list_id}/members/{hash}/tags (204, empty body). Auth is HTTP Basic
// with any user name and the API key as password (also "apikey <key>" and
// "Bearer <key>"); a missing key answers 401 "API Key Missing", a wrong one
// 401 "API Key Invalid". Errors are application/problem+json with type,
// title, status, detail, instance (and errors[] for validation). More than
// 10 simultaneous requests answer 429 "Too Many Requests", without
// Retry-After as the real API. Lists must be created with AddList.
type Mailchimp struct {
	// URL is the server's root when started by NewMailchimp; the connector's
	// base_url is BaseURL() (URL + "/3.0").
	URL string
	// APIKey is the only key the fake accepts.
	APIKey string

	srv      *httptest.Server
	knobs    svcKnobs
	inFlight atomic.Int32

	mu    sync.Mutex
	lists map[string]map[string]*MailchimpMember // list id → hash → member
}

// mailchimpMaxConnections is Mailchimp's limit of simultaneous connections.
const mailchimpMaxConnections = 10

var mailchimpMemberPath = regexp.MustCompile(`^/3\.0/lists/([^/]+)/members/([^/]+)(/tags)?$`)

// NewMailchimp starts a fake Mailchimp API on a loopback httptest server
// that accepts apiKey (e.g. "abc123-us21"). Close it when done.
func NewMailchimp(apiKey string) *Mailchimp {
	m := NewMailchimpHandler(apiKey)
	m.srv = httptest.NewServer(m)
	m.URL = m.srv.URL
	return m
}

// NewMailchimpHandler returns the fake as an http.Handler without starting
// a server, for a dev command to serve on loopback; URL stays empty.
func NewMailchimpHandler(apiKey string) *Mailchimp {
	return &Mailchimp{APIKey: apiKey, lists: map[string]map[string]*MailchimpMember{}}
}

// BaseURL returns the value for a connection's config.base_url.
func (m *Mailchimp) BaseURL() string { return m.URL + "/3.0" }

// Close stops the server started by NewMailchimp.
func (m *Mailchimp) Close() {
	if m.srv != nil {
		m.srv.Close()
	}
}

// AddList creates an empty audience.
func (m *Mailchimp) AddList(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lists[id] == nil {
		m.lists[id] = map[string]*MailchimpMember{}
	}
}

// Member returns the member of list with email.
func (m *Mailchimp) Member(listID, email string) (MailchimpMember, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.lists[listID][mailchimpHash(email)]
	if !ok {
		return MailchimpMember{}, false
	}
	return mem.clone(), true
}

// Members returns every member of list, ordered by email.
func (m *Mailchimp) Members(listID string) []MailchimpMember {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]MailchimpMember, 0, len(m.lists[listID]))
	for _, mem := range m.lists[listID] {
		out = append(out, mem.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out
}

// RateLimitNext makes the next n requests answer 429. The real API sends no
// Retry-After; a positive retryAfter adds one anyway (rounded up to seconds).
func (m *Mailchimp) RateLimitNext(n int, retryAfter time.Duration) {
	m.knobs.rateLimitNext(n, retryAfter)
}

// FailNext makes the next n requests (after any rate limiting) answer status
// with a problem+json body.
func (m *Mailchimp) FailNext(n int, status int) { m.knobs.failNext(n, status) }

// Requests returns every request received, in order.
func (m *Mailchimp) Requests() []CapturedRequest { return m.knobs.requests() }

func (mem *MailchimpMember) clone() MailchimpMember {
	c := *mem
	c.Tags = append([]string(nil), mem.Tags...)
	c.MergeFields = make(map[string]any, len(mem.MergeFields))
	for k, v := range mem.MergeFields {
		c.MergeFields[k] = v
	}
	return c
}

// ServeHTTP implements http.Handler.
func (m *Mailchimp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := m.knobs.record(w, r)
	if m.inFlight.Add(1) > mailchimpMaxConnections {
		m.inFlight.Add(-1)
		mailchimpProblem(w, http.StatusTooManyRequests, "Too Many Requests",
			"You have exceeded the limit of 10 simultaneous connections.", nil)
		return
	}
	defer m.inFlight.Add(-1)

	if status, after := m.knobs.next(); status != 0 {
		if status == http.StatusTooManyRequests {
			if after > 0 {
				w.Header().Set("Retry-After", svcSeconds(after))
			}
			mailchimpProblem(w, status, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.", nil)
			return
		}
		mailchimpProblem(w, status, http.StatusText(status), "An unexpected internal error occurred.", nil)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/3.0/") {
		mailchimpNotFound(w)
		return
	}
	switch key := mailchimpKey(r); {
	case key == "":
		mailchimpProblem(w, http.StatusUnauthorized, "API Key Missing", "Your request did not include an API key.", nil)
		return
	case key != m.APIKey:
		mailchimpProblem(w, http.StatusUnauthorized, "API Key Invalid", "Your API key may be invalid, or you've attempted to access the wrong datacenter.", nil)
		return
	}

	if r.URL.Path == "/3.0/ping" {
		if r.Method != http.MethodGet {
			mailchimpMethodNotAllowed(w, http.MethodGet)
			return
		}
		mailchimpJSON(w, http.StatusOK, map[string]any{"health_status": "Everything's Chimpy!"})
		return
	}
	parts := mailchimpMemberPath.FindStringSubmatch(r.URL.Path)
	if parts == nil {
		mailchimpNotFound(w)
		return
	}
	listID, hash, tags := parts[1], strings.ToLower(parts[2]), parts[3] != ""
	if strings.Contains(hash, "@") {
		hash = mailchimpHash(hash)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	list, ok := m.lists[listID]
	if !ok {
		mailchimpNotFound(w)
		return
	}
	switch {
	case tags && r.Method == http.MethodPost:
		m.postTags(w, list, hash, body)
	case tags:
		mailchimpMethodNotAllowed(w, http.MethodPost)
	case r.Method == http.MethodGet:
		mem, ok := list[hash]
		if !ok {
			mailchimpNotFound(w)
			return
		}
		mailchimpJSON(w, http.StatusOK, mem.view())
	case r.Method == http.MethodPut:
		m.putMember(w, listID, list, hash, body)
	default:
		mailchimpMethodNotAllowed(w, "GET, PUT, PATCH, DELETE")
	}
}

var mailchimpStatuses = map[string]bool{"subscribed": true, "unsubscribed": true, "cleaned": true, "pending": true, "transactional": true}

// putMember is "Add or update list member". The caller holds m.mu.
func (m *Mailchimp) putMember(w http.ResponseWriter, listID string, list map[string]*MailchimpMember, hash string, body []byte) {
	var in struct {
		EmailAddress string         `json:"email_address"`
		StatusIfNew  string         `json:"status_if_new"`
		Status       string         `json:"status"`
		MergeFields  map[string]any `json:"merge_fields"`
		Tags         []string       `json:"tags"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		mailchimpProblem(w, http.StatusBadRequest, "JSON Parse Error", "We encountered an unspecified JSON parsing error.", nil)
		return
	}
	for _, s := range []string{in.StatusIfNew, in.Status} {
		if s != "" && !mailchimpStatuses[s] {
			mailchimpInvalid(w, "status", "Invalid status: "+s)
			return
		}
	}
	if in.EmailAddress != "" {
		if !strings.Contains(in.EmailAddress, "@") || strings.HasPrefix(in.EmailAddress, "@") || strings.HasSuffix(in.EmailAddress, "@") {
			mailchimpProblem(w, http.StatusBadRequest, "Invalid Resource",
				in.EmailAddress+" looks fake or invalid, please enter a real email address.", nil)
			return
		}
		if mailchimpHash(in.EmailAddress) != hash {
			mailchimpInvalid(w, "email_address", "The email address does not match the subscriber hash in the URL.")
			return
		}
	}
	mem, exists := list[hash]
	if !exists {
		switch {
		case in.EmailAddress == "":
			mailchimpInvalid(w, "email_address", "This value should not be blank.")
			return
		case in.StatusIfNew == "" && in.Status == "":
			mailchimpInvalid(w, "status_if_new", "This value should not be blank.")
			return
		}
		status := in.Status
		if status == "" {
			status = in.StatusIfNew
		}
		mem = &MailchimpMember{ID: hash, ListID: listID, Email: in.EmailAddress, Status: status, MergeFields: map[string]any{}}
		// Tags in a PUT body are applied to new members only (CONNECTORS.md
		// §2.2 leaves existing members unverified); the tags endpoint always works.
		mem.addTags(in.Tags)
		list[hash] = mem
	} else if in.Status != "" {
		mem.Status = in.Status
	}
	for k, v := range in.MergeFields {
		mem.MergeFields[k] = v
	}
	mailchimpJSON(w, http.StatusOK, mem.view())
}

// postTags is "Add or remove member tags". The caller holds m.mu.
func (m *Mailchimp) postTags(w http.ResponseWriter, list map[string]*MailchimpMember, hash string, body []byte) {
	var in struct {
		Tags []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"tags"`
		IsSyncing bool `json:"is_syncing"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		mailchimpProblem(w, http.StatusBadRequest, "JSON Parse Error", "We encountered an unspecified JSON parsing error.", nil)
		return
	}
	if in.Tags == nil {
		mailchimpInvalid(w, "tags", "Required fields were not provided: tags")
		return
	}
	mem, ok := list[hash]
	if !ok {
		mailchimpNotFound(w)
		return
	}
	for _, t := range in.Tags {
		switch t.Status {
		case "active":
			mem.addTags([]string{t.Name})
		case "inactive":
			mem.removeTag(t.Name)
		default:
			mailchimpInvalid(w, "tags", "Tag status must be active or inactive.")
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (mem *MailchimpMember) addTags(tags []string) {
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		found := false
		for _, have := range mem.Tags {
			found = found || have == t
		}
		if !found {
			mem.Tags = append(mem.Tags, t)
		}
	}
	sort.Strings(mem.Tags)
}

func (mem *MailchimpMember) removeTag(tag string) {
	out := mem.Tags[:0]
	for _, t := range mem.Tags {
		if t != tag {
			out = append(out, t)
		}
	}
	mem.Tags = out
}

// view is the member as the API returns it (trimmed to the fields that matter).
func (mem *MailchimpMember) view() map[string]any {
	tags := make([]map[string]any, 0, len(mem.Tags))
	for i, t := range mem.Tags {
		tags = append(tags, map[string]any{"id": i + 1, "name": t})
	}
	return map[string]any{
		"id": mem.ID, "email_address": mem.Email, "unique_email_id": mem.ID[:10], "web_id": 383140681,
		"email_type": "html", "status": mem.Status, "merge_fields": mem.MergeFields,
		"stats":     map[string]any{"avg_open_rate": 0, "avg_click_rate": 0},
		"ip_signup": "", "timestamp_signup": "", "language": "", "vip": false, "source": "API - Generic",
		"last_changed": time.Now().UTC().Format("2006-01-02T15:04:05+00:00"),
		"tags_count":   len(tags), "tags": tags, "list_id": mem.ListID, "_links": []any{},
	}
}

// mailchimpKey reads the API key from Basic auth (password), "apikey <key>"
// or "Bearer <key>".
func mailchimpKey(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(auth, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return ""
		}
		_, pass, _ := strings.Cut(string(raw), ":")
		return pass
	case "apikey", "bearer":
		return strings.TrimSpace(rest)
	}
	return ""
}

func mailchimpHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

func mailchimpJSON(w http.ResponseWriter, status int, v any) {
	svcJSON(w, status, "application/json; charset=utf-8", v)
}

// mailchimpProblem writes an application/problem+json error.
func mailchimpProblem(w http.ResponseWriter, status int, title, detail string, errs []map[string]string) {
	body := map[string]any{
		"type":     "https://mailchimp.com/developer/marketing/docs/errors/",
		"title":    title,
		"status":   status,
		"detail":   detail,
		"instance": fmt.Sprintf("%08x-0000-4000-8000-%012x", time.Now().UnixNano()&0xffffffff, time.Now().UnixNano()&0xffffffffffff),
	}
	if errs != nil {
		body["errors"] = errs
	}
	svcJSON(w, status, "application/problem+json; charset=utf-8", body)
}

func mailchimpInvalid(w http.ResponseWriter, field, msg string) {
	mailchimpProblem(w, http.StatusBadRequest, "Invalid Resource",
		"The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
		[]map[string]string{{"field": field, "message": msg}})
}

func mailchimpNotFound(w http.ResponseWriter) {
	mailchimpProblem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.", nil)
}

func mailchimpMethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	mailchimpProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed",
		"The requested method and resource are not compatible. See the Allow header for this resource's available methods.", nil)
}
