// Package fake holds in-process test servers that reproduce the real APIs the
// connectors call (Slack, Mailchimp, Jira, Segment, Mixpanel, PostHog, SMTP),
// as documented in CONNECTORS.md: paths, auth checks and their error bodies,
// status codes, rate limiting with Retry-After. Connector tests run against
// them; a dev command and the load generator can serve them on loopback.
//
// Every HTTP fake follows one pattern:
//
//	f := fake.NewSlack("xoxb-test")  // an httptest server on 127.0.0.1
//	defer f.Close()
//	conn.Config["base_url"] = f.BaseURL()
//	f.RateLimitNext(1, 30*time.Second) // next request: 429 + Retry-After: 30
//	f.FailNext(2, 503)                 // next two requests: 503
//	f.Requests()                       // what was received, in order
//
// and NewXHandler returns the same fake as an http.Handler without starting a
// server. Injected rate limits are served before injected failures. Requests
// are recorded before any check, so rejected ones appear too.
package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// svcMaxBody caps the bodies the Slack, Mailchimp and Jira fakes read.
const svcMaxBody = 10 << 20

// svcKnobs holds the request log and the injected faults of the Slack,
// Mailchimp and Jira fakes.
type svcKnobs struct {
	mu             sync.Mutex
	log            []CapturedRequest
	rateLimitLeft  int
	rateLimitAfter time.Duration
	failLeft       int
	failStatus     int
}

func (k *svcKnobs) rateLimitNext(n int, retryAfter time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rateLimitLeft, k.rateLimitAfter = n, retryAfter
}

func (k *svcKnobs) failNext(n, status int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failLeft, k.failStatus = n, status
}

func (k *svcKnobs) requests() []CapturedRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]CapturedRequest(nil), k.log...)
}

// record reads the body (at most svcMaxBody bytes) and logs the request.
func (k *svcKnobs) record(w http.ResponseWriter, r *http.Request) []byte {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, svcMaxBody))
	k.mu.Lock()
	defer k.mu.Unlock()
	k.log = append(k.log, CapturedRequest{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
		Body:   bytes.Clone(body),
	})
	return body
}

// next takes the next injected fault: status 0 means none.
func (k *svcKnobs) next() (status int, retryAfter time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.rateLimitLeft > 0:
		k.rateLimitLeft--
		return http.StatusTooManyRequests, k.rateLimitAfter
	case k.failLeft > 0:
		k.failLeft--
		return k.failStatus, 0
	}
	return 0, 0
}

// svcSeconds formats d as whole seconds, rounded up, for Retry-After.
func svcSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// svcJSON writes v as JSON with contentType.
func svcJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// svcHTMLError writes the kind of HTML page services put behind 5xx answers.
func svcHTMLError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<html><head><title>"+strconv.Itoa(status)+" "+http.StatusText(status)+
		"</title></head><body><h1>"+http.StatusText(status)+"</h1></body></html>\n")
}

// LoopbackClient returns the egress-guarded client with 127.0.0.0/8 and ::1
// allowed, so connectors under test can reach fakes on loopback.
func LoopbackClient() *http.Client {
	return connectors.NewHTTPClient(connectors.EgressOptions{Allow: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}})
}
