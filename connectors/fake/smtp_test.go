package fake_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/fake"
)

func smtpServer(t *testing.T, opts fake.SMTPOptions) *fake.SMTP {
	t.Helper()
	s, err := fake.NewSMTP(opts)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// smtpTimeout bounds every client connection of these tests, so a server
// that stops answering fails a test instead of hanging it.
const smtpTimeout = 10 * time.Second

func smtpConn(t *testing.T, s *fake.SMTP) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr, smtpTimeout)
	require.NoError(t, err)
	require.NoError(t, conn.SetDeadline(time.Now().Add(smtpTimeout)))
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func smtpDial(t *testing.T, s *fake.SMTP) *smtp.Client {
	t.Helper()
	c, err := smtp.NewClient(smtpConn(t, s), s.Host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Hello("test"))
	return c
}

// within fails the test unless f returns within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
	}
}

func smtpCode(t *testing.T, err error) int {
	t.Helper()
	var te *textproto.Error
	require.ErrorAs(t, err, &te)
	return te.Code
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	t.Parallel()
	s := smtpServer(t, fake.SMTPOptions{Username: "u", Password: "p", StartTLS: true, RequireTLS: true})
	c := smtpDial(t, s)

	ok, _ := c.Extension("STARTTLS")
	require.True(t, ok)
	ok, _ = c.Extension("AUTH")
	require.False(t, ok, "no AUTH before STARTTLS")
	require.Equal(t, 530, smtpCode(t, c.Mail("a@example.com")))

	cfg := s.ClientTLSConfig()
	cfg.ServerName = "127.0.0.1"
	require.NoError(t, c.StartTLS(cfg))
	ok, mechs := c.Extension("AUTH")
	require.True(t, ok)
	require.Equal(t, "PLAIN", mechs)
	require.Equal(t, 530, smtpCode(t, c.Mail("a@example.com")), "authentication required")

	require.Equal(t, 535, smtpCode(t, c.Auth(smtp.PlainAuth("", "u", "wrong", "127.0.0.1"))))
	c = smtpDial(t, s)
	require.NoError(t, c.StartTLS(cfg))
	require.NoError(t, c.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")))
	require.NoError(t, c.Mail("a@example.com"))
	require.NoError(t, c.Rcpt("b@example.com"))
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write([]byte("Subject: hi\r\n\r\nbody\r\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, c.Quit())

	msgs := s.Messages()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].TLS)
	require.Equal(t, "u", msgs[0].AuthUser)
	require.Equal(t, "a@example.com", msgs[0].From)
	require.Equal(t, []string{"b@example.com"}, msgs[0].To)
	require.Equal(t, "hi", msgs[0].Subject)
	require.Equal(t, "body\n", msgs[0].Text)
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	s := smtpServer(t, fake.SMTPOptions{ImplicitTLS: true})
	cfg := s.ClientTLSConfig()
	cfg.ServerName = "localhost"
	conn := tls.Client(smtpConn(t, s), cfg)
	c, err := smtp.NewClient(conn, "localhost")
	require.NoError(t, err)
	defer c.Close()
	ok, _ := c.Extension("STARTTLS")
	require.False(t, ok, "already TLS")
	require.NoError(t, smtpSend(c, "a@example.com", "b@example.com", "Subject: x\r\n\r\ny\r\n"))
	require.True(t, s.Messages()[0].TLS)
}

func TestSMTPRejectAndFail(t *testing.T) {
	t.Parallel()
	s := smtpServer(t, fake.SMTPOptions{})
	s.RejectRecipient("Nobody@Example.com")
	s.FailNext(1)
	c := smtpDial(t, s)

	err := c.Mail("a@example.com")
	require.Equal(t, 421, smtpCode(t, err))
	require.NoError(t, c.Mail("a@example.com"))
	err = c.Rcpt("nobody@example.com")
	require.Equal(t, 550, smtpCode(t, err))
	require.Contains(t, err.Error(), "mailbox unavailable")
	require.Empty(t, s.Messages())
}

func TestSMTPParsesMultipartAndBase64(t *testing.T) {
	t.Parallel()
	s := smtpServer(t, fake.SMTPOptions{})
	c := smtpDial(t, s)
	msg := strings.Join([]string{
		"Subject: =?utf-8?b?R3LDvMOfZQ==?=",
		`Content-Type: multipart/mixed; boundary="outer"`,
		"",
		"--outer",
		`Content-Type: multipart/alternative; boundary="inner"`,
		"",
		"--inner",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: base64",
		"",
		"SGFsbG8g",
		"QWRh",
		"--inner",
		"Content-Type: text/html; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"<p>Hallo =3D Ada</p>",
		"--inner--",
		"--outer--",
		"",
	}, "\r\n")
	require.NoError(t, smtpSend(c, "a@example.com", "b@example.com", msg))
	m := s.Messages()[0]
	require.Equal(t, "Grüße", m.Subject)
	require.Equal(t, "Hallo Ada", m.Text)
	require.Equal(t, "<p>Hallo = Ada</p>", m.HTML)
}

func smtpSend(c *smtp.Client, from, to, msg string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	return w.Close()
}

func TestSMTPCloseRightAfterStart(t *testing.T) {
	t.Parallel()
	// Close used to wait forever when it came before the server goroutine
	// had registered its listener with go-smtp.
	for _, opts := range []fake.SMTPOptions{{}, {ImplicitTLS: true}, {StartTLS: true}} {
		for range 50 {
			s, err := fake.NewSMTP(opts)
			require.NoError(t, err)
			within(t, 5*time.Second, "Close", s.Close)
			within(t, 5*time.Second, "a second Close", s.Close)
		}
	}
}

func TestSMTPCloseEndsOpenSessions(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]fake.SMTPOptions{
		"plain":        {},
		"starttls":     {StartTLS: true},
		"implicit tls": {ImplicitTLS: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := fake.NewSMTP(opts)
			require.NoError(t, err)
			t.Cleanup(s.Close)

			// An idle session, one in the middle of a message and a
			// connection that never says anything (for implicit TLS: a
			// handshake that never starts).
			var idle, data *smtp.Client
			if !opts.ImplicitTLS {
				idle = smtpDial(t, s)
				data = smtpDial(t, s)
				require.NoError(t, data.Mail("a@example.com"))
				require.NoError(t, data.Rcpt("b@example.com"))
				w, err := data.Data()
				require.NoError(t, err)
				_, err = w.Write([]byte("Subject: half\r\n"))
				require.NoError(t, err)
			}
			silent := smtpConn(t, s)

			within(t, 5*time.Second, "Close", s.Close)

			// Every connection was closed by the server.
			buf := make([]byte, 512)
			for {
				if _, err := silent.Read(buf); err != nil {
					var ne net.Error
					require.False(t, errors.As(err, &ne) && ne.Timeout(), "the connection is still open")
					break
				}
			}
			for _, c := range []*smtp.Client{idle, data} {
				if c != nil {
					require.Error(t, c.Noop())
				}
			}
			require.Empty(t, s.Messages())
		})
	}
}
