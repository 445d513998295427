package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
)

func get(t *testing.T, client *http.Client, url string) ([]byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	return connectors.ReadBody(resp)
}

func okServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("hello"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEgressRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv := okServer(t)
	_, err := get(t, connectors.NewHTTPClient(connectors.EgressOptions{}), srv.URL)
	require.Error(t, err)
	require.True(t, connectors.IsEgressRefused(err))
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "egress: refusing to connect to 127.0.0.1 (loopback); set SWITCHBOARD_EGRESS_ALLOW to allow it", perm.Message)
	require.Contains(t, err.Error(), perm.Message)
}

func TestEgressAllowList(t *testing.T) {
	t.Parallel()
	srv := okServer(t)
	client := connectors.NewHTTPClient(connectors.EgressOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	body, err := get(t, client, srv.URL)
	require.NoError(t, err)
	require.Equal(t, "hello", string(body))
}

func TestEgressRefusesRedirectToBlockedAddress(t *testing.T) {
	t.Parallel()
	// The target listens on 127.0.0.2 so that only the guard can stop the request.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("secret metadata"))
	}))
	target.Listener.Close()
	target.Listener = ln
	target.Start()
	t.Cleanup(target.Close)

	redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/latest/meta-data", http.StatusFound))
	t.Cleanup(redirector.Close)

	client := connectors.NewHTTPClient(connectors.EgressOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	_, err = get(t, client, redirector.URL)
	require.True(t, connectors.IsEgressRefused(err), "%v", err)
	require.Contains(t, err.Error(), "refusing to connect to 127.0.0.2 (loopback)")

	// Allowing the target too lets the redirect through: the guard was the only obstacle.
	client = connectors.NewHTTPClient(connectors.EgressOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	body, err := get(t, client, redirector.URL)
	require.NoError(t, err)
	require.Equal(t, "secret metadata", string(body))
}

func TestEgressRefusesHostnameResolvingToLoopback(t *testing.T) {
	t.Parallel()
	srv := okServer(t)
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	_, err := get(t, connectors.NewHTTPClient(connectors.EgressOptions{}), url)
	require.True(t, connectors.IsEgressRefused(err), "%v", err)
	require.Contains(t, err.Error(), "(loopback)")
}

func TestEgressTooManyRedirects(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	client := connectors.NewHTTPClient(connectors.EgressOptions{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	_, err := get(t, client, srv.URL)
	require.True(t, connectors.IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "stopped after 10 redirects")
}

func TestReadBodyCap(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", len(r.URL.Path)-1)))
	}))
	t.Cleanup(srv.Close)
	client := connectors.NewHTTPClient(connectors.EgressOptions{
		Allow:            []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		MaxResponseBytes: 10,
	})
	body, err := get(t, client, srv.URL+"/0123456789")
	require.NoError(t, err)
	require.Len(t, body, 10)

	_, err = get(t, client, srv.URL+"/0123456789a")
	var tooLarge *connectors.ResponseTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	require.True(t, connectors.IsPermanent(err))
}

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1":                "loopback",
		"10.1.2.3":                 "private",
		"172.16.0.1":               "private",
		"172.31.255.255":           "private",
		"192.168.1.1":              "private",
		"169.254.169.254":          "cloud metadata",
		"169.254.1.1":              "link-local",
		"100.64.0.1":               "carrier-grade NAT",
		"0.0.0.0":                  "unspecified",
		"0.1.2.3":                  "unspecified",
		"224.0.0.1":                "multicast",
		"255.255.255.255":          "broadcast",
		"::":                       "unspecified",
		"::1":                      "loopback",
		"fc00::1":                  "unique local",
		"fd12:3456::1":             "unique local",
		"fe80::1":                  "link-local",
		"ff02::1":                  "multicast",
		"::ffff:127.0.0.1":         "IPv4-mapped loopback",
		"::ffff:169.254.169.254":   "IPv4-mapped cloud metadata",
		"::ffff:10.0.0.1":          "IPv4-mapped private",
		"64:ff9b::7f00:1":          "NAT64 loopback",
		"64:ff9b::a9fe:a9fe":       "NAT64 cloud metadata",
		"64:ff9b:1::1":             "local-use NAT64",
		"2002:7f00:1::1":           "6to4 loopback",
		"::127.0.0.1":              "IPv4-compatible",
		"fe80::1%eth0":             "link-local",
		"1.1.1.1":                  "",
		"8.8.8.8":                  "",
		"172.32.0.1":               "",
		"2606:4700:4700::1111":     "",
		"::ffff:1.1.1.1":           "",
		"64:ff9b::808:808":         "",
		"2a00:1450:4001:80b::200e": "",
	} {
		err := connectors.CheckAddr(nil, netip.MustParseAddr(addr))
		if want == "" {
			require.NoError(t, err, addr)
			continue
		}
		var ee *connectors.EgressError
		require.ErrorAs(t, err, &ee, addr)
		require.Equal(t, want, ee.Reason, addr)
	}

	allow := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	require.NoError(t, connectors.CheckAddr(allow, netip.MustParseAddr("10.9.9.9")))
	require.NoError(t, connectors.CheckAddr(allow, netip.MustParseAddr("::ffff:10.9.9.9")))
	require.NoError(t, connectors.CheckAddr(allow, netip.MustParseAddr("127.0.0.1")))
	require.Error(t, connectors.CheckAddr(allow, netip.MustParseAddr("127.0.0.2")))
}

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	got, err := connectors.ParseAllowList(" 127.0.0.1, 10.0.0.0/8,,::1 , 192.168.1.7/24, fd00::/8 ")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("192.168.1.0/24"),
		netip.MustParsePrefix("fd00::/8"),
	}, got)

	got, err = connectors.ParseAllowList("")
	require.NoError(t, err)
	require.Empty(t, got)

	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3", "10.0.0.0/8,nope", "::g"} {
		_, err := connectors.ParseAllowList(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "SWITCHBOARD_EGRESS_ALLOW")
	}
}

func TestEgressErrorAs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("wrapped: %w", &connectors.EgressError{Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"})
	var perm *connectors.PermanentError
	require.True(t, errors.As(err, &perm))
	require.True(t, connectors.IsEgressRefused(err))
	require.False(t, connectors.IsEgressRefused(errors.New("other")))
}
