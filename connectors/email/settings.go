package email

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/connectors"
)

// settings is a connection's SMTP configuration.
type settings struct {
	host     string
	port     int
	mode     string // TLSStartTLS, TLSImplicit or TLSNone
	from     *mail.Address
	username string
	password string
}

// addr returns host:port.
func (s *settings) addr() string {
	return net.JoinHostPort(s.host, strconv.Itoa(s.port))
}

// readSettings reads and checks a connection. Every problem is permanent and
// names the field, never a secret's value.
func readSettings(conn *connectors.Connection) (*settings, error) {
	if conn == nil {
		return nil, connectors.Permanent(0, "email: this action needs a connection")
	}
	s := &settings{
		host:     strings.Trim(connectors.ConfigString(conn, "host"), "[]"),
		mode:     strings.ToLower(connectors.ConfigString(conn, "tls")),
		username: connectors.ConfigString(conn, "username"),
		password: conn.Secrets["password"],
	}
	if s.host == "" {
		return nil, connectors.Permanent(0, "email: config.host is required")
	}
	if strings.ContainsAny(s.host, " /@\r\n") || (strings.Contains(s.host, ":") && !isIPv6(s.host)) {
		return nil, connectors.Permanent(0, "email: config.host must be a host name or IP address, without port or scheme")
	}
	switch s.mode {
	case "":
		s.mode = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, connectors.Permanent(0, "email: config.tls must be one of starttls, tls, none")
	}
	port, err := configPort(conn.Config["port"])
	if err != nil {
		return nil, err
	}
	if port == 0 {
		port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[s.mode]
	}
	s.port = port

	from := connectors.ConfigString(conn, "from")
	if from == "" {
		return nil, connectors.Permanent(0, "email: config.from is required")
	}
	if s.from, err = mail.ParseAddress(from); err != nil {
		return nil, connectors.Permanent(0, "email: config.from is not a valid email address")
	}
	if s.username != "" && s.password == "" {
		return nil, connectors.Permanent(0, "email: secrets.password is required when config.username is set")
	}
	if s.username != "" && s.mode == TLSNone && !isLoopback(s.host) {
		return nil, connectors.Permanent(0, fmt.Sprintf(
			"email: refusing to send the SMTP password unencrypted to %s: set config.tls to starttls or tls "+
				"(with tls none, a login is only sent to localhost)", s.host))
	}
	return s, nil
}

// configPort reads config.port: absent or empty is 0 (the mode's default).
func configPort(v any) (int, error) {
	bad := connectors.Permanent(0, "email: config.port must be a port number between 1 and 65535")
	var f float64
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return 0, bad
		}
		f = n
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, nil
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, bad
		}
		f = n
	default:
		return 0, bad
	}
	if f != math.Trunc(f) || f < 1 || f > 65535 {
		return 0, bad
	}
	return int(f), nil
}

// isLoopback reports whether host is localhost or a loopback address: the
// only hosts a password may be sent to without TLS (net/smtp's PlainAuth
// allows localhost, 127.0.0.1 and ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func isIPv6(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Is6()
}
