package fake

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// SMTPOptions configures NewSMTP.
type SMTPOptions struct {
	// Username and Password, when Username is set, make AUTH PLAIN required
	// before MAIL (530 otherwise); wrong credentials get 535 5.7.8.
	Username string
	Password string
	// StartTLS offers STARTTLS with a self-signed certificate made in memory
	// (trust it with CertPool or ClientTLSConfig). AUTH is then only offered
	// after STARTTLS, as on real submission servers.
	StartTLS bool
	// ImplicitTLS makes the listener speak TLS from the first byte (SMTPS,
	// port 465 style), with the same certificate.
	ImplicitTLS bool
	// RequireTLS refuses MAIL before STARTTLS with 530 5.7.0.
	RequireTLS bool
	// Domain is the name in the greeting; default "localhost".
	Domain string
	// ListenAddr is where to listen; default "127.0.0.1:0" (a free port).
	// A dev command may pass a fixed loopback port such as "127.0.0.1:2525".
	ListenAddr string
}

// SMTPMessage is one message the fake accepted.
type SMTPMessage struct {
	From string   // envelope sender (MAIL FROM)
	To   []string // envelope recipients (RCPT TO)
	Data []byte   // the message as received (after dot-unstuffing)
	// TLS is true when the message came over TLS; AuthUser is the user that
	// logged in, "" for none.
	TLS      bool
	AuthUser string
	// Header, Subject (RFC 2047 decoded), Text and HTML (transfer encoding
	// decoded, line ends as "\n") are parsed from Data.
	Header  mail.Header
	Subject string
	Text    string
	HTML    string
}

// SMTP is an in-process SMTP server (go-smtp) on 127.0.0.1 for tests and dev:
// optional AUTH PLAIN, optional STARTTLS or implicit TLS with an in-memory
// self-signed certificate, recipients that are refused with 550, and
// transient 421 failures on demand.
type SMTP struct {
	// Addr is the address listened on ("127.0.0.1:port"); Host and Port are
	// its parts.
	Addr string
	Host string
	Port int

	opts  SMTPOptions
	srv   *gosmtp.Server
	ln    net.Listener // what Serve accepts from (TLS over conns for ImplicitTLS)
	conns *smtpConns   // the TCP connections accepted and not yet closed
	pool  *x509.CertPool

	mu       sync.Mutex
	messages []SMTPMessage
	rejected map[string]bool
	failLeft int

	done      chan struct{} // closed when Serve has returned
	closeOnce sync.Once
}

// NewSMTP starts a fake SMTP server on 127.0.0.1 with a free port (or on
// opts.ListenAddr). Close it when done.
func NewSMTP(opts SMTPOptions) (*SMTP, error) {
	cert, pool, err := smtpSelfSigned()
	if err != nil {
		return nil, err
	}
	s := &SMTP{opts: opts, pool: pool, rejected: map[string]bool{}, done: make(chan struct{}),
		conns: &smtpConns{open: map[*smtpConn]struct{}{}}}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &smtpSession{s: s, conn: c}, nil
	}))
	srv.Domain = opts.Domain
	if srv.Domain == "" {
		srv.Domain = "localhost"
	}
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.StartTLS || opts.ImplicitTLS {
		srv.TLSConfig = tlsConfig
	}
	// Without any TLS on offer, allow AUTH in plain text: the only clients
	// are on loopback, where net/smtp sends credentials unencrypted too.
	srv.AllowInsecureAuth = !opts.StartTLS && !opts.ImplicitTLS

	listen := opts.ListenAddr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	tcpLn, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("fake smtp: listen: %w", err)
	}
	var ln net.Listener = &smtpListener{Listener: tcpLn, conns: s.conns}
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.srv, s.ln = srv, ln
	tcp := ln.Addr().(*net.TCPAddr)
	s.Addr = tcp.String()
	s.Host = tcp.IP.String()
	s.Port = tcp.Port
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server: it stops listening, closes every open connection
// and returns once the server and all its connection handlers have stopped,
// so no session outlives it. It is safe to call more than once.
//
// go-smtp's own Close is not enough: it only closes the listeners Serve has
// registered and the connections its handlers have registered, and Serve
// (started in a goroutine) may not have got that far yet. A Close right after
// NewSMTP then left Serve blocked in Accept forever, and Close with it.
func (s *SMTP) Close() {
	s.closeOnce.Do(func() {
		s.conns.shut()     // close open connections, and any accepted from now on
		_ = s.ln.Close()   // Accept fails, whether or not Serve has registered ln
		<-s.done           // Serve has returned: no connection handler starts any more
		s.conns.closeAll() // in case one slipped in before shut
		// Wait for the handlers, which stop at once on their closed connections.
		ctx, cancel := context.WithTimeout(context.Background(), smtpCloseWait)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
	})
}

// smtpCloseWait bounds how long Close waits for the connection handlers.
const smtpCloseWait = 10 * time.Second

// smtpListener records the connections it accepts in conns.
type smtpListener struct {
	net.Listener
	conns *smtpConns
}

func (l *smtpListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if tc := l.conns.add(c); tc != nil {
			return tc, nil
		}
		// Closing: add closed c; Accept fails once the listener is closed.
	}
}

// smtpConns is the set of open connections.
type smtpConns struct {
	mu     sync.Mutex
	open   map[*smtpConn]struct{}
	closed bool
}

// add tracks c, or closes it and returns nil when the server is closing.
func (cs *smtpConns) add(c net.Conn) *smtpConn {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		_ = c.Close()
		return nil
	}
	tc := &smtpConn{Conn: c, conns: cs}
	cs.open[tc] = struct{}{}
	return tc
}

// shut closes the open connections and makes add close new ones.
func (cs *smtpConns) shut() {
	cs.mu.Lock()
	cs.closed = true
	cs.mu.Unlock()
	cs.closeAll()
}

func (cs *smtpConns) closeAll() {
	cs.mu.Lock()
	open := make([]*smtpConn, 0, len(cs.open))
	for c := range cs.open {
		open = append(open, c)
	}
	cs.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

// smtpConn is an accepted connection that leaves its set when closed.
type smtpConn struct {
	net.Conn
	conns *smtpConns
}

func (c *smtpConn) Close() error {
	c.conns.mu.Lock()
	delete(c.conns.open, c)
	c.conns.mu.Unlock()
	return c.Conn.Close()
}

// CertPool returns a pool holding the server's self-signed certificate
// (valid for 127.0.0.1, ::1 and localhost).
func (s *SMTP) CertPool() *x509.CertPool { return s.pool }

// ClientTLSConfig returns a client TLS configuration that trusts the server's
// certificate, for email.WithTLSConfig.
func (s *SMTP) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
}

// RejectRecipient makes RCPT TO for each address fail with 550 5.1.1.
func (s *SMTP) RejectRecipient(addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range addrs {
		s.rejected[strings.ToLower(a)] = true
	}
}

// FailNext makes the next n MAIL commands fail with 421 4.3.0, a transient
// failure that the client should retry later.
func (s *SMTP) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft = n
}

// Messages returns the accepted messages, in order.
func (s *SMTP) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.messages...)
}

// smtpSession is one SMTP connection's state; go-smtp calls it from that
// connection's goroutine only.
type smtpSession struct {
	s        *SMTP
	conn     *gosmtp.Conn
	authUser string
	from     string
	to       []string
}

func (ss *smtpSession) isTLS() bool {
	_, ok := ss.conn.TLSConnectionState()
	return ok
}

func (ss *smtpSession) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, gosmtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) ||
			username != ss.s.opts.Username || password != ss.s.opts.Password {
			return gosmtp.ErrAuthFailed
		}
		ss.authUser = username
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if ss.s.opts.RequireTLS && !ss.isTLS() {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	if ss.s.opts.Username != "" && ss.authUser == "" {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.s.mu.Lock()
	fail := ss.s.failLeft > 0
	if fail {
		ss.s.failLeft--
	}
	ss.s.mu.Unlock()
	if fail {
		return &gosmtp.SMTPError{Code: 421, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Service not available, try again later"}
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.s.mu.Lock()
	rejected := ss.s.rejected[strings.ToLower(to)]
	ss.s.mu.Unlock()
	if rejected {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1},
			Message: fmt.Sprintf("<%s>: Recipient address rejected: mailbox unavailable", to)}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := SMTPMessage{
		From:     ss.from,
		To:       append([]string(nil), ss.to...),
		Data:     data,
		TLS:      ss.isTLS(),
		AuthUser: ss.authUser,
	}
	smtpParse(&msg)
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, msg)
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error { return nil }

// smtpParse fills Header, Subject, Text and HTML from Data; parts it cannot
// read are left empty.
func smtpParse(m *SMTPMessage) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return
	}
	m.Header = msg.Header
	m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		m.Subject = msg.Header.Get("Subject")
	}
	smtpParsePart(m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func smtpParsePart(m *SMTPMessage, contentType, encoding string, body io.Reader) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || contentType == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			// multipart.Reader already decodes quoted-printable parts.
			smtpParsePart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, smtpStripNewlines{body})
	}
	raw, err := io.ReadAll(body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	switch mt {
	case "text/plain":
		if m.Text == "" {
			m.Text = text
		}
	case "text/html":
		if m.HTML == "" {
			m.HTML = text
		}
	}
}

// smtpStripNewlines drops CR and LF, for base64 bodies split into lines.
type smtpStripNewlines struct{ r io.Reader }

func (s smtpStripNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	out := p[:0]
	for _, b := range p[:n] {
		if b != '\r' && b != '\n' {
			out = append(out, b)
		}
	}
	return len(out), err
}

// smtpSelfSigned makes a certificate for 127.0.0.1, ::1 and localhost, valid
// for a day, and a pool that trusts it.
func smtpSelfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fake smtp: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fake smtp: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "switchboard fake smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fake smtp: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("fake smtp: certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
