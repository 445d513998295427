// Package email is the email connector: email.send delivers a message through
// an SMTP server (a relay of Mailgun, Postmark, SendGrid, Gmail, a corporate
// server or a local postfix) with STARTTLS, implicit TLS or, to trusted local
// servers, plain SMTP. It speaks SMTP with the standard library's net/smtp
// over a connection from a dialer the caller supplies (WithDialer), so the
// egress rules that guard HTTP connectors also guard SMTP.
package email

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// TLS modes of config.tls.
const (
	// TLSStartTLS connects in plain text and requires the server to upgrade
	// with STARTTLS before anything else is sent (usually port 587).
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts; credentials are then only sent to loopback hosts.
	TLSNone = "none"
)

// DialTimeout bounds the default dialer's connect.
const DialTimeout = 10 * time.Second

// DialFunc opens a network connection, like (*net.Dialer).DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Email is the email (SMTP) connector.
type Email struct {
	dial      DialFunc
	tlsConfig *tls.Config
	helloName string
}

var (
	_ connectors.Connector = (*Email)(nil)
	_ connectors.Tester    = (*Email)(nil)
)

// Option configures New.
type Option func(*Email)

// WithDialer makes the connector open its SMTP connections with dial. The
// server passes a dialer that applies the egress rules; the default is a
// net.Dialer with a DialTimeout connect timeout.
func WithDialer(dial DialFunc) Option {
	return func(e *Email) {
		if dial != nil {
			e.dial = dial
		}
	}
}

// WithTLSConfig sets the base TLS configuration for STARTTLS and implicit TLS
// (tests pass one trusting the fake server's certificate). It is cloned per
// connection; an empty ServerName is set to the connection's host.
func WithTLSConfig(c *tls.Config) Option {
	return func(e *Email) { e.tlsConfig = c }
}

// WithHelloName sets the host name sent in EHLO; the default is "localhost",
// as net/smtp sends. Some relays want the sender's fully qualified name.
func WithHelloName(name string) Option {
	return func(e *Email) {
		if name != "" {
			e.helloName = name
		}
	}
}

// New returns the email connector.
func New(opts ...Option) *Email {
	d := &net.Dialer{Timeout: DialTimeout}
	e := &Email{dial: d.DialContext, helloName: "localhost"}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Key returns "email".
func (*Email) Key() string { return "email" }

// Name returns the display name.
func (*Email) Name() string { return "Email (SMTP)" }

// AuthFields returns the SMTP server settings and the password (secret).
func (*Email) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key:      "host",
			Label:    "SMTP host",
			Type:     connectors.FieldString,
			Required: true,
			Help:     "The SMTP server's host name.",
			Example:  "smtp.mailgun.org",
		},
		{
			Key:     "port",
			Label:   "Port",
			Type:    connectors.FieldNumber,
			Help:    "Leave empty for the usual port of the TLS mode: 587 for starttls, 465 for tls, 25 for none.",
			Example: 587,
		},
		{
			Key:     "tls",
			Label:   "Encryption",
			Type:    connectors.FieldSelect,
			Enum:    []string{TLSStartTLS, TLSImplicit, TLSNone},
			Default: TLSStartTLS,
			Help: "starttls: upgrade a plain connection and refuse servers that cannot (port 587). " +
				"tls: TLS from the start (port 465). none: no encryption; a password is then only sent to a server on this machine (localhost).",
		},
		{
			Key:      "from",
			Label:    "From",
			Type:     connectors.FieldString,
			Required: true,
			Help:     "The sender address, optionally with a name.",
			Example:  "Switchboard <noreply@example.com>",
		},
		{
			Key:     "username",
			Label:   "User name",
			Type:    connectors.FieldString,
			Help:    "Leave empty for servers that need no login.",
			Example: "postmaster@mg.example.com",
		},
		{
			Key:    "password",
			Label:  "Password",
			Type:   connectors.FieldSecret,
			Secret: true,
			Help:   "The SMTP password or API key used as password; required when a user name is set.",
		},
	}
}

// Actions returns email.send.
func (e *Email) Actions() []connectors.Action { return []connectors.Action{sendAction{e: e}} }

// Triggers returns nothing.
func (*Email) Triggers() []connectors.TriggerSpec { return nil }

// TestConnection connects to the server, says EHLO, upgrades with STARTTLS or
// TLS as configured, logs in when a user name is set, and says QUIT. The HTTP
// client is not used: SMTP goes through the connector's dialer.
func (e *Email) TestConnection(ctx context.Context, conn *connectors.Connection, _ *http.Client) error {
	s, err := readSettings(conn)
	if err != nil {
		return err
	}
	return e.session(ctx, s, nil)
}
