// Package http is the generic HTTP connector: one action, http.request, that
// sends any request through the egress-guarded client and returns the status,
// headers and body (decoded when JSON). It needs no connection; an optional
// one adds secret headers (an API key, a bearer token) and a base URL for
// relative request URLs.
package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// MaxTimeout caps the timeout input.
const MaxTimeout = 5 * time.Minute

// HTTP is the generic HTTP connector.
type HTTP struct{}

var _ connectors.Connector = (*HTTP)(nil)

// New returns the HTTP connector.
func New() *HTTP { return &HTTP{} }

// Key returns "http".
func (*HTTP) Key() string { return "http" }

// Name returns the display name.
func (*HTTP) Name() string { return "HTTP" }

// AuthFields returns the optional connection fields: secret headers, stored
// as a JSON object in secrets.headers, and a base URL for relative URLs.
func (*HTTP) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key:     "headers",
			Label:   "Secret headers",
			Type:    connectors.FieldKeyValue,
			Secret:  true,
			Help:    "Headers added to every request of steps that use this connection, stored encrypted (for example an Authorization header). They override headers of the same name in the step.",
			Example: map[string]string{"Authorization": "Bearer …"},
		},
		{
			Key:     "base_url",
			Label:   "Base URL",
			Type:    connectors.FieldString,
			Help:    "Relative URLs in steps (\"/v1/orders\") are resolved against it.",
			Example: "https://api.example.com",
		},
	}
}

// Actions returns http.request.
func (*HTTP) Actions() []connectors.Action { return []connectors.Action{Request{}} }

// Triggers returns none; incoming webhooks are the webhook connector's.
func (*HTTP) Triggers() []connectors.TriggerSpec { return nil }

// Request is the http.request action.
type Request struct{}

var _ connectors.Action = Request{}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// Spec describes http.request.
func (Request) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:  "http.request",
		Name: "Send an HTTP request",
		Description: "Sends a request and returns the answer. 2xx succeeds; 408, 429 and 5xx are retried " +
			"(Retry-After is honoured); any other status fails the step at once. The step's idempotency " +
			"key goes in an Idempotency-Key header unless the step sets one.",
		NoConnection: true,
		Fields: []connectors.Field{
			{Key: "method", Label: "Method", Type: connectors.FieldSelect, Enum: methods, Default: "GET"},
			{Key: "url", Label: "URL", Type: connectors.FieldString, Required: true,
				Help:    "An absolute http(s) URL, or a path when the connection has a base URL.",
				Example: "https://api.example.com/v1/orders/{{ trigger.order_id }}"},
			{Key: "headers", Label: "Headers", Type: connectors.FieldKeyValue,
				Example: map[string]string{"Accept": "application/json"}},
			{Key: "body", Label: "Body", Type: connectors.FieldJSON,
				Help:    "An object or list is sent as JSON (Content-Type: application/json); text is sent as it is.",
				Example: map[string]any{"order": "{{ trigger.order_id }}"}},
			{Key: "timeout", Label: "Timeout", Type: connectors.FieldString,
				Help:    "How long to wait for the answer, e.g. \"10s\" (at most 5m). Empty: the step's timeout.",
				Example: "10s"},
		},
		Outputs: []connectors.Field{
			{Key: "status", Label: "Status code", Type: connectors.FieldNumber},
			{Key: "headers", Label: "Response headers", Type: connectors.FieldKeyValue},
			{Key: "body", Label: "Response body", Type: connectors.FieldJSON, Help: "Decoded when the answer is JSON, text otherwise."},
		},
	}
}

// Execute sends the request.
func (Request) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	in := req.Input
	method, err := connectors.InputOptionalString(in, "method")
	if err != nil {
		return nil, err
	}
	method = strings.ToUpper(method)
	if method == "" {
		method = "GET"
	}
	if !validMethod(method) {
		return nil, connectors.InvalidInput("method", "must be one of "+strings.Join(methods, ", "))
	}
	rawURL, err := connectors.InputString(in, "url")
	if err != nil {
		return nil, err
	}
	target, err := resolveURL(connectors.BaseURL(req.Connection, ""), rawURL)
	if err != nil {
		return nil, err
	}
	headers, err := connectors.InputStringMap(in, "headers")
	if err != nil {
		return nil, err
	}
	body, contentType, err := encodeBody(in)
	if err != nil {
		return nil, err
	}
	timeout, err := connectors.InputDuration(in, "timeout", 0)
	if err != nil {
		return nil, err
	}
	if timeout > MaxTimeout {
		return nil, connectors.InvalidInput("timeout", "must be at most "+MaxTimeout.String())
	}
	secretHeaders, err := connectionHeaders(req.Connection)
	if err != nil {
		return nil, err
	}

	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var bodyReader io.Reader
	if body != nil {
		bodyReader = bytes.NewReader(body)
	}
	hreq, err := nethttp.NewRequestWithContext(ctx, method, target, bodyReader)
	if err != nil {
		return nil, connectors.InvalidInput("url", "is not a valid URL")
	}
	hreq.Header.Set("User-Agent", connectors.UserAgent)
	if contentType != "" {
		hreq.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		if !validHeaderName(k) {
			return nil, connectors.InvalidInput("headers", fmt.Sprintf("has an invalid header name %q", k))
		}
		hreq.Header.Set(k, v)
	}
	for k, v := range secretHeaders {
		hreq.Header.Set(k, v)
	}
	if req.IdempotencyKey != "" && hreq.Header.Get("Idempotency-Key") == "" {
		hreq.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}

	resp, err := connectors.DoHTTP(req.HTTP, "http", hreq)
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		msg := fmt.Sprintf("http: %s %s answered %d %s", method, redact(target), resp.Status, nethttp.StatusText(resp.Status))
		if snip := connectors.BodySnippet(resp.Body, 300); snip != "" {
			msg += ": " + snip
		}
		if resp.Status < 400 {
			// A redirect that was not followed (304, or 3xx without Location).
			return nil, connectors.Permanent(resp.Status, msg)
		}
		return nil, connectors.ClassifyHTTP(resp.Status, connectors.RetryAfter(resp.Header, 0), msg)
	}
	return map[string]any{
		"status":  resp.Status,
		"headers": flattenHeaders(resp.Header),
		"body":    decodeBody(resp.Header.Get("Content-Type"), resp.Body),
	}, nil
}

func validMethod(m string) bool {
	for _, x := range methods {
		if x == m {
			return true
		}
	}
	return false
}

// resolveURL checks rawURL, resolving a relative one against base.
func resolveURL(base, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", connectors.InvalidInput("url", "is not a valid URL")
	}
	if !u.IsAbs() {
		if base == "" {
			return "", connectors.InvalidInput("url", "must be an absolute http(s) URL")
		}
		b, err := url.Parse(base + "/")
		if err != nil {
			return "", connectors.Permanent(0, "http: the connection's base_url is not a valid URL")
		}
		u = b.ResolveReference(&url.URL{Path: strings.TrimPrefix(u.Path, "/"), RawQuery: u.RawQuery, Fragment: u.Fragment})
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", connectors.InvalidInput("url", "must be an http(s) URL")
	}
	u.Fragment = ""
	return u.String(), nil
}

// redact drops the user info and query of a URL for error messages: both
// may carry credentials.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// encodeBody encodes input.body: objects, lists, numbers and booleans as
// JSON, text as it is.
func encodeBody(in map[string]any) ([]byte, string, error) {
	v, ok := in["body"]
	if !ok || v == nil {
		return nil, "", nil
	}
	if s, isStr := v.(string); isStr {
		if s == "" {
			return nil, "", nil
		}
		return []byte(s), "text/plain; charset=utf-8", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", connectors.InvalidInput("body", "cannot be encoded as JSON")
	}
	return b, "application/json", nil
}

// connectionHeaders decodes the connection's secrets.headers JSON object.
func connectionHeaders(conn *connectors.Connection) (map[string]string, error) {
	raw := strings.TrimSpace(connectors.Secret(conn, "headers"))
	if raw == "" {
		return nil, nil
	}
	var h map[string]string
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		// The value is secret: say what is wrong, never what it is.
		return nil, connectors.Permanent(0, "http: the connection's secrets.headers is not a JSON object of text values")
	}
	for k := range h {
		if !validHeaderName(k) {
			return nil, connectors.Permanent(0, "http: the connection's secrets.headers has an invalid header name")
		}
	}
	return h, nil
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// flattenHeaders joins repeated response headers with ", ".
func flattenHeaders(h nethttp.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

// decodeBody returns the body decoded when its content type is JSON (and it
// parses), else as text; an empty body is "".
func decodeBody(contentType string, body []byte) any {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			return v
		}
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}
