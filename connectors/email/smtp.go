package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// sessionTimeout bounds a whole SMTP session (connect included) when the
// context has no earlier deadline, so a server that stops answering cannot
// hold a worker forever.
const sessionTimeout = 2 * time.Minute

// session connects to the server, greets it, secures the connection as
// configured, logs in when a user name is set, runs fn (nil for a connection
// test) and quits.
//
// net/smtp has no context, so every step is bounded another way: the session
// runs under a context that ends at ctx's deadline or after sessionTimeout,
// whichever is earlier; the dial is abandoned when that context ends (even if
// the dialer ignores it); the connection's deadline is that context's
// deadline; and the connection is closed as soon as the context ends, which
// interrupts any read or write in flight, also on a connection whose
// SetDeadline does nothing. fn gets that context for classify.
func (e *Email) session(ctx context.Context, s *settings, fn func(ctx context.Context, c *smtp.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, sessionTimeout) // keeps an earlier deadline of ctx
	defer cancel()

	addr := s.addr()
	conn, err := e.dialContext(ctx, addr)
	if err != nil {
		return classify(ctx, "connect to "+addr, err)
	}
	defer conn.Close()
	raw := conn // not the TLS layer: closing that could try to send an alert
	stop := context.AfterFunc(ctx, func() {
		_ = raw.SetDeadline(time.Unix(1, 0))
		_ = raw.Close()
	})
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}

	if s.mode == TLSImplicit {
		tc := tls.Client(conn, e.tlsFor(s.host))
		if err := tc.HandshakeContext(ctx); err != nil {
			return classify(ctx, "TLS handshake with "+addr, err)
		}
		conn = tc // net/smtp sees a *tls.Conn and knows the session is encrypted
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return classify(ctx, "greeting from "+addr, err)
	}
	defer c.Close()
	if err := c.Hello(e.helloName); err != nil {
		return classify(ctx, "EHLO", err)
	}
	if s.mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return connectors.Permanent(0, fmt.Sprintf(
				"email: %s does not offer STARTTLS, which config.tls starttls requires; use tls for port 465, "+
					"or none only for a trusted local server", addr))
		}
		if err := c.StartTLS(e.tlsFor(s.host)); err != nil {
			return classify(ctx, "STARTTLS", err)
		}
	}
	if s.username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return connectors.Permanent(0, fmt.Sprintf(
				"email: %s does not offer AUTH on this connection, but config.username is set; "+
					"remove the user name or check the encryption setting", addr))
		}
		if err := c.Auth(&loginAuth{username: s.username, password: s.password}); err != nil {
			return classify(ctx, "AUTH", err)
		}
	}
	if fn != nil {
		if err := fn(ctx, c); err != nil {
			return err
		}
	}
	// The message, if any, is accepted by now: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// dialContext dials addr with the connector's dialer and gives up when ctx
// ends, even if the dialer does not honour ctx: a connection that arrives
// after that is closed.
func (e *Email) dialContext(ctx context.Context, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := e.dial(ctx, "tcp", addr)
		done <- result{conn, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && r.conn != nil {
			_ = r.conn.Close()
			r.conn = nil
		}
		return r.conn, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.conn != nil {
				_ = r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// tlsFor returns the TLS configuration for host.
func (e *Email) tlsFor(host string) *tls.Config {
	c := &tls.Config{}
	if e.tlsConfig != nil {
		c = e.tlsConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// loginAuth is smtp.Auth for PLAIN (preferred) or LOGIN, whichever the server
// offers. Like smtp.PlainAuth it refuses to send the password over an
// unencrypted connection to anything but a loopback host.
type loginAuth struct {
	username, password string
	login              bool
	step               int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, connectors.Permanent(0, "email: refusing to send the SMTP password over an unencrypted connection to "+server.Name)
	}
	offers := func(mech string) bool {
		return slices.ContainsFunc(server.Auth, func(m string) bool { return strings.EqualFold(m, mech) })
	}
	switch {
	case offers("PLAIN"):
		return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
	case offers("LOGIN"):
		a.login = true
		return "LOGIN", nil, nil
	}
	return "", nil, connectors.Permanent(0, fmt.Sprintf(
		"email: the server offers AUTH %s; only PLAIN and LOGIN are supported", strings.Join(server.Auth, " ")))
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	if !a.login {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	a.step++
	prompt := strings.ToLower(string(fromServer))
	switch {
	case strings.Contains(prompt, "username"):
		return []byte(a.username), nil
	case strings.Contains(prompt, "password"):
		return []byte(a.password), nil
	case a.step == 1:
		return []byte(a.username), nil
	case a.step == 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected challenge during AUTH LOGIN")
}

// classify maps an SMTP failure: a 5xx reply is permanent and quotes the
// server; a 4xx reply, a network failure or a timeout is retryable; an
// untrusted certificate or a TLS/plain mismatch is permanent (retrying cannot
// fix a setting); a refusal of the egress guard stays permanent.
func classify(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cause := ctxDone(ctx); cause != nil {
		return &connectors.RetryableError{Message: "email: " + op + ": timed out or cancelled", Err: cause}
	}
	if connectors.IsPermanent(err) {
		var p *connectors.PermanentError
		errors.As(err, &p)
		msg := p.Message
		if !strings.HasPrefix(msg, "email: ") {
			msg = "email: " + op + ": " + msg
		}
		return &connectors.PermanentError{Message: msg}
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		msg := fmt.Sprintf("email: %s: the server replied %d %s", op, reply.Code, oneLine(reply.Msg))
		if reply.Code >= 500 {
			return connectors.Permanent(0, msg)
		}
		return &connectors.RetryableError{Message: msg, Err: err}
	}
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return connectors.Permanent(0, "email: "+op+": the server's TLS certificate is not trusted: "+err.Error())
	case errors.As(err, &record):
		return connectors.Permanent(0, "email: "+op+": the server did not answer with TLS; check config.tls and config.port "+
			"(tls is for port 465, starttls for 587)")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &connectors.RetryableError{Message: "email: " + op + ": timed out", Err: err}
	}
	return &connectors.RetryableError{Message: "email: " + op + ": " + err.Error(), Err: err}
}

// ctxDone returns ctx's error, or context.DeadlineExceeded once its deadline
// has passed: the connection's deadline is the same instant, so an I/O
// timeout can be seen just before ctx's own timer fires.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// oneLine joins a multi-line server reply.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
