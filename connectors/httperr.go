package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Retry-After bounds.
const (
	// DefaultRetryAfter is the wait a 429 without a usable Retry-After gets.
	DefaultRetryAfter = 30 * time.Second
	// MaxRetryAfter caps any Retry-After a server asks for (the step retry
	// policy's longest interval).
	MaxRetryAfter = time.Hour
)

// RetryAfter reads a Retry-After header, given in seconds or as an HTTP date.
// It returns def when the header is absent, unparsable or in the past, and
// caps the result at MaxRetryAfter.
func RetryAfter(h http.Header, def time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return def
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs != secs { // NaN never equals itself
			return def
		}
		if secs > MaxRetryAfter.Seconds() {
			return MaxRetryAfter
		}
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	} else {
		return def
	}
	if d <= 0 {
		return def
	}
	return min(d, MaxRetryAfter)
}

// ClassifyHTTP maps an HTTP status to the error the engine understands:
// nil for 1xx/2xx; for 429 a *RateLimitedError (retryAfter, or
// DefaultRetryAfter when zero); for 408 and 5xx a plain, retryable error (a
// *RateLimitedError when the server sent a Retry-After, so it is honoured);
// for every other status a *PermanentError. msg is the whole message and
// must not contain secrets.
func ClassifyHTTP(status int, retryAfter time.Duration, msg string) error {
	switch {
	case status < 300:
		return nil
	case status == http.StatusTooManyRequests:
		if retryAfter <= 0 {
			retryAfter = DefaultRetryAfter
		}
		return RateLimited(retryAfter, msg)
	case status == http.StatusRequestTimeout || status >= 500:
		if retryAfter > 0 {
			return RateLimited(retryAfter, msg)
		}
		return &RetryableError{Status: status, Message: msg}
	default:
		return Permanent(status, msg)
	}
}

// RetryableError is a failure worth retrying with backoff (408, 5xx, network
// trouble). It carries nothing the engine needs beyond being neither
// *PermanentError nor *RateLimitedError; Status is kept for messages and tests.
type RetryableError struct {
	Status  int // HTTP status, 0 for transport errors
	Message string
	Err     error // the underlying error, if any
}

func (e *RetryableError) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *RetryableError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is, or wraps, a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// AsRateLimited returns the *RateLimitedError err is or wraps.
func AsRateLimited(err error) (*RateLimitedError, bool) {
	var r *RateLimitedError
	ok := errors.As(err, &r)
	return r, ok
}

// TransportError turns an error of http.Client.Do into the error a connector
// returns, prefixed with service ("slack"). The request URL is dropped (it may
// carry secrets in its query); egress refusals, oversized bodies and redirect
// loops stay permanent; everything else, timeouts included, is retryable.
func TransportError(service string, err error) error {
	if err == nil {
		return nil
	}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	var ee *EgressError
	if errors.As(inner, &ee) {
		// Drop net.OpError's "dial tcp 127.0.0.1:9: " for a one-line message.
		return fmt.Errorf("%s: %w", service, ee)
	}
	if IsPermanent(inner) {
		return fmt.Errorf("%s: %w", service, inner)
	}
	if errors.Is(inner, context.DeadlineExceeded) || errors.Is(inner, context.Canceled) {
		return &RetryableError{Message: service + ": request timed out or was cancelled", Err: inner}
	}
	var te interface{ Timeout() bool }
	if errors.As(inner, &te) && te.Timeout() {
		return &RetryableError{Message: service + ": request timed out: " + inner.Error(), Err: inner}
	}
	return &RetryableError{Message: service + ": request failed: " + inner.Error(), Err: inner}
}

// HTTPResponse is a response whose body was read in full.
type HTTPResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// DoHTTP sends req with client (Client(nil) when nil), reads the capped body
// and maps transport failures with TransportError. It does not judge the
// status; call ClassifyHTTP or the connector's own error parser for that.
func DoHTTP(client *http.Client, service string, req *http.Request) (*HTTPResponse, error) {
	resp, err := Client(client).Do(req)
	if err != nil {
		return nil, TransportError(service, err)
	}
	body, err := ReadBody(resp)
	if err != nil {
		return nil, TransportError(service, err)
	}
	return &HTTPResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// NewJSONRequest builds a request whose body is v encoded as JSON (no body
// when v is nil) with Content-Type and Accept set to application/json.
func NewJSONRequest(ctx context.Context, method, url string, v any) (*http.Request, error) {
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, Permanent(0, fmt.Sprintf("cannot encode request body: %v", err))
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, Permanent(0, "invalid request URL")
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	return req, nil
}

// UserAgent is sent by every connector request.
const UserAgent = "Switchboard/1 (+https://github.com/switchboard/switchboard)"

// BodySnippet returns the start of body as one line of at most n runes, for
// error messages: whitespace is collapsed and invalid UTF-8 is replaced.
func BodySnippet(body []byte, n int) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\uFFFD")), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
