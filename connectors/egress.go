package connectors

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of the egress-guarded client.
const (
	// DefaultMaxResponseBytes caps a response body when EgressOptions leaves it 0.
	DefaultMaxResponseBytes int64 = 10 << 20
	// MaxRedirects is how many redirects the client follows before giving up.
	MaxRedirects = 10

	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
)

// EgressOptions configures NewHTTPClient.
type EgressOptions struct {
	// Allow lists prefixes that may be reached although they are loopback,
	// private, link-local or otherwise non-public (SWITCHBOARD_EGRESS_ALLOW).
	Allow []netip.Prefix
	// Timeout bounds a whole request including redirects and reading the body.
	// Zero leaves it to the request's context (the step's timeout).
	Timeout time.Duration
	// MaxResponseBytes caps every response body; zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// EgressError is the error of a connection the egress guard refused. It is
// permanent: errors.As(err, new(*PermanentError)) holds for it and for any
// error that wraps it (http.Client wraps it in *url.Error and *net.OpError).
type EgressError struct {
	Addr   netip.Addr
	Reason string // "loopback", "private", "link-local", …
}

func (e *EgressError) Error() string {
	return fmt.Sprintf("egress: refusing to connect to %s (%s); set SWITCHBOARD_EGRESS_ALLOW to allow it", e.Addr, e.Reason)
}

// As lets errors.As see an *EgressError as a *PermanentError, so the engine
// fails the step at once instead of retrying a request that can never succeed.
func (e *EgressError) As(target any) bool {
	if p, ok := target.(**PermanentError); ok {
		*p = &PermanentError{Message: e.Error()}
		return true
	}
	return false
}

// IsEgressRefused reports whether err (or an error it wraps) is a connection
// refused by the egress guard.
func IsEgressRefused(err error) bool {
	var e *EgressError
	return errors.As(err, &e)
}

// ResponseTooLargeError is returned while reading a body larger than the
// client's MaxResponseBytes. It is permanent, like an egress refusal.
type ResponseTooLargeError struct {
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("egress: response body larger than %d bytes", e.Limit)
}

// As lets errors.As see a *ResponseTooLargeError as a *PermanentError.
func (e *ResponseTooLargeError) As(target any) bool {
	if p, ok := target.(**PermanentError); ok {
		*p = &PermanentError{Message: e.Error()}
		return true
	}
	return false
}

// tooManyRedirectsError is returned by CheckRedirect; following the same
// redirects again would not help, so it is permanent too.
type tooManyRedirectsError struct{}

func (tooManyRedirectsError) Error() string {
	return fmt.Sprintf("stopped after %d redirects", MaxRedirects)
}

func (tooManyRedirectsError) As(target any) bool {
	if p, ok := target.(**PermanentError); ok {
		*p = &PermanentError{Message: tooManyRedirectsError{}.Error()}
		return true
	}
	return false
}

// NewHTTPClient returns the egress-guarded client every connector uses. Its
// dialer checks each address at connect time, after DNS resolution and on
// every redirect, and refuses loopback, private, link-local (including the
// cloud metadata address 169.254.169.254), CGNAT, multicast, broadcast,
// unspecified and other non-public addresses unless opts.Allow covers them.
// Response bodies are capped at opts.MaxResponseBytes; read them with ReadBody.
func NewHTTPClient(opts EgressOptions) *http.Client {
	maxBytes := opts.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	dialer := guardedDialer(opts.Allow)
	transport := &http.Transport{
		// No proxy: a proxy would dial the target for us and bypass the guard.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: &limitTransport{base: transport, max: maxBytes},
		Timeout:   opts.Timeout,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= MaxRedirects {
				return tooManyRedirectsError{}
			}
			return nil
		},
	}
}

func guardedDialer(allow []netip.Prefix) *net.Dialer {
	allow = append([]netip.Prefix(nil), allow...)
	return &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		ControlContext: func(_ context.Context, network, address string, _ syscall.RawConn) error {
			return checkDial(allow, network, address)
		},
	}
}

// GuardedDial returns a dial function with the same egress rules as
// NewHTTPClient, for connectors that speak other protocols (SMTP).
func GuardedDial(allow []netip.Prefix) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return guardedDialer(allow).DialContext
}

var (
	defaultClientOnce sync.Once
	defaultClient     *http.Client
)

// Client returns c, or when c is nil a process-wide guarded client with the
// default options (nothing allowed beyond the public internet). Connectors call
// it on Request.HTTP so that a missing client never means an unguarded one.
func Client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	defaultClientOnce.Do(func() { defaultClient = NewHTTPClient(EgressOptions{}) })
	return defaultClient
}

// checkDial is the dialer's Control function: address is the resolved "ip:port".
func checkDial(allow []netip.Prefix, network, address string) error {
	if !strings.HasPrefix(network, "tcp") && !strings.HasPrefix(network, "udp") {
		return fmt.Errorf("egress: refusing network %q", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress: cannot parse dial address %q: %w", address, err)
	}
	return CheckAddr(allow, ap.Addr())
}

// CheckAddr returns an *EgressError when addr may not be reached: it is
// non-public and no prefix of allow covers it. It is the check the guarded
// client's dialer makes; handlers can use it to validate addresses early.
func CheckAddr(allow []netip.Prefix, addr netip.Addr) error {
	addr = addr.WithZone("")
	for _, p := range allow {
		if p.Contains(addr) || (addr.Is4In6() && p.Contains(addr.Unmap())) {
			return nil
		}
	}
	if reason := blockedReason(addr); reason != "" {
		return &EgressError{Addr: addr, Reason: reason}
	}
	return nil
}

type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges lists the non-public ranges in the order they are checked;
// more specific entries come before the ranges that contain them.
var blockedRanges = func() []blockedRange {
	list := []struct{ cidr, reason string }{
		{"169.254.169.254/32", "cloud metadata"},
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay anycast"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"255.255.255.255/32", "broadcast"},
		{"240.0.0.0/4", "reserved"},

		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"fd00:ec2::254/128", "cloud metadata"},
		{"::/96", "IPv4-compatible"},
		{"64:ff9b:1::/48", "local-use NAT64"},
		{"100::/64", "discard-only"},
		{"2001::/32", "Teredo"},
		{"2001:2::/48", "benchmarking"},
		{"2001:10::/28", "ORCHID"},
		{"2001:20::/28", "ORCHIDv2"},
		{"2001:db8::/32", "documentation"},
		{"3fff::/20", "documentation"},
		{"fc00::/7", "unique local"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]blockedRange, len(list))
	for i, e := range list {
		out[i] = blockedRange{prefix: netip.MustParsePrefix(e.cidr), reason: e.reason}
	}
	return out
}()

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// blockedReason says why addr is not a public unicast address, or "" when it is.
// IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged
// by the embedded address.
func blockedReason(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid"
	}
	if addr.Is4In6() {
		if r := blockedReason(addr.Unmap()); r != "" {
			return "IPv4-mapped " + r
		}
		return ""
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64Prefix.Contains(addr):
			if r := blockedReason(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
				return "NAT64 " + r
			}
			return ""
		case sixToFour.Contains(addr):
			if r := blockedReason(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
				return "6to4 " + r
			}
		}
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	return ""
}

// ParseAllowList parses SWITCHBOARD_EGRESS_ALLOW: comma-separated CIDRs or bare
// IP addresses ("127.0.0.1, 10.0.0.0/8, ::1"). Empty entries are ignored.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.Contains(part, "/") {
			p, err := netip.ParsePrefix(part)
			if err != nil {
				return nil, fmt.Errorf("SWITCHBOARD_EGRESS_ALLOW: %q is not a CIDR prefix", part)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("SWITCHBOARD_EGRESS_ALLOW: %q is not a CIDR prefix (such as 127.0.0.0/8) or an IP address", part)
		}
		a = a.WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// limitTransport caps every response body it hands out.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, limit: t.max}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (t *limitTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// limitedBody fails with *ResponseTooLargeError once more than limit bytes
// were read, instead of silently truncating like io.LimitReader.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &ResponseTooLargeError{Limit: b.limit}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), &ResponseTooLargeError{Limit: b.limit}
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// ReadBody reads and closes resp.Body. Bodies from NewHTTPClient are capped at
// the client's MaxResponseBytes; any other body at DefaultMaxResponseBytes.
// Going over the cap is a *ResponseTooLargeError (permanent).
func ReadBody(resp *http.Response) ([]byte, error) {
	if resp == nil || resp.Body == nil {
		return nil, nil
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if _, ok := resp.Body.(*limitedBody); !ok {
		r = &limitedBody{rc: resp.Body, left: DefaultMaxResponseBytes, limit: DefaultMaxResponseBytes}
	}
	return io.ReadAll(r)
}
